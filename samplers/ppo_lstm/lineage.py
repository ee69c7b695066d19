"""One process's copy of a study's policy lineage, kept in step with the trials in storage.

Batch k is the trials numbered [k * update_every, (k + 1) * update_every). Once all are finished,
every process applies it the same way, so they agree without talking to each other. Every
`checkpoint_every` versions the first process there writes a checkpoint and later ones adopt
it; a process that joins late starts from the newest checkpoint instead of from version 0.

A parameter the policy can decide that batch k's trials show and its space lacks (first seen in
a later trial, e.g. one branch of a conditional space) joins the policy as a new last decision
before update k, in the order the trials show them; every process does the same at the same
update, so the space needs no coordination beyond the trials, and it travels in checkpoints.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import distribution_to_json
from optuna.distributions import json_to_distribution
from optuna.trial import FrozenTrial

from . import _storage
from . import rewards
from .learner import Learner
from .learner import Sample
from .settings import LearnerSettings
from .space import action_of
from .space import cell_sizes
from .space import holds_many
from .space import is_decidable
from .space import n_actions
from .space import position_of
from .space import Space


_logger = optuna.logging.get_logger(__name__)


class Lineage:
    def __init__(
        self,
        settings: LearnerSettings,
        space: Space,
        *,
        init_weights: dict | None,
        checkpoint_every: int,
        artifact_store: Any,
        scalarization: rewards.Scalarization = None,
        numeric: str = "policy",
        per_decision: bool = False,
        per_decision_elite: bool = False,
    ) -> None:
        self.learner = Learner(
            settings,
            init_weights,
            per_decision=per_decision,
            per_decision_elite=per_decision_elite,
        )
        self.scalarization = scalarization  # values -> reward on a multi-objective study
        self.initial_space = dict(space)
        self.space = dict(space)  # grows with the learner's decisions
        self.bins = settings.numeric_bins
        self._numeric = numeric
        self.unrecorded: list[dict] = []  # diagnostics of updates made here, not yet stored
        self._checkpoint_every = checkpoint_every
        self._artifact_store = artifact_store
        self._joined = False
        self._next_load_check = 0
        self.warned: set[str] = set()  # parameters warned about, once each
        self._sizes: list[list[float]] = []  # cell_sizes of the space, as long as it
        self._finished: dict[int, FrozenTrial] = {}  # trials of the batch being waited for
        # id(given) -> (given, ours, given == ours): trials asked with one space share its
        # distribution objects, and comparing two (every choice) costs more than the rest.
        self._compared: dict[int, tuple[BaseDistribution, BaseDistribution, bool]] = {}

    def catch_up(self, study: optuna.Study, number: int) -> Learner:
        """Apply every batch complete before trial `number`, loading a checkpoint to skip ahead."""
        ready = number // self.learner.settings.stride  # batches whose trials all exist
        if not self._joined:
            self._joined = True
            self._load_checkpoint(study)
        learner = self.learner
        if ready - learner.version > self._checkpoint_every and ready >= self._next_load_check:
            self._next_load_check = ready + self._checkpoint_every  # not on every ask while stuck
            self._load_checkpoint(study)
        while learner.version < ready:
            samples = self._batch(study, learner.version)
            if samples is None:
                break
            self.unrecorded.append(learner.apply_batch(samples))
            self._finished.clear()
            if learner.version % self._checkpoint_every == 0:
                self._share_checkpoint(study)
        return learner

    def visit_limit(self, max_visits: int) -> int:
        """Trials one combination of actions may get: `max_visits` where a decision is a numeric
        interval (another trial of it is a new draw inside), else 1."""
        many = any(size > 1 for sizes in self.cell_sizes() for size in sizes)
        return max_visits if many else 1

    def cell_sizes(self) -> list[list[float]]:
        """Per decision, how many values each action stands for (space.cell_sizes); computed
        again only when the space grows."""
        if len(self._sizes) != len(self.space):
            self._sizes = [cell_sizes(d, self.bins) for d in self.space.values()]
        return self._sizes

    def warn_changed(self, name: str, given: BaseDistribution, source: str = "") -> None:
        """Once per parameter: its distribution is not the one the policy decides it as."""
        if name in self.warned:
            return
        self.warned.add(name)
        _logger.warning(
            f"PPOLSTMSampler: parameter {name!r} is suggested with {given}, not with the "
            f"{self.space[name]} the policy decides it as (its first); the policy does not learn "
            f"from such values{source}. Keep one distribution per parameter name (e.g. fixed "
            "ranges) for the policy to learn it."
        )

    def _load_checkpoint(self, study: optuna.Study) -> None:
        found = _storage.read_checkpoint(study, self._artifact_store)
        if found is not None and found[0] > self.learner.version:
            self.learner.load_state_bytes(found[1])
            self._adopt_grown()
            self._finished.clear()

    def _share_checkpoint(self, study: optuna.Study) -> None:
        """Write the first checkpoint of this version; adopt one already there (the lineage's
        reference when workers run on different hardware)."""
        version = self.learner.version
        stored = _storage.read_checkpoint_version(study)
        if stored is None or stored < version:
            slot = (version // self._checkpoint_every) % 2
            _storage.write_checkpoint(
                study, version, self.learner.state_bytes(), slot, self._artifact_store
            )
        elif stored == version:
            found = _storage.read_checkpoint(study, self._artifact_store)
            if found is not None and found[0] == version:
                self.learner.load_state_bytes(found[1])
                self._adopt_grown()

    def _adopt_grown(self) -> None:
        self.space = dict(self.initial_space)
        for name, text, _ in self.learner.grown:
            self.space[name] = json_to_distribution(text)

    def _batch(self, study: optuna.Study, k: int) -> list[Sample] | None:
        """Batch k's samples in trial-number order, or None while one of its trials runs."""
        stride = self.learner.settings.stride
        for number in range(k * stride, (k + 1) * stride):
            if number not in self._finished:
                trial = _storage.get_trial_by_number(study, number)
                if not trial.state.is_finished():
                    return None  # cached trials wait; the next ask asks again from here
                self._finished[number] = trial
        trials = [self._finished[n] for n in range(k * stride, (k + 1) * stride)]
        self._grow(trials)
        return [self._sample_of(study, trial) for trial in trials]

    def _grow(self, trials: list[FrozenTrial]) -> None:
        for trial in trials:
            for name, distribution in trial.distributions.items():
                if name not in self.space and is_decidable(distribution, self._numeric):
                    self.learner.grow(
                        name,
                        distribution_to_json(distribution),
                        n_actions(distribution, self.bins),
                    )
                    self.space[name] = distribution

    def _equal(self, given: BaseDistribution, ours: BaseDistribution) -> bool:
        known = self._compared.get(id(given))
        if known is not None and known[0] is given and known[1] is ours:
            return known[2]
        if len(self._compared) > 10_000:  # a define-by-run space: new objects every trial
            self._compared.clear()
        equal = given == ours
        self._compared[id(given)] = (given, ours, equal)
        return equal

    def _sample_of(self, study: optuna.Study, trial: FrozenTrial) -> Sample:
        """Reward (direction-aware; pruned: last reported value; failed: none) and the rollout
        if the trial's params are the rollout's actions (not enqueued or fixed ones)."""
        reward = rewards.reward_of(trial, study.directions, self.scalarization)
        if reward is None:
            return Sample(trial.number, None)
        record = trial.system_attrs.get(_storage.RECORD_KEY)
        drawn = [] if record is None else list(record["a"])[: len(self.space)]
        actions: list[int] = []
        used: list[bool] = []
        positions: list[float | None] = []
        from_rollout = record is not None
        for t, (name, distribution) in enumerate(self.space.items()):
            action = None
            given = trial.distributions.get(name)
            if given is not None and self._equal(given, distribution):
                action = action_of(distribution, trial.params[name], self.bins)
            elif given is not None:
                self.warn_changed(name, given)
            if action is not None and t < len(drawn) and action != drawn[t]:
                from_rollout = False  # enqueued, fixed or retried params
            used.append(action is not None)
            position = None  # where inside its interval a numeric value lies
            if action is not None and holds_many(distribution, self.bins):
                position = position_of(distribution, trial.params[name], action, self.bins)
            positions.append(position)
            # Not in this trial (another branch): what the rollout drew, which the LSTM read.
            actions.append(action if action is not None else (drawn[t] if t < len(drawn) else 0))
        at = positions if any(p is not None for p in positions) else None
        if not any(used):
            return Sample(trial.number, float(reward), None)
        mask = None if all(used) else used
        if not from_rollout:
            return Sample(trial.number, float(reward), actions, used=mask, positions=at)
        log_probs = record["lp"] if mask is None else record["lp"][: len(drawn)]
        return Sample(
            trial.number, float(reward), actions, log_probs, record["v"], mask, positions=at
        )


def actions_of_params(
    params: dict[str, Any], space: Space, bins: int, missing: int | None = None
) -> list[int] | None:
    """The params as the policy's action indices; None if one is not a value, or is missing
    and `missing` (the action to put in its place) is None."""
    actions = []
    for name, distribution in space.items():
        action = missing if name not in params else action_of(distribution, params[name], bins)
        if action is None:
            return None
        actions.append(action)
    return actions
