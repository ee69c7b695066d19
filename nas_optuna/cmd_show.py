"""`nas-optuna show`: one genotype drawn as cell diagrams, with its size at a chosen N @ F and
its cost at the transfer configuration (the deployed network, nas_optuna/cost.py)."""

from __future__ import annotations

import argparse
from html import escape
from pathlib import Path

from nas_optuna.cost import TRANSFER_PRESETS
from nas_optuna.genotype import CONCAT_RULES, Genotype, parse_genotype
from nas_optuna.storage_secrets import add_storage_arguments, resolve_storage

IMAGE_SIZES = {"cifar": 32, "imagenet": 224}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "show",
        help="draw a genotype's cells and count its parameters and multiply-adds",
        description="Pick a genotype by name (nasnet-a), by string/JSON, or by --study S --trial N.",
    )
    parser.add_argument("genotype", nargs="?", help="a name (nasnet-a), a genotype string or JSON")
    add_storage_arguments(
        parser, "storage URL or journal file (*.log), with --study and --trial", required=False
    )
    parser.add_argument("--study", help="study holding the trial")
    parser.add_argument("--trial", type=int, help="trial number in --study")
    parser.add_argument(
        "--cells", type=int, default=6, help="N: normal cells per stage (default %(default)s)"
    )
    parser.add_argument(
        "--filters", type=int, default=32, help="F: first cell's filters (default %(default)s)"
    )
    parser.add_argument("--stem", choices=tuple(IMAGE_SIZES), default="cifar")
    parser.add_argument("--num-classes", type=int, default=None, help="default: 10 (cifar), 1000 (imagenet)")
    parser.add_argument("--image-size", type=int, default=None, help="default: 32 (cifar), 224 (imagenet)")
    parser.add_argument("--concat", choices=CONCAT_RULES, default="released", help="cell output rule")
    parser.add_argument(
        "--transfer",
        choices=(*TRANSFER_PRESETS, "none"),
        default=None,
        help="also count the network at this transfer configuration (default: the study's "
        "[objective] transfer for --trial, else mobile = NASNet 4@1056 at 224x224); none: skip",
    )
    parser.add_argument(
        "--latency", action="store_true", help="also time batch-1 CPU forwards at the transfer size"
    )
    parser.add_argument(
        "--out", default="genotype.html", help="diagram file, .html or .svg (default %(default)s)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    genotype, source, study_transfer = resolve_genotype(args)
    print(f"genotype ({source}): {genotype}")
    sizes = network_sizes(genotype, args) + transfer_sizes(genotype, args, study_transfer)
    for line in sizes:
        print(line)
    out = Path(args.out)
    if out.suffix not in (".html", ".svg"):
        raise ValueError(f"--out {args.out!r} must end in .html or .svg")
    out.parent.mkdir(parents=True, exist_ok=True)
    text = (
        genotype_svg(genotype, args.concat)
        if out.suffix == ".svg"
        else genotype_html(genotype, source, sizes, args.concat)
    )
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


def resolve_genotype(args: argparse.Namespace) -> tuple[Genotype, str, object]:
    """The genotype, where it came from, and its study's [objective] transfer (None if none)."""
    by_trial = args.study is not None or args.trial is not None
    if by_trial == (args.genotype is not None):
        raise ValueError(
            "give either a genotype (name, string or JSON) or --storage S --study NAME --trial N"
        )
    if not by_trial:
        return parse_genotype(args.genotype), "given", None
    resolve_storage(args, required=False)
    if args.storage is None or args.study is None or args.trial is None:
        raise ValueError("--study needs --storage and --trial as well")
    import optuna

    from nas_optuna.space import genotype_of_trial
    from nas_optuna.storage_url import existing_storage

    storage = existing_storage(args.storage)
    if args.study not in optuna.get_all_study_names(storage):
        raise ValueError(f"this storage has no study {args.study!r}; list them with nas-optuna report --list")
    study = optuna.load_study(study_name=args.study, storage=storage)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    if args.trial not in trials:
        raise ValueError(
            f"study {args.study!r} has no trial {args.trial}; it has trials 0..{len(trials) - 1}"
        )
    trial = trials[args.trial]
    transfer = study.user_attrs.get("study_config", {}).get("objective", {}).get("transfer")
    return genotype_of_trial(trial.params, trial.user_attrs), f"{args.study} trial {args.trial}", transfer


def network_sizes(genotype: Genotype, args: argparse.Namespace) -> list[str]:
    """Parameters and multiply-adds of the full network (builds it: this loads torch)."""
    import nas_optuna

    num_classes = args.num_classes or (10 if args.stem == "cifar" else 1000)
    image_size = args.image_size or IMAGE_SIZES[args.stem]
    model = nas_optuna.build_network(
        genotype,
        n_cells=args.cells,
        filters=args.filters,
        num_classes=num_classes,
        concat=args.concat,
        stem=args.stem,
    )
    params = nas_optuna.count_parameters(model)
    mult_adds = nas_optuna.count_mult_adds(model, (1, 3, image_size, image_size))
    label = f"{args.cells}@{24 * args.filters} (N={args.cells}, F={args.filters}), {args.stem} stem"
    return [
        f"network: {label}, {num_classes} classes, {image_size}x{image_size} input, concat {args.concat}",
        f"parameters: {params:,} ({params / 1e6:.3f}M)",
        f"multiply-adds: {mult_adds:,} ({mult_adds / 1e6:.0f}M)",
    ]


def transfer_sizes(genotype: Genotype, args: argparse.Namespace, study_transfer) -> list[str]:
    """Cost at the transfer configuration: --transfer, else the study's, else mobile."""
    from nas_optuna.cost import transfer_config, transfer_cost

    if args.transfer == "none":
        if args.latency:
            raise ValueError("--latency times the transfer network; drop --transfer none")
        return []
    chosen = args.transfer or study_transfer or "mobile"
    label = chosen if isinstance(chosen, str) else "of the study"
    config = transfer_config(chosen, concat=args.concat, where="transfer")
    cost = transfer_cost(genotype, config, latency=args.latency)
    lines = [
        f"transfer ({label}): {config.describe()}: {cost.params:,} parameters ({cost.params / 1e6:.2f}M), "
        f"{cost.mult_adds:,} multiply-adds ({cost.mult_adds / 1e6:.0f}M)"
    ]
    if cost.latency_ms is not None:
        lines.append(f"transfer CPU latency, batch 1: {cost.latency_ms:.1f} ms (median of 5 forwards)")
    return lines


def genotype_svg(genotype: Genotype, concat_rule: str) -> str:
    """Both cells stacked in one SVG document."""
    from nas_optuna.report.diagram import genotype_svgs

    svgs = list(genotype_svgs(genotype, concat_rule).values())
    heights = [float(s.split('height="', 1)[1].split('"', 1)[0]) for s in svgs]
    widths = [float(s.split('width="', 1)[1].split('"', 1)[0]) for s in svgs]
    body, y = "", 0.0
    for svg, h in zip(svgs, heights, strict=True):
        body += svg.replace("<svg ", f'<svg y="{y:.0f}" ', 1)
        y += h
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{max(widths):.0f}" height="{y:.0f}" '
        f'viewBox="0 0 {max(widths):.0f} {y:.0f}">{body}</svg>'
    )


def genotype_html(genotype: Genotype, source: str, sizes: list[str], concat_rule: str) -> str:
    from nas_optuna.report.diagram import genotype_svgs

    facts = "".join(f"<li>{escape(line)}</li>" for line in sizes)
    diagrams = "".join(f"<div>{svg}</div>" for svg in genotype_svgs(genotype, concat_rule).values())
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>genotype</title></head>'
        f'<body style="font-family: sans-serif"><h1>Genotype ({escape(source)})</h1>'
        f"<p><code>{escape(str(genotype))}</code></p><ul>{facts}</ul>{diagrams}</body></html>"
    )
