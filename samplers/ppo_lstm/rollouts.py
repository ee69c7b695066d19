"""Rollouts drawn ahead: those of one policy version come from one `sample_many` call.

NumPy's per-call cost dominates a 50-step rollout, so drawing 20 side by side costs about a
third as much per rollout. Row r of a draw has the same bits as the r-th of single draws from
the same random state, so a worker that uses every rollout it draws gets exactly the rollouts it
would get one by one. Rollouts left over when the weights change are dropped; to waste few when
workers share a batch window, a draw is as large as the number this worker used of the
previous version, and never more than the trials left in the window.
"""

from __future__ import annotations

import numpy as np

from .learner import Learner
from .policy import LSTMPolicy


class RolloutQueue:
    def __init__(self) -> None:
        self._policy: LSTMPolicy | None = None
        self._revision = -1
        self._queue: list[tuple[list[int], list[float]]] = []
        self._used = 0  # rollouts used of the current weights
        self._draw_size: int | None = None  # None: the whole batch window (one worker assumed)

    def next(
        self, learner: Learner, number: int, rng: np.random.RandomState
    ) -> tuple[list[int], list[float]]:
        """The next rollout of `learner`'s current weights, for trial `number`."""
        policy = learner.policy
        if policy is not self._policy or policy.revision != self._revision:
            if self._policy is not None:
                self._draw_size = max(1, self._used)
            self._policy, self._revision, self._queue, self._used = policy, policy.revision, [], 0
        if not self._queue:
            batch_size = learner.settings.batch_size
            count = batch_size - number % batch_size  # trials left in this batch window
            if self._draw_size is not None:
                count = min(count, self._draw_size)
            actions, log_probs = policy.sample_many(rng, count)
            self._queue = list(zip(actions, log_probs, strict=True))
        self._used += 1
        return self._queue.pop(0)

    def clear(self) -> None:
        self.__init__()
