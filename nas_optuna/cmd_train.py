"""`nas-optuna train`: train one child network and print its validation accuracy.

nas-optuna train --genotype nasnet-a --n-cells 2 --filters 16 --epochs 1 --dataset bundled --json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nas_optuna.genotype import Genotype, parse_genotype

BAR_WIDTH = 30


def add_parser(subparsers) -> None:
    from nas_optuna.objectives.defaults import CIFAR_DEFAULTS as D

    p = subparsers.add_parser("train", help="train one child network, report validation accuracy")
    p.add_argument(
        "--genotype", default="nasnet-a", help="a name (nasnet-a), a genotype string, or a JSON file"
    )
    p.add_argument("--download", action="store_true", help="let torchvision download CIFAR-10")
    p.add_argument(
        "--train-images",
        type=int,
        default=D["train_images"],
        help="train on this many random training images; 0 = all (default %(default)s, the search proxy)",
    )
    p.add_argument("--n-cells", type=int, default=D["n_cells"], help="N: normal cells per stage")
    p.add_argument("--filters", type=int, default=D["filters"], help="F: filters of the first cell")
    p.add_argument("--epochs", type=int, default=D["epochs"])
    p.add_argument("--weight-decay", type=float, default=D["weight_decay"])
    add_training_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress bar")
    p.set_defaults(func=run)


def add_training_arguments(p) -> None:
    """Data and training options shared by `train` and `rerank`, defaults from the cifar objective."""
    from nas_optuna.objectives.defaults import CIFAR_DEFAULTS as D

    p.add_argument(
        "--dataset", default=D["dataset"], help="bundled | cifar10 | folder | a path (default %(default)s)"
    )
    p.add_argument(
        "--data-root", default=None, help="CIFAR-10 root, or the ImageFolder dir/.zip for 'folder'"
    )
    p.add_argument(
        "--val-size", type=count_or_fraction, default=None, help="count or fraction (default 10%%)"
    )
    p.add_argument("--batch-size", type=int, default=D["batch_size"])
    p.add_argument("--lr", type=float, default=D["lr"])
    p.add_argument("--drop-path-keep", type=float, default=D["drop_path_keep"])
    p.add_argument("--aux-head", action="store_true")
    p.add_argument("--seed", type=int, default=D["seed"])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:K")


def run(args) -> int:
    from nas_optuna import count_mult_adds, count_parameters
    from nas_optuna.objectives.cifar import CifarObjective

    genotype = read_genotype(args.genotype)
    settings = {
        "dataset": args.dataset,
        "data_root": args.data_root,
        "download": args.download,
        "val_size": args.val_size,
        "train_images": args.train_images or None,
        **{k: getattr(args, k) for k in ("n_cells", "filters", "epochs", "batch_size", "lr", "seed")},
        **{k: getattr(args, k) for k in ("weight_decay", "drop_path_keep", "aux_head")},
    }
    objective = CifarObjective(device=args.device, **settings)
    model = objective.build(genotype)
    params, mult_adds = count_parameters(model), count_mult_adds(model, (1, 3, 32, 32))
    del model
    if not args.json:
        print(
            f"{genotype}\n{params:,} params, {mult_adds:,} mult-adds; {objective.data.describe()}",
            file=sys.stderr,
        )
    bar = None if args.json else ProgressBar(args.epochs)
    result = objective.train(genotype, progress=bar, on_epoch=bar and bar.epoch_done)
    summary = {
        "val_accuracy": result.val_accuracy,
        "params": params,
        "mult_adds": mult_adds,
        "seconds": round(result.train_seconds, 3),
        "images_per_second": round(result.images_per_second, 1),
        "epochs": result.epochs_done,
        "device": args.device,
        "genotype": str(genotype),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"val_accuracy {result.val_accuracy:.4f} after {result.epochs_done} epochs, "
            f"{result.train_seconds:.1f} s, {result.images_per_second:.0f} images/s on {args.device}"
        )
    return 0


def read_genotype(text: str) -> Genotype:
    """A genotype name, its string form, or a JSON file holding one."""
    path = Path(text)
    if text.endswith(".json") or (len(text) < 200 and path.is_file()):
        if not path.is_file():
            raise FileNotFoundError(f"genotype file {text} does not exist")
        return parse_genotype(path.read_text())
    return parse_genotype(text)


class ProgressBar:
    """One line per epoch on stderr, redrawn in place: [#####.....] step/steps loss."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def __call__(self, epoch: int, step: int, steps: int, loss: float) -> None:
        filled = round(BAR_WIDTH * step / steps)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        end = "\n" if step == steps else ""
        print(
            f"\repoch {epoch + 1}/{self.epochs} [{bar}] {step}/{steps} loss {loss:.3f}",
            end=end,
            file=sys.stderr,
        )

    def epoch_done(self, val_accuracy: float, epoch: int) -> None:
        print(f"epoch {epoch + 1}/{self.epochs} val_accuracy {val_accuracy:.4f}", file=sys.stderr)


def count_or_fraction(text: str) -> int | float:
    value = float(text)
    return int(value) if value >= 1 and value.is_integer() else value
