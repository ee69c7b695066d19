"""PPO-LSTM vs random vs TPE on the bundled-CIFAR CPU proxy: equal budgets, several seeds.

`run` searches one study per (arm, seed), NAME-<arm>-s<seed>, in one journal file, one
nas-worker per study (1 thread each, --jobs at a time, seed-major so that a stopped run still
holds whole seeds); run it again to resume. An arm is a sampler plus settings on top of the
study config (studies/demo.toml by default), so PPO's default, the paper's and other learning
rates are compared side by side. `summary` prints markdown tables: the best and top-k unique
accuracies at several budgets (mean +/- sd over seeds), the models needed to reach accuracy
thresholds, and Mann-Whitney U against random search.

    python benchmarks/search_efficiency_cifar.py run --out runs/cifar-proxy --trials 300 --seeds 3
    python benchmarks/search_efficiency_cifar.py summary --out runs/cifar-proxy
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tomllib
from pathlib import Path

import numpy as np
import optuna
from scipy import stats

from nas_optuna.demo import DemoPlan, packaged_study_config, run_workers
from nas_optuna.report.data import load_runs
from nas_optuna.report.metrics import top_k_curves
from nas_optuna.storage_url import existing_storage, open_storage

# arm -> (sampler, settings layered over the config's [sampler.NAME] table)
ARMS = {
    "ppo": ("ppo", {}),  # the sampler's defaults (learning rate 0.001)
    "ppopaper": ("ppo", {"learning_rate": 0.00035}),  # the paper's controller learning rate
    "ppolr": ("ppo", {"learning_rate": 0.0035}),  # 10x the paper's (benchmarks/ppo_settings_sweep.py)
    "random": ("random", {}),
    "tpe": ("tpe", {}),
}


def toml_text(data: dict, prefix: str = "") -> str:
    """Tables of scalars as TOML (enough for study configs; the stdlib only reads TOML)."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix and scalars else []
    lines += [f"{key} = {json.dumps(value)}" for key, value in scalars.items()]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(toml_text(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class ArmPlan(DemoPlan):
    """A demo plan whose studies are arms (sampler + settings), each with its own config file."""

    arms: tuple[str, ...] = ()

    def study_names(self) -> list[str]:
        return [f"{self.name}-{arm}-s{seed}" for seed in range(self.seeds) for arm in self.arms]

    def arm_config(self, arm: str) -> Path:
        sampler, overrides = ARMS[arm]
        data = tomllib.loads(self.study_config.read_text())
        table = data.setdefault("sampler", {}).setdefault(sampler, {})
        table.update(overrides)
        path = self.out_dir / "configs" / f"{arm}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"# {arm}: {self.study_config} with [sampler.{sampler}] {overrides}\n{toml_text(data)}\n"
        )
        return path

    def worker_command(self, study_name: str) -> list[str]:
        arm, seed = study_name.rsplit("-", 2)[1:]
        command = super().worker_command(study_name)
        command[command.index("--sampler") + 1] = ARMS[arm][0]
        command[command.index("--study-config") + 1] = str(self.arm_config(arm))
        return command

    def create_studies(self) -> None:  # resumable: existing studies are joined, not refused
        storage = open_storage(str(self.storage_path))
        for name in self.study_names():
            optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True)


def first_reaching(values: list[float], threshold: float) -> float:
    """Models sampled until one reaches `threshold` (inf if none did)."""
    hits = np.flatnonzero(np.asarray(values) >= threshold)
    return float(hits[0] + 1) if hits.size else math.inf


def fmt(values: list[float], digits: int = 3) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < len(values):
        return f"{len(values) - len(finite)} of {len(values)} never" + (
            f"; others {', '.join(f'{v:.0f}' for v in finite)}" if finite else ""
        )
    sd = np.std(finite, ddof=1) if len(finite) > 1 else 0.0
    return f"{np.mean(finite):.{digits}f} +/- {sd:.{digits}f}"


