"""The PPO update, written like the paper (Schulman et al. 2017) and CleanRL's ppo.py.

Ratios are per decision: pi_new(a_t | a_<t) / pi_old(a_t | a_<t). A ratio of the joint
probability of 50 decisions leaves the clip range after a tiny step and would clip almost
every sample. Every decision of an architecture shares that architecture's advantage.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from .policy import LSTMPolicy


@dataclass(frozen=True)
class PPOSettings:
    learning_rate: float = 0.00035
    entropy_weight: float = 1e-5
    clip_range: float = 0.2
    epochs: int = 4
    max_grad_norm: float = 1.0


def make_optimizer(policy: LSTMPolicy, settings: PPOSettings) -> torch.optim.Optimizer:
    # Plain Adam without foreach/fused kernels: one code path on every machine, same bits.
    return torch.optim.Adam(policy.parameters(), lr=settings.learning_rate, foreach=False)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Same inputs, same bits: one thread removes reduction-order differences between runs."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def ppo_update(
    policy: LSTMPolicy,
    optimizer: torch.optim.Optimizer,
    actions: Sequence[Sequence[int]],
    old_log_probs: Sequence[Sequence[float]],
    advantages: Sequence[float],
    settings: PPOSettings,
) -> dict[str, float]:
    """`settings.epochs` full-batch steps of the clipped surrogate; returns the last epoch's stats."""
    actions_t = torch.tensor(actions, dtype=torch.long)
    old_log_probs_t = torch.tensor(old_log_probs, dtype=torch.float32)
    advantages_t = torch.tensor(advantages, dtype=torch.float32)[:, None]
    clip = settings.clip_range
    stats: dict[str, float] = {}
    with single_thread():
        for _ in range(settings.epochs):
            new_log_probs, entropy = policy.log_probs_and_entropy(actions_t)
            log_ratio = new_log_probs - old_log_probs_t
            ratio = log_ratio.exp()
            unclipped = ratio * advantages_t
            clipped = ratio.clamp(1 - clip, 1 + clip) * advantages_t
            # Sum over decisions = a loss on the whole architecture, as REINFORCE on the joint.
            policy_loss = -torch.min(unclipped, clipped).sum(1).mean()
            entropy_bonus = entropy.sum(1).mean()
            loss = policy_loss - settings.entropy_weight * entropy_bonus
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), settings.max_grad_norm, foreach=False)
            optimizer.step()
            with torch.no_grad():
                stats = {
                    "policy_loss": float(policy_loss),
                    "entropy": float(entropy_bonus),
                    "approx_kl": float(((ratio - 1) - log_ratio).mean()),
                    "clip_fraction": float(((ratio - 1).abs() > clip).float().mean()),
                }
    policy.invalidate_cache()
    return stats
