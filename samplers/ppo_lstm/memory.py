"""What a lineage remembers of the trials it has learned from, besides the weights.

- the window: the scored trials of the last `batch_size` trial numbers, trained on again at
  every update while they stay in it (PPO's ratio against the sampling policy handles reuse);
- the elites: the `elite_size` best architectures so far, replayed as a likelihood term
  (priority-queue training, Abolafia et al. 2018);
- the visits: per architecture digest, how many trials had a reward, so rollouts can skip
  known architectures (a combination of numeric intervals: once it has had its share). In a
  conditional space a trial's architecture is the decisions it used: a rollout that agrees with
  it there would ask the objective the same questions and get the same answers, whatever it
  drew for the other branches; so each trial is counted under its pattern of used decisions,
  and a rollout is looked up under every pattern seen;
- the best position inside each numeric interval: per (decision, interval), where inside it the
  best-rewarded trial's value lay, for `numeric_value="local"` draws;
- the best trial with a numeric value: its actions and positions, for `refine_best` steps;
- the configurations: per trial, the digest of its used actions and of where its numeric
  values lie inside their intervals, so that a draw of values a trial already had is redrawn
  (fresh_values.py).

All of it is filled in trial-number order from the batches, so every process holds the same,
and it travels in the checkpoint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
import hashlib
import math

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


@dataclass(frozen=True)
class BestTrial:
    """The best-rewarded trial that had a numeric value, for `refine_best` steps."""

    reward: float
    actions: tuple[int, ...]
    positions: tuple[float | None, ...]  # inside each numeric interval; None elsewhere
    used: tuple[bool, ...] | None  # None: every decision

    def row(self) -> list:
        used = None if self.used is None else list(self.used)
        return [self.reward, list(self.actions), list(self.positions), used]

    @classmethod
    def from_row(cls, row: list) -> BestTrial:
        reward, actions, positions, used = row
        return cls(reward, tuple(actions), tuple(positions), None if used is None else tuple(used))


def digest(actions: Sequence[int]) -> int:
    """A stable 63-bit digest of an architecture (the same in every process and Python)."""
    return _hash(np.asarray(actions, dtype=np.int64).tobytes())


def _hash(raw: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little") >> 1


def used_digest(actions: Sequence[int], used: Sequence[bool] | None) -> int:
    """The digest of the decisions `used` (None: all): the others as -1, trailing ones dropped,
    so decisions that joined the policy later (unused by older trials) do not change it."""
    if used is None:
        return digest(actions)
    masked = [a if u else -1 for a, u in zip(actions, used, strict=False)]
    while masked and masked[-1] == -1:
        masked.pop()
    return digest(masked)


def config_digest(
    actions: Sequence[int], positions: Sequence[float | None], used: Sequence[bool] | None
) -> int:
    """The digest of a configuration: the decisions `used` (None: all) with the positions of
    their numeric values (None: a choice), the others left out as in `used_digest`. A grid value
    lies at its cell's middle, so equal values give equal positions."""
    keep = [True] * len(actions) if used is None else list(used)
    rows = [
        (a, np.nan if p is None else p) if u else (-1, np.nan)
        for a, p, u in zip(actions, positions, keep, strict=False)
    ]
    while rows and rows[-1][0] == -1:
        rows.pop()
    return _hash(np.asarray(rows, dtype=np.float64).tobytes())


