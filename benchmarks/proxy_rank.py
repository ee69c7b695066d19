"""Does the cheap CPU proxy rank architectures like a longer training does?

Trains ~20 uniformly random genotypes twice: with the proxy settings (the cifar objective's
defaults unless overridden) and with ``--long-factor`` times the epochs, then prints the
Spearman rank correlation between the two accuracies and the proxy's seconds per trial.
Each finished genotype is appended to ``--log`` as one JSON line, so a long run can be
watched, stopped, and resumed (genotypes already in the log are not trained again).

    nohup python benchmarks/proxy_rank.py --n-genotypes 20 --log runs/proxy_rank.jsonl &
    python benchmarks/proxy_rank.py --log runs/proxy_rank.jsonl --summary
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import optuna
import torch
from nas_optuna.objectives.cifar import CifarObjective
from scipy.stats import spearmanr

from nas_optuna import random_genotype

RECORDED = ("dataset", "train_images", "val_size", "n_cells", "filters", "epochs", "batch_size", "lr", "seed")


def timed_accuracy(objective: CifarObjective, genotype) -> tuple[float, float]:
    start = time.perf_counter()
    result = objective.train(genotype)
    return result.val_accuracy, time.perf_counter() - start


def summarize(rows: list[dict]) -> dict:
    proxy = [r["proxy_accuracy"] for r in rows]
    long = [r["long_accuracy"] for r in rows]
    rho, p_value = spearmanr(proxy, long) if len(rows) >= 3 else (float("nan"), float("nan"))
    return {
        "n_genotypes": len(rows),
        "spearman_rho": round(float(rho), 3),
        "p_value": round(float(p_value), 4),
        "proxy_seconds_median": round(float(np.median([r["proxy_seconds"] for r in rows])), 2),
        "long_seconds_median": round(float(np.median([r["long_seconds"] for r in rows])), 2),
        "proxy_accuracy_range": [min(proxy), max(proxy)],
        "long_accuracy_range": [min(long), max(long)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--n-genotypes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="which random genotypes")
    parser.add_argument("--long-factor", type=int, default=5, help="epochs of the reference / proxy epochs")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=JSON", help="override a proxy setting"
    )
    parser.add_argument("--log", type=Path, default=Path("runs/proxy_rank.jsonl"))
    parser.add_argument("--summary", action="store_true", help="only summarize the log")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    done = [json.loads(line) for line in args.log.read_text().splitlines()] if args.log.exists() else []
    if not args.summary:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        proxy_settings = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
        proxy = CifarObjective(**proxy_settings)
        epochs = proxy.settings["epochs"] * args.long_factor
        long = CifarObjective(data=proxy.data, **{**proxy_settings, "epochs": epochs})
        args.log.parent.mkdir(parents=True, exist_ok=True)
        seen = {r["genotype"] for r in done}
        rng = np.random.default_rng(args.seed)  # one stream: genotype i is the same in every rerun
        for genotype in (random_genotype(rng) for _ in range(args.n_genotypes)):
            if str(genotype) in seen:
                continue
            proxy_acc, proxy_s = timed_accuracy(proxy, genotype)
            long_acc, long_s = timed_accuracy(long, genotype)
            row = {
                "genotype": str(genotype),
                "proxy_accuracy": proxy_acc,
                "proxy_seconds": round(proxy_s, 2),
                "long_accuracy": long_acc,
                "long_seconds": round(long_s, 2),
                "proxy_settings": {k: proxy.settings[k] for k in RECORDED},
                "long_epochs": epochs,
            }
            done.append(row)
            with args.log.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    print(json.dumps(summarize(done), indent=2))


if __name__ == "__main__":
    main()
