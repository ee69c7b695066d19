"""Why PNASSampler's predictor is NumPy: one training step of the 5-MLP ensemble, NumPy with the
gradient written out (the sampler's code) against the same network and loss in torch autograd.

    python benchmarks/pnas_predictor_step.py --rows 128 --width 40 --steps 200
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from nas_optuna.samplers.pnas.predictor import Ensemble  # noqa: E402


def numpy_fit(x: np.ndarray, y: np.ndarray, steps: int) -> float:
    ensemble = Ensemble(x.shape[1], steps=steps, batch_size=len(y))
    start = time.thread_time()
    ensemble.fit(x, y, folds=np.arange(len(y)))
    return time.thread_time() - start


def torch_fit(x: np.ndarray, y: np.ndarray, steps: int, size: int = 5, hidden: int = 32) -> float:
    torch.set_num_threads(1)
    inputs, target = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))
    params = [
        (torch.rand(size, x.shape[1], hidden) - 0.5).requires_grad_(),
        torch.zeros(size, 1, hidden, requires_grad=True),
        (torch.rand(size, hidden, 1) - 0.5).requires_grad_(),
        torch.zeros(size, 1, 1, requires_grad=True),
    ]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    start = time.thread_time()
    for t in range(1, steps + 1):
        w1, b1, w2, b2 = params
        out = (torch.matmul(torch.relu(torch.matmul(inputs, w1) + b1), w2) + b2).squeeze(-1)
        grads = torch.autograd.grad((out - target).abs().mean(1).sum(), params)
        with torch.no_grad():
            for p, g, (m, v) in zip(params, grads, moments, strict=True):
                m.mul_(0.9).add_(g, alpha=0.1)
                v.mul_(0.999).addcmul_(g, g, value=0.001)
                p.sub_(0.01 * (1 - 0.999**t) ** 0.5 / (1 - 0.9**t) * m / (v.sqrt() + 1e-8))
    return time.thread_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=128, help="mini-batch rows (the sampler's batch)")
    parser.add_argument("--width", type=int, default=40, help="one-hot width of an architecture")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = (rng.random((args.rows, args.width)) < 0.2).astype(np.float32)
    y = rng.random(args.rows)
    times = {"numpy": [], "torch": []}
    for _ in range(args.repeats):  # interleaved, so machine load hits both alike
        times["numpy"].append(numpy_fit(x, y, args.steps))
        times["torch"].append(torch_fit(x, y, args.steps))
    medians = {k: float(np.median(v)) * 1e3 / args.steps for k, v in times.items()}
    print(
        f"ms per step (CPU, median of {args.repeats}): numpy {medians['numpy']:.3f}, "
        f"torch autograd {medians['torch']:.3f}; torch / numpy = {medians['torch'] / medians['numpy']:.2f}"
    )


if __name__ == "__main__":
    main()
