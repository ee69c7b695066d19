"""NAS-Bench-201 on CIFAR-10 as an objective: a table look-up instead of training.

The reward is the architecture's validation accuracy (%), what a search may see; its test
accuracy is recorded as a user attr for reporting, never returned. The table holds no
training time, so the objective records no cost: no ``train_seconds`` (a look-up's
microseconds would pass for one), so a ``device_seconds`` budget does not apply. It records
the network's ``mult_adds`` and ``n_params`` (nas_optuna.nb201_cost: the table has none), the
costs a multi-objective study minimises. ``sleep_seconds`` stands in for training time, as in
the synthetic objective: a look-up takes microseconds, so without it one worker can run a whole
budget before a second one has started (to try out a queue of workers on the table).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import optuna
from optuna.distributions import CategoricalDistribution

from nas_optuna.nb201 import cellstr_from_params, load_nb201_table, nb201_space
from nas_optuna.nb201_cost import nb201_cost

from .settings import check_settings, number

RULES = {"sleep_seconds": number(lambda v: v >= 0, ">= 0")}


class NB201Objective:
    def __init__(
        self, space: Mapping[str, CategoricalDistribution] | None = None, *, sleep_seconds: float = 0.0
    ) -> None:
        check_settings("nb201 objective", {"sleep_seconds": sleep_seconds}, RULES)
        self.sleep_seconds = sleep_seconds
        expected = nb201_space()
        if space is not None and dict(space) != expected:
            raise ValueError(
                'the nb201 objective needs the NB201 space: set [space] preset = "nb201" in the study config'
            )
        self.space = expected
        self.table = load_nb201_table()

    def lookup(self, params: Mapping[str, str]):
        return self.table[cellstr_from_params(params)]  # every one of the 5**6 cells is in the table

    def __call__(self, trial: optuna.Trial) -> float:
        params = {name: trial.suggest_categorical(name, d.choices) for name, d in self.space.items()}
        if self.sleep_seconds:
            time.sleep(self.sleep_seconds)
        row = self.lookup(params)
        trial.set_user_attr("cellstr", row.cellstr)
        trial.set_user_attr("nb201_index", row.index)
        trial.set_user_attr("test_accuracy", row.test_accuracy)  # for reports only, never the reward
        cost = nb201_cost(params)
        trial.set_user_attr("mult_adds", cost.mult_adds)
        trial.set_user_attr("n_params", cost.n_params)
        return row.val_accuracy
