"""The PPO update, written like the paper (Schulman et al. 2017) and CleanRL's ppo.py.

Ratios are per decision: pi_new(a_t | a_<t) / pi_old(a_t | a_<t). A ratio of the joint
probability of 50 decisions leaves the clip range after a tiny step and would clip almost
every sample. Every decision of an architecture shares that architecture's advantage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .policy import LSTMPolicy
from .policy import single_thread


@dataclass(frozen=True)
class PPOSettings:
    learning_rate: float = 0.001  # the paper's 0.00035 learns too slowly below ~2,000 trials
    entropy_weight: float = 1e-5
    clip_range: float = 0.2
    epochs: int = 4
    max_grad_norm: float = 1.0
    elite_weight: float = 0.0  # weight of the elites' log-likelihood (priority-queue training)


class Adam:
    """Adam (Kingma & Ba 2015) in a few lines: one plain code path on every machine, so racing
    workers get the same bits, and no torch.optim import (which loads torch._dynamo, ~3 s)."""

    def __init__(
        self,
        params: Sequence[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.step_count = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.step_count += 1
        beta1, beta2 = self.betas
        correction1 = 1 - beta1**self.step_count
        correction2 = 1 - beta2**self.step_count
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            denominator = (v / correction2).sqrt_().add_(self.eps)
            p.addcdiv_(m, denominator, value=-self.lr / correction1)

    def state_dict(self) -> dict:
        return {
            "step": self.step_count,
            "m": [t.clone() for t in self.m],
            "v": [t.clone() for t in self.v],
        }

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step"])
        self.m = [t.clone() for t in state["m"]]
        self.v = [t.clone() for t in state["v"]]


def make_optimizer(policy: LSTMPolicy, settings: PPOSettings) -> Adam:
    return Adam(policy.parameters(), lr=settings.learning_rate)


def grown_optimizer(old: Adam, policy: LSTMPolicy) -> Adam:
    """`old`'s state on `policy`, an extended copy of its policy: new rows start at zero moments."""
    new = Adam(policy.parameters(), lr=old.lr, betas=old.betas, eps=old.eps)
    new.step_count = old.step_count
    for moments, old_moments in ((new.m, old.m), (new.v, old.v)):
        for t, o in zip(moments, old_moments, strict=True):
            t[: o.shape[0]] = o
    return new


def clip_grad_norm(params: Sequence[torch.nn.Parameter], max_norm: float) -> None:
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    if norm > max_norm:
        for g in grads:
            g.mul_(float(max_norm / norm))


def ppo_update(
    policy: LSTMPolicy,
    optimizer: Adam,
    actions: Sequence[Sequence[int]],
    old_log_probs: Sequence[Sequence[float]],
    advantages: Sequence[float],
    settings: PPOSettings,
    elites: Sequence[Sequence[int]] = (),
    masks: Sequence[Sequence[bool]] | None = None,
    elite_masks: Sequence[Sequence[bool]] | None = None,
) -> dict[str, float]:
    """`settings.epochs` full-batch steps of the clipped surrogate, plus `elite_weight` times the
    mean negative log-likelihood of `elites` (one forward pass for both); returns the last
    epoch's stats. `masks` (per row of `actions`) and `elite_masks` leave out the decisions a
    trial did not use (another branch of a conditional space) or that no rollout drew."""
    n = len(actions)
    actions_t = torch.tensor(list(actions) + list(elites), dtype=torch.long)
    old_log_probs_t = torch.tensor(old_log_probs, dtype=torch.float32)
    advantages_t = torch.tensor(advantages, dtype=torch.float32)[:, None]
    clip = settings.clip_range
    mask_t = None  # None: every decision counts (a fixed space), the plain formulas
    if masks is not None or elite_masks is not None:
        width = actions_t.shape[1]
        rows = list(masks or [[True] * width] * n) + list(
            elite_masks or [[True] * width] * len(elites)
        )
        mask_t = torch.tensor(rows, dtype=torch.float32)
    stats: dict[str, float] = {}
    with single_thread():
        for epoch in range(settings.epochs):
            all_log_probs, all_entropy = policy.log_probs_and_entropy(actions_t)
            new_log_probs, entropy = all_log_probs[:n], all_entropy[:n]
            log_ratio = new_log_probs - old_log_probs_t
            ratio = log_ratio.exp()
            unclipped = ratio * advantages_t
            clipped = ratio.clamp(1 - clip, 1 + clip) * advantages_t
            # Sum over decisions = a loss on the whole architecture, as REINFORCE on the joint.
            surrogate = torch.min(unclipped, clipped)
            elite_log_probs = all_log_probs[n:]
            if mask_t is not None:
                surrogate, entropy = surrogate * mask_t[:n], entropy * mask_t[:n]
                elite_log_probs = elite_log_probs * mask_t[n:]
            policy_loss = -surrogate.sum(1).mean()
            entropy_bonus = entropy.sum(1).mean()
            loss = policy_loss - settings.entropy_weight * entropy_bonus
            if elites:
                loss = loss - settings.elite_weight * elite_log_probs.sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm(list(policy.parameters()), settings.max_grad_norm)
            optimizer.step()
            if epoch < settings.epochs - 1:
                continue  # statistics of the last epoch only
            with torch.no_grad():
                if mask_t is not None:  # statistics over the decisions that count
                    counted = mask_t[:n].bool()
                    ratio, log_ratio = ratio[counted], log_ratio[counted]
                stats = {
                    "policy_loss": float(policy_loss),
                    "entropy": float(entropy_bonus),
                    "approx_kl": float(((ratio - 1) - log_ratio).mean()),
                    "clip_fraction": float(((ratio - 1).abs() > clip).float().mean()),
                }
    policy.invalidate_cache()
    return stats
