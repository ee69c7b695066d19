"""RegularizedEvolutionSampler on a small categorical problem with a hidden answer. Runs as is:

python samplers/regularized_evolution/example.py
"""

import os

import optuna
from optuna.distributions import CategoricalDistribution
import optunahub


# From a checkout; from the OptunaHub registry it is optunahub.load_module("samplers/regularized_evolution").
module = optunahub.load_local_module(
    package="regularized_evolution",
    registry_root=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
)

space = {
    f"layer{i}_op": CategoricalDistribution(("conv3", "conv5", "pool", "skip")) for i in range(10)
}
answer = {name: ("conv3", "conv5", "pool", "skip")[i % 4] for i, name in enumerate(space)}


def objective(trial: optuna.Trial) -> float:
    ops = {name: trial.suggest_categorical(name, d.choices) for name, d in space.items()}
    return sum(ops[name] == answer[name] for name in space) / len(space)


optuna.logging.set_verbosity(optuna.logging.WARNING)
sampler = module.RegularizedEvolutionSampler(population_size=20, sample_size=5, seed=0)
study = optuna.create_study(direction="maximize", sampler=sampler)
study.optimize(objective, n_trials=300)

values = [t.value for t in study.trials]
print(
    f"mean reward, first 100 trials: {sum(values[:100]) / 100:.2f}; last 100: {sum(values[-100:]) / 100:.2f}"
)
print(f"best: {study.best_value:.2f} {study.best_params}")
