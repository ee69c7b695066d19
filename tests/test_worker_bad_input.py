"""Bad input to nas-worker: one error line, exit code 2, and the study left as it was."""

from __future__ import annotations

import zipfile

import numpy as np
import optuna
import pytest
from PIL import Image

from nas_optuna.storage_url import open_storage
from nas_optuna.worker import main
from tests.queue_helpers import require_server, unique_name

SYNTHETIC = '[space]\nn_blocks = 1\n\n[objective]\nname = "synthetic"\n'
CIFAR_TINY = '[space]\nn_blocks = 1\n\n[objective]\nname = "cifar"\nepochs = 1\ntrain_images = 16\n'


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NAS_OPTUNA_CACHE_DIR", str(tmp_path / "cache"))


def run_worker(tmp_path, config_text: str, *extra: str, storage: str | None = None) -> int:
    config = tmp_path / "study.toml"
    config.write_text(config_text)
    storage = storage or str(tmp_path / "study.log")
    argv = ["--storage", storage, "--study-name", "s", "--study-config", str(config), "--sampler", "random"]
    return main([*argv, *extra])


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("nas-worker: error: "), err
    return err


def assert_untouched(tmp_path) -> None:
    """The fresh study was never created: nothing was written to the storage."""
    log = tmp_path / "study.log"
    assert not log.exists() or log.stat().st_size == 0


