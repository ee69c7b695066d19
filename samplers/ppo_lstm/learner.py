"""The learning state of one policy lineage: weights, optimizer, reward baseline, version.

Version k is the policy after k updates; update k takes in batch k, the trials numbered
[k * update_every, (k + 1) * update_every), and trains on the last `batch_size` scored trials
(a sliding window when update_every < batch_size). Given the same batches, every process that
applies them reaches the same bits, so workers agree without talking to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass
import io

import torch

from .memory import Entry
from .memory import Memory
from .policy import LSTMPolicy
from .ppo import grown_optimizer
from .ppo import make_optimizer
from .ppo import ppo_update
from .settings import LearnerSettings
from .settings import settings_difference


@dataclass(frozen=True)
class Sample:
    """One finished trial of a batch, as the update sees it."""

    number: int
    reward: float | None  # None: no usable reward (failed, or pruned before any report)
    actions: Sequence[int] | None = None  # the params as action indices; None: one is missing
    log_probs: Sequence[float] | None = None  # None: params did not come from a rollout
    policy_version: int | None = None
    # False where the trial has no value of that decision (another branch); None: all used
    used: Sequence[bool] | None = None
    # where inside its interval each numeric decision's value lies; None: not numeric, or unused
    positions: Sequence[float | None] | None = None


class Learner:
    def __init__(
        self,
        settings: LearnerSettings,
        initial_policy: dict | None = None,
        *,
        per_decision: bool = False,
        per_decision_elite: bool = False,
    ) -> None:
        self.settings = settings
        self.per_decision = per_decision  # learning_rate "per-decision": follows grown decisions
        self.per_decision_elite = per_decision_elite  # elite_weight "per-decision": the same
        self.policy = LSTMPolicy(
            settings.n_choices,
            hidden_size=settings.hidden_size,
            embedding_size=settings.embedding_size,
            init_range=settings.init_range,
            init_seed=settings.init_seed,
        )
        if initial_policy is not None:
            try:
                self.policy.load_state_dict(initial_policy)
            except RuntimeError as error:
                raise ValueError(
                    "init_policy was learned on another search space or with another hidden_size/"
                    f"embedding_size; a warm start needs the same ones ({error})"
                ) from None
            self.policy.invalidate_cache()
        self.optimizer = make_optimizer(self.policy, settings.ppo)
        self.version = 0
        self.baseline: float | None = None
        self.memory = Memory(settings.elite_size)
        # Decisions added after the start (name, distribution JSON, choices), in order.
        self.grown: list[tuple[str, str, int]] = []

    @property
    def elite_weight(self) -> float:
        """The elites' weight in the loss; "per-decision" follows the decisions as they grow."""
        if self.per_decision_elite:
            return per_decision_elite_weight(self.n_decisions)
        return self.settings.ppo.elite_weight

    @property
    def n_decisions(self) -> int:
        return len(self.policy.n_choices)

    def grow(self, name: str, distribution_json: str, n: int) -> None:
        """Add a decision at the end (a parameter first seen in a later trial)."""
        policy = self.policy.extended(n)
        self.optimizer = grown_optimizer(self.optimizer, policy)
        if self.per_decision:
            self.optimizer.lr = per_decision_rate(len(policy.n_choices))
        self.policy = policy
        self.grown.append((name, distribution_json, n))

    def apply_batch(self, samples: Sequence[Sample]) -> dict[str, float | int | None]:
        """Update `version` -> `version + 1` from batch `version`; returns its diagnostics."""
        scored = [(s, s.reward) for s in samples if s.reward is not None]
        rewards = [reward for _, reward in scored]
        baseline = self.baseline
        if baseline is None and rewards:
            baseline = sum(rewards) / len(rewards)
        for sample, reward in scored:  # trial-number order: the EMA is the same in every process
            assert baseline is not None  # set above: scored is not empty
            advantage = reward - baseline
            baseline = (
                self.settings.baseline_decay * baseline
                + (1 - self.settings.baseline_decay) * reward
            )
            self.baseline = baseline
            actions = None if sample.actions is None else tuple(sample.actions)
            log_probs = None if sample.log_probs is None else tuple(sample.log_probs)
            self.memory.add(
                Entry(
                    sample.number,
                    reward,
                    advantage,
                    actions,
                    log_probs,
                    sample.policy_version,
                    None if sample.used is None else tuple(sample.used),
                ),
                sample.positions,
            )
        self.memory.keep_from((self.version + 1) * self.settings.stride - self.settings.batch_size)
        train_actions: list[list[int]] = []
        train_log_probs: list[list[float]] = []
        train_masks: list[list[bool]] = []
        advantages: list[float] = []
        width = self.n_decisions
        window = self.memory.window
        for entry, advantage in zip(
            window, self.memory.advantages(self.settings.advantage), strict=True
        ):
            if (
                entry.actions is None
                or entry.log_probs is None
                or entry.policy_version is None
                or self.version - entry.policy_version > self.settings.max_staleness
            ):
                continue  # reward still informs the baseline, but no policy gradient
            # Decisions added since the trial, and those no rollout drew, are padded and masked.
            drawn = len(entry.log_probs)
            train_actions.append(_padded(entry.actions, width, 0))
            train_log_probs.append(_padded(entry.log_probs, width, 0.0))
            train_masks.append(_padded(_used(entry)[:drawn], width, False))
            advantages.append(advantage)
        elite_entries = (
            [e for e in self.memory.elites if e.actions is not None] if self.elite_weight else []
        )
        elites = [_padded(e.actions or (), width, 0) for e in elite_entries]  # none is None
        elite_masks = [_padded(_used(e), width, False) for e in elite_entries]
        if all(all(m) for m in train_masks + elite_masks):
            train_masks = elite_masks = None  # type: ignore[assignment]  # a fixed space
        stats: dict[str, float | int | None] = {
            "entropy": None,
            "approx_kl": None,
            "clip_fraction": None,
        }
        if train_actions:
            stats.update(
                ppo_update(
                    self.policy,
                    self.optimizer,
                    train_actions,
                    train_log_probs,
                    advantages,
                    dataclasses.replace(self.settings.ppo, elite_weight=self.elite_weight),
                    elites,
                    train_masks,
                    elite_masks,
                )
            )
        self.version += 1
        stats.update(
            policy_version=self.version,
            n_trials=len(samples),
            n_rewards=len(rewards),
            n_trained=len(train_actions),
            n_elites=len(elites),
            mean_reward=sum(rewards) / len(rewards) if rewards else None,
            baseline=self.baseline,
        )
        return stats

    def state_bytes(self) -> bytes:
        buffer = io.BytesIO()
        torch.save(
            {
                "fingerprint": self.settings.fingerprint(),
                "settings": self.settings.as_json(),  # so a mismatch can be named
                "version": self.version,
                "baseline": self.baseline,
                "policy": self.policy.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "memory": self.memory.state(),
                "grown": [list(g) for g in self.grown],
            },
            buffer,
        )
        return buffer.getvalue()

    def load_state_bytes(self, data: bytes) -> None:
        state = torch.load(io.BytesIO(data), weights_only=True)
        if state["fingerprint"] != self.settings.fingerprint():
            # checkpoints written before settings were stored can only say that something differs
            ours = self.settings.as_json()
            named = settings_difference(state["settings"], ours) if "settings" in state else ""
            raise ValueError(
                "the study's PPO checkpoint was made with other sampler settings or another search "
                f"space{f' ({named})' if named else ''}; give every worker of one study the same "
                "PPOLSTMSampler settings, those the study was started with"
            )
        grown = [(str(a), str(b), int(c)) for a, b, c in state.get("grown", [])]
        if grown != self.grown:  # rebuilt with the checkpoint's decisions, then loaded
            fresh = Learner(
                self.settings,
                per_decision=self.per_decision,
                per_decision_elite=self.per_decision_elite,
            )
            for decision in grown:
                fresh.grow(*decision)
            self.policy, self.optimizer, self.grown = fresh.policy, fresh.optimizer, grown
        self.policy.load_state_dict(state["policy"])
        self.policy.invalidate_cache()
        self.optimizer.load_state_dict(state["optimizer"])
        self.version = int(state["version"])
        self.baseline = state["baseline"]
        if "memory" in state:  # checkpoints written before the memory existed have none
            self.memory.load(state["memory"])


