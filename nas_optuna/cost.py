"""Cost of a genotype at its transfer configuration: the network that will be deployed.

The search trains a small proxy child (N=1..2, F=8..32 on CIFAR), but a budget (MnasNet's
target, "under 600M mult-adds") is about the network built from the same cells for
deployment, e.g. NASNet-A mobile 4@1056 on ImageNet: 564M mult-adds, 5.3M parameters
published. `transfer_cost` builds that network once per (genotype, configuration), counts
it without training, and caches the result; torch loads on first use.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from nas_optuna.genotype import CONCAT_RULES

if TYPE_CHECKING:
    from nas_optuna.genotype import Genotype

STEMS = ("cifar", "imagenet")  # nas_optuna.network.STEMS, without importing torch


@dataclass(frozen=True)
class TransferConfig:
    """How the deployed network is built: N @ 24F, stem, input size and classes."""

    n_cells: int = 4
    filters: int = 44
    stem: str = "imagenet"
    image_size: int = 224
    num_classes: int = 1000
    stem_multiplier: float | None = None  # None: the stem's default (3 cifar, 1 imagenet)
    concat: str = "released"

    def describe(self) -> str:
        return (
            f"{self.n_cells}@{24 * self.filters} (N={self.n_cells}, F={self.filters}), {self.stem} stem, "
            f"{self.image_size}x{self.image_size} input, {self.num_classes} classes"
        )


# mobile: NASNet-A 4@1056 (NASNET.md "ImageNet stem"; the release has 1001 classes, a
# background class, 1,057 parameters more than the 1000 used here). cifar: the paper's 6@768.
TRANSFER_PRESETS: dict[str, TransferConfig] = {
    "mobile": TransferConfig(),
    "cifar": TransferConfig(n_cells=6, filters=32, stem="cifar", image_size=32, num_classes=10),
}
TABLE_KEYS = tuple(f.name for f in fields(TransferConfig) if f.name != "concat")


@dataclass(frozen=True)
class TransferCost:
    mult_adds: int
    params: int
    latency_ms: float | None = None  # median batch-1 CPU forward, when asked for


def _positive_int(where: str, key: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {key} = {value!r} is not valid; expected an integer >= {minimum}")


def transfer_config(value: Any, *, concat: str = "released", where: str = "transfer") -> TransferConfig:
    """A TransferConfig from a preset name ("mobile", "cifar") or a table of its fields.

    A table starts from the mobile preset for keys it leaves out, except that a cifar stem
    defaults to 32x32 input and 10 classes. ValueError names the first bad key.
    """
    if isinstance(value, TransferConfig):
        return replace(value, concat=concat)
    if isinstance(value, str):
        if value not in TRANSFER_PRESETS:
            raise ValueError(
                f"{where} = {value!r} is unknown; use a preset ({', '.join(map(repr, TRANSFER_PRESETS))}) "
                f"or a table with keys {list(TABLE_KEYS)}"
            )
        return replace(TRANSFER_PRESETS[value], concat=concat)
    if not isinstance(value, Mapping):
        raise ValueError(
            f"{where} must be a preset name ({', '.join(map(repr, TRANSFER_PRESETS))}) or a table "
            f'like {{ n_cells = 4, filters = 44, stem = "imagenet", image_size = 224 }}, got {value!r}'
        )
    unknown = sorted(set(value) - set(TABLE_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed keys are {list(TABLE_KEYS)}")
    stem = value.get("stem", "imagenet")
    if stem not in STEMS:
        raise ValueError(f"{where}: stem = {stem!r} is not valid; expected one of {list(STEMS)}")
    base = TRANSFER_PRESETS["mobile" if stem == "imagenet" else "cifar"]
    settings = {**{f.name: getattr(base, f.name) for f in fields(base)}, **value, "concat": concat}
    _positive_int(where, "n_cells", settings["n_cells"])
    # The ImageNet stem's two reduction cells at F/4 need F >= 8 (build_network's own rule).
    _positive_int(where, "filters", settings["filters"], 8 if stem == "imagenet" else 2)
    _positive_int(where, "image_size", settings["image_size"], 8)
    _positive_int(where, "num_classes", settings["num_classes"])
    multiplier = settings["stem_multiplier"]
    if multiplier is not None and (
        isinstance(multiplier, bool) or not isinstance(multiplier, int | float) or multiplier <= 0
    ):
        raise ValueError(f"{where}: stem_multiplier = {multiplier!r} is not valid; expected a number > 0")
    if concat not in CONCAT_RULES:
        raise ValueError(f"concat rule {concat!r} is unknown; use one of {list(CONCAT_RULES)}")
    return TransferConfig(**settings)


def build_transfer_network(genotype: Genotype, config: TransferConfig):
    """The deployed network (eval-time: no aux head, no drop path)."""
    from nas_optuna.network import build_network

    return build_network(
        genotype,
        n_cells=config.n_cells,
        filters=config.filters,
        num_classes=config.num_classes,
        concat=config.concat,
        stem=config.stem,
        stem_multiplier=config.stem_multiplier,
        image_size=config.image_size,
    )


_SIZES: dict[tuple[Genotype, TransferConfig], tuple[int, int]] = {}
_LATENCIES: dict[tuple[Genotype, TransferConfig], float] = {}


def transfer_cost(genotype: Genotype, config: TransferConfig, *, latency: bool = False) -> TransferCost:
    """Mult-adds and parameters (and CPU latency if asked) of ``genotype`` built at ``config``.

    Cached per (genotype, config) for the life of the process: a sampler proposes the same
    genotype many times, and a worker computes each one once.
    """
    from nas_optuna.flops import count_mult_adds, count_parameters

    key = (genotype, config)
    if key not in _SIZES or (latency and key not in _LATENCIES):
        model = build_transfer_network(genotype, config)
        if latency and key not in _LATENCIES:
            _LATENCIES[key] = cpu_latency_ms(model, config.image_size)  # before the convs go shape-only
        if key not in _SIZES:
            params = count_parameters(model)
            shape_only_convs(model)
            _SIZES[key] = (count_mult_adds(model, (1, 3, config.image_size, config.image_size)), params)
    mult_adds, params = _SIZES[key]
    return TransferCost(mult_adds, params, _LATENCIES.get(key) if latency else None)


def shape_only_convs(model) -> None:
    """Make every Conv2d return zeros of its output shape: counting needs shapes, not values,
    and the conv arithmetic is most of a forward at 224x224. The model is for counting only now."""
    from torch import nn

    for module in model.modules():
        if isinstance(module, nn.Conv2d) and not isinstance(module.padding, str):
            module.forward = _ConvShape(module)


class _ConvShape:
    """A conv's output shape from its input's; holds the conv's geometry, not the conv (no cycle)."""

    def __init__(self, conv) -> None:
        self.out_channels = conv.out_channels
        self.geometry = tuple(zip(conv.padding, conv.dilation, conv.kernel_size, conv.stride, strict=True))

    def __call__(self, x):
        n, _, h, w = x.shape
        size = [
            (length + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
            for length, (pad, dilation, kernel, stride) in zip((h, w), self.geometry, strict=True)
        ]
        return x.new_zeros(n, self.out_channels, *size)


def cpu_latency_ms(model, image_size: int, repeats: int = 5) -> float:
    """Median wall time of ``repeats`` batch-1 eval forwards on CPU, after one warm-up, in ms.

    On the calling process's torch threads: a worker's figure depends on its machine and load,
    so compare latencies only within one machine.
    """
    import torch

    model = model.to("cpu").eval()
    x = torch.zeros(1, 3, image_size, image_size)
    times = []
    with torch.no_grad():
        model(x)  # warm-up: first-call allocations
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


@dataclass(frozen=True)
class Budget:
    """Upper limits at a transfer configuration (None: no limit on that measure)."""

    config: TransferConfig
    max_mult_adds: float | None = None
    max_params: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_mult_adds", "max_params"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be > 0, got {value}")

    def describe(self) -> str:
        limits = []
        if self.max_mult_adds is not None:
            limits.append(f"<= {self.max_mult_adds / 1e6:g}M mult-adds")
        if self.max_params is not None:
            limits.append(f"<= {self.max_params / 1e6:g}M params")
        return f"{' and '.join(limits)} at {self.config.describe()}"

    def allows(self, cost: TransferCost) -> bool:
        return (self.max_mult_adds is None or cost.mult_adds <= self.max_mult_adds) and (
            self.max_params is None or cost.params <= self.max_params
        )


def clear_cache() -> None:
    _SIZES.clear()
    _LATENCIES.clear()
