"""The one module of this package that uses Optuna's private storage API.

Optuna has no public way to write system attrs from a sampler, nor to fetch one trial by its
number without loading them all; both are needed to keep one ask's cost flat as studies grow.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from typing import Any
import zlib

import optuna
from optuna.artifacts import upload_artifact
from optuna.trial import FrozenTrial


PREFIX = "ppo_lstm:"
RECORD_KEY = PREFIX + "rollout"  # trial system attr: what the rollout sampled, and updates made
POINTER_KEY = PREFIX + "checkpoint"  # study system attr: where the newest checkpoint lies
SPACE_KEY = PREFIX + "space"  # study system attr: the first decisions, when inferred
# MySQL's TEXT column holds 64 KiB; keep each stored string below it.
CHUNK_CHARS = 60_000


def get_trial_by_number(study: optuna.Study, number: int) -> FrozenTrial:
    storage = study._storage
    return storage.get_trial(
        storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    )


def fixed_params(trial: FrozenTrial) -> dict[str, Any]:
    """Params set before sampling (enqueue_trial), which Optuna keeps in a system attr."""
    return trial.system_attrs.get("fixed_params") or {}


def write_trial_record(study: optuna.Study, trial: FrozenTrial, record: dict[str, Any]) -> None:
    study._storage.set_trial_system_attr(trial._trial_id, RECORD_KEY, record)


def read_study_attr(study: optuna.Study, key: str) -> Any:
    return study._storage.get_study_system_attrs(study._study_id).get(key)


def write_study_attr(study: optuna.Study, key: str, value: Any) -> None:
    study._storage.set_study_system_attr(study._study_id, key, value)


def write_checkpoint(
    study: optuna.Study, version: int, data: bytes, slot: int, artifact_store: Any = None
) -> None:
    """Payload first, pointer last: a reader never follows a pointer to unwritten data.

    Without an artifact store the payload goes into study system attrs, chunked. Two slots
    alternate, so a reader that follows the pointer while the next checkpoint is being written
    still finds whole chunks (the sha256 catches the rare overwrite).
    """
    pointer: dict[str, Any] = {"version": version, "sha256": _digest(data)}
    if artifact_store is not None:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, f"ppo_lstm_checkpoint_{version}.pt")
            with open(path, "wb") as file:
                file.write(data)
            pointer["artifact_id"] = upload_artifact(
                artifact_store=artifact_store, file_path=path, study_or_trial=study
            )
    else:
        text = base64.b64encode(zlib.compress(data, 6)).decode("ascii")
        chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
        for index, chunk in enumerate(chunks):
            write_study_attr(study, f"{POINTER_KEY}:{slot}:{index}", chunk)
        pointer.update(slot=slot, n_chunks=len(chunks))
    write_study_attr(study, POINTER_KEY, pointer)


def read_checkpoint_version(study: optuna.Study) -> int | None:
    pointer = read_study_attr(study, POINTER_KEY)
    return None if pointer is None else int(pointer["version"])


def read_checkpoint(study: optuna.Study, artifact_store: Any = None) -> tuple[int, bytes] | None:
    """The newest checkpoint (version, bytes), or None if there is none or it is being overwritten."""
    attrs = study._storage.get_study_system_attrs(study._study_id)
    pointer = attrs.get(POINTER_KEY)
    if pointer is None:
        return None
    if "artifact_id" in pointer:
        if artifact_store is None:
            raise ValueError(
                "this study keeps PPO checkpoints in an artifact store: pass artifact_store="
            )
        with artifact_store.open_reader(pointer["artifact_id"]) as reader:
            data = reader.read()
    else:
        try:
            text = "".join(
                attrs[f"{POINTER_KEY}:{pointer['slot']}:{i}"] for i in range(pointer["n_chunks"])
            )
            data = zlib.decompress(base64.b64decode(text))
        except (KeyError, ValueError, zlib.error):
            return None
    if _digest(data) != pointer["sha256"]:
        return None
    return int(pointer["version"]), data


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
