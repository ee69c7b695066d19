"""A study's trials, read incrementally, so an ask costs the same at 100 trials as at 10,000.

Storages return a study's trials by number, and a finished trial never changes: each one is
taken in once, and an ask scans only from the first trial that had not finished yet (with a few
workers, a handful of trials).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from dataclasses import field
import math
from typing import Sequence

from optuna.distributions import CategoricalDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from .candidates import decisions_of


RUNNING = (TrialState.RUNNING, TrialState.WAITING)


@dataclass
class TrialLedger:
    direction: StudyDirection
    finished: list[FrozenTrial] = field(default_factory=list)  # COMPLETE, in the order taken in
    complete: list[FrozenTrial] = field(default_factory=list)  # ... those with a finite value
    decisions: dict[str, CategoricalDistribution] = field(default_factory=dict)
    _start: int = 0  # every trial numbered below this has finished and been taken in
    _taken_in: set[int] = field(default_factory=set)  # finished trials at or above _start
    _ranked: list[tuple[float, int]] = field(default_factory=list)  # (sign * value, -number)
    _by_number: dict[int, FrozenTrial] = field(default_factory=dict)

    def update(self, trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
        """Take in the trials finished since the last call; returns the running ones."""
        if len(trials) > self._start and trials[self._start].number != self._start:
            self.__init__(self.direction)  # type: ignore[misc]  # not by number: read all again
        running, new, scanning_prefix = [], [], True
        for trial in trials[self._start :]:
            if trial.state.is_finished():
                if trial.number not in self._taken_in:
                    self._taken_in.add(trial.number)
                    new.append(trial)
                if scanning_prefix:
                    self._start += 1
                    self._taken_in.discard(trial.number)
            else:
                scanning_prefix = False
                if trial.state in RUNNING:
                    running.append(trial)
        sign = -1.0 if self.direction == StudyDirection.MAXIMIZE else 1.0
        fresh = [t for t in new if t.state == TrialState.COMPLETE]
        self.finished.extend(fresh)
        for trial in fresh:
            if math.isfinite(trial.value):
                self.complete.append(trial)
                bisect.insort(self._ranked, (sign * trial.value, -trial.number))
                self._by_number[trial.number] = trial
        for name, d in decisions_of(t for t in fresh if math.isfinite(t.value)).items():
            self.decisions.setdefault(name, d)
        return running

    def best(self, n: int) -> list[FrozenTrial]:
        """The n best complete trials (ties: the latest first)."""
        return [self._by_number[-number] for _, number in self._ranked[:n]]