def summary(out: Path, name: str, budgets: list[int], min_trials: int) -> None:
    runs = load_runs(existing_storage(str(out / "runs.log")), prefix=f"{name}-")
    if waiting := [r.study_name for r in runs if len(r.trials) < min_trials]:
        print(f"left out, fewer than {min_trials} completed trials: {', '.join(waiting)}")
    runs = [r for r in runs if len(r.trials) >= min_trials]
    by_arm: dict[str, list] = {}
    for run in runs:
        by_arm.setdefault(run.study_name.rsplit("-", 2)[1], []).append(run)
    n = min(len(r.trials) for r in runs)
    budgets = [b for b in budgets if b <= n] or [n]
    print(f"{len(runs)} studies, compared at their common budget of {n} completed trials\n")
    curves = {arm: [top_k_curves(r.trials[:n]) for r in rs] for arm, rs in by_arm.items()}
    for k in (1, 5, 25):
        print(f"Top-{k} unique mean accuracy after B models (mean +/- sd over seeds)\n")
        print("| arm | seeds | " + " | ".join(f"B={b}" for b in budgets) + " |")
        print("|---|---|" + "---|" * len(budgets))
        for arm, cs in curves.items():
            cells = [fmt([c[k][b - 1] for c in cs]) for b in budgets]
            print(f"| {arm} | {len(cs)} | " + " | ".join(cells) + " |")
        print()
    pooled_random = np.concatenate([r.values[:n] for r in by_arm.get("random", runs)])
    thresholds = [float(np.quantile(pooled_random, q)) for q in (0.9, 0.99, 0.999)]
    print("Models needed to reach an accuracy (quantiles of all random-search values)\n")
    print("| arm | " + " | ".join(f">= {t:.4f}" for t in thresholds) + " |")
    print("|---|" + "---|" * len(thresholds))
    for arm, rs in by_arm.items():
        print(
            f"| {arm} | "
            + " | ".join(fmt([first_reaching(r.values[:n], t) for r in rs], 0) for t in thresholds)
            + " |"
        )
    width = 50
    print(f"\nMean accuracy of the models sampled, per window of {width} (mean +/- sd over seeds)\n")
    windows = [(start, min(start + width, n)) for start in range(0, n, width)]
    print("| arm | " + " | ".join(f"{a + 1}-{b}" for a, b in windows) + " |")
    print("|---|" + "---|" * len(windows))
    for arm, rs in by_arm.items():
        cells = [fmt([float(np.mean(r.values[a:b])) for r in rs]) for a, b in windows]
        print(f"| {arm} | " + " | ".join(cells) + " |")
    print("\nLast 100 models' mean accuracy and top-5 at the common budget; two-sided Mann-Whitney U")
    print("on per-seed values against random search (n vs n seeds cannot go below p = 2 / C(2n, n))\n")
    print(f"| arm | last-100 mean | p vs random | top-5 at B={n} | p vs random |\n|---|---|---|---|---|")
    per_seed = {
        arm: ([float(np.mean(r.values[max(0, n - 100) : n])) for r in rs], [c[5][n - 1] for c in curves[arm]])
        for arm, rs in by_arm.items()
    }
    for arm, (last, top5) in per_seed.items():
        base = per_seed.get("random")
        p = (
            ["", ""]
            if arm == "random" or not base
            else [f"{stats.mannwhitneyu(x, y).pvalue:.3f}" for x, y in zip((last, top5), base, strict=True)]
        )
        print(f"| {arm} | {fmt(last)} | {p[0]} | {fmt(top5)} | {p[1]} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run", "summary"])
    parser.add_argument("--out", type=Path, default=Path("runs/cifar-proxy"))
    parser.add_argument("--name", default="proxy")
    parser.add_argument("--arms", nargs="+", default=["ppo", "ppopaper", "random", "tpe"], choices=list(ARMS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--study-config", type=Path, default=None, help="default: the packaged demo.toml")
    parser.add_argument("--budgets", type=int, nargs="+", default=[25, 50, 100, 200, 300])
    parser.add_argument("--min-trials", type=int, default=1, help="summary: leave out studies with fewer")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.command == "summary":
        summary(args.out, args.name, args.budgets, args.min_trials)
        return 0
    config = args.study_config or packaged_study_config("demo.toml")
    plan = ArmPlan(args.out, args.name, (), args.seeds, args.trials, config, threads=1, arms=tuple(args.arms))
    return 1 if run_workers(plan, args.jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