def per_decision_rate(n_decisions: int) -> float:
    """learning_rate "per-decision": 0.1 / number of decisions, at most 0.02."""
    return min(0.02, 0.1 / n_decisions)


def per_decision_elite_weight(n_decisions: int) -> float:
    """elite_weight "per-decision": 1.8 / number of decisions, at most 0.3 (0.3 for 6 decisions,
    0.036 for 50). An elite's likelihood pulls on every decision, and the more decisions, the
    more of its choices are chance rather than why it scored well (README: "Default settings")."""
    return min(0.3, 1.8 / n_decisions)


def per_decision_mutation(n_decisions: int) -> float:
    """mutate_best "per-decision": 7.2 / number of decisions squared, at most 0.2 (0.2 for 6
    decisions, 0.089 for 9, 0.003 for 50). A one-decision change of the best is a large step
    among few decisions, where a hill climb finds the top soon; among many it is a small one,
    and on a noisy reward the best is the luckiest draw. On the 50-decision hidden target
    (BENCHMARKS 18) 0.2 fell to 0.878 at 1,000 trials against 0.948, and even 0.024 (1.2 /
    number of decisions) to 0.922; 0.003 gave 0.944."""
    return min(0.2, 7.2 / n_decisions**2)


def _padded(values: Sequence, width: int, fill: object) -> list:
    return list(values) + [fill] * (width - len(values))


def _used(entry: Entry) -> list[bool]:
    assert entry.actions is not None
    return [True] * len(entry.actions) if entry.used is None else list(entry.used)


def policy_weights(data: bytes) -> dict[str, torch.Tensor]:
    """The policy weights inside a checkpoint (for warm starts in another study)."""
    return torch.load(io.BytesIO(data), weights_only=True)["policy"]
