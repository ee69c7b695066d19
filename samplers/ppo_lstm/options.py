"""PPOLSTMSampler's arguments checked before any trial is spent: one clear message per mistake."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from typing import Any

import optuna
import torch

from . import _storage
from .draws import NUMERIC_VALUES
from .learner import per_decision_elite_weight
from .learner import per_decision_rate
from .learner import policy_weights
from .settings import ADVANTAGES
from .settings import LearnerSettings
from .space import NUMERIC_MODES


_INTEGER_SETTINGS = ("hidden_size", "embedding_size", "batch_size", "update_every", "epochs",
                     "max_staleness", "elite_size", "checkpoint_every", "max_visits")  # fmt: skip
_NUMBER_SETTINGS = (
    "init_range",
    "entropy_weight",
    "baseline_decay",
    "clip_range",
    "max_grad_norm",
)


def check_settings(c: dict[str, Any], update_every_given: int | None) -> int | None:
    """Refuse a bad resolved setting; returns the update stride (None: every batch_size)."""
    _check_types(c)
    _check_positive(
        hidden_size=c["hidden_size"], embedding_size=c["embedding_size"], init_range=c["init_range"],
        batch_size=c["batch_size"], epochs=c["epochs"], max_visits=c["max_visits"],
        max_grad_norm=c["max_grad_norm"], checkpoint_every=c["checkpoint_every"],
    )  # fmt: skip
    if not 0 <= c["baseline_decay"] < 1:
        raise ValueError(f"baseline_decay must be in [0, 1), got {c['baseline_decay']}")
    if c["clip_range"] <= 0 or c["entropy_weight"] < 0 or c["max_staleness"] < 0:
        raise ValueError("clip_range must be > 0, entropy_weight and max_staleness >= 0")
    if isinstance(c["learning_rate"], str) and c["learning_rate"] != "per-decision":
        raise ValueError(
            f"learning_rate must be > 0 or 'per-decision', got {c['learning_rate']!r}"
        )
    if c["learning_rate"] != "per-decision":
        _check_positive(learning_rate=c["learning_rate"])
    if c["advantage"] not in ADVANTAGES:
        raise ValueError(f"advantage must be one of {ADVANTAGES}, got {c['advantage']!r}")
    weight = c["elite_weight"]
    if weight != "per-decision" and (
        not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0
    ):
        raise ValueError(f"elite_weight must be >= 0 or 'per-decision', got {weight!r}")
    if c["elite_size"] < 0:
        raise ValueError("elite_size must be >= 0")
    if c["mutate_best"] != "per-decision":
        check_share("mutate_best", c["mutate_best"], " or 'per-decision'")
    if c["mutate_best"] and not c["elite_size"]:
        raise ValueError(
            "mutate_best changes the best architecture, the first of the elites: it needs "
            "elite_size >= 1 (or pass mutate_best=0)"
        )
    stride = c["update_every"]
    if update_every_given is None and stride is not None:
        stride = min(stride, c["batch_size"])  # the preset's, for a batch_size passed smaller
    if stride is not None and not 1 <= stride <= c["batch_size"]:
        raise ValueError(
            f"update_every must be in [1, batch_size={c['batch_size']}], got {stride}"
        )
    return None if stride == c["batch_size"] else stride  # the same schedule, same fingerprint


def check_numeric(
    numeric: str, numeric_bins: int, numeric_value: str, refine_best: float = 0.0
) -> None:
    if numeric not in NUMERIC_MODES:
        raise ValueError(f"numeric must be one of {NUMERIC_MODES}, got {numeric!r}")
    if not isinstance(numeric_bins, int) or isinstance(numeric_bins, bool) or numeric_bins < 2:
        raise ValueError(f"numeric_bins must be an integer >= 2, got {numeric_bins!r}")
    if numeric_value not in NUMERIC_VALUES:
        raise ValueError(f"numeric_value must be one of {NUMERIC_VALUES}, got {numeric_value!r}")
    check_share("refine_best", refine_best)


def check_share(name: str, value: Any, other: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number in [0, 1]{other}, got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be in [0, 1] (a share of the trials){other}, got {value}")


def learner_settings(n_choices: tuple[int, ...], settings: dict) -> LearnerSettings:
    """The lineage's settings once the space is known; learning_rate "per-decision" is
    0.1 / number of decisions (at most 0.02): the per-decision ratios each move about one step,
    so a fixed step per update of the joint policy means a smaller one per decision.
    elite_weight "per-decision" is 1.8 / number of decisions (at most 0.3)."""
    ppo = settings["ppo"]
    if ppo.learning_rate == "per-decision":
        ppo = dataclasses.replace(ppo, learning_rate=per_decision_rate(len(n_choices)))
    if ppo.elite_weight == "per-decision":
        ppo = dataclasses.replace(ppo, elite_weight=per_decision_elite_weight(len(n_choices)))
    return LearnerSettings(n_choices=n_choices, **{**settings, "ppo": ppo})


def _check_types(settings: dict[str, Any]) -> None:
    """A wrong type fails here, not at the first update after trials were spent (epochs = 2.5)."""
    for name in _INTEGER_SETTINGS:
        value = settings[name]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    for name in _NUMBER_SETTINGS:
        value = settings[name]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{name} must be a number, got {value!r}")
    if not isinstance(settings["deduplicate"], bool):
        raise ValueError(f"deduplicate must be true or false, got {settings['deduplicate']!r}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")


def read_init_policy(source: str | os.PathLike | optuna.Study | None) -> dict | None:
    if source is None:
        return None
    if isinstance(source, optuna.Study):
        found = _storage.read_checkpoint(source)
        if found is None:
            raise ValueError("init_policy: the source study has no PPO checkpoint yet")
        return policy_weights(found[1])
    if not os.path.exists(source):
        raise ValueError(
            f"init_policy: no file {source!s}; save one with PPOLSTMSampler.save_policy"
        )
    return torch.load(source, weights_only=True)


def weights_digest(weights: dict) -> str:
    buffer = io.BytesIO()
    for name in sorted(weights):
        buffer.write(name.encode())
        buffer.write(weights[name].numpy().tobytes())
    return hashlib.sha256(buffer.getvalue()).hexdigest()[:16]
