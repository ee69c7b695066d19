"""`nas-optuna rerank`: top-K selection, real retraining on bundled data, resume, refusals."""

import re
import shlex
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from tiny_models import NaNNet

import nas_optuna
from nas_optuna import NASNET_A, nasnet_space, params_from_genotype, pnas_space, suggest_genotype
from nas_optuna.cli import main
from nas_optuna.cost import Budget, transfer_config, transfer_cost
from nas_optuna.rerank import STALE_REASON, search_space_of, top_genotypes
from nas_optuna.storage_url import open_storage

# The smallest real rerank: N=1, F=8, 64 training images, 1 epoch, 100 validation images.
TINY = ["--n-cells", "1", "--filters", "8", "--epochs", "1", "--train-images", "64", "--val-size", "100"]


def add_search_trials(study, n, seed):
    """COMPLETE trials of random genotypes with made-up proxy scores, as a search leaves them."""
    study.sampler = optuna.samplers.RandomSampler(seed=seed)
    for i in range(n):
        trial = study.ask()
        genotype = suggest_genotype(trial)
        trial.set_user_attr("genotype", str(genotype))
        study.tell(trial, 0.1 + 0.01 * i)


def add_trial(study, genotype, value, state=TrialState.COMPLETE):
    params = params_from_genotype(genotype)
    space = nasnet_space()
    study.add_trial(
        optuna.trial.create_trial(
            params=params,
            distributions={k: space[k] for k in params},
            value=value if state == TrialState.COMPLETE else None,
            state=state,
            user_attrs={"genotype": str(genotype)},
        )
    )


@pytest.fixture
def search(tmp_path):
    """A journal storage with one search study: 3 random genotypes and NASNet-A at the top."""
    url = str(tmp_path / "runs.log")
    study = optuna.create_study(study_name="s", storage=open_storage(url), direction="maximize")
    add_search_trials(study, 3, seed=0)
    add_trial(study, NASNET_A, 0.9)
    return url, study


def rerank_cli(url, *extra):
    return main(["rerank", "--storage", url, "--study", "s", "--dataset", "bundled", *TINY, *extra])


def test_top_k_keeps_each_genotypes_best_score_across_studies(search):
    url, study = search
    add_trial(study, NASNET_A, 0.2)  # a worse duplicate: the 0.9 one stays
    add_trial(study, NASNET_A, 0.0, state=TrialState.FAIL)
    other = optuna.create_study(study_name="t", storage=open_storage(url), direction="maximize")
    add_search_trials(other, 2, seed=5)
    add_trial(other, NASNET_A, 0.95)  # the same genotype scored higher in another study
    candidates = top_genotypes(study._storage, ["s", "t"], top_k=4)
    assert [c.genotype for c in candidates].count(str(NASNET_A)) == 1
    best = candidates[0]
    assert (best.genotype, best.search_value, best.source_study) == (str(NASNET_A), 0.95, "t")
    assert best.source_trial == 2 and best.params == params_from_genotype(NASNET_A)
    values = [c.search_value for c in candidates]
    assert values == sorted(values, reverse=True) and len(set(c.genotype for c in candidates)) == 4
    assert [c.rank for c in candidates] == [1, 2, 3, 4]
    assert len(top_genotypes(study._storage, ["s", "t"], top_k=100)) == 6  # 7 genotypes, 1 duplicate


def test_a_multi_objective_search_is_ranked_by_its_accuracy(tmp_path):
    storage = open_storage(str(tmp_path / "mo.log"))
    study = optuna.create_study(study_name="mo", storage=storage, directions=["maximize", "minimize"])
    genotypes = [NASNET_A, *(nas_optuna.random_genotype(s) for s in range(3))]
    for genotype, values in zip(genotypes, [(0.5, 9e8), (0.8, 3e8), (0.6, 1e8), (0.7, 2e8)], strict=True):
        params = params_from_genotype(genotype)
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: nasnet_space()[k] for k in params},
                values=list(values),
                user_attrs={"genotype": str(genotype)},
            )
        )
    assert [c.search_value for c in top_genotypes(storage, ["mo"], top_k=3)] == [0.8, 0.7, 0.6]


