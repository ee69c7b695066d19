"""Named sets of PPOLSTMSampler settings; an argument passed explicitly overrides its preset.

"nasnet-paper" is the controller as published (Zoph et al. 2018, Appendix A): one-layer LSTM of
100 units, weights uniform in [-0.1, 0.1], PPO with learning rate 0.00035, entropy weight 1e-5,
an EMA reward baseline of weight 0.95, 20 architectures per update; what the paper leaves open
(clip, epochs, embedding, optimizer) as measured in the README. It suits the paper's 20,000
children. "default" is tuned for budgets of hundreds to thousands of trials (README: "Default
settings"): an update every 5 trials on a window of the last 30, rank advantages, the 10 best
architectures replayed, and no trial spent on an architecture the study already evaluated.
"""

from __future__ import annotations


PAPER = dict(
    hidden_size=100,
    embedding_size=32,
    init_range=0.1,
    learning_rate=0.00035,
    entropy_weight=1e-5,
    baseline_decay=0.95,
    batch_size=20,
    update_every=None,  # = batch_size: disjoint batches
    clip_range=0.2,
    epochs=4,
    max_grad_norm=1.0,
    max_staleness=10,
    advantage="ema",
    elite_size=0,
    elite_weight=0.0,
    deduplicate=False,
    max_visits=1,  # with deduplicate: trials a combination of numeric intervals may get
    numeric_value="uniform",  # a numeric decision's value: drawn uniformly inside its interval
    refine_best=0.0,  # share of trials whose numeric values step from the best trial's
    mutate_best=0.0,  # share of trials that are the best architecture with one decision changed
    checkpoint_every=25,  # versions: every 500 trials
)

DEFAULT = dict(
    PAPER,
    learning_rate="per-decision",  # 0.1 / number of decisions: 0.002 for NASNet's 50
    batch_size=30,  # a window of 30: steadier steps on a noisy reward (hidden target: 0.88 -> 0.92)
    update_every=5,
    epochs=1,  # each trial is trained on at 6 updates (window 30 / every 5)
    max_staleness=40,  # versions: 200 trials, as 10 versions of 20 in the paper preset
    advantage="rank",
    elite_size=10,
    # 1.8 / number of decisions, at most 0.3: 0.3 for NAS-Bench-201's 6 (where imitating the
    # best cells finds the optimum sooner), 0.036 for NASNet's 50 (where an elite's choices are
    # mostly chance, and a noisy reward's elites its luckiest draws)
    elite_weight="per-decision",
    deduplicate=True,
    # Inside the interval the policy chose, draw around the best value seen there (draws.py), and
    # let a combination of intervals have up to 30 trials: each is a new point near the best, so
    # the search refines below an interval's width (BENCHMARKS 16). 100 let the policy settle
    # early on one branch; with uniform draws 3 was best.
    numeric_value="local",
    max_visits=30,
    # and in 3 trials of 10, the best trial's numeric values all moved by one joint step, which
    # climbs a ridge between parameters, where the rollout makes the best trial's choices
    # (BENCHMARKS 17): over 100 seeds, +0.019 at 300 trials on the conditional space, +0.008 on
    # the mixed one
    refine_best=0.3,
    # and in a share of the trials, the best architecture so far with one decision changed at
    # random (as regularized evolution mutates): 7.2 / number of decisions squared, at most 0.2.
    # On NAS-Bench-201's 6 (0.2), over 200 seeds: +0.17 at 100 trials, level at 300 (0.4: +0.21
    # at 100, -0.04 at 300); on NASNet's 50 (0.003) it is nearly off: 0.2 there fell to 0.878 at
    # 1,000 trials on the noisy hidden target, 0.024 to 0.922 (0.948 without; BENCHMARKS 18)
    mutate_best="per-decision",
    checkpoint_every=50,  # versions: every 250 trials (a joining worker replays at most 50 updates)
)

PRESETS = {"default": DEFAULT, "nasnet-paper": PAPER}


def resolve(preset: str, given: dict) -> dict:
    """The preset's settings with every argument that was passed (not None) put over them."""
    if preset not in PRESETS:
        raise ValueError(f"preset {preset!r} is not one of {sorted(PRESETS)}; pass one of those")
    return {**PRESETS[preset], **{k: v for k, v in given.items() if v is not None}}
