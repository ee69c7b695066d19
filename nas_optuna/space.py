"""The NASNet search space as Optuna distributions.

The parameter names built here (e.g. ``normal_b2_in_a``) are the one contract between the
space, the samplers and the storage: trials store them, samplers read them, genotypes are
rebuilt from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution

from nas_optuna.genotype import COMBINES, NASNET_OPS, Block, Cell, Genotype, with_published_concat

FIELDS = ("in_a", "in_b", "op_a", "op_b", "combine")

# PNAS (Liu et al. 2018): one shared cell, 8 ops, add only.
PNAS_OPS: tuple[str, ...] = (
    "identity",
    "avg_pool_3x3",
    "max_pool_3x3",
    "conv_1x7_7x1",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
    "dil_conv_3x3",
)


ROLES = ("normal", "reduction", "cell")  # "cell": the one cell of a shared-cell (PNAS) space
# A progressive space's first decision: how many blocks the cell has (PNAS grows cells 1..B).
SIZE_PARAM = "cell_n_blocks"
_PARAM_NAME = re.compile(rf"^({'|'.join(ROLES)})_b(\d+)_({'|'.join(FIELDS)})$")


def param_name(role: str, block: int, field: str) -> str:
    return f"{role}_b{block}_{field}"


def parse_param_name(name: str) -> tuple[str, int, str] | None:
    """(role, block, field) of an architecture parameter name; None for any other name.

    The one parser of these names: the space, rerank and the report all read names through it.
    """
    match = _PARAM_NAME.match(name)
    return (match[1], int(match[2]), match[3]) if match else None


def space_of_params(names: Iterable[str]) -> dict[str, CategoricalDistribution]:
    """The space whose decisions ``names`` are, in `nasnet_space` order, restricted to them.

    For trials read back from a storage, which need not keep the order of suggestion (and the
    first role is the normal cell). Choices are the widest the presets allow (every NASNet op,
    both combines), so a genotype of any preset space validates; names that are not
    architecture decisions are left out. Empty when there are none.
    """
    parsed = {name: p for name in names if (p := parse_param_name(name)) is not None}
    if not parsed:
        return {}
    n_blocks = max(block for _, block, _ in parsed.values()) + 1
    shared = any(role == "cell" for role, _, _ in parsed.values())
    return {k: v for k, v in nasnet_space(n_blocks, shared_cell=shared).items() if k in parsed}


def _cell_space(role: str, n_blocks: int, ops: Sequence[str], combine: Sequence[str]):
    for b in range(n_blocks):
        inputs = tuple(range(b + 2))  # two cell inputs, then the outputs of earlier blocks
        yield param_name(role, b, "in_a"), CategoricalDistribution(inputs)
        yield param_name(role, b, "in_b"), CategoricalDistribution(inputs)
        yield param_name(role, b, "op_a"), CategoricalDistribution(tuple(ops))
        yield param_name(role, b, "op_b"), CategoricalDistribution(tuple(ops))
        if len(combine) > 1:  # a single choice is no decision, so it is not a parameter
            yield param_name(role, b, "combine"), CategoricalDistribution(tuple(combine))


def nasnet_space(
    n_blocks: int = 5,
    ops: Sequence[str] = NASNET_OPS,
    combine: Sequence[str] = COMBINES,
    *,
    shared_cell: bool = False,
) -> dict[str, CategoricalDistribution]:
    """Ordered distributions: Normal cell first, block by block (in A, in B, op A, op B, combine).

    With the defaults this is the paper's 50 decisions. ``shared_cell=True`` searches one cell
    (named ``cell_...``) used for both roles, as PNAS does. The dict works for
    ``study.ask(fixed_distributions=...)`` and for ``suggest_genotype``.
    """
    unknown = [op for op in ops if op not in NASNET_OPS]
    if unknown or not ops:
        raise ValueError(f"unknown ops {unknown}; choose from {list(NASNET_OPS)}")
    bad = [c for c in combine if c not in COMBINES]
    if bad or not combine:
        raise ValueError(f"unknown combine {bad}; choose from {list(COMBINES)}")
    if n_blocks < 1:
        raise ValueError(f"n_blocks must be >= 1, got {n_blocks}")
    roles = ("cell",) if shared_cell else ("normal", "reduction")
    return {name: dist for role in roles for name, dist in _cell_space(role, n_blocks, ops, combine)}


def pnas_space(n_blocks: int = 5, *, progressive: bool = False) -> dict[str, CategoricalDistribution]:
    """The PNAS preset: one shared cell, 8 ops, add only (4 decisions per block).

    ``progressive=True`` adds `SIZE_PARAM` first, choices 1..n_blocks: a conditional space
    whose trials hold the decisions of their first SIZE_PARAM blocks only, so cells of every
    size are trials of one study, as PNAS's progressive search needs (see `suggest_params`).
    """
    space = nasnet_space(n_blocks, PNAS_OPS, ("add",), shared_cell=True)
    if progressive:
        space = {SIZE_PARAM: CategoricalDistribution(tuple(range(1, n_blocks + 1))), **space}
    return space


def adding_blocks(space: Mapping[str, BaseDistribution]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Each block's two (input, op) operands, as parameter names, role by role and block by
    block, when every block adds them: then (a, b) and (b, a) are one network. Empty when the
    space decides a combine (concat keeps the order) or has no blocks."""
    parsed = [p for name in space if (p := parse_param_name(name)) is not None]
    if not parsed or any(field == "combine" for _, _, field in parsed):
        return []
    return [
        (
            (param_name(role, block, "in_a"), param_name(role, block, "op_a")),
            (param_name(role, block, "in_b"), param_name(role, block, "op_b")),
        )
        for role, block in sorted({(role, block) for role, block, _ in parsed})
    ]


