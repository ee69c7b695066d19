"""Genotypes as data: cells of blocks, a readable string form and JSON.

State indices follow the released NASNet code: 0 = h_i (the previous cell's output),
1 = h_{i-1} (the cell before that), 2.. = outputs of blocks 0.. (DARTS and ENAS swap 0 and 1).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# The 13 ops of the NASNet paper (Sec. 3), by readable name.
NASNET_OPS: tuple[str, ...] = (
    "identity",
    "conv_1x3_3x1",
    "conv_1x7_7x1",
    "dil_conv_3x3",
    "avg_pool_3x3",
    "max_pool_3x3",
    "max_pool_5x5",
    "max_pool_7x7",
    "conv_1x1",
    "conv_3x3",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
)
COMBINES: tuple[str, ...] = ("add", "concat")
CONCAT_RULES: tuple[str, ...] = ("released", "strict")
N_CELL_INPUTS = 2


@dataclass(frozen=True)
class Block:
    """One block: two (input, op) pairs and how their outputs are combined."""

    in_a: int
    in_b: int
    op_a: str
    op_b: str
    combine: str = "add"


@dataclass(frozen=True)
class Cell:
    """A cell is its blocks; `concat` optionally pins the states its output concatenates.

    Released NASNet code lists those states by hand per published cell; they follow no rule
    that could be derived from the blocks, so they are carried as data.
    """

    blocks: tuple[Block, ...]
    concat: tuple[int, ...] | None = None

    def used_states(self) -> set[int]:
        return {i for b in self.blocks for i in (b.in_a, b.in_b)}

    def output_states(self, rule: str = "released") -> tuple[int, ...]:
        """States concatenated into the cell's output under a concat rule.

        "strict" is the paper's rule: every state no block reads. "released" uses the
        cell's pinned list when it has one (NASNet-A) and otherwise the paper's rule.
        """
        if rule not in CONCAT_RULES:
            raise ValueError(f"concat rule {rule!r} is unknown; use one of {CONCAT_RULES}")
        if rule == "released" and self.concat is not None:
            return self.concat
        used = self.used_states()
        n_states = N_CELL_INPUTS + len(self.blocks)
        return tuple(i for i in range(n_states) if i not in used)


@dataclass(frozen=True)
class Genotype:
    """A NASNet architecture: a Normal and a Reduction cell.

    Spaces with one shared cell (PNAS) use the same Cell for both roles.
    """

    normal: Cell
    reduction: Cell
    name: str | None = field(default=None, compare=False)

    @property
    def shared(self) -> bool:
        return self.normal == self.reduction

    def cells(self) -> dict[str, Cell]:
        return {"cell": self.normal} if self.shared else {"normal": self.normal, "reduction": self.reduction}

    # ---- string form -------------------------------------------------------------------
    def __str__(self) -> str:
        return "; ".join(f"{role}: {_cell_to_str(cell)}" for role, cell in self.cells().items())

    @classmethod
    def from_string(cls, text: str) -> Genotype:
        cells: dict[str, Cell] = {}
        for part in filter(None, (p.strip() for p in text.split(";"))):
            role, sep, body = part.partition(":")
            if not sep or role.strip() not in ("normal", "reduction", "cell"):
                raise ValueError(
                    f"cannot read genotype part {part!r}: expected 'normal: ...', "
                    "'reduction: ...' or 'cell: ...' (see str(nas_optuna.NASNET_A))"
                )
            cells[role.strip()] = _cell_from_str(body)
        return _from_roles(cells, text)

    # ---- JSON ----------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({role: _cell_to_dict(c) for role, c in self.cells().items()})

    @classmethod
    def from_json(cls, text: str) -> Genotype:
        try:
            data = json.loads(text)
            cells = {role: _cell_from_dict(d) for role, d in data.items()}
        except (json.JSONDecodeError, AttributeError, KeyError, TypeError) as err:
            raise ValueError(
                f"cannot read genotype JSON ({err}); expected "
                '{"normal": {"blocks": [{"in_a": 0, ...}], "concat": null}, "reduction": ...}'
            ) from err
        return _from_roles(cells, text)


def short_op(op: str) -> str:
    """sep_conv_5x5 -> sc5, avg_pool_3x3 -> ap3, identity -> i, conv_1x7_7x1 -> c1x7."""
    words = op.split("_")
    letters = "".join(w[0] for w in words if w[0].isalpha())
    size = next((w for w in words if w[0].isdigit()), "")
    a, _, b = size.partition("x")
    return letters + (a if a == b else size)


def short_cell(cell: Cell) -> str:
    """One cell in a line a screen shows whole: 'sc5@0+sc3@1 ...' ('+' add, '&' concat)."""
    return " ".join(
        f"{short_op(b.op_a)}@{b.in_a}{'+' if b.combine == 'add' else '&'}{short_op(b.op_b)}@{b.in_b}"
        for b in cell.blocks
    )


def genotype_user_attrs(genotype: Genotype) -> dict[str, str]:
    """A trial's genotype attrs: the full string, and each cell short (one attr per cell), so
    that optuna-dashboard's trial page shows the cells without scrolling a 400-character line."""
    attrs = {"genotype": str(genotype)}
    for role, cell in genotype.cells().items():
        attrs["cell" if role == "cell" else f"{role}_cell"] = short_cell(cell)
    return attrs


