"""`nas-optuna grpc-proxy`: serve one storage to many workers through Optuna's gRPC proxy.

With hundreds of workers, each holding its own database connections, the database runs out of
connections and spends its time on the same reads. The proxy holds one connection pool and
a cache of finished trials; workers connect to it with ``--storage grpc://HOST:PORT``.

    nas-optuna grpc-proxy --storage postgresql+psycopg2://USER@DBHOST/DB --port 13000
"""

from __future__ import annotations

import logging

from nas_optuna.storage_secrets import add_storage_arguments, redact, resolve_storage, scrub_logs
from nas_optuna.storage_url import open_storage

log = logging.getLogger("nas_optuna.worker")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "grpc-proxy", help="serve a storage to many nas-worker processes over gRPC"
    )
    add_storage_arguments(parser, "the database the proxy serves (same forms as nas-worker)")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    parser.add_argument("--port", type=int, default=13000)
    parser.add_argument("--threads", type=int, default=32, help="threads answering requests")
    parser.set_defaults(func=run)


def run(args) -> int:
    resolve_storage(args)
    if args.storage.startswith("grpc://"):
        raise ValueError("--storage: give the database itself, not another grpc:// proxy")
    try:
        from concurrent.futures import ThreadPoolExecutor

        from optuna.storages import run_grpc_proxy_server
    except ImportError as err:
        raise ValueError(f"the gRPC proxy needs grpcio: pip install 'nas-optuna[grpc]' ({err})") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    scrub_logs(args.storage)
    storage = open_storage(args.storage, pool_size=args.threads)
    log.info("serving %s on %s:%d", redact(args.storage), args.host, args.port)
    run_grpc_proxy_server(
        storage, host=args.host, port=args.port, thread_pool=ThreadPoolExecutor(args.threads)
    )
    return 0
