"""NAS-Bench-201's cell space and its CIFAR-10 table (shipped in nas_optuna/data).

A cell of 4 nodes; each of the 6 edges j<-i (i < j) is one of 5 ops. The parameter names
``edge_{j}_{i}`` are the contract between this space, the samplers and the storage; the
table's ``cellstr`` (``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``) is rebuilt from them.
Attribution and licence of the table: nas_optuna/data/NB201-README.md.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from optuna.distributions import CategoricalDistribution

NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))  # (to, from)
NB201_BEST_VAL_ACCURACY = 84.892  # the table's maximum (one architecture, index 13714)
TABLE_FILE = "nb201-cifar10.csv.gz"


def edge_name(to: int, source: int) -> str:
    return f"edge_{to}_{source}"


def nb201_space() -> dict[str, CategoricalDistribution]:
    """The 6 edges in cellstr order (edge_1_0, edge_2_0, edge_2_1, edge_3_0, edge_3_1, edge_3_2)."""
    return {edge_name(to, source): CategoricalDistribution(NB201_OPS) for to, source in NB201_EDGES}


def cellstr_from_params(params: Mapping[str, Any]) -> str:
    """The table's cell string; ValueError names a missing or unknown edge value."""
    ops = {}
    for to, source in NB201_EDGES:
        name = edge_name(to, source)
        if name not in params:
            raise ValueError(f"missing parameter {name!r}; expected one of {list(NB201_OPS)}")
        if params[name] not in NB201_OPS:
            raise ValueError(
                f"parameter {name!r} = {params[name]!r} is not allowed; expected one of {list(NB201_OPS)}"
            )
        ops[(to, source)] = params[name]
    nodes = ["|" + "|".join(f"{ops[(to, s)]}~{s}" for s in range(to)) + "|" for to in (1, 2, 3)]
    return "+".join(nodes)


def params_from_cellstr(cellstr: str) -> dict[str, str]:
    """Trial params for a cell string (e.g. to enqueue a known architecture)."""
    nodes = cellstr.split("+")
    if len(nodes) != 3:
        raise ValueError(
            f"cell string {cellstr!r}: expected 3 nodes like |op~0|+|op~0|op~1|+|op~0|op~1|op~2|"
        )
    params = {}
    for to, node in enumerate(nodes, start=1):
        edges = [e for e in node.split("|") if e]
        if len(edges) != to:
            raise ValueError(f"cell string {cellstr!r}: node {to} needs {to} edges, has {len(edges)}")
        for source, edge in enumerate(edges):
            op, _, index = edge.partition("~")
            if index != str(source):
                raise ValueError(
                    f"cell string {cellstr!r}: edge {edge!r} of node {to} should come from {source}"
                )
            params[edge_name(to, source)] = op
    cellstr_from_params(params)  # validates the op names
    return params


@dataclass(frozen=True)
class NB201Row:
    index: int
    cellstr: str
    val_accuracy: float
    test_accuracy: float


@functools.cache
def load_nb201_table() -> dict[str, NB201Row]:
    """Every architecture of the shipped table, by cell string (read once per process)."""
    raw = (resources.files("nas_optuna.data") / TABLE_FILE).read_bytes()
    reader = csv.DictReader(io.StringIO(gzip.decompress(raw).decode()))
    rows = (
        NB201Row(int(r["index"]), r["cellstr"], float(r["val_accuracy"]), float(r["test_accuracy"]))
        for r in reader
    )
    return {row.cellstr: row for row in rows}