def active_names(space: Mapping[str, BaseDistribution], n_blocks: int | None) -> list[str]:
    """The decisions a cell of ``n_blocks`` blocks holds (all of them when None)."""
    if n_blocks is None:
        return list(space)
    return [
        name
        for name in space
        if name == SIZE_PARAM or ((p := parse_param_name(name)) is not None and p[1] < n_blocks)
    ]


def suggest_params(trial: optuna.Trial, space: Mapping[str, CategoricalDistribution]) -> dict[str, Any]:
    """Define-by-run: suggest the space's decisions; in a progressive space, the size first
    and then the blocks below it only."""
    size = trial.suggest_categorical(SIZE_PARAM, space[SIZE_PARAM].choices) if SIZE_PARAM in space else None
    names = [n for n in active_names(space, size) if n != SIZE_PARAM]
    params = {name: trial.suggest_categorical(name, space[name].choices) for name in names}
    return params if size is None else {SIZE_PARAM: size, **params}


def _layout(space: Mapping[str, BaseDistribution]) -> tuple[tuple[str, ...], int, tuple[str, ...]]:
    """Roles, block count and combine choices of a space built by `nasnet_space`."""
    parsed = [p for name in space if (p := parse_param_name(name)) is not None]
    if not parsed:
        raise ValueError(f"no architecture parameters (e.g. normal_b0_in_a) among {list(space)[:5]}")
    roles = tuple(dict.fromkeys(role for role, _, _ in parsed))
    n_blocks = max(block for role, block, _ in parsed if role == roles[0]) + 1
    first_combine = space.get(param_name(roles[0], 0, "combine"))
    combine = first_combine.choices if first_combine is not None else ("add",)
    return roles, n_blocks, combine


