"""Rewards under a compute budget: accuracy, or MnasNet's ACC x (cost / target)^w.

The cost is that of the network to be deployed (nas_optuna/cost.py, ``transfer = ...``), not
of the proxy child. ``reward = "mnas"`` is MnasNet's soft constraint (Tan et al. 2019, w = -0.07
for each target: 2x over a target costs ~5% of the reward, 2x under gains ~5%).
``"mnas-hard"`` scores a child over any target 0 without training it (the trial still
COMPLETEs, with ``over_budget`` saying why) and a child within budget its accuracy. The values
reported per epoch (what a pruner compares) stay the raw accuracy; only the trial's final
value is the reward. Torch-free: the settings check runs before a worker loads anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nas_optuna.cost import TRANSFER_PRESETS, TransferConfig, TransferCost, transfer_config

from .settings import FLAG, Rule, number, one_of

REWARDS = ("accuracy", "mnas", "mnas-hard")
TARGETS = {"target_mult_adds": "mult_adds", "target_params": "params"}
RULES: dict[str, Rule] = {
    "transfer": Rule(
        (str, dict),
        kind=f"a preset name ({', '.join(map(repr, TRANSFER_PRESETS))}) or a table",
        optional=True,
    ),
    "latency": FLAG,
    "reward": one_of(*REWARDS),
    "target_mult_adds": Rule((int, float), lambda v: v > 0, "> 0", optional=True),
    "target_params": Rule((int, float), lambda v: v > 0, "> 0", optional=True),
    "w": number(lambda v: -1 <= v < 0, "in [-1, 0) (MnasNet: -0.07)"),
}


def check_reward_settings(where: str, settings: Mapping[str, Any], concat: str = "released") -> None:
    """The rules between keys, on the settings as given (types are checked by RULES already)."""
    reward = settings.get("reward", "accuracy")
    given = [k for k in (*TARGETS, "w") if settings.get(k) is not None]
    if reward == "accuracy" and given:
        raise ValueError(
            f'{where}: {", ".join(given)} only apply with reward = "mnas" or "mnas-hard"; '
            "set reward or remove them"
        )
    if reward == "mnas-hard" and "w" in given:
        raise ValueError(f'{where}: reward = "mnas-hard" has no exponent; remove w or use reward = "mnas"')
    if reward != "accuracy" and not any(settings.get(k) is not None for k in TARGETS):
        raise ValueError(
            f"{where}: reward = {reward!r} needs a budget: target_mult_adds and/or target_params "
            "(at the transfer configuration), e.g. target_mult_adds = 600e6"
        )
    needs_transfer = [k for k in ("latency", "reward") if settings.get(k) not in (None, False, "accuracy")]
    if needs_transfer and settings.get("transfer") is None:
        raise ValueError(
            f"{where}: {' and '.join(needs_transfer)} {'need' if len(needs_transfer) > 1 else 'needs'} "
            "the cost of the deployed network; "
            'add transfer = "mobile" (NASNet 4@1056 at 224x224) or a table like '
            '{ n_cells = 4, filters = 44, stem = "imagenet", image_size = 224 }'
        )
    if settings.get("transfer") is not None:
        transfer_config(settings["transfer"], concat=concat, where=f"{where}: transfer")


@dataclass(frozen=True)
class Reward:
    kind: str = "accuracy"
    targets: tuple[tuple[str, float], ...] = ()  # (TransferCost field, target), e.g. ("mult_adds", 6e8)
    w: float = -0.07

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Reward:
        targets = tuple(
            (field, float(settings[k])) for k, field in TARGETS.items() if settings.get(k) is not None
        )
        return cls(settings.get("reward", "accuracy"), targets, float(settings.get("w", -0.07)))

    def over_budget(self, cost: TransferCost) -> str | None:
        """Why a hard reward skips this child, or None."""
        if self.kind != "mnas-hard":
            return None
        over = [
            f"transfer {field.replace('_', '-')} {getattr(cost, field) / 1e6:.1f}M "
            f"> target {target / 1e6:.1f}M"
            for field, target in self.targets
            if getattr(cost, field) > target
        ]
        return "; ".join(over) + ": scored 0 without training" if over else None

    def score(self, accuracy: float, cost: TransferCost | None) -> float:
        if self.kind != "mnas":
            return accuracy
        factor = 1.0
        for field, target in self.targets:
            factor *= (getattr(cost, field) / target) ** self.w
        return accuracy * factor


def transfer_of(settings: Mapping[str, Any]) -> TransferConfig | None:
    if settings.get("transfer") is None:
        return None
    return transfer_config(settings["transfer"], concat=settings.get("concat", "released"))
