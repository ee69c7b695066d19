"""One process's copy of a study's policy lineage, kept in step with the trials in storage.

Batch k is the trials numbered [k * update_every, (k + 1) * update_every). Once all are finished,
every process applies it the same way, so they agree without talking to each other. Every
`checkpoint_every` versions the first process there writes a checkpoint and later ones adopt
it; a process that joins late starts from the newest checkpoint instead of from version 0.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial

from . import _storage
from . import rewards
from .learner import Learner
from .learner import LearnerSettings
from .learner import Sample
from .space import Space


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
    ) -> None:
        self.learner = Learner(settings, init_weights)
        self.scalarization = scalarization  # values -> reward on a multi-objective study
        self.space = space
        self.unrecorded: list[dict] = []  # diagnostics of updates made here, not yet stored
        self._checkpoint_every = checkpoint_every
        self._artifact_store = artifact_store
        self._joined = False
        self._next_load_check = 0
        self._finished: dict[int, Sample] = {}  # samples of the batch being waited for

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

    def _load_checkpoint(self, study: optuna.Study) -> None:
        found = _storage.read_checkpoint(study, self._artifact_store)
        if found is not None and found[0] > self.learner.version:
            self.learner.load_state_bytes(found[1])
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

    def _batch(self, study: optuna.Study, k: int) -> list[Sample] | None:
        """Batch k's samples in trial-number order, or None while one of its trials runs."""
        stride = self.learner.settings.stride
        samples = []
        for number in range(k * stride, (k + 1) * stride):
            if number not in self._finished:
                trial = _storage.get_trial_by_number(study, number)
                if not trial.state.is_finished():
                    return None  # cached samples wait; the next ask asks again from here
                self._finished[number] = self._sample_of(study, trial)
            samples.append(self._finished[number])
        return samples

    def _sample_of(self, study: optuna.Study, trial: FrozenTrial) -> Sample:
        """Reward (direction-aware; pruned: last reported value; failed: none) and the rollout
        if the trial's params are the rollout's actions (not enqueued or fixed ones)."""
        reward = rewards.reward_of(trial, study.directions, self.scalarization)
        if reward is None:
            return Sample(trial.number, None)
        actions = actions_of(trial, self.space)
        record = trial.system_attrs.get(_storage.RECORD_KEY)
        if record is None or actions != list(record["a"]):
            return Sample(
                trial.number, float(reward), actions
            )  # enqueued, fixed or retried params
        return Sample(trial.number, float(reward), actions, record["lp"], record["v"])


def actions_of(trial: FrozenTrial, space: Space) -> list[int] | None:
    """The trial's params as the policy's action indices; None if one is missing or not a choice."""
    return actions_of_params(trial.params, space)


def actions_of_params(params: dict[str, Any], space: Space) -> list[int] | None:
    actions = []
    for name, distribution in space.items():
        if name not in params:
            return None
        try:
            actions.append(int(distribution.to_internal_repr(params[name])))
        except ValueError:
            return None
    return actions
