"""PPOLSTMSampler: the NASNet controller (Zoph et al. 2018) as an Optuna sampler."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
import torch
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.trial import FrozenTrial, TrialState

from . import _storage
from .learner import LearnerSettings, policy_weights
from .lineage import Lineage
from .ppo import PPOSettings
from .rollouts import RolloutQueue
from .space import Space, categorical_part, frozen_space


class PPOLSTMSampler(BaseSampler):
    """Samples categorical parameters with an LSTM policy trained by PPO on the trials' values.

    Defaults are the paper's controller (one-layer LSTM, 100 units, weights uniform in
    [-0.1, 0.1], entropy weight 1e-5, EMA baseline 0.95, 20 architectures per update) except
    the learning rate: 0.001, measured to learn within hundreds of trials, where the paper's
    0.00035 (for 20,000 children) stays at random search's level (README: "Learning rate").
    Batch k is the trials numbered [20k, 20k + 20); it is learned from once all of them
    are finished, the same way in every process, so many workers share one policy. Numeric
    parameters and those outside the policy's space go to ``independent_sampler``.
    """

    def __init__(
        self,
        *,
        search_space: Mapping[str, BaseDistribution] | None = None,
        hidden_size: int = LearnerSettings.hidden_size,
        embedding_size: int = LearnerSettings.embedding_size,
        init_range: float = LearnerSettings.init_range,
        learning_rate: float = PPOSettings.learning_rate,
        entropy_weight: float = PPOSettings.entropy_weight,
        baseline_decay: float = LearnerSettings.baseline_decay,
        batch_size: int = LearnerSettings.batch_size,
        clip_range: float = PPOSettings.clip_range,
        epochs: int = PPOSettings.epochs,
        max_grad_norm: float = PPOSettings.max_grad_norm,
        max_staleness: int = LearnerSettings.max_staleness,
        checkpoint_every: int = 25,
        init_seed: int = LearnerSettings.init_seed,
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
        if self._user_space == {}:
            raise ValueError(
                "search_space has no CategoricalDistribution: the policy decides categorical "
                "parameters only; pass them (numeric ones go to independent_sampler)"
            )
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
        self._lineage: Lineage | None = None  # made once the policy's space is known
        self._rollouts = RolloutQueue()  # drawn ahead, a batch window's worth at a time
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
                learner = self._lineage_for(space).catch_up(study, trial.number)
                actions, log_probs = self._rollouts.next(learner, trial.number, self._rng)
                record = {"v": learner.version, "a": actions, "lp": log_probs, "u": self._lineage.unrecorded}
                self._lineage.unrecorded = []
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
        self._rollouts.clear()
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
            learner = self._lineage_for(space).catch_up(study, len(study.get_trials(deepcopy=False)))
            torch.save(learner.policy.state_dict(), path)
            return learner.version

    def _policy_space(self, study: optuna.Study) -> Space | None:
        if self._space is None:
            self._space = self._user_space if self._user_space is not None else frozen_space(study)
        return self._space

    def _lineage_for(self, space: Space) -> Lineage:
        if self._lineage is None:
            n_choices = tuple(len(d.choices) for d in space.values())
            self._lineage = Lineage(
                LearnerSettings(n_choices=n_choices, **self._settings),
                space,
                init_weights=self._init_weights,
                checkpoint_every=self._checkpoint_every,
                artifact_store=self._artifact_store,
            )
        return self._lineage

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