def test_rerank_trains_top_two_into_a_study_of_its_own(search, capsys):
    url, _ = search
    assert rerank_cli(url, "--top-k", "2") == 0
    out = capsys.readouterr().out
    rerank = optuna.load_study(study_name="s-rerank", storage=open_storage(url))
    assert rerank.direction == optuna.study.StudyDirection.MAXIMIZE
    assert rerank.user_attrs["rerank_settings"]["n_cells"] == 1
    assert rerank.user_attrs["rerank_settings"]["filters"] == 8
    assert rerank.user_attrs["source_studies"] == ["s"]
    trials = rerank.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 2 and all(0 <= t.value <= 1 for t in trials)
    first = trials[0]
    assert first.params == params_from_genotype(NASNET_A)
    assert first.user_attrs["genotype"] == str(NASNET_A)
    assert first.user_attrs["normal_cell"].startswith("sc5@0+sc3@1 ")  # the short form, per cell
    assert first.user_attrs["source_study"] == "s" and first.user_attrs["source_trial"] == 3
    assert first.user_attrs["search_value"] == 0.9
    for key in ("n_params", "mult_adds", "train_seconds", "images_per_second", "device"):
        assert key in first.user_attrs
    assert trials[1].user_attrs["search_value"] == pytest.approx(0.12)
    assert out.count("search 0.") == 2 and "rerank_value" in out and "Spearman" in out


def test_second_run_trains_nothing_new(search, capsys):
    url, _ = search
    assert rerank_cli(url, "--top-k", "2") == 0
    capsys.readouterr()
    assert rerank_cli(url, "--top-k", "2") == 0
    assert capsys.readouterr().out.count("(done earlier)") == 2
    assert len(optuna.load_study(study_name="s-rerank", storage=open_storage(url)).trials) == 2


def test_trial_left_running_by_a_killed_run_is_failed_and_trained_again(search, capsys):
    url, _ = search
    assert rerank_cli(url, "--top-k", "1") == 0
    rerank = optuna.load_study(study_name="s-rerank", storage=open_storage(url))
    second = top_genotypes(rerank._storage, ["s"], top_k=2)[1]
    rerank.enqueue_trial(second.params)
    stale = rerank.ask()  # RUNNING, as a killed process leaves it
    assert rerank_cli(url, "--top-k", "2") == 0
    trials = optuna.load_study(study_name="s-rerank", storage=open_storage(url)).trials
    assert trials[stale.number].state == TrialState.FAIL
    assert trials[stale.number].user_attrs["fail_reason"] == STALE_REASON
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert trials[2].user_attrs["genotype"] == second.genotype
    assert capsys.readouterr().out.count("(done earlier)") == 1


def test_other_settings_for_an_existing_rerank_study_are_refused(search, capsys):
    url, _ = search
    assert rerank_cli(url, "--top-k", "1") == 0
    capsys.readouterr()
    assert rerank_cli(url, "--top-k", "1", "--epochs", "2") == 2  # argparse: last --epochs wins
    err = capsys.readouterr().err
    assert "other settings" in err and "epochs: 1 there, 2 now" in err and "--out-study" in err
    assert len(optuna.load_study(study_name="s-rerank", storage=open_storage(url)).trials) == 1


@pytest.mark.parametrize("study_name", ["empty", "unknown"])
def test_empty_or_unknown_study_is_one_clear_error(search, capsys, study_name):
    url, _ = search
    optuna.create_study(study_name="empty", storage=open_storage(url))
    code = main(["rerank", "--storage", url, "--study", study_name, *TINY])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    expected = "no COMPLETE trials" if study_name == "empty" else "has no study ['unknown']"
    assert expected in err


def test_failed_training_exits_1_and_the_rerun_trains_that_genotype_again(search, capsys, monkeypatch):
    url, _ = search
    real_build = nas_optuna.build_network

    def diverging_nasnet_a(genotype, **kwargs):
        return NaNNet(nan_from_step=1) if genotype == NASNET_A else real_build(genotype, **kwargs)

    monkeypatch.setattr(nas_optuna, "build_network", diverging_nasnet_a)
    assert rerank_cli(url, "--top-k", "2") == 1
    out, err = capsys.readouterr()
    assert "FAILED (training loss became nan" in out and "rerun the same command" in err
    monkeypatch.setattr(nas_optuna, "build_network", real_build)
    assert rerank_cli(url, "--top-k", "2") == 0
    trials = optuna.load_study(study_name="s-rerank", storage=open_storage(url)).trials
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[0].user_attrs["genotype"] == trials[2].user_attrs["genotype"] == str(NASNET_A)


