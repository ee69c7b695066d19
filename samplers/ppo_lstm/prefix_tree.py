"""NumPy rollouts of one policy version through a tree of the action prefixes already computed.

Step t of a rollout depends only on the weights and on the actions before t, so rollouts that
share a prefix share its LSTM state, logits and cumulative probabilities. A converged policy
mostly redraws prefixes it drew before (at 1,000 NASNet trials, 9 in 10 steps), so only new
prefixes are computed: those a step needs, side by side, with the same NumPy operations in the
same order as drawing whole rows. Each row of such a batch has the bits it has alone
(tests/test_rollout.py), so a prefix computed once gives every later rollout the same bits as
computing it again would.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np


# Then the tree starts over (it is a cache: the rollouts do not change); ~1.5 KB a node.
MAX_NODES = 20_000


class _Node:
    """A prefix: the token its step reads, the state before it, and once computed its outputs."""

    __slots__ = ("token", "prev_h", "prev_c", "h", "c", "logits", "total", "cum", "children")
    h: np.ndarray  # the state after this step, set with the outputs
    c: np.ndarray
    total: float
    cum: list[float]

    def __init__(self, token: int, prev_h: np.ndarray, prev_c: np.ndarray) -> None:
        self.token, self.prev_h, self.prev_c = token, prev_h, prev_c
        self.logits: list[float] | None = None  # None: not computed yet
        self.children: dict[int, _Node] = {}


class PrefixTree:
    def __init__(self, token_gates: np.ndarray, w_hh: np.ndarray, heads: list) -> None:
        self.token_gates, self.w_hh, self.heads = token_gates, w_hh, heads
        self._zeros = np.zeros(w_hh.shape[1])
        self._restart()

    def _restart(self) -> None:
        self.root = _Node(0, self._zeros, self._zeros)  # token 0 starts the sequence
        self.n_nodes = 1

    def rollouts(
        self,
        count: int,
        uniforms: list[list[float]] | None,
        forced: Sequence[Sequence[int]] | None = None,
    ) -> tuple[list[list[int]], list[list[float]]]:
        """Row r: the actions drawn by inverse CDF from `uniforms[r]` (or `forced[r]`) and their
        log-probabilities."""
        if self.n_nodes > MAX_NODES:
            self._restart()
        steps = len(self.heads)
        given = forced if forced is not None else uniforms
        assert given is not None
        columns = list(zip(*given))  # step by step: each step's loops are comprehensions
        nodes = [self.root] * count
        actions, chosen, totals = [], [], []  # step by step, turned into rows at the end
        n_new = 0
        for t, (_, head_b, offset) in enumerate(self.heads):
            new = {id(n): n for n in nodes if n.logits is None}  # each new prefix once
            if len(new) == 1:
                self._compute_one(t, *new.values())
            elif new:
                self._compute(t, list(new.values()))
            if forced is None:
                last = len(head_b) - 1
                # The first choice whose cumulative mass reaches the uniform: the count of those
                # below it, as the cumulative sums never decrease.
                step = [
                    min(bisect_left(n.cum, u * n.total), last)
                    for n, u in zip(nodes, columns[t], strict=True)
                ]
            else:
                step = [int(a) for a in columns[t]]
            actions.append(step)
            chosen.append([n.logits[a] for n, a in zip(nodes, step, strict=True)])  # type: ignore[index]
            totals.append([n.total for n in nodes])
            if t + 1 < steps:
                children = []
                for node, a in zip(nodes, step, strict=True):
                    child = node.children.get(a)
                    if child is None:
                        child = node.children[a] = _Node(1 + offset + a, node.h, node.c)
                        n_new += 1
                    children.append(child)
                nodes = children
        self.n_nodes += n_new
        # The log on a (rollouts, steps) array, as it always was.
        log_totals = np.log(np.ascontiguousarray(np.array(totals).T))
        return [list(row) for row in zip(*actions)], (np.array(chosen).T - log_totals).tolist()

    def _compute(self, t: int, new: list[_Node]) -> None:
        """Step t of the `new` prefixes: the operations of a whole-row draw, in its order."""
        head_w, head_b, _ = self.heads[t]
        count, size = len(new), self.w_hh.shape[1]
        h = np.array([n.prev_h for n in new])
        c = np.array([n.prev_c for n in new])
        tokens = np.array([n.token for n in new], dtype=np.intp)
        gates = np.empty((count, 4 * size))
        sig = np.empty((count, 4 * size))
        # PyTorch's gate order is i, f, g, o.
        sig_i, sig_f, sig_o = sig[:, :size], sig[:, size : 2 * size], sig[:, 3 * size :]
        gate_g = gates[:, 2 * size : 3 * size]
        # Matrix products one row at a time: a matrix-matrix product may round differently.
        for r in range(count):
            np.dot(self.w_hh, h[r], out=gates[r])
        gates += self.token_gates[tokens]
        np.negative(gates, out=sig)
        np.exp(sig, out=sig)
        sig += 1.0
        np.divide(1.0, sig, out=sig)  # sigmoid
        c *= sig_f
        c += sig_i * np.tanh(gate_g)
        h = sig_o * np.tanh(c)
        logits = np.empty((count, len(head_b)))
        for r in range(count):
            np.dot(head_w, h[r], out=logits[r])
        logits += head_b
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        totals = probs.sum(axis=1).tolist()
        cums = np.cumsum(probs, axis=1).tolist()
        for i, (node, row) in enumerate(zip(new, logits.tolist(), strict=True)):
            node.h, node.c, node.logits, node.total, node.cum = h[i], c[i], row, totals[i], cums[i]

    def _compute_one(self, t: int, node: _Node) -> None:
        """`_compute` of one prefix (most new prefixes: a walk's tail), in 1-D arrays: the same
        operations on the same values, without the batch's stacking and per-row loops."""
        head_w, head_b, _ = self.heads[t]
        size = self.w_hh.shape[1]
        gates = np.dot(self.w_hh, node.prev_h)
        gates += self.token_gates[node.token]
        sig = np.negative(gates)
        np.exp(sig, out=sig)
        sig += 1.0
        np.divide(1.0, sig, out=sig)  # sigmoid; gate order i, f, g, o
        c = node.prev_c * sig[size : 2 * size]
        c += sig[:size] * np.tanh(gates[2 * size : 3 * size])
        h = sig[3 * size :] * np.tanh(c)
        logits = np.dot(head_w, h)
        logits += head_b
        logits -= logits.max()
        probs = np.exp(logits)
        node.h, node.c, node.logits = h, c, logits.tolist()
        node.total, node.cum = float(probs.sum()), np.cumsum(probs).tolist()
        node.prev_h = node.prev_c = None  # type: ignore[assignment]