def write_damaged_zip(path) -> None:
    """An ImageFolder zip whose last member's bytes no longer match its CRC."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for cls in ("cat", "dog"):
            for i in range(4):
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                image = path.parent / "tmp.bmp"  # uncompressed: a flipped byte changes no length
                Image.fromarray(pixels).save(image)
                archive.write(image, f"train/{cls}/{i}.bmp")
    data = bytearray(path.read_bytes())
    last = zipfile.ZipFile(path).infolist()[-1]
    data[last.header_offset + 30 + len(last.filename) + 100] ^= 0xFF  # inside its pixel data
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "config_text, message",
    [
        (CIFAR_TINY.replace("epochs = 1", 'epochs = "ten"'), "epochs = 'ten' is not valid; expected an int"),
        (SYNTHETIC + 'sleep_seconds = "ten"\n', "sleep_seconds = 'ten' is not valid; expected a number"),
        (SYNTHETIC.replace("n_blocks = 1", 'n_blocks = "five"'), "n_blocks = 'five' must be an integer"),
        (SYNTHETIC + "noise = -1\n", "noise = -1 is not valid; expected a number >= 0"),
        (CIFAR_TINY + "epoch = 3\n", "unknown cifar objective settings ['epoch']"),
        (CIFAR_TINY + "momentum = 1.5\n", "momentum = 1.5 is not valid; expected a number in [0, 1)"),
        (CIFAR_TINY + 'dataset = "no/such/folder"\n', "does not exist"),
        (SYNTHETIC + "\n[budget]\nn_trials = -1\n", "n_trials must be a positive number"),
        (SYNTHETIC + '\n[sampler.random]\nseeds = "x"\n', "[sampler.random] unknown setting 'seeds'"),
    ],
)
def test_bad_study_config_is_one_line_and_writes_nothing(tmp_path, capsys, config_text, message):
    assert run_worker(tmp_path, config_text, "--create-study", "--n-trials", "3") == 2
    assert message in one_error_line(capsys)
    assert_untouched(tmp_path)


@pytest.mark.parametrize(
    "sampler, table, message",
    [
        ("tpe", 'n_startup_trials = "ten"', "[sampler.tpe] n_startup_trials = 'ten': expected an integer"),
        # PPO's settings default to its preset (None), so the sampler itself names the type.
        ("ppo", 'learning_rate = "fast"', "learning_rate must be > 0 or 'per-decision', got 'fast'"),
        ("ppo", "batch_size = 0", "[sampler.ppo] settings rejected by PPOLSTMSampler"),
        (
            "ppo",
            "clip_range = true",
            "[sampler.ppo] settings rejected by PPOLSTMSampler: clip_range must be a number",
        ),
    ],
)
def test_bad_sampler_settings_are_found_by_building_the_sampler(tmp_path, capsys, sampler, table, message):
    text = SYNTHETIC + f"\n[sampler.{sampler}]\n{table}\n"
    assert run_worker(tmp_path, text, "--create-study", "--n-trials", "3", "--sampler", sampler) == 2
    assert message in one_error_line(capsys)
    assert_untouched(tmp_path)


def test_damaged_zip_member_is_one_line_before_the_study_is_touched(tmp_path, capsys):
    archive = tmp_path / "images.zip"
    write_damaged_zip(archive)
    log = str(tmp_path / "study.log")
    study = optuna.create_study(study_name="s", storage=open_storage(log), direction="maximize")
    text = CIFAR_TINY + f'dataset = "{archive}"\nval_size = 2\n'
    assert run_worker(tmp_path, text, "--n-trials", "3") == 2
    err = one_error_line(capsys)
    assert "member 'train/dog/3.bmp' is damaged" in err and "re-create the zip" in err
    study = optuna.load_study(study_name="s", storage=open_storage(log))
    assert study.user_attrs == {} and study.trials == []  # a corrected worker can still start it


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--n-trials", "0"), "--n-trials 0: must be >= 1"),
        (("--n-trials", "-5"), "--n-trials -5: must be >= 1"),
        (("--max-failures", "0"), "--max-failures 0: must be >= 1"),
        (("--max-retries", "-1"), "--max-retries -1: must be >= 0"),
        (("--storage-retry-seconds", "-1"), "--storage-retry-seconds -1.0: must be >= 0"),
    ],
)
def test_meaningless_numbers_are_refused(tmp_path, capsys, flags, message):
    assert run_worker(tmp_path, SYNTHETIC, "--create-study", *flags) == 2
    assert message in one_error_line(capsys)
    assert_untouched(tmp_path)


@pytest.mark.parametrize("form", ["{}", "journal:{}", "journal-nofsync:{}"])
def test_an_existing_file_that_is_not_a_journal_is_never_appended_to(tmp_path, capsys, form):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    storage = form.format(notes)
    assert run_worker(tmp_path, SYNTHETIC, "--create-study", "--n-trials", "2", storage=storage) == 2
    assert "is an existing file that is not an Optuna journal" in one_error_line(capsys)
    assert notes.read_text() == "my notes\n"


def test_an_existing_journal_is_accepted(tmp_path):
    log = tmp_path / "study.log"
    optuna.create_study(study_name="s", storage=open_storage(str(log)), direction="maximize")
    assert run_worker(tmp_path, SYNTHETIC, "--n-trials", "2", storage=str(log)) == 0


def test_redis_url_with_a_database_name_is_refused(tmp_path, capsys):
    storage = "redis://127.0.0.1:6379/notadb"
    assert run_worker(tmp_path, SYNTHETIC, "--create-study", "--n-trials", "2", storage=storage) == 2
    assert "database 'notadb' is not a number" in one_error_line(capsys)


@pytest.mark.services
@pytest.mark.parametrize(
    "server, storage, message",
    [
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql+psycopg2://postgres@127.0.0.1:5432/{}",
            'database "{}" does not exist',
        ),
        (
            "mysql+pymysql://root@127.0.0.1:3306/test",
            "mysql+pymysql://root@127.0.0.1:3306/{}",
            "Unknown database '{}'",
        ),
    ],
    ids=["postgresql", "mariadb"],
)
def test_a_missing_database_is_bad_input_not_an_outage(tmp_path, capsys, server, storage, message):
    require_server(server)
    missing = unique_name("nodb").replace("-", "_")
    url = storage.format(missing)
    assert run_worker(tmp_path, SYNTHETIC, "--create-study", "--n-trials", "2", storage=url) == 2
    err = one_error_line(capsys)
    assert message.format(missing) in err and "create the database or fix the URL" in err


def test_processes_with_create_study_check_everything_before_the_parent_creates_it(tmp_path, capsys):
    text = SYNTHETIC + 'sleep_seconds = "ten"\n'
    assert run_worker(tmp_path, text, "--create-study", "--n-trials", "3", "--processes", "2") == 2
    assert "sleep_seconds = 'ten' is not valid" in one_error_line(capsys)
    assert_untouched(tmp_path)