def genotype_from_params(
    params: Mapping[str, Any], space: Mapping[str, BaseDistribution] | None = None
) -> Genotype:
    """Rebuild a genotype from trial params; exact inverse of `params_from_genotype`.

    Keys outside the space (other hyper-parameters) are ignored. A missing key or a value
    outside its distribution raises ValueError naming the parameter and its allowed values.
    """
    space = nasnet_space() if space is None else space
    roles, n_blocks, combine = _layout(space)
    if SIZE_PARAM in space:  # progressive: the cell has as many blocks as the trial says
        n_blocks = _checked(SIZE_PARAM, params, space[SIZE_PARAM])
    values = {name: _checked(name, params, space[name]) for name in active_names(space, n_blocks)}
    cells = []
    for role in roles:
        blocks = []
        for b in range(n_blocks):
            fields = {f: values.get(param_name(role, b, f)) for f in FIELDS}
            fields["combine"] = fields["combine"] or combine[0]
            blocks.append(Block(**fields))
        cells.append(Cell(tuple(blocks)))
    normal, reduction = (cells[0], cells[0]) if len(cells) == 1 else cells
    return with_published_concat(Genotype(normal, reduction))


def genotype_of_trial(params: Mapping[str, Any], user_attrs: Mapping[str, Any]) -> Genotype:
    """The trial's genotype: its "genotype" user attr, else rebuilt from its params."""
    if user_attrs.get("genotype"):
        return Genotype.from_string(str(user_attrs["genotype"]))
    return genotype_from_params(params, space_of_params(params))


def _checked(name: str, params: Mapping[str, Any], dist: BaseDistribution) -> Any:
    if name not in params:
        raise ValueError(f"missing parameter {name!r}; expected one of {list(dist.choices)}")
    value = params[name]
    # bool is an int subclass and 1 == 1.0 == True, so compare types as well as values.
    for choice in dist.choices:
        if type(value) is type(choice) and value == choice:
            return value
    raise ValueError(
        f"parameter {name!r} = {value!r} ({type(value).__name__}) is not allowed; "
        f"expected one of {list(dist.choices)}"
    )


def params_from_genotype(
    genotype: Genotype, space: Mapping[str, BaseDistribution] | None = None
) -> dict[str, Any]:
    """Trial params for a genotype, e.g. for ``study.enqueue_trial(params_from_genotype(NASNET_A))``."""
    space = nasnet_space() if space is None else space
    roles, n_blocks, combine = _layout(space)
    if roles == ("cell",) and not genotype.shared:
        raise ValueError("this space searches one shared cell; the genotype has two different cells")
    cells = {"cell": genotype.normal, "normal": genotype.normal, "reduction": genotype.reduction}
    params: dict[str, Any] = {}
    if SIZE_PARAM in space and 1 <= len(genotype.normal.blocks) <= n_blocks:
        n_blocks = params[SIZE_PARAM] = len(genotype.normal.blocks)
    for role in roles:
        blocks = cells[role].blocks
        if len(blocks) != n_blocks:
            raise ValueError(f"{role} cell has {len(blocks)} blocks; the space has {n_blocks}")
        for b, block in enumerate(blocks):
            if block.combine not in combine:
                raise ValueError(
                    f"{role} block {b} combines by {block.combine!r}; the space allows {list(combine)}"
                )
            for f in FIELDS:
                name = param_name(role, b, f)
                if name in space:
                    params[name] = getattr(block, f)
    genotype_from_params(params, space)  # validates every value against the space
    return params


def suggest_genotype(
    trial: optuna.Trial, space: Mapping[str, CategoricalDistribution] | None = None
) -> Genotype:
    """Define-by-run: suggest every decision of the space on the trial, return the genotype."""
    space = nasnet_space() if space is None else space
    return genotype_from_params(suggest_params(trial, space), space)


def random_genotype(
    seed: int | np.random.Generator | None = None, space: Mapping[str, CategoricalDistribution] | None = None
) -> Genotype:
    """A genotype with every decision drawn uniformly, as random search draws them.

    ``seed`` may be a NumPy Generator, to draw several genotypes from one stream."""
    space = nasnet_space() if space is None else space
    rng = np.random.default_rng(seed)
    params = {name: dist.choices[int(rng.integers(len(dist.choices)))] for name, dist in space.items()}
    return genotype_from_params(params, space)  # progressive: the drawn size picks the blocks
