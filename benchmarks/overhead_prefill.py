"""Pre-filled NASNet studies for benchmarks/sampler_overhead.py (the one benchmark module that
uses Optuna's private storage API).

The trials come from a real PPO run: an offline Learner samples each batch of 20 from its
current policy (same code as the sampler), scores it with the synthetic objective and learns
from it. Every trial carries its rollout record, and the study gets the newest checkpoint at or
below its size, so a PPO sampler that joins sees what it would see in a real PPO study: real
gradient updates, a replay of at most `checkpoint_every` batches.
"""

from __future__ import annotations

import datetime
import io
import json
import uuid

import numpy as np
import optuna
from nas_optuna.objectives import SyntheticObjective
from nas_optuna.samplers.ppo_lstm import _storage
from nas_optuna.samplers.ppo_lstm.learner import Learner, Sample
from nas_optuna.samplers.ppo_lstm.options import learner_settings
from optuna.distributions import distribution_to_json

from nas_optuna import PPOLSTMSampler, nasnet_space


class PPOHistory:
    """`n` trials of a PPO run with the sampler's default settings, and its checkpoints
    (version -> bytes) at the default interval."""

    def __init__(self, n: int, objective: SyntheticObjective, seed: int = 0) -> None:
        self.space = nasnet_space()
        n_choices = tuple(len(d.choices) for d in self.space.values())
        default = PPOLSTMSampler(search_space=self.space)  # what a default worker uses
        learner = Learner(learner_settings(n_choices, default._settings))
        self.checkpoint_every = default._checkpoint_every
        self.stride = learner.settings.stride
        rng = np.random.RandomState(seed)
        self.trials: list[optuna.trial.FrozenTrial] = []
        self.checkpoints: dict[int, bytes] = {}
        for start in range(0, n, self.stride):
            actions, log_probs = learner.policy.sample_many(rng, self.stride)
            samples = []
            for i, (a, lp) in enumerate(zip(actions, log_probs, strict=True)):
                params = {name: d.choices[c] for (name, d), c in zip(self.space.items(), a, strict=True)}
                value = objective.score(params)
                record = {"v": learner.version, "a": a, "lp": lp, "u": []}
                self.trials.append(
                    optuna.trial.create_trial(
                        params=params,
                        distributions=self.space,
                        value=value,
                        system_attrs={_storage.RECORD_KEY: record},
                    )
                )
                samples.append(Sample(start + i, value, a, lp, learner.version))
            learner.apply_batch(samples)
            if learner.version % self.checkpoint_every == 0:
                self.checkpoints[learner.version] = learner.state_bytes()

    def fill(self, study: optuna.Study, n: int, url: str | None = None) -> None:
        """Add the first n trials (bulk SQL on PostgreSQL) and the newest checkpoint they allow."""
        if url is not None and url.startswith("postgresql"):
            _copy_into_postgres(study, self.trials[:n])
        else:
            study.add_trials(self.trials[:n])
        versions = [v for v in self.checkpoints if v * self.stride <= n]
        if versions:
            version = max(versions)
            slot = (version // self.checkpoint_every) % 2
            _storage.write_checkpoint(study, version, self.checkpoints[version], slot)


def _copy_into_postgres(study: optuna.Study, trials: list[optuna.trial.FrozenTrial]) -> None:
    """Rows straight into Optuna's tables with COPY: Optuna's add_trials takes about 120 ms per
    50-parameter trial on PostgreSQL, 40 minutes for 20,000. Same rows as add_trials writes."""
    engine = study._storage._backend.engine
    study_id = study._study_id
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) "
            "SELECT g, %s, 'COMPLETE', %s, %s FROM generate_series(0, %s) AS g RETURNING trial_id, number",
            (study_id, now, now, len(trials) - 1),
        )
        ids = dict((number, trial_id) for trial_id, number in cursor.fetchall())
        params, values, attrs = io.StringIO(), io.StringIO(), io.StringIO()
        for number, trial in enumerate(trials):
            trial_id = ids[number]
            for name, value in trial.params.items():
                d = trial.distributions[name]
                text = _escape(distribution_to_json(d))
                params.write(f"{trial_id}\t{name}\t{d.to_internal_repr(value)}\t{text}\n")
            values.write(f"{trial_id}\t0\t{trial.value!r}\tFINITE\n")
            for key, value in trial.system_attrs.items():
                attrs.write(f"{trial_id}\t{key}\t{_escape(json.dumps(value))}\n")
        for table, columns, data in (
            ("trial_params", "trial_id, param_name, param_value, distribution_json", params),
            ("trial_values", "trial_id, objective, value, value_type", values),
            ("trial_system_attributes", "trial_id, key, value_json", attrs),
        ):
            data.seek(0)
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", data)
        connection.commit()
    finally:
        connection.close()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
