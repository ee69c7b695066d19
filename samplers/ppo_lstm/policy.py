"""The controller: an LSTM that emits one categorical decision per step (Zoph et al. 2018).

Step t reads the embedding of the action taken at step t-1 (a learned start token at t=0) and
a softmax head sized to decision t's choices reads the LSTM output. Sampling runs step by step
in NumPy (cheap per ask); training runs the LSTM once over the recorded actions in torch
(teacher forcing), so an update costs one batched forward and backward pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
import contextlib

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .prefix_tree import PrefixTree


_MASKED_LOGIT = -1e9  # padded choices of short decisions; finite, so 0 * logp stays 0


class LSTMPolicy(nn.Module):
    def __init__(
        self,
        n_choices: Sequence[int],
        *,
        hidden_size: int = 100,
        embedding_size: int = 32,
        init_range: float = 0.1,
        init_seed: int = 0,
    ) -> None:
        super().__init__()
        if not n_choices or min(n_choices) < 1:
            raise ValueError(f"every decision needs at least one choice, got {list(n_choices)}")
        self.n_choices = tuple(int(n) for n in n_choices)
        offsets = np.concatenate([[0], np.cumsum(self.n_choices)[:-1]]).astype(np.int64)
        total = int(sum(self.n_choices))
        # Token 0 starts the sequence; token 1 + offset[t] + a is "action a at decision t".
        self.embedding = nn.Embedding(total + 1, embedding_size)
        self.lstm = nn.LSTM(embedding_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, total)  # all decisions' heads side by side
        width = max(self.n_choices)
        columns = torch.arange(width)
        mask = columns[None, :] < torch.tensor(self.n_choices)[:, None]
        index = torch.tensor(offsets)[:, None] + torch.where(mask, columns[None, :], 0)
        self.register_buffer("_offsets", torch.tensor(offsets), persistent=False)
        self.register_buffer("_choice_index", index, persistent=False)  # (T, width) into head
        self.register_buffer("_choice_mask", mask, persistent=False)
        generator = torch.Generator().manual_seed(init_seed)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-init_range, init_range, generator=generator)
        self._init = (hidden_size, embedding_size, init_range, init_seed)
        self._tree: PrefixTree | None = None
        self.revision = 0  # counts weight changes: rollouts drawn ahead are only valid for one

    def log_probs_and_entropy(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-decision log-probabilities of `actions` (B, T) and per-decision entropies (B, T)."""
        batch = actions.shape[0]
        previous = 1 + self._offsets[:-1] + actions[:, :-1]
        tokens = torch.cat([torch.zeros(batch, 1, dtype=torch.long), previous], dim=1)
        outputs, _ = self.lstm(self.embedding(tokens))
        # Each step's own head rows only (T x width x H), not all heads at every step.
        # An embedding lookup, not fancy indexing: its backward is cheaper than index_put's.
        weight = F.embedding(self._choice_index, self.head.weight)
        bias = F.embedding(self._choice_index, self.head.bias[:, None]).squeeze(-1)
        logits = torch.einsum("bth,tch->btc", outputs, weight) + bias
        logits = logits.masked_fill(~self._choice_mask, _MASKED_LOGIT)
        log_probs = torch.log_softmax(logits, dim=-1)
        chosen = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        entropy = -(log_probs.exp() * log_probs).sum(-1)
        return chosen, entropy

    def extended(self, n: int) -> LSTMPolicy:
        """A copy with one more decision of `n` choices at the end. Its new embedding and head
        rows start uniform in the init range from a generator seeded by (init_seed, position),
        so every process that adds the same decisions gets the same weights."""
        hidden_size, embedding_size, init_range, init_seed = self._init
        grown = LSTMPolicy(
            (*self.n_choices, n),
            hidden_size=hidden_size,
            embedding_size=embedding_size,
            init_range=init_range,
            init_seed=init_seed,
        )
        generator = torch.Generator().manual_seed(init_seed * 1_000_003 + len(self.n_choices))
        with torch.no_grad():
            for name, new in grown.state_dict().items():
                old = self.state_dict()[name]
                if new.shape != old.shape:  # embedding and head: rows added at the end
                    new[old.shape[0] :].uniform_(-init_range, init_range, generator=generator)
                new[: old.shape[0]] = old
        return grown

    def invalidate_cache(self) -> None:
        """Call after the weights change, so the next rollout uses them."""
        self._tree = None
        self.revision += 1

    def _prefix_tree(self) -> PrefixTree:
        """The NumPy weights of this version, in a tree of the prefixes drawn with them."""
        if self._tree is None:
            # The table below in torch on one thread: NumPy's first multi-threaded BLAS call
            # after an update waits for its thread pool (about 6 ms). Rollouts only read this table,
            # and workers share recorded log-probabilities, so it cannot split their lineages.
            with torch.no_grad(), single_thread():
                w = {name: t.detach().double() for name, t in self.state_dict().items()}
                # Input-to-gate products of every token, computed once per policy version.
                token_gates = (
                    w["embedding.weight"] @ w["lstm.weight_ih_l0"].T
                    + w["lstm.bias_ih_l0"]
                    + w["lstm.bias_hh_l0"]
                ).numpy()
            head_w, head_b = w["head.weight"].numpy(), w["head.bias"].numpy()
            ends = np.cumsum(self.n_choices)
            self._tree = PrefixTree(
                token_gates,
                w["lstm.weight_hh_l0"].numpy(),
                # Each decision's head rows and where they start, sliced once per version.
                [
                    (head_w[e - n : e], head_b[e - n : e], e - n)
                    for n, e in zip(self.n_choices, ends, strict=True)
                ],
            )
        return self._tree

    def sample(self, rng: np.random.RandomState) -> tuple[list[int], list[float]]:
        """One rollout: an action index and its log-probability for every decision."""
        actions, log_probs = self.sample_many(rng, 1)
        return actions[0], log_probs[0]

    def log_probs_of(self, actions: Sequence[int]) -> list[float]:
        """Per-decision log-probabilities of given actions (as a rollout would record them)."""
        return self.sample_many(None, 1, forced=[list(actions)])[1][0]

    def sample_many(
        self,
        rng: np.random.RandomState | None,
        count: int,
        forced: Sequence[Sequence[int]] | None = None,
    ) -> tuple[list[list[int]], list[list[float]]]:
        """`count` rollouts drawn side by side, row r the same bits as the r-th of `count` calls
        of `sample` (the same uniforms, in the same order); NumPy's per-call cost is shared, and
        prefixes drawn before with these weights are not computed again (prefix_tree.py).
        With `forced`, the rollouts take those actions instead (no random draws)."""
        tree = self._prefix_tree()
        uniforms = None
        if forced is None:
            if rng is None:
                raise ValueError("LSTMPolicy.sample_many needs an rng unless `forced` is given.")
            uniforms = rng.random_sample((count, len(self.n_choices))).tolist()
        return tree.rollouts(count, uniforms, forced)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Same inputs, same bits: one thread removes reduction-order differences between runs."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
