"""Study TOML files: validation with clear errors, and the bundled studies all load."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas_optuna.study_config import load_study_config, validate

STUDIES = sorted((Path(__file__).parent.parent / "studies").glob("*.toml"))


def test_minimal_config_builds_space_and_objective():
    config = validate({"space": {"n_blocks": 2}, "objective": {"name": "synthetic", "noise": 0.0}})
    space = config.build_space()
    assert len(space) == 2 * 2 * 5  # two cells, two blocks, five decisions
    objective = config.build_objective()
    assert objective.noise == 0.0


def test_pnas_preset_is_one_shared_cell():
    space = validate({"space": {"preset": "pnas"}, "objective": {"name": "synthetic"}}).build_space()
    assert all(name.startswith("cell_") for name in space)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"objective": {"name": "synthetic"}, "spaces": {}}, "unknown key(s) ['spaces']; allowed keys are"),
        (
            {"objective": {"name": "synthetic"}, "space": {"blocks": 3}},
            "allowed keys are ['preset', 'n_blocks', 'progressive']",
        ),
        ({"objective": {"name": "synthetic"}, "space": {"preset": "darts"}}, "unknown preset 'darts'"),
        (
            {"objective": {"name": "synthetic"}, "budget": {"n_trials": 0}},
            "n_trials must be a positive number",
        ),
        (
            {"objective": {"name": "synthetic"}, "budget": {"n_trials": True}},
            "n_trials must be a positive number",
        ),
        (
            {"objective": {"name": "synthetic"}, "sampler": {"cmaes": {}}},
            "allowed keys are ['ppo', 'random', 'tpe', 'nsga2', 'evolution', 'pnas']",
        ),
        ({"objective": {"name": "synthetic"}, "sampler": {"ppo": 3}}, "[sampler.ppo] must be a table"),
        ({"space": {}}, "an [objective] table with a name"),
        ({"objective": {"name": "synthetic"}, "space": {"n_blocks": 0}}, "n_blocks must be >= 1"),
        ({"objective": {"name": "synthetic"}, "space": {"progressive": True}}, 'it needs preset = "pnas"'),
        (
            {"objective": {"name": "synthetic"}, "space": {"preset": "pnas", "progressive": "yes"}},
            "progressive = 'yes' must be true or false",
        ),
    ],
)
def test_bad_configs_name_the_problem(data, message):
    with pytest.raises(ValueError) as info:
        validate(data, "x.toml")
    assert message in str(info.value)


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_study_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[space\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_study_config(bad)


@pytest.mark.parametrize("path", STUDIES, ids=[p.name for p in STUDIES])
def test_bundled_studies_load_and_say_how_to_run(path):
    first_line = path.read_text().splitlines()[0]
    assert first_line.startswith("# Run:") and "nas-worker" in first_line
    config = load_study_config(path)
    assert config.build_space()
    assert config.budget.get("n_trials", 0) >= 1


def test_bundled_study_set_is_complete():
    names = {p.stem for p in STUDIES}
    assert {"smoke", "synthetic", "cifar10-search", "ppo-vs-random"} <= names
    # One file for both halves of the pair: identical space, objective and budget by construction.
    pair = Path(__file__).parent.parent / "studies" / "ppo-vs-random.toml"
    run_line = pair.read_text().splitlines()[0]
    assert "-ppo-s0" in run_line and "-random-s0" in run_line
    assert "--sampler ppo" in run_line and "--sampler random" in run_line


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.name)
def test_bundled_sampler_settings_are_accepted_by_their_samplers(path):
    from nas_optuna.worker import make_sampler

    config = load_study_config(path)
    for name in config.data.get("sampler", {}):
        sampler = make_sampler(name, config.sampler_settings(name), 0, config.build_space())
        for key, value in config.sampler_settings(name).items():
            if hasattr(sampler, key):  # the samplers that expose their settings keep them
                assert getattr(sampler, key) == value
