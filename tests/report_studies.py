"""Small paired studies, made the way the worker makes them, for the report tests."""

from __future__ import annotations

import optuna
from nas_optuna.objectives import SyntheticObjective

from nas_optuna import PNASSampler, PPOLSTMSampler, RegularizedEvolutionSampler, nasnet_space

SAMPLERS = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
    "evolution": lambda seed: RegularizedEvolutionSampler(population_size=5, sample_size=2, seed=seed),
    "pnas": lambda seed: PNASSampler(n_startup_trials=5, fit_steps=10, seed=seed),
    # Small batches, so that a dozen trials make a few policy updates (diagnostics to plot).
    "ppo": lambda seed: PPOLSTMSampler(search_space=nasnet_space(), seed=seed, batch_size=4),
}


def make_paired_studies(
    storage, name: str, n_trials: int, seeds: int, samplers=("random", "tpe")
) -> list[str]:
    """Studies NAME-<sampler>-s<seed> on the synthetic objective, with the worker's user attrs."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = nasnet_space()
    objective = SyntheticObjective(space, target_seed=0, noise=0.02)
    memory = optuna.storages.InMemoryStorage()
    names = []
    for sampler in samplers:
        for seed in range(seeds):
            # Optimize in memory, then copy: one write per trial instead of one per parameter.
            study = optuna.create_study(
                study_name=f"{name}-{sampler}-s{seed}",
                storage=memory,
                direction="maximize",
                sampler=SAMPLERS.get(sampler, SAMPLERS["random"])(seed),
            )
            study.set_user_attr("sampler", sampler)
            study.set_user_attr("sampler_settings", {"batch_size": 4} if sampler == "ppo" else {})
            study.set_user_attr("seed", seed)
            study.set_user_attr("budget", {"n_trials": n_trials})
            study.optimize(objective, n_trials=n_trials)
            optuna.copy_study(from_study_name=study.study_name, from_storage=memory, to_storage=storage)
            names.append(study.study_name)
    return names


def make_multi_objective_studies(storage, name: str, n_trials: int, seeds: int, samplers=("random", "nsga2")):
    """Studies NAME-<sampler>-s<seed> with directions (maximize, minimize) on NB201 reporting
    (validation accuracy, mult_adds), with the worker's user attrs."""
    import json

    from nas_optuna.study_config import validate

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective_table = {"name": "nb201", "objectives": ["accuracy", "mult_adds"]}
    config = validate({"space": {"preset": "nb201"}, "objective": objective_table})
    objective = config.build_objective()
    make = {
        "random": lambda s: optuna.samplers.RandomSampler(seed=s),
        "nsga2": lambda s: optuna.samplers.NSGAIISampler(population_size=10, seed=s),
        "tpe": lambda s: optuna.samplers.TPESampler(seed=s, n_startup_trials=5),
    }
    memory = optuna.storages.InMemoryStorage()
    names = []
    for sampler in samplers:
        for seed in range(seeds):
            study_name = f"{name}-{sampler}-s{seed}"
            study = optuna.create_study(
                study_name=study_name,
                storage=memory,
                directions=["maximize", "minimize"],
                sampler=make[sampler](seed),
            )
            study.set_user_attr("sampler", sampler)
            study.set_user_attr("sampler_settings", {})
            study.set_user_attr("seed", seed)
            study.set_user_attr("budget", {"n_trials": n_trials})
            study.set_user_attr("study_config", json.loads(json.dumps(config.data)))
            study.optimize(objective, n_trials=n_trials)
            optuna.copy_study(from_study_name=study_name, from_storage=memory, to_storage=storage)
            names.append(study_name)
    return names
