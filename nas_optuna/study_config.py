"""Study configurations: one TOML file per study (see studies/).

Tables: ``[space]`` (preset "nasnet"|"pnas"|"nb201", n_blocks; progressive for "pnas"),
``[objective]`` (name + that objective's settings; ``objectives = ["accuracy", "mult_adds"]`` for
a multi-objective study, see nas_optuna.multi_objective), ``[budget]`` (n_trials,
device_seconds) and ``[sampler.NAME]`` (settings for one sampler, e.g. ``[sampler.ppo]``).
Every table, key, type and range is checked here (the sampler's settings when the worker
builds it) so that a typo stops the worker before it writes to a study, with one line naming
the setting.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optuna.distributions import CategoricalDistribution

from nas_optuna import multi_objective
from nas_optuna.nb201 import nb201_space
from nas_optuna.space import nasnet_space, pnas_space

TABLES = ("space", "objective", "budget", "sampler")
SPACE_KEYS = ("preset", "n_blocks", "progressive")
BUDGET_KEYS = ("n_trials", "device_seconds")
SAMPLER_NAMES = ("ppo", "random", "tpe", "nsga2", "evolution", "pnas")
PRESETS = {"nasnet": nasnet_space, "pnas": pnas_space, "nb201": nb201_space}


@dataclass(frozen=True)
class StudyConfig:
    """A validated study configuration; ``data`` is the TOML content as plain JSON-able data."""

    data: dict[str, Any]
    source: str = "<dict>"
    space_settings: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "space_settings", {"preset": "nasnet", **self.data.get("space", {})})

    @property
    def objective(self) -> dict[str, Any]:
        """The objective's own settings (without the study-level ``objectives`` key)."""
        return {k: v for k, v in self.data["objective"].items() if k != multi_objective.KEY}

    @property
    def objective_names(self) -> tuple[str, ...]:
        return multi_objective.objective_names(self.data["objective"])

    @property
    def budget(self) -> dict[str, Any]:
        return dict(self.data.get("budget", {}))

    def sampler_settings(self, sampler: str) -> dict[str, Any]:
        return dict(self.data.get("sampler", {}).get(sampler, {}))

    def build_space(self) -> dict[str, CategoricalDistribution]:
        settings = dict(self.space_settings)
        preset = PRESETS[settings.pop("preset")]
        return preset(**settings)

    def build_objective(self, *, device: str = "cpu"):
        # Imported here: the objectives package pulls in torch and data loading.
        from nas_optuna.objectives import make_objective

        objective = make_objective(self.objective, self.build_space(), device=device)
        names = self.objective_names
        return objective if len(names) == 1 else multi_objective.MultiObjective(objective, names)


def _check_keys(where: str, table: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table, got {table!r}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed keys are {list(allowed)}")


def validate(data: dict[str, Any], source: str = "<dict>") -> StudyConfig:
    """Check tables and keys of a parsed study configuration; ValueError names what is wrong."""
    _check_keys(source, data, TABLES)
    if "objective" not in data or "name" not in data["objective"]:
        raise ValueError(f'{source}: an [objective] table with a name (e.g. name = "cifar") is required')
    _check_keys(f"{source} [space]", data.get("space", {}), SPACE_KEYS)
    preset = data.get("space", {}).get("preset", "nasnet")
    if preset not in PRESETS:
        raise ValueError(f"{source} [space]: unknown preset {preset!r}; choose one of {list(PRESETS)}")
    if preset == "nb201" and set(data["space"]) != {"preset"}:
        raise ValueError(f'{source} [space]: preset = "nb201" is a fixed cell space; remove the other keys')
    progressive = data.get("space", {}).get("progressive", False)
    if not isinstance(progressive, bool):
        raise ValueError(f"{source} [space]: progressive = {progressive!r} must be true or false")
    if progressive and preset != "pnas":
        raise ValueError(
            f'{source} [space]: progressive = true grows PNAS cells block by block; it needs preset = "pnas"'
        )
    n_blocks = data.get("space", {}).get("n_blocks", 5)
    if not isinstance(n_blocks, int) or isinstance(n_blocks, bool):
        raise ValueError(f"{source} [space]: n_blocks = {n_blocks!r} must be an integer >= 1")
    budget = data.get("budget", {})
    _check_keys(f"{source} [budget]", budget, BUDGET_KEYS)
    for key in BUDGET_KEYS:
        value = budget.get(key)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if value is not None and (not number or value <= 0):
            raise ValueError(f"{source} [budget]: {key} must be a positive number, got {value!r}")
    sampler = data.get("sampler", {})
    _check_keys(f"{source} [sampler]", sampler, SAMPLER_NAMES)
    for name, settings in sampler.items():
        if not isinstance(settings, dict):
            raise ValueError(f"{source}: [sampler.{name}] must be a table of that sampler's settings")
    config = StudyConfig(data, source)
    try:
        config.build_space()  # bad n_blocks etc. fail now, with the space's own message
        multi_objective.objective_names(data["objective"])
        _check_objective(config.objective)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None
    return config


def _check_objective(table: dict[str, Any]) -> None:
    # Imported here: the objectives package pulls in torch.
    from nas_optuna.objectives import check_objective_settings

    check_objective_settings(table)


def load_study_config(path: str | Path) -> StudyConfig:
    """Read and validate a study TOML file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"study config {str(path)!r} not found; the bundled ones are in studies/")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not valid TOML: {err}") from None
    return validate(data, str(path))
