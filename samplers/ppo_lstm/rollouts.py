"""Rollouts drawn ahead: those of one policy version come from one `sample_many` call.

NumPy's per-call cost dominates a 50-step rollout, so drawing 20 side by side costs about a
third as much per rollout. Row r of a draw has the same bits as the r-th of single draws from
the same random state, so a worker that uses every rollout it draws gets exactly the rollouts it
would get one by one. Rollouts left over when the weights change are dropped; to waste few when
workers share a batch window, a draw is as large as the number this worker used of the
previous version, and never more than the trials left in the window.

With `deduplicate`, a rollout of an architecture that already has a reward (or that this worker
handed out and is still running) is skipped and the next one taken, up to `MAX_PROPOSALS`
rollouts. A combination of numeric intervals is skipped once it has had `visit_limit` trials,
each a new draw inside them, or as many as it holds configurations (fresh_values.py). In a
conditional space, an evaluated trial's architecture is the decisions it used (memory.py); a
trial of this worker that took a branch is known once it finishes, before its batch is learned
(`mark_finished`): a rollout that agrees with it on the decisions it used is skipped too.
If the policy still proposes only known ones, a random walk of one-decision changes from the
last proposal finds a new neighbour (`MAX_WALK` steps; then the known one is used, so a nearly
exhausted space still terminates). Such an action set is recorded with its log-probability
under the policy, as if drawn, and PPO's clipped ratio bounds what it teaches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .learner import Learner
from .memory import digest
from .memory import used_digest
from .policy import LSTMPolicy


# The first rollout, then one refill of 8. A policy that proposes 9 known architectures in a row
# has converged, and more proposals rarely find a new one: with 32 instead, the search figures
# on seeds 100-109 were the same within a seed (NAS-Bench-201, the synthetic rewards, the mixed
# and conditional spaces; README: Overhead) for a third of the cost per ask at 1,000 trials.
MAX_PROPOSALS = 9
MAX_WALK = 200


class RolloutQueue:
    def __init__(self) -> None:
        self._policy: LSTMPolicy | None = None
        self._revision = -1
        self._queue: list[tuple[list[int], list[float]]] = []
        self._used = 0  # rollouts used of the current weights
        self._draw_size: int | None = None  # None: the whole batch window (one worker assumed)
        # digest -> trial number, for rollouts not yet learned from
        self._handed: dict[int, int] = {}
        # trial number -> (decisions used, their digest): finished, not learned, and not known
        # by all their decisions from _handed (a branch, or drawn before the policy existed)
        self._branch_done: dict[int, tuple[list[bool], int]] = {}

    def next(
        self,
        learner: Learner,
        number: int,
        rng: np.random.RandomState,
        deduplicate: bool = False,
        visit_limit: int = 1,
        sizes: list[list[float]] | None = None,
        mutate_best: float = 0.0,
    ) -> tuple[list[int], list[float]]:
        """The next rollout of `learner`'s current weights, for trial `number`. With
        `deduplicate`, one evaluated fewer than `visit_limit` times and than it holds
        configurations (`sizes`: Memory.has_room). With probability `mutate_best`, the best
        architecture so far with one decision changed instead."""
        policy = learner.policy
        if policy is not self._policy or policy.revision != self._revision:
            if self._policy is not None:
                self._draw_size = max(1, self._used)
            self._policy, self._revision, self._queue, self._used = policy, policy.revision, [], 0
        memory = learner.memory
        if mutate_best and memory.elites and rng.uniform() < mutate_best:
            return self._mutation(learner, number, rng, deduplicate, visit_limit, sizes)
        if not deduplicate:
            return self._pop(learner, number, rng)
        is_new = self._is_new(learner, visit_limit, sizes)
        for tried in range(MAX_PROPOSALS):
            # After a known one, refill 8 at a time: one draw's fixed cost, not one per proposal.
            actions, log_probs = self._pop(learner, number, rng, at_least=1 if tried == 0 else 8)
            if is_new(actions):
                return self._hand_out(actions, log_probs, number)
        actions = _walk_to_new(actions, policy.n_choices, rng, is_new)
        return self._hand_out(actions, policy.log_probs_of(actions), number)

    def _is_new(
        self, learner: Learner, visit_limit: int, sizes: list[list[float]] | None
    ) -> Callable[[list[int]], bool]:
        learned = learner.version * learner.settings.stride  # trials below are in memory.visits
        self._handed = {d: n for d, n in self._handed.items() if n >= learned}
        self._branch_done = {n: b for n, b in self._branch_done.items() if n >= learned}
        memory = learner.memory
        # With one trial per architecture, a finished trial fills it as a learned one does.
        done = list(self._branch_done.values()) if visit_limit == 1 else []

        def is_new(actions: list[int]) -> bool:
            if digest(actions) in self._handed:
                return False
            if any(used_digest(actions, used) == key for used, key in done):
                return False
            return memory.has_room(actions, visit_limit, sizes)

        return is_new

    def _mutation(
        self,
        learner: Learner,
        number: int,
        rng: np.random.RandomState,
        deduplicate: bool,
        visit_limit: int,
        sizes: list[list[float]] | None,
    ) -> tuple[list[int], list[float]]:
        """The best architecture (the first elite) with one decision changed at random (more, as
        a walk, if that one is known); decisions that joined since it was scored as the policy
        draws them. Recorded with its log-probability under the policy, like a walk's."""
        policy = learner.policy
        best = list(learner.memory.elites[0].actions or ())
        if len(best) < len(policy.n_choices):
            best += self._pop(learner, number, rng)[0][len(best) :]
        is_new = self._is_new(learner, visit_limit, sizes) if deduplicate else lambda _: True
        actions = _walk_to_new(best, policy.n_choices, rng, is_new)
        return self._hand_out(actions, policy.log_probs_of(actions), number)

    def _pop(
        self, learner: Learner, number: int, rng: np.random.RandomState, at_least: int = 1
    ) -> tuple[list[int], list[float]]:
        if not self._queue:
            stride = learner.settings.stride
            count = stride - number % stride  # trials left in this batch window
            if self._draw_size is not None:
                count = min(count, self._draw_size)
            count = max(count, at_least)
            actions, log_probs = learner.policy.sample_many(rng, count)
            self._queue = list(zip(actions, log_probs, strict=True))
        self._used += 1
        return self._queue.pop(0)

    def mark_finished(self, actions: list[int], used: list[bool], number: int) -> None:
        """Trial `number` of this worker finished with a reward, having used only the decisions
        `used`. Until its batch is learned, a rollout that differs from it only elsewhere (in
        branches it did not take, or decisions that joined later) would ask the objective the
        same questions."""
        self._branch_done[number] = (used, used_digest(actions, used))

    def was_handed(self, number: int) -> bool:
        """Whether trial `number` is a rollout (or enqueued trial) of this worker, not learned."""
        return number in self._handed.values()

    def mark_running(self, actions: list[int], number: int) -> None:
        """An architecture that trial `number` evaluates without a rollout (enqueued)."""
        self._hand_out(actions, [], number)

    def _hand_out(
        self, actions: list[int], log_probs: list[float], number: int
    ) -> tuple[list[int], list[float]]:
        self._handed[digest(actions)] = number
        return actions, log_probs

    def clear(self) -> None:
        RolloutQueue.__init__(self)


def _walk_to_new(
    actions: list[int],
    n_choices: tuple[int, ...],
    rng: np.random.RandomState,
    is_new: Callable[[list[int]], bool],
) -> list[int]:
    """Change one decision at a time, at random, until the architecture is new (or give up)."""
    walk = list(actions)
    changeable = [t for t, n in enumerate(n_choices) if n > 1]
    for _ in range(MAX_WALK if changeable else 0):
        t = changeable[rng.randint(len(changeable))]
        walk[t] = (walk[t] + 1 + rng.randint(n_choices[t] - 1)) % n_choices[t]
        if is_new(walk):
            return walk
    return list(actions)
