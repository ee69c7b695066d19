"""Type and range checks of ``[objective]`` settings, made before a worker touches a study.

A wrong type (``epochs = "ten"``) would otherwise surface only inside the first trials, burning
budget on every worker, or as a traceback; here it is one line naming the key and what it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    types: tuple[type, ...]  # accepted Python types (bool is never an int here)
    valid: Callable[[Any], bool] | None = None
    need: str = ""  # what `valid` requires, in words
    kind: str = ""  # what the value is, in words, when the types do not say it well
    optional: bool = False  # None (Python callers; TOML has no null) means the default

    def describe(self) -> str:
        names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
        shown = [t for t in self.types if not (t is int and float in self.types)]  # 3 is a number
        kind = self.kind or " or ".join(names[t] for t in shown)
        return f"{kind} {self.need}".strip()


def positive_int(extra: tuple = (), optional: bool = False) -> Rule:
    def valid(v):
        return v in extra if isinstance(v, str) else v >= 1

    need = ">= 1" + "".join(f' or "{e}"' for e in extra)
    return Rule((int, str) if extra else (int,), valid, need, kind="an integer", optional=optional)


def number(valid: Callable[[float], bool], need: str) -> Rule:
    return Rule((int, float), valid, need)


def one_of(*choices: str) -> Rule:
    return Rule((str,), lambda v: v in choices, "one of " + ", ".join(f'"{c}"' for c in choices))


ANY_INT = Rule((int,))
FLAG = Rule((bool,))
TEXT = Rule((str,))
OPTIONAL_TEXT = Rule((str,), optional=True)


def check_settings(where: str, settings: Mapping[str, Any], rules: Mapping[str, Rule]) -> None:
    """ValueError naming the first unknown key, or the first value of the wrong type or range."""
    unknown = sorted(set(settings) - set(rules))
    if unknown:
        raise ValueError(f"unknown {where} settings {unknown}; allowed: {sorted(rules)}")
    for key, value in settings.items():
        rule = rules[key]
        if value is None and rule.optional:
            continue
        wrong_type = not isinstance(value, rule.types) or (isinstance(value, bool) and bool not in rule.types)
        if wrong_type or (rule.valid is not None and not rule.valid(value)):
            raise ValueError(f"{where}: {key} = {value!r} is not valid; expected {rule.describe()}")
