"""What a lineage remembers of the trials it has learned from, besides the weights.

- the window: the scored trials of the last `batch_size` trial numbers, trained on again at
  every update while they stay in it (PPO's ratio against the sampling policy handles reuse);
- the elites: the `elite_size` best architectures so far, replayed as a likelihood term
  (priority-queue training, Abolafia et al. 2018);
- the visits: per architecture digest, how many trials had a reward, so rollouts can skip
  known architectures (a combination of numeric intervals: once it has had its share).

All of it is filled in trial-number order from the batches, so every process holds the same,
and it travels in the checkpoint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
import hashlib

import numpy as np
import torch


@dataclass(frozen=True)
class Entry:
    number: int
    reward: float
    ema_advantage: float  # reward - EMA baseline when the trial entered
    actions: tuple[int, ...] | None  # None: a parameter of the policy's space is missing
    log_probs: tuple[float, ...] | None  # None: params not from a rollout (baseline only)
    policy_version: int | None
    used: tuple[bool, ...] | None = None  # False: the trial had no value there; None: all used


def digest(actions: Sequence[int]) -> int:
    """A stable 63-bit digest of an architecture (the same in every process and Python)."""
    raw = np.asarray(actions, dtype=np.int64).tobytes()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little") >> 1


class Memory:
    def __init__(self, elite_size: int) -> None:
        self.window: deque[Entry] = deque()
        self.elite_size = elite_size
        self.elites: list[Entry] = []  # best first; ties: the earlier trial first
        self.visits: dict[int, int] = {}  # digest -> trials with a reward

    def add(self, entry: Entry) -> None:
        self.window.append(entry)
        if entry.actions is None:
            return
        key = digest(entry.actions)
        self.visits[key] = self.visits.get(key, 0) + 1
        if not self.elite_size:
            return
        same = [e for e in self.elites if e.actions == entry.actions]
        if same and same[0].reward >= entry.reward:
            return
        self.elites = [e for e in self.elites if e.actions != entry.actions] + [entry]
        self.elites.sort(key=lambda e: (-e.reward, e.number))
        del self.elites[self.elite_size :]

    def keep_from(self, number: int) -> None:
        """Drop window entries of trials numbered below `number`."""
        while self.window and self.window[0].number < number:
            self.window.popleft()

    def advantages(self, kind: str) -> list[float]:
        """One advantage per window entry: 'ema' (reward - EMA baseline), 'rank' (centred ranks
        in [-1, 1], ties averaged) or 'zscore' (standardised within the window)."""
        if kind == "ema":
            return [e.ema_advantage for e in self.window]
        rewards = np.array([e.reward for e in self.window])
        if len(rewards) < 2:
            return [0.0] * len(rewards)
        if kind == "zscore":
            return ((rewards - rewards.mean()) / (rewards.std() + 1e-8)).tolist()
        order = rewards.argsort(kind="stable")
        ranks = np.empty(len(rewards))
        ranks[order] = np.arange(len(rewards))
        for value in np.unique(rewards):  # ties share their mean rank
            tied = rewards == value
            ranks[tied] = ranks[tied].mean()
        return (2 * ranks / (len(rewards) - 1) - 1).tolist()

    def state(self) -> dict:
        keys = sorted(self.visits)

        def rows(entries: Sequence[Entry]) -> list[list]:
            return [
                [e.number, e.reward, e.ema_advantage, e.actions, e.log_probs, e.policy_version]
                + ([] if e.used is None else [e.used])
                for e in entries
            ]

        return {
            "window": rows(self.window),
            "elites": rows(self.elites),
            "seen": torch.tensor(keys, dtype=torch.int64),
            "visits": torch.tensor([self.visits[k] for k in keys], dtype=torch.int64),
        }

    def load(self, state: dict) -> None:
        def entries(rows: list[list]) -> list[Entry]:
            return [
                Entry(
                    n,
                    r,
                    a,
                    None if x is None else tuple(x),
                    None if p is None else tuple(p),
                    v,
                    tuple(used[0]) if used else None,
                )  # fmt: skip
                for n, r, a, x, p, v, *used in rows
            ]

        self.window.clear()
        self.window.extend(entries(state["window"]))
        self.elites = entries(state["elites"])
        keys = state["seen"].tolist()
        # Checkpoints written before visits were counted: one visit each.
        counts = state["visits"].tolist() if "visits" in state else [1] * len(keys)
        self.visits = dict(zip(keys, counts, strict=True))