def test_budget_keeps_the_best_genotypes_that_fit_at_the_transfer_config(search):
    _, study = search
    mobile = transfer_config("mobile")
    ranked = top_genotypes(study._storage, ["s"], top_k=4)
    costs = [transfer_cost(nas_optuna.parse_genotype(c.genotype), mobile).mult_adds for c in ranked]
    limit = sorted(costs)[1]  # the two cheapest networks at 4@1056 fit
    kept = top_genotypes(study._storage, ["s"], top_k=4, budget=Budget(mobile, max_mult_adds=limit))
    fitting = [c for c, m in zip(ranked, costs, strict=True) if m <= limit]
    assert len(fitting) == 2 and [k.genotype for k in kept] == [c.genotype for c in fitting]
    assert [k.rank for k in kept] == [c.rank for c in fitting]  # ranks stay those of the search
    assert all(k.transfer.mult_adds <= limit and k.transfer.params > 0 for k in kept)
    assert len(top_genotypes(study._storage, ["s"], top_k=1, budget=Budget(mobile, max_mult_adds=limit))) == 1
    both = Budget(mobile, max_mult_adds=limit, max_params=1e6)
    with pytest.raises(
        ValueError, match=r"none of the 4 genotypes fits the budget \(<= .*M mult-adds and <= 1M"
    ):
        top_genotypes(study._storage, ["s"], top_k=4, budget=both)


def test_rerank_cli_trains_the_best_genotype_under_the_budget(search, capsys):
    url, study = search
    cifar = transfer_config("cifar")
    ranked = top_genotypes(study._storage, ["s"], top_k=4)
    cheapest = min(ranked, key=lambda c: transfer_cost(nas_optuna.parse_genotype(c.genotype), cifar).params)
    limit = transfer_cost(nas_optuna.parse_genotype(cheapest.genotype), cifar).params
    assert rerank_cli(url, "--top-k", "1", "--transfer", "cifar", "--max-params", str(limit)) == 0
    out = capsys.readouterr().out
    assert f"budget <= {limit / 1e6:g}M params at 6@768" in out
    trials = optuna.load_study(study_name="s-rerank", storage=open_storage(url)).trials
    assert [t.user_attrs["genotype"] for t in trials] == [cheapest.genotype]
    assert rerank_cli(url, "--max-params", "0") == 2
    assert "--max-params must be > 0" in capsys.readouterr().err


@pytest.mark.parametrize("space", [nasnet_space(n_blocks=2), pnas_space()], ids=["nasnet-2", "pnas"])
def test_search_space_is_rebuilt_in_preset_order_whatever_order_the_storage_keeps(space):
    trial = optuna.trial.create_trial(
        params={name: dist.choices[0] for name, dist in space.items()},
        distributions=dict(reversed(space.items())),  # e.g. reduction cell first
        value=0.5,
    )
    assert list(search_space_of(trial)) == list(space)


def test_readme_rerank_command_runs_as_written_after_the_demo(tmp_path, monkeypatch, capsys):
    """README's rerank command on storage and studies as `nas-optuna demo` leaves them, trained
    small (later flags win in argparse); then `report --prefix demo` compares the search arms only."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Take the winners further", 1)[1]
    command = re.search(r"```bash\n(nas-optuna rerank .+?)\n```", section, re.S).group(1)
    argv = shlex.split(command.replace("\\\n", " "))
    storage_path = argv[argv.index("--storage") + 1]
    studies = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--study"]
    demo = _demo_plan()  # what `nas-optuna demo` with its defaults writes
    assert storage_path == str(demo.storage_path) and set(studies) <= set(demo.study_names())
    monkeypatch.chdir(tmp_path)
    (tmp_path / storage_path).parent.mkdir(parents=True)
    storage = open_storage(storage_path)
    for seed, name in enumerate(studies):
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
        study.set_user_attr("sampler", name.rsplit("-", 2)[1])
        add_search_trials(study, 3, seed=seed)
    assert main([*argv[1:], "--top-k", "2", *TINY]) == 0
    rerank = optuna.load_study(study_name=f"{studies[0]}-rerank", storage=open_storage(storage_path))
    assert len(rerank.get_trials(states=(TrialState.COMPLETE,))) == 2
    capsys.readouterr()
    prefix = studies[0].split("-")[0]
    assert main(["report", "--storage", storage_path, "--prefix", prefix, "--no-static", "--out", "r"]) == 0
    out = capsys.readouterr().out
    assert "unknown" not in out and f"{studies[0]}-rerank left out: a rerank study" in out
    assert "completed [3]" in out


def _demo_plan():
    import argparse

    from nas_optuna import cmd_demo
    from nas_optuna.demo import DemoPlan

    parser = argparse.ArgumentParser()
    cmd_demo.add_parser(parser.add_subparsers())
    args = parser.parse_args(["demo"])
    return DemoPlan(Path(args.out), args.name, tuple(args.samplers), args.seeds, 1, Path("unused.toml"))
