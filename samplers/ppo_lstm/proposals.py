"""One trial's proposal: its actions (a rollout of the policy, or the best architecture with one
decision changed) and the values they stand for (draws.py), none of them evaluated before.

The sampler's settings that shape a proposal live here, apart from Optuna's interface:
`deduplicate` and `max_visits` (rollouts.py, fresh_values.py), `mutate_best` (a share, or
"per-decision": learner.per_decision_mutation), `numeric_value` and `refine_best` (draws.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .draws import values_of
from .fresh_values import FreshValues
from .learner import per_decision_mutation
from .lineage import actions_of_params
from .lineage import Lineage
from .rollouts import RolloutQueue


# Trials kept until the policy's space exists: the first trial of each worker, in practice.
MAX_BEFORE_SPACE = 64


@dataclass(frozen=True)
class ProposalSettings:
    deduplicate: bool
    max_visits: int
    mutate_best: float | str
    numeric_value: str
    refine_best: float


class Proposals:
    def __init__(self, settings: ProposalSettings, rng: np.random.RandomState) -> None:
        self.settings = settings
        self.rng = rng
        self.rollouts = RolloutQueue()  # drawn ahead, a batch window's worth at a time
        self._fresh = FreshValues()  # numeric values: no configuration twice
        # trials that finished before the policy's space existed: trial number -> params
        self._before_space: dict[int, dict[str, Any]] = {}

    def propose(
        self, lineage: Lineage, number: int, n: int
    ) -> tuple[list[int], list[float], dict[str, Any]]:
        """For trial `number`: the actions and log-probabilities of the policy's first `n`
        decisions, and the values of those decisions."""
        for earlier, params in self._before_space.items():
            self.finished(lineage, earlier, params)
        self._before_space.clear()
        s, learner = self.settings, lineage.learner
        limit = lineage.visit_limit(s.max_visits)  # 1: every decision a choice
        sizes = lineage.cell_sizes() if limit > 1 else None
        share = s.mutate_best
        if share == "per-decision":
            share = per_decision_mutation(learner.n_decisions)
        actions, log_probs = self.rollouts.next(
            learner, number, self.rng, s.deduplicate, limit, sizes, float(share)
        )
        actions, log_probs = actions[:n], log_probs[:n]

        def draw(uniform: bool) -> dict[str, Any]:
            return values_of(
                lineage.space,
                actions,
                lineage.bins,
                self.rng,
                "uniform" if uniform else s.numeric_value,
                learner.memory.near,
                learner.memory.best,
                0.0 if uniform else s.refine_best,
            )

        if not (s.deduplicate and limit > 1):
            return actions, log_probs, draw(False)
        learned = learner.version * learner.settings.stride
        params = self._fresh.draw(
            draw, lineage.space, lineage.bins, learner.memory, number, learned
        )
        return actions, log_probs, params

    def finished(self, lineage: Lineage | None, number: int, params: dict[str, Any]) -> None:
        """Trial `number` of this worker finished with a reward: its architecture is known before
        its batch is learned, by the decisions it used (a branch, or a trial drawn before the
        policy's space existed, which may grow past it)."""
        if lineage is None:  # no policy space yet (it is inferred from the first trial)
            if len(self._before_space) < MAX_BEFORE_SPACE:
                self._before_space[number] = dict(params)
            return
        if any(name not in lineage.space for name in params):
            return  # a parameter the policy does not decide (yet): a rollout cannot repeat it
        used = [name in params for name in lineage.space]
        if all(used) and self.rollouts.was_handed(number):
            return  # known already, by all of its decisions
        # The unused decisions as 0: the digest leaves them out.
        actions = actions_of_params(params, lineage.space, lineage.bins, missing=0)
        if actions is not None:  # else a value the policy cannot decide: not its architecture
            self.rollouts.mark_finished(actions, used, number)

    def clear(self) -> None:
        self.rollouts.clear()
        self._fresh.clear()
        self._before_space.clear()
