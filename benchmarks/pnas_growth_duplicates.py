"""How often two workers propose one cell twice under PNAS's progressive growth.

Two processes share one journal-file study (the sampler's own journal test: a 3-block toy cell,
K = 4, 30 trials each of 0-10 ms); counts trials whose cell an earlier trial already holds.

    python benchmarks/pnas_growth_duplicates.py --runs 10
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import uuid

import numpy as np
import optuna
from nas_optuna.samplers.pnas.tests import test_distributed as journal_test


def duplicates_in_one_run() -> int:
    path = f"{tempfile.mkdtemp()}/journal.log"
    name = f"grow-{uuid.uuid4().hex}"
    optuna.create_study(study_name=name, storage=journal_test._storage(path), direction="maximize")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=journal_test._growing_worker, args=(path, name, i)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    trials = optuna.load_study(study_name=name, storage=journal_test._storage(path)).trials
    cells = [tuple(sorted(t.params.items())) for t in trials]
    return len(cells) - len(set(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    counts = [duplicates_in_one_run() for _ in range(args.runs)]
    print(
        f"cells proposed twice per run of 60 trials: {counts}; mean {np.mean(counts):.1f}, max {max(counts)}"
    )


if __name__ == "__main__":
    main()
