"""PPOLSTMSampler: the NASNet controller (Zoph et al. 2018) as an Optuna sampler."""

from __future__ import annotations

import hashlib
import io
import math
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
import torch
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from . import _storage
from .learner import Learner, LearnerSettings, Sample, policy_weights
from .ppo import PPOSettings
from .space import Space, categorical_part, frozen_space


class PPOLSTMSampler(BaseSampler):
    """Samples categorical parameters with an LSTM policy trained by PPO on the trials' values.

    Defaults are the paper's controller (one-layer LSTM, 100 units, weights uniform in
    [-0.1, 0.1], lr 0.00035, entropy weight 1e-5, EMA baseline 0.95, 20 architectures per
    update). Batch k is the trials numbered [20k, 20k + 20); it is learned from once all of them
    are finished, the same way in every process, so many workers share one policy. Numeric
    parameters and those outside the policy's space go to ``independent_sampler``.
    """

    def __init__(
        self,
        *,
        search_space: Mapping[str, BaseDistribution] | None = None,
        hidden_size: int = 100,
        embedding_size: int = 32,
        init_range: float = 0.1,
        learning_rate: float = 0.00035,
        entropy_weight: float = 1e-5,
        baseline_decay: float = 0.95,
        batch_size: int = 20,
        clip_range: float = 0.2,
        epochs: int = 4,
        max_grad_norm: float = 1.0,
        max_staleness: int = 10,
        checkpoint_every: int = 25,
        init_seed: int = 0,
        init_policy: str | os.PathLike | optuna.Study | None = None,
        artifact_store: Any = None,
        independent_sampler: BaseSampler | None = None,
        seed: int | None = None,
    ) -> None:
        _check_positive(
            hidden_size=hidden_size, embedding_size=embedding_size, init_range=init_range,
            learning_rate=learning_rate, batch_size=batch_size, epochs=epochs,
            max_grad_norm=max_grad_norm, checkpoint_every=checkpoint_every,
        )  # fmt: skip
        if not 0 <= baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay}")
        if clip_range <= 0 or entropy_weight < 0 or max_staleness < 0:
            raise ValueError("clip_range must be > 0, entropy_weight and max_staleness >= 0")
        self._user_space = None if search_space is None else categorical_part(search_space)
        self._init_weights = _read_init_policy(init_policy)
        init_sha = "" if self._init_weights is None else _weights_digest(self._init_weights)
        self._settings = dict(
            hidden_size=hidden_size, embedding_size=embedding_size, init_range=init_range,
            init_seed=init_seed, batch_size=batch_size, baseline_decay=baseline_decay,
            max_staleness=max_staleness, init_policy_sha=init_sha,
            ppo=PPOSettings(learning_rate, entropy_weight, clip_range, epochs, max_grad_norm),
        )  # fmt: skip
        self._checkpoint_every = checkpoint_every
        self._artifact_store = artifact_store
        self._rng = np.random.RandomState(seed)
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._space: Space | None = None
        self._learner: Learner | None = None
        self._next_load_check = 0
        self._finished: dict[int, Sample] = {}  # samples of the batch being waited for
        self._unrecorded: list[dict] = []  # diagnostics of updates made here, not yet stored
        self._lock = threading.Lock()

    # -- Optuna's sampler interface -------------------------------------------------------------

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        _single_objective_only(study)
        return dict(self._policy_space(study) or {})

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        _single_objective_only(study)
        if not search_space:
            return {}
        params: dict[str, Any] = {}
        space = self._policy_space(study)
        if space and all(_same(search_space.get(name), d) for name, d in space.items()):
            with self._lock:
                learner = self._catch_up(study, trial.number)
                actions, log_probs = learner.policy.sample(self._rng)
                record = {"v": learner.version, "a": actions, "lp": log_probs, "u": self._unrecorded}
                self._unrecorded = []
            _storage.write_trial_record(study, trial, record)
            params = {name: d.choices[a] for (name, d), a in zip(space.items(), actions, strict=True)}
        for name, distribution in search_space.items():
            if name not in params:
                params[name] = self._independent.sample_independent(study, trial, name, distribution)
        return params

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        _single_objective_only(study)
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._independent.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._independent.reseed_rng()

    # -- public extras --------------------------------------------------------------------------

    @staticmethod
    def diagnostics(study: optuna.Study) -> list[dict]:
        """One dict per policy update (entropy, approx_kl, clip_fraction, baseline, mean_reward,
        policy_version, n_trials, ...), in version order, read from the trials' records."""
        by_version: dict[int, dict] = {}
        for trial in study.get_trials(deepcopy=False):
            for update in trial.system_attrs.get(_storage.RECORD_KEY, {}).get("u", []):
                by_version.setdefault(update["policy_version"], update)
        return [by_version[v] for v in sorted(by_version)]

    def save_policy(self, study: optuna.Study, path: str | os.PathLike) -> int:
        """Learn from every finished batch of `study`, save the policy weights to `path` (for
        ``init_policy=`` in another study on the same space); returns the policy version."""
        space = self._policy_space(study)
        if not space:
            raise ValueError("the study has no policy yet: run some trials with this sampler first")
        with self._lock:
            learner = self._catch_up(study, len(study.get_trials(deepcopy=False)))
            torch.save(learner.policy.state_dict(), path)
            return learner.version

    # -- lineage --------------------------------------------------------------------------------

    def _policy_space(self, study: optuna.Study) -> Space | None:
        if self._space is None:
            self._space = self._user_space if self._user_space is not None else frozen_space(study)
        return self._space

    def _catch_up(self, study: optuna.Study, number: int) -> Learner:
        """Apply every batch complete before trial `number`, loading a checkpoint to skip ahead."""
        batch_size = self._settings["batch_size"]
        ready = number // batch_size  # batches whose trials all exist
        if self._learner is None:
            n_choices = tuple(len(d.choices) for d in self._space.values())
            self._learner = Learner(
                LearnerSettings(n_choices=n_choices, **self._settings), self._init_weights
            )
            self._load_checkpoint(study)
        learner = self._learner
        if ready - learner.version > self._checkpoint_every and ready >= self._next_load_check:
            self._next_load_check = ready + self._checkpoint_every  # not on every ask while stuck
            self._load_checkpoint(study)
        while learner.version < ready:
            samples = self._batch(study, learner.version)
            if samples is None:
                break
            self._unrecorded.append(learner.apply_batch(samples))
            self._finished.clear()
            if learner.version % self._checkpoint_every == 0:
                self._share_checkpoint(study)
        return learner

    def _load_checkpoint(self, study: optuna.Study) -> None:
        found = _storage.read_checkpoint(study, self._artifact_store)
        if found is not None and found[0] > self._learner.version:
            self._learner.load_state_bytes(found[1])
            self._finished.clear()

    def _share_checkpoint(self, study: optuna.Study) -> None:
        """Write the first checkpoint of this version; adopt one already there (the lineage's
        reference when workers run on different hardware)."""
        version = self._learner.version
        stored = _storage.read_checkpoint_version(study)
        if stored is None or stored < version:
            slot = (version // self._checkpoint_every) % 2
            _storage.write_checkpoint(study, version, self._learner.state_bytes(), slot, self._artifact_store)
        elif stored == version:
            found = _storage.read_checkpoint(study, self._artifact_store)
            if found is not None and found[0] == version:
                self._learner.load_state_bytes(found[1])

    def _batch(self, study: optuna.Study, k: int) -> list[Sample] | None:
        """Batch k's samples in trial-number order, or None while one of its trials runs."""
        batch_size = self._settings["batch_size"]
        samples = []
        for number in range(k * batch_size, (k + 1) * batch_size):
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
        reward = None
        if trial.state == TrialState.COMPLETE:
            reward = trial.value
        elif trial.state == TrialState.PRUNED and trial.intermediate_values:
            reward = trial.intermediate_values[max(trial.intermediate_values)]
        if reward is None or not math.isfinite(reward):
            return Sample(trial.number, None)
        if study.direction == StudyDirection.MINIMIZE:
            reward = -reward
        record = trial.system_attrs.get(_storage.RECORD_KEY)
        if record is None or not _params_match(trial, self._space, record["a"]):
            return Sample(trial.number, float(reward))
        return Sample(trial.number, float(reward), record["a"], record["lp"], record["v"])

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _single_objective_only(study: optuna.Study) -> None:
    if len(study.directions) > 1:
        raise ValueError(
            "PPOLSTMSampler learns from one objective value per trial; this study has "
            f"{len(study.directions)} objectives. Use a single-objective study or another sampler."
        )


def _same(a: BaseDistribution | None, b: BaseDistribution) -> bool:
    return a is b or a == b  # identity first: infer_relative_search_space hands ours back


def _params_match(trial: FrozenTrial, space: Space, actions: Sequence[int]) -> bool:
    for (name, distribution), action in zip(space.items(), actions, strict=True):
        if name not in trial.params or distribution.to_internal_repr(trial.params[name]) != action:
            return False
    return True


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")


def _read_init_policy(source: str | os.PathLike | optuna.Study | None) -> dict | None:
    if source is None:
        return None
    if isinstance(source, optuna.Study):
        found = _storage.read_checkpoint(source)
        if found is None:
            raise ValueError("init_policy: the source study has no PPO checkpoint yet")
        return policy_weights(found[1])
    if not os.path.exists(source):
        raise ValueError(f"init_policy: no file {source!s}; save one with PPOLSTMSampler.save_policy")
    return torch.load(source, weights_only=True)


def _weights_digest(weights: dict) -> str:
    buffer = io.BytesIO()
    for name in sorted(weights):
        buffer.write(name.encode())
        buffer.write(weights[name].numpy().tobytes())
    return hashlib.sha256(buffer.getvalue()).hexdigest()[:16]
