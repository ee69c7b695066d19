# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Rollouts drawn side by side equal those drawn one by one, to the bit."""

from __future__ import annotations

import numpy as np
import torch

from ..learner import Learner
from ..policy import LSTMPolicy
from ..rollouts import RolloutQueue
from ..settings import LearnerSettings


def test_sample_many_rows_equal_single_rollouts_and_follow_the_policy() -> None:
    policy = LSTMPolicy((3, 5, 2, 13, 4), hidden_size=16, embedding_size=4, init_range=1.0)
    many_actions, many_log_probs = policy.sample_many(np.random.RandomState(7), 6)
    rng = np.random.RandomState(7)
    singles = [policy.sample(rng) for _ in range(6)]
    assert many_actions == [actions for actions, _ in singles]
    assert many_log_probs == [log_probs for _, log_probs in singles]
    # The recorded log-probabilities are the torch policy's (float32 vs float64 rounding only).
    torch_log_probs, _ = policy.log_probs_and_entropy(torch.tensor(many_actions))
    np.testing.assert_allclose(torch_log_probs.detach().numpy(), many_log_probs, atol=1e-5)


def test_rollouts_drawn_ahead_are_dropped_when_the_weights_change() -> None:
    queue = RolloutQueue()
    learner = Learner(LearnerSettings(n_choices=(4, 4, 4), batch_size=5))
    first = queue.next(learner, 0, np.random.RandomState(3))  # draws 5 rollouts of these weights
    rng = np.random.RandomState(3)
    drawn_actions, drawn_log_probs = learner.policy.sample_many(rng, 5)
    assert first == (drawn_actions[0], drawn_log_probs[0])
    with torch.no_grad():
        learner.policy.head.bias[:4] = torch.tensor([9.0, 0.0, 0.0, 0.0])  # decision 0: choice 0
    learner.policy.invalidate_cache()
    actions, log_probs = queue.next(learner, 1, rng)
    assert actions[0] == 0 and log_probs[0] > -1e-3  # the new weights, not a stale rollout


def test_a_draw_is_as_large_as_the_previous_version_needed() -> None:
    queue = RolloutQueue()
    learner = Learner(LearnerSettings(n_choices=(4, 4, 4), batch_size=10))
    rng = np.random.RandomState(0)
    queue.next(learner, 0, rng)  # no history: the whole window, 10 rollouts
    queue.next(learner, 1, rng)
    learner.policy.invalidate_cache()  # as if another worker finished the batch
    queue.next(learner, 14, rng)  # 2 were used of the previous weights: draws 2
    reference = np.random.RandomState(0)
    reference.random_sample((10 + 2, 3))  # 3 uniforms per rollout
    assert rng.random_sample() == reference.random_sample()


def _whole_rows(policy: LSTMPolicy, uniforms: np.ndarray) -> tuple[list, list]:
    """Every row computed at every step, as sample_many did before the prefix tree."""
    tree = policy._prefix_tree()
    token_gates, w_hh = tree.token_gates, tree.w_hh
    count, size = len(uniforms), w_hh.shape[1]
    h, c = np.zeros((count, size)), np.zeros((count, size))
    tokens = np.zeros(count, dtype=np.intp)
    actions, chosen, totals = [], [], []
    for t, (head_w, head_b, offset) in enumerate(tree.heads):
        gates = np.stack([np.dot(w_hh, h[r]) for r in range(count)]) + token_gates[tokens]
        sig = 1.0 / (np.exp(-gates) + 1.0)
        c = c * sig[:, size : 2 * size] + sig[:, :size] * np.tanh(gates[:, 2 * size : 3 * size])
        h = sig[:, 3 * size :] * np.tanh(c)
        logits = np.stack([np.dot(head_w, h[r]) for r in range(count)]) + head_b
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        total = probs.sum(axis=1)
        below = np.cumsum(probs, axis=1) < (uniforms[:, t] * total)[:, None]
        action = np.minimum(below.sum(axis=1), len(head_b) - 1)
        actions.append(action)
        chosen.append(logits[np.arange(count), action])
        totals.append(total)
        tokens = 1 + offset + action
    log_probs = np.array(chosen).T - np.log(np.array(totals).T)
    return np.array(actions).T.tolist(), log_probs.tolist()


def test_prefixes_computed_once_give_the_bits_of_whole_rows() -> None:
    # A peaked policy: most rollouts share long prefixes, so most steps come from the tree.
    policy = _peaked()
    rng = np.random.RandomState(11)
    for count in (1, 7, 20, 3, 1, 12):
        actions, log_probs = _draw_checked(policy, rng, count)
        for row, row_log_probs in zip(actions, log_probs, strict=True):
            assert policy.log_probs_of(row) == row_log_probs
    walked = list(actions[0])
    walked[9] = (walked[9] + 1) % policy.n_choices[9]  # a new branch off a known prefix
    assert policy.log_probs_of(walked) == _whole_rows_forced(policy, walked)
    assert policy._prefix_tree().n_nodes < 44 * len(policy.n_choices) // 2  # prefixes were shared


def _draw_checked(policy: LSTMPolicy, rng: np.random.RandomState, count: int):
    """`count` rollouts through the tree, checked against whole rows of the same uniforms."""
    state = rng.get_state()
    actions, log_probs = policy.sample_many(rng, count)
    reference = np.random.RandomState()
    reference.set_state(state)
    uniforms = reference.random_sample((count, len(policy.n_choices)))
    assert (actions, log_probs) == _whole_rows(policy, uniforms)
    return actions, log_probs


def _peaked() -> LSTMPolicy:
    policy = LSTMPolicy(
        (3, 5, 2, 13, 4, 8, 9) * 3, hidden_size=16, embedding_size=4, init_range=1.0
    )
    with torch.no_grad():
        policy.head.weight.mul_(30.0)
    return policy


def _whole_rows_forced(policy: LSTMPolicy, actions: list[int]) -> list[float]:
    """Log-probabilities of `actions` from a fresh tree (nothing cached)."""
    fresh = _peaked()
    fresh.load_state_dict(policy.state_dict())
    return fresh.log_probs_of(actions)


def test_a_full_tree_starts_over_with_the_same_bits(monkeypatch) -> None:
    from .. import prefix_tree

    monkeypatch.setattr(prefix_tree, "MAX_NODES", 30)
    policy = _peaked()
    rng = np.random.RandomState(5)
    for count in (4, 4, 9):
        _draw_checked(policy, rng, count)
    assert policy._prefix_tree().n_nodes < 30 + 9 * len(policy.n_choices)
