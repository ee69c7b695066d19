"""`nas-optuna rerank`: retrain the search's top-K genotypes longer and larger, compare rankings.

nas-optuna rerank --storage runs.log --study demo-ppo-s0 --top-k 10 --n-cells 2 --filters 16 --epochs 5
With --max-mult-adds / --max-params, the top-K of the genotypes whose network at --transfer
(default mobile: NASNet 4@1056, 224x224) fits that budget.
"""

from __future__ import annotations

import logging
import sys

import optuna

from nas_optuna.cmd_train import add_training_arguments
from nas_optuna.cost import TRANSFER_PRESETS, Budget, transfer_config
from nas_optuna.rerank import RerankResult, open_rerank_study, rerank, spearman, top_genotypes
from nas_optuna.storage_secrets import add_storage_arguments, resolve_storage


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "rerank", help="retrain the top-K genotypes of search studies at a larger size, as a new study"
    )
    add_storage_arguments(p, "the storage the search studies are in")
    p.add_argument("--study", action="append", required=True, help="a search study (repeat for several)")
    p.add_argument("--top-k", type=int, default=10, help="unique genotypes to retrain (default %(default)s)")
    p.add_argument("--out-study", default=None, help="rerank study name (default: <first study>-rerank)")
    p.add_argument("--n-cells", type=int, default=2, help="N of the retrained network (default %(default)s)")
    p.add_argument("--filters", type=int, default=16, help="F of the retrained network (default %(default)s)")
    p.add_argument("--epochs", type=int, default=5, help="(default %(default)s)")
    p.add_argument(
        "--train-images", type=int, default=0, help="train on this many random images; 0 = all (default)"
    )
    budget = p.add_argument_group("budget at the transfer configuration (nas_optuna/cost.py)")
    budget.add_argument(
        "--max-mult-adds", type=float, help="keep genotypes with at most this many, e.g. 600e6"
    )
    budget.add_argument("--max-params", type=float, help="keep genotypes with at most this many, e.g. 5e6")
    budget.add_argument(
        "--transfer", choices=tuple(TRANSFER_PRESETS), default="mobile", help="(default %(default)s)"
    )
    add_training_arguments(p)
    p.set_defaults(func=run)


def budget_of(args) -> Budget | None:
    if args.max_mult_adds is None and args.max_params is None:
        return None
    return Budget(transfer_config(args.transfer), args.max_mult_adds, args.max_params)


def objective_settings(args) -> dict:
    """The settings the rerank study records; a rerun must use the same ones."""
    return {
        "dataset": args.dataset,
        "data_root": args.data_root,
        "val_size": args.val_size,
        "train_images": args.train_images or None,
        **{k: getattr(args, k) for k in ("n_cells", "filters", "epochs", "batch_size", "lr", "seed")},
        **{k: getattr(args, k) for k in ("drop_path_keep", "aux_head")},
    }


def run(args) -> int:
    from nas_optuna.objectives import CifarObjective, TrainingFailed
    from nas_optuna.objectives.cifar import checked_settings
    from nas_optuna.storage_url import existing_storage

    resolve_storage(args)
    settings = objective_settings(args)
    checked_settings(settings)  # unknown or bad settings fail before anything is written
    budget = budget_of(args)
    storage = existing_storage(args.storage)
    candidates = top_genotypes(storage, args.study, args.top_k, budget)
    optuna.logging.set_verbosity(logging.WARNING)  # the lines printed below say what happens
    out_name = args.out_study or f"{args.study[0]}-rerank"
    study = open_rerank_study(storage, out_name, settings, args.study)
    objective = CifarObjective(device=args.device, **settings)  # loads the data once
    print(
        f"reranking {len(candidates)} genotypes of {', '.join(args.study)} into study {out_name!r}: "
        f"N={args.n_cells} F={args.filters}, epochs {args.epochs}, {objective.data.describe()}"
        + (f"; budget {budget.describe()}" if budget else "")
    )
    results = rerank(study, candidates, objective, on_result=print_result, catch=(TrainingFailed,))
    print_table(results)
    failed = [r for r in results if r.value is None]
    if failed:
        print(f"{len(failed)} genotypes failed; rerun the same command to retry them", file=sys.stderr)
    return 1 if failed else 0


def print_result(r: RerankResult) -> None:
    c = r.candidate
    outcome = f"rerank {r.value:.4f}" if r.value is not None else f"FAILED ({r.fail_reason})"
    note = "" if r.trained_now else "  (done earlier)"
    cost = (
        f"  {c.transfer.mult_adds / 1e6:.0f}M mult-adds {c.transfer.params / 1e6:.2f}M params"
        if c.transfer
        else ""
    )
    print(
        f"#{c.rank:<3d} search {c.search_value:.4f}  {outcome}  {r.seconds:7.1f} s{cost}  "
        f"[{c.source_study} trial {c.source_trial}]{note}",
        flush=True,
    )


def print_table(results: list[RerankResult]) -> None:
    done = sorted((r for r in results if r.value is not None), key=lambda r: -r.value)
    print("\nrerank  search  search_value  rerank_value  seconds  source")
    for position, r in enumerate(done, start=1):
        c = r.candidate
        print(
            f"{position:6d}  {c.rank:6d}  {c.search_value:12.4f}  {r.value:12.4f}  {r.seconds:7.1f}  "
            f"{c.source_study}#{c.source_trial}"
        )
    if done:
        print(f"best after rerank: {done[0].candidate.genotype}")
    correlation = spearman(results)
    if correlation is None:
        print("Spearman rank correlation: needs 3 or more reranked genotypes")
    else:
        rho, p = correlation
        print(f"Spearman rank correlation, search value vs rerank accuracy: {rho:.3f} (p={p:.3g})")
