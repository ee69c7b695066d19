"""The settings of one policy lineage, fixed once the space is known, and their fingerprint:
workers (and checkpoints) of one study must share them, and a mismatch is named setting by
setting."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
import hashlib
import json

from .ppo import PPOSettings


ADVANTAGES = ("ema", "rank", "zscore")


@dataclass(frozen=True)
class LearnerSettings:
    n_choices: tuple[int, ...]
    hidden_size: int = 100
    embedding_size: int = 32
    init_range: float = 0.1
    init_seed: int = 0
    batch_size: int = 20
    baseline_decay: float = 0.95
    max_staleness: int = 10
    init_policy_sha: str = ""  # warm start weights, so workers can tell
    ppo: PPOSettings = PPOSettings()
    update_every: int | None = None  # None: batch_size (disjoint batches, as the paper)
    advantage: str = "ema"
    elite_size: int = 0
    numeric_bins: int = 10  # intervals of an Int/Float decision (space.py)

    @property
    def stride(self) -> int:
        return self.update_every or self.batch_size

    def fingerprint(self) -> str:
        return hashlib.sha256(self.as_json().encode()).hexdigest()[:16]

    def as_json(self) -> str:
        # Settings added later are left out at the values that mean "as before", so studies
        # started before they existed keep their fingerprint.
        data = asdict(self)
        for key, legacy in _LEGACY.items():
            if data[key] == legacy:
                del data[key]
        if data["ppo"]["elite_weight"] == 0.0:
            del data["ppo"]["elite_weight"]
        return json.dumps(data, sort_keys=True)


_LEGACY = {"update_every": None, "advantage": "ema", "elite_size": 0, "numeric_bins": 10}


def settings_difference(theirs: str, ours: str) -> str:
    """'learning_rate: 0.00035 in the study, 0.001 here' for each setting that differs."""
    flat = [{**d.pop("ppo"), **d} for d in (json.loads(theirs), json.loads(ours))]
    for d in flat:  # 50 choice counts would bury the message
        d["search space"] = f"{len(d['n_choices'])} decisions ({sum(d.pop('n_choices'))} choices)"
    return "; ".join(
        f"{key}: {flat[0].get(key)} in the study, {flat[1].get(key)} here"
        for key in sorted(flat[0].keys() | flat[1].keys())
        if flat[0].get(key) != flat[1].get(key)
    )
