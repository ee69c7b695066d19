"""PPOLSTMSampler: the NASNet controller (Zoph et al. 2018) as an Optuna sampler."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import os
import threading
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import torch

from . import _storage
from . import options
from . import presets
from . import rewards
from .lineage import actions_of_params
from .lineage import Lineage
from .ppo import PPOSettings
from .proposals import Proposals
from .proposals import ProposalSettings
from .settings import LearnerSettings
from .space import frozen_space
from .space import n_actions
from .space import policy_part
from .space import Space


_logger = optuna.logging.get_logger(__name__)


class PPOLSTMSampler(BaseSampler):
    """Samples categorical parameters with an LSTM policy trained by PPO on the trials' values.

    ``preset="default"`` is tuned for budgets of hundreds to thousands of trials: an update every
    5 trials on the last 30, rank advantages, the 10 best architectures replayed (weight 1.8 /
    number of decisions, at most 0.3), a learning rate of 0.1 / number of decisions, and no
    architecture evaluated twice (a combination of numeric intervals: up to ``max_visits`` = 30
    trials, each a new draw inside them, mostly around the interval's best value so far; and
    in ``refine_best`` = 0.3 of the trials, the best trial's numeric values moved together by
    one random step); and in ``mutate_best`` = 7.2 / number of decisions squared (at most 0.2)
    of the trials, the best architecture so far with one decision changed at random (README:
    "Results").
    ``preset="nasnet-paper"`` (``PPOLSTMSampler.paper()``) is the published controller
    (one-layer LSTM of 100 units, learning rate 0.00035, entropy weight 1e-5, EMA baseline
    0.95, 20 architectures per update). Arguments passed explicitly override the preset.
    Batch k is the trials numbered [k * update_every, (k + 1) * update_every); it is learned
    from once all of them are finished, the same way in every process, so many workers share
    one policy. Int and Float parameters are decisions too, cut into ``numeric_bins`` intervals
    (``numeric="random"``: they go to ``independent_sampler`` instead). A parameter first seen
    in a later trial (a conditional, define-by-run space) joins the policy at the next update;
    until then, and for a parameter whose distribution changes, ``independent_sampler`` draws it.
    On a multi-objective study ``scalarization`` (weights or a callable, see rewards.py) turns
    a trial's values into its reward.
    """

    def __init__(
        self,
        *,
        search_space: Mapping[str, BaseDistribution] | None = None,
        preset: str = "default",
        hidden_size: int | None = None,
        embedding_size: int | None = None,
        init_range: float | None = None,
        learning_rate: float | str | None = None,
        entropy_weight: float | None = None,
        baseline_decay: float | None = None,
        batch_size: int | None = None,
        update_every: int | None = None,
        clip_range: float | None = None,
        epochs: int | None = None,
        max_grad_norm: float | None = None,
        max_staleness: int | None = None,
        advantage: str | None = None,
        elite_size: int | None = None,
        elite_weight: float | str | None = None,
        deduplicate: bool | None = None,
        max_visits: int | None = None,
        checkpoint_every: int | None = None,
        init_seed: int = LearnerSettings.init_seed,
        init_policy: str | os.PathLike | optuna.Study | None = None,
        numeric: str = "policy",
        numeric_bins: int = 10,
        numeric_value: str | None = None,
        refine_best: float | None = None,
        mutate_best: float | str | None = None,
        artifact_store: Any = None,
        independent_sampler: BaseSampler | None = None,
        scalarization: rewards.Scalarization = None,
        seed: int | None = None,
    ) -> None:
        given = {k: v for k, v in locals().items() if k in presets.PAPER}
        c = presets.resolve(preset, given)  # the preset's value for every argument left as None
        stride = options.check_settings(c, update_every)
        options.check_numeric(numeric, numeric_bins, c["numeric_value"], c["refine_best"])
        self._numeric = numeric
        self._user_space = None if search_space is None else policy_part(search_space, numeric)
        if self._user_space == {}:
            raise ValueError(
                "search_space has no parameter the policy decides (categorical ones, and Int/Float "
                "ones unless numeric='random'); pass at least one"
            )
        self._init_weights = options.read_init_policy(init_policy)
        init_sha = "" if self._init_weights is None else options.weights_digest(self._init_weights)
        self._settings = dict(
            hidden_size=c["hidden_size"], embedding_size=c["embedding_size"], init_range=c["init_range"],
            init_seed=init_seed, batch_size=c["batch_size"], baseline_decay=c["baseline_decay"],
            max_staleness=c["max_staleness"], init_policy_sha=init_sha, update_every=stride,
            advantage=c["advantage"], elite_size=c["elite_size"], numeric_bins=numeric_bins,
            ppo=PPOSettings(
                c["learning_rate"], c["entropy_weight"], c["clip_range"], c["epochs"], c["max_grad_norm"],
                c["elite_weight"],
            ),
        )  # fmt: skip
        self._checkpoint_every = c["checkpoint_every"]
        self._artifact_store = artifact_store
        rewards.check_scalarization(scalarization)
        self._scalarization = scalarization  # multi-objective studies: see rewards.py
        self._rng = np.random.RandomState(seed)
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._space: Space | None = None
        self._lineage: Lineage | None = None  # made once the policy's space is known
        self._proposals = Proposals(
            ProposalSettings(
                bool(c["deduplicate"]), c["max_visits"], c["mutate_best"], c["numeric_value"],
                float(c["refine_best"]),
            ),
            self._rng,
        )  # fmt: skip
        self._lock = threading.Lock()

    @classmethod
    def paper(cls, **kwargs: Any) -> PPOLSTMSampler:
        """The controller as published (preset "nasnet-paper": learning rate 0.00035, disjoint
        batches of 20, EMA baseline), for the paper's 20,000-child protocol."""
        return cls(preset="nasnet-paper", **kwargs)

    # -- Optuna's sampler interface -------------------------------------------------------------

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        rewards.check_study(study, self._scalarization)
        space = self._policy_space(study)
        if not space:
            return {}
        with self._lock:  # learn from what finished first: the space may grow with it
            lineage = self._lineage_for(space)
            if trial is not None:  # None: a caller asking for the space only
                lineage.catch_up(study, trial.number)
            return dict(lineage.space)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        rewards.check_study(study, self._scalarization)
        if not search_space:
            return {}
        params: dict[str, Any] = {}
        lineage = self._lineage
        # The policy's decisions, or a prefix of them (another thread grew them since).
        if lineage is not None and all(
            _same(search_space.get(name), d)
            for name, d in list(lineage.space.items())[: len(search_space)]
        ):
            with self._lock:
                actions, log_probs, params = self._proposals.propose(
                    lineage, trial.number, len(search_space)
                )
                record = {
                    "v": lineage.learner.version,
                    "a": actions,
                    "lp": log_probs,
                    "u": lineage.unrecorded,
                }
                lineage.unrecorded = []
            _storage.write_trial_record(study, trial, record)
        for name, distribution in search_space.items():
            if name not in params:
                params[name] = self._independent.sample_independent(
                    study, trial, name, distribution
                )
        return params

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        rewards.check_study(study, self._scalarization)
        lineage = self._lineage
        known = None if lineage is None else lineage.space.get(param_name)
        # An equal one: the policy grew in another thread after this trial's relative draw.
        if known is not None and known != param_distribution:
            assert lineage is not None
            source = f"; these values come from {type(self._independent).__name__}"
            lineage.warn_changed(param_name, param_distribution, source)
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        fixed = _storage.fixed_params(trial)
        space = self._policy_space(study) if fixed else None
        lineage = self._lineage_for(space) if space else None
        actions = actions_of_params(fixed, lineage.space, lineage.bins) if lineage else None
        if actions is not None:  # enqueued: not to be sampled again while it runs
            with self._lock:
                self._proposals.rollouts.mark_running(actions, trial.number)
        self._independent.before_trial(study, trial)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        reward = rewards.reward_at(state, values, trial, study.directions, self._scalarization)
        if reward is not None:  # its architecture is known before its batch is learned
            with self._lock:
                self._proposals.finished(self._lineage, trial.number, trial.params)
        self._independent.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._proposals.clear()
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
            raise ValueError(
                "the study has no policy yet: run some trials with this sampler first"
            )
        with self._lock:
            learner = self._lineage_for(space).catch_up(
                study, len(study.get_trials(deepcopy=False))
            )
            torch.save(learner.policy.state_dict(), path)
            return learner.version

    def _policy_space(self, study: optuna.Study) -> Space | None:
        if self._space is None:
            self._space = (
                self._user_space
                if self._user_space is not None
                else frozen_space(study, self._numeric)
            )
        return self._space

    def _lineage_for(self, space: Space) -> Lineage:
        if self._lineage is None:
            bins = self._settings["numeric_bins"]
            n_choices = tuple(n_actions(d, bins) for d in space.values())
            self._lineage = Lineage(
                options.learner_settings(n_choices, self._settings),
                space,
                init_weights=self._init_weights,
                checkpoint_every=self._checkpoint_every,
                artifact_store=self._artifact_store,
                scalarization=self._scalarization,
                numeric=self._numeric,
                per_decision=self._settings["ppo"].learning_rate == "per-decision",
                per_decision_elite=self._settings["ppo"].elite_weight == "per-decision",
            )
        return self._lineage

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _same(a: BaseDistribution | None, b: BaseDistribution) -> bool:
    return a is b or a == b  # identity first: infer_relative_search_space hands ours back