_BLOCK_RE = re.compile(r"^(add|concat)\((\w+)@(\d+),\s*(\w+)@(\d+)\)$")


def _cell_to_str(cell: Cell) -> str:
    text = " ".join(f"{b.combine}({b.op_a}@{b.in_a}, {b.op_b}@{b.in_b})" for b in cell.blocks)
    if cell.concat is not None:
        text += " -> " + ",".join(map(str, cell.concat))
    return text


def _cell_from_str(text: str) -> Cell:
    body, _, concat = text.partition("->")
    blocks = []
    for token in re.findall(r"\w+\([^)]*\)", body):
        match = _BLOCK_RE.match(token.strip())
        if match is None:
            raise ValueError(f"cannot read block {token!r}: expected e.g. 'add(sep_conv_3x3@0, identity@1)'")
        combine, op_a, in_a, op_b, in_b = match.groups()
        blocks.append(Block(int(in_a), int(in_b), op_a, op_b, combine))
    if not blocks:
        raise ValueError(f"cell {text.strip()!r} has no blocks")
    pinned = tuple(int(i) for i in concat.split(",")) if concat.strip() else None
    return Cell(tuple(blocks), pinned)


def _cell_to_dict(cell: Cell) -> dict:
    return {
        "blocks": [vars(b) for b in cell.blocks],
        "concat": list(cell.concat) if cell.concat is not None else None,
    }


def _cell_from_dict(data: dict) -> Cell:
    concat = data.get("concat")
    return Cell(tuple(Block(**b) for b in data["blocks"]), tuple(concat) if concat is not None else None)


def _from_roles(cells: dict[str, Cell], source: str) -> Genotype:
    if set(cells) == {"cell"}:
        return Genotype(cells["cell"], cells["cell"])
    if set(cells) == {"normal", "reduction"}:
        return Genotype(cells["normal"], cells["reduction"])
    raise ValueError(f"genotype {source!r} needs a normal and a reduction cell, or one shared cell")


def _nasnet_cell(rows: list[tuple[int, str, int, str]], concat: tuple[int, ...]) -> Cell:
    return Cell(tuple(Block(a, b, op_a, op_b, "add") for a, op_a, b, op_b in rows), concat)


# NASNet-A as released (facts sheet): rows are (in A, op A, in B, op B), all combines add.
NASNET_A = Genotype(
    normal=_nasnet_cell(
        [
            (0, "sep_conv_5x5", 1, "sep_conv_3x3"),
            (1, "sep_conv_5x5", 1, "sep_conv_3x3"),
            (0, "avg_pool_3x3", 1, "identity"),
            (1, "avg_pool_3x3", 1, "avg_pool_3x3"),
            (0, "sep_conv_3x3", 0, "identity"),
        ],
        concat=(1, 2, 3, 4, 5, 6),
    ),
    reduction=_nasnet_cell(
        [
            (0, "sep_conv_5x5", 1, "sep_conv_7x7"),
            (0, "max_pool_3x3", 1, "sep_conv_7x7"),
            (0, "avg_pool_3x3", 1, "sep_conv_5x5"),
            (3, "identity", 2, "avg_pool_3x3"),
            (2, "sep_conv_3x3", 0, "max_pool_3x3"),
        ],
        concat=(3, 4, 5, 6),
    ),
    name="nasnet-a",
)

NAMED_GENOTYPES: dict[str, Genotype] = {"nasnet-a": NASNET_A}


def with_published_concat(genotype: Genotype) -> Genotype:
    """Re-attach the released output lists to cells whose blocks equal a published cell.

    Search parameters carry only the blocks; this makes NASNet-A enqueued as a baseline
    trial build exactly as released.
    """
    published = {c.blocks: c for g in NAMED_GENOTYPES.values() for c in (g.normal, g.reduction)}

    def restore(cell: Cell) -> Cell:
        return published.get(cell.blocks, cell) if cell.concat is None else cell

    return Genotype(restore(genotype.normal), restore(genotype.reduction), genotype.name)


def parse_genotype(text: str) -> Genotype:
    """A genotype from a name ("nasnet-a"), its string form, or its JSON."""
    key = text.strip().lower()
    if key in NAMED_GENOTYPES:
        return NAMED_GENOTYPES[key]
    if key.startswith("{"):
        return Genotype.from_json(text)
    if ":" in key:
        return Genotype.from_string(text)
    raise ValueError(
        f"unknown genotype {text!r}: give a name ({', '.join(NAMED_GENOTYPES)}), "
        "a genotype string like str(nas_optuna.NASNET_A), or genotype JSON"
    )
