# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Rollouts drawn side by side equal those drawn one by one, to the bit."""

from __future__ import annotations

import numpy as np
import torch

from ..learner import Learner
from ..learner import LearnerSettings
from ..policy import LSTMPolicy
from ..rollouts import RolloutQueue


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