class Memory:
    def __init__(self, elite_size: int) -> None:
        self.window: deque[Entry] = deque()
        self.elite_size = elite_size
        self.elites: list[Entry] = []  # best first; ties: the earlier trial first
        self.visits: dict[int, int] = {}  # used_digest -> trials with a reward
        self.patterns: set[tuple[bool, ...] | None] = set()  # of used decisions; None: all
        # (decision, interval) -> (best reward, its position, trials)
        self.best_at: dict[tuple[int, int], tuple[float, float, int]] = {}
        self.best: BestTrial | None = None  # the best trial with a numeric value
        # config_digest of the trials with a reward that had a numeric value or used a branch
        self.configs: set[int] = set()

    def add(self, entry: Entry, positions: Sequence[float | None] | None = None) -> None:
        """Remember a scored trial; `positions`: where inside its interval each numeric
        decision's value lay (None elsewhere)."""
        self.window.append(entry)
        if entry.actions is None:
            return
        if positions is not None and (self.best is None or entry.reward > self.best.reward):
            self.best = BestTrial(entry.reward, entry.actions, tuple(positions), entry.used)
        for t, position in enumerate(positions or ()):
            if position is None:
                continue
            interval = (t, entry.actions[t])
            reward, at, count = self.best_at.get(interval, (-np.inf, position, 0))
            if entry.reward > reward:
                reward, at = entry.reward, position
            self.best_at[interval] = (reward, at, count + 1)
        key = used_digest(entry.actions, entry.used)
        self.visits[key] = self.visits.get(key, 0) + 1
        self.patterns.add(entry.used)
        if positions is not None or entry.used is not None:  # else the visits tell it all
            at = positions if positions is not None else (None,) * len(entry.actions)
            self.configs.add(config_digest(entry.actions, at, entry.used))
        if not self.elite_size:
            return
        same = [e for e in self.elites if e.actions == entry.actions]
        if same and same[0].reward >= entry.reward:
            return
        self.elites = [e for e in self.elites if e.actions != entry.actions] + [entry]
        self.elites.sort(key=lambda e: (-e.reward, e.number))
        del self.elites[self.elite_size :]

    def has_room(
        self, actions: Sequence[int], limit: int, sizes: Sequence[Sequence[float]] | None = None
    ) -> bool:
        """Whether a trial of `actions` would be new: under every pattern of used decisions seen,
        fewer trials with a reward than `limit` and than the configurations the used intervals
        hold together (`sizes[t][a]`: values that action a of decision t stands for; None: no
        limit but `limit`), so that a combination whose every value was tried is skipped."""
        for pattern in self.patterns:
            room: float = limit
            if sizes is not None:
                used = [True] * len(actions) if pattern is None else pattern
                room = min(
                    limit,
                    math.prod(sizes[t][a] for t, (a, u) in enumerate(zip(actions, used)) if u),
                )
            if self.visits.get(used_digest(actions, pattern), 0) >= room:
                return False
        return True

    def knows_config(self, actions: Sequence[int], positions: Sequence[float | None]) -> bool:
        """Whether a trial with a reward had this configuration (under any pattern of used
        decisions seen: what it drew for the other branches is not asked)."""
        return any(config_digest(actions, positions, p) in self.configs for p in self.patterns)

    def near(self, decision: int, action: int) -> tuple[float, int] | None:
        """The position of the best trial's value inside interval `action` of `decision`, and
        how many trials had a value there."""
        best = self.best_at.get((decision, action))
        return None if best is None else (best[1], best[2])

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
            # Sorted: a set's order follows hash(None), which differs between processes.
            "patterns": [
                None if p is None else list(p)
                for p in sorted(self.patterns, key=lambda p: (p is not None, p or ()))
            ],
            "best_at": [[t, a, *best] for (t, a), best in sorted(self.best_at.items())],
            "best": None if self.best is None else self.best.row(),
            "configs": torch.tensor(sorted(self.configs), dtype=torch.int64),
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
        # Before patterns were kept, every trial counted under all its decisions.
        stored = state.get("patterns", [None] if keys else [])
        self.patterns = {None if p is None else tuple(p) for p in stored}
        best = state.get("best")  # checkpoints written before it was kept: none
        self.best = None if best is None else BestTrial.from_row(best)
        # Checkpoints written before configurations were kept: none (they are redrawn from then on).
        self.configs = set(state["configs"].tolist()) if "configs" in state else set()
        self.best_at = {
            (int(t), int(a)): (r, u, int(n)) for t, a, r, u, n in state.get("best_at", [])
        }
