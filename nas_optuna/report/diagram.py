"""Cells drawn as SVG: the two inputs, each block's two ops and their combine, the output concat.

Plain SVG text, so it needs no graphviz and embeds in HTML, files or notebooks as is.
Columns follow data flow: a block sits one step right of the deepest state it reads.
"""

from __future__ import annotations

from html import escape

from nas_optuna.genotype import Cell, Genotype

COL_WIDTH = 230  # one column = op boxes then their combine node (narrow: diagrams scale to the page)
ROW_HEIGHT = 44
OP_BOX = (120, 26)
STATE_BOX = (84, 30)
MARGIN = 24
TITLE_HEIGHT = 30
COLOURS = {"state": "#dbe9f6", "op": "#fdf1d6", "combine": "#e3f2df", "output": "#f6dede"}


def state_label(index: int) -> str:
    return {0: "h[i] (0)", 1: "h[i-1] (1)"}.get(index, f"block {index - 2} ({index})")


def _depths(cell: Cell) -> dict[int, int]:
    depth = {0: 0, 1: 0}
    for b, block in enumerate(cell.blocks):
        depth[b + 2] = 1 + max(depth.get(block.in_a, 0), depth.get(block.in_b, 0))
    return depth


def cell_svg(cell: Cell, title: str = "", concat_rule: str = "released") -> str:
    """One cell as a standalone <svg> element."""
    depth = _depths(cell)
    n_cols = max(depth.values()) + 1
    by_col: dict[int, list[int]] = {}
    for state, d in depth.items():
        by_col.setdefault(d, []).append(state)
    rows = max(2 * len(states) for states in by_col.values())
    height = TITLE_HEIGHT + MARGIN * 2 + rows * ROW_HEIGHT
    width = MARGIN * 2 + STATE_BOX[0] + n_cols * COL_WIDTH
    centre: dict[int, tuple[float, float]] = {}  # where each state's output leaves
    parts: list[str] = []
    edges: list[str] = []

    def y_of(slot: float, count: int) -> float:
        # Centre `count` slots of two rows each in the column.
        top = TITLE_HEIGHT + MARGIN + (rows - 2 * count) * ROW_HEIGHT / 2
        return top + (2 * slot + 1) * ROW_HEIGHT

    for slot, state in enumerate(sorted(by_col[0])):
        x, y = MARGIN + STATE_BOX[0] / 2, y_of(slot, len(by_col[0]))
        parts.append(_box(x, y, STATE_BOX, state_label(state), COLOURS["state"]))
        centre[state] = (x + STATE_BOX[0] / 2, y)
    for col in range(1, n_cols):
        states = sorted(by_col.get(col, []))
        x0 = MARGIN + STATE_BOX[0] + (col - 1) * COL_WIDTH
        for slot, state in enumerate(states):
            block = cell.blocks[state - 2]
            y = y_of(slot, len(states))
            op_x, comb_x = x0 + 40 + OP_BOX[0] / 2, x0 + COL_WIDTH - 40
            for (src, op), dy in (
                ((block.in_a, block.op_a), -ROW_HEIGHT / 2),
                ((block.in_b, block.op_b), ROW_HEIGHT / 2),
            ):
                edges.append(_edge(centre[src], (op_x - OP_BOX[0] / 2, y + dy)))
                parts.append(_box(op_x, y + dy, OP_BOX, op, COLOURS["op"]))
                edges.append(_edge((op_x + OP_BOX[0] / 2, y + dy), (comb_x - 16, y)))
            symbol = "+" if block.combine == "add" else "C"
            parts.append(_circle(comb_x, y, 16, symbol, COLOURS["combine"]))
            parts.append(_text(comb_x, y + 30, state_label(state), 10))
            centre[state] = (comb_x + 16, y)
    out_x = width - MARGIN - STATE_BOX[0] / 2
    out_y = TITLE_HEIGHT + MARGIN + rows * ROW_HEIGHT / 2
    for state in cell.output_states(concat_rule):
        edges.append(_edge(centre[state], (out_x - STATE_BOX[0] / 2, out_y), dashed=True))
    parts.append(_box(out_x, out_y, STATE_BOX, "concat", COLOURS["output"]))
    width += STATE_BOX[0]  # room for the output box to the right of the last column
    body = "".join(edges + parts)
    heading = _text(MARGIN, TITLE_HEIGHT - 8, title, 15, anchor="start", bold=True) if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif">{heading}{body}</svg>'
    )


def genotype_svgs(genotype: Genotype, concat_rule: str = "released") -> dict[str, str]:
    """SVG per cell role: {"normal": ..., "reduction": ...}, or {"cell": ...} when shared."""
    titles = {"normal": "Normal cell", "reduction": "Reduction cell", "cell": "Cell (normal and reduction)"}
    return {role: cell_svg(c, titles[role], concat_rule) for role, c in genotype.cells().items()}


def _box(x: float, y: float, size: tuple[int, int], label: str, fill: str) -> str:
    w, h = size
    return (
        f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w}" height="{h}" rx="5" '
        f'fill="{fill}" stroke="#555"/>' + _text(x, y + 4, label, 11)
    )


def _circle(x: float, y: float, r: int, label: str, fill: str) -> str:
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" stroke="#555"/>' + _text(
        x, y + 5, label, 14
    )


def _text(x: float, y: float, label: str, size: int, anchor: str = "middle", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    attrs = f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{weight}'
    return f"<text {attrs}>{escape(label)}</text>"


def _edge(start: tuple[float, float], end: tuple[float, float], dashed: bool = False) -> str:
    (x1, y1), (x2, y2) = start, end
    bend = max(30.0, (x2 - x1) / 2)
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return (
        f'<path d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
        f'fill="none" stroke="#777"{dash}/>'
    )
