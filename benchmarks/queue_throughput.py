"""Queue throughput: finished trials per second of K nas-worker processes on each storage.

The objective is the synthetic one with no sleep (the full 50-decision NASNet space, a
random sampler), so the figure is the cost of the queue itself: ask, one write of the
architecture, user attrs, tell, and the budget count. Time runs from the first trial's start
to the last trial's end (process start-up excluded). Run from the repo root:

    python benchmarks/queue_throughput.py                      # all storages, 1 2 4 8 workers
    python benchmarks/queue_throughput.py --storages journal,postgresql --workers 2

"grpc" is Optuna's gRPC storage proxy (nas-optuna grpc-proxy) in front of the PostgreSQL
server. Servers that do not answer are reported as skipped. Studies are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna
from optuna.trial import TrialState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nas_optuna.storage_url import open_storage  # noqa: E402
from tests.queue_helpers import SERVERS, server_down_reason  # noqa: E402

CONFIG = '# Run: see benchmarks/queue_throughput.py\n[objective]\nname = "synthetic"\nsleep_seconds = 0.0\n'


def url_for(kind: str, tmp: Path) -> str:
    local = {"journal": str(tmp / "bench.log"), "sqlite": f"sqlite:///{tmp}/bench.db"}
    return local.get(kind) or SERVERS[kind]


def start_grpc_proxy(backing: str) -> tuple[str, subprocess.Popen]:
    """Optuna's gRPC proxy in front of ``backing``, as at scale (workers -> proxy -> database)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "nas_optuna.cli",
        "grpc-proxy",
        "--storage",
        backing,
        "--host",
        "127.0.0.1",
    ]
    proxy = subprocess.Popen(command + ["--port", str(port)], stderr=subprocess.DEVNULL)
    for _ in range(300):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return f"grpc://127.0.0.1:{port}", proxy
        time.sleep(0.1)
    raise RuntimeError("gRPC proxy did not start")


def measure(url: str, config: Path, workers: int, n_trials: int) -> tuple[float, int]:
    name = f"bench-{uuid.uuid4().hex[:10]}"
    storage = open_storage(url)
    optuna.create_study(study_name=name, storage=storage, direction="maximize")
    command = [sys.executable, "-m", "nas_optuna.worker", "--storage", url, "--study-name", name]
    command += ["--study-config", str(config), "--sampler", "random", "--n-trials", str(n_trials)]
    procs = [
        subprocess.Popen(
            command + ["--worker-index", str(i)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for i in range(workers)
    ]
    failed = [p.stderr.read().decode()[-500:] for p in procs if p.wait() != 0]
    study = optuna.load_study(study_name=name, storage=storage)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if failed or not done:
        print(f"  worker failed: {failed[:1]}", file=sys.stderr)
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    optuna.delete_study(study_name=name, storage=storage)
    return len(done) / span, len(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storages", default="journal,sqlite,postgresql,mariadb,redis,grpc")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--trials-per-worker", type=int, default=30)
    args = parser.parse_args()
    counts = [int(k) for k in args.workers.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "noop.toml"
        config.write_text(CONFIG)
        for kind in args.storages.split(","):
            proxy = None
            url = url_for("postgresql" if kind == "grpc" else kind, Path(tmp))
            reason = server_down_reason(url) if kind in SERVERS or kind == "grpc" else None
            if reason:
                rows.append(f"| {kind} | " + " | ".join("skipped" for _ in counts) + " |")
                print(f"{kind}: skipped ({reason})")
                continue
            if kind == "grpc":
                backing = url
                url, proxy = start_grpc_proxy(backing)
            cells = []
            for k in counts:
                start = time.perf_counter()
                rate, n = measure(url, config, k, max(40, args.trials_per_worker * k))
                cells.append(f"{rate:.1f}")
                print(
                    f"{kind:10s} {k} workers: {rate:6.1f} trials/s "
                    f"({n} trials, {time.perf_counter() - start:.0f}s wall)"
                )
            rows.append(f"| {kind} | " + " | ".join(cells) + " |")
            if proxy is not None:
                proxy.terminate()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("\n| storage | " + " | ".join(f"{k} workers" for k in counts) + " |")
    print("|---|" + "---|" * len(counts))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
