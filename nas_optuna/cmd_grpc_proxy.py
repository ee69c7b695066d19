"""`nas-optuna grpc-proxy`: serve one storage to many workers through Optuna's gRPC proxy.

With hundreds of workers, each holding its own database connections, the database runs out of
connections and spends its time on the same reads. The proxy holds one connection pool and
a cache of finished trials; workers connect to it with ``--storage grpc://HOST:PORT``.

    nas-optuna grpc-proxy --storage postgresql+psycopg2://USER@DBHOST/DB --port 13000

Optuna's proxy speaks plain gRPC: no TLS, no authentication (its server and client have no
credentials parameter). So it listens on 127.0.0.1 unless told otherwise, and warns when told:
whoever reaches the port can read, change and delete every study behind it.
"""

from __future__ import annotations

import ipaddress
import logging

from nas_optuna.storage_secrets import add_storage_arguments, redact, resolve_storage, scrub_logs
from nas_optuna.storage_url import open_storage

log = logging.getLogger("nas_optuna.worker")

DEFAULT_HOST = "127.0.0.1"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "grpc-proxy", help="serve a storage to many nas-worker processes over gRPC"
    )
    add_storage_arguments(parser, "the database the proxy serves (same forms as nas-worker)")
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default: %(default)s, this machine only; the proxy has no "
        "authentication or TLS, so bind others only on a private network or use an SSH tunnel)",
    )
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
    warning = exposure_warning(args.host, args.port)
    if warning:
        log.warning("%s", warning)
    log.info("serving %s on %s:%d", redact(args.storage), args.host, args.port)
    run_grpc_proxy_server(
        storage, host=args.host, port=args.port, thread_pool=ThreadPoolExecutor(args.threads)
    )
    return 0


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def exposure_warning(host: str, port: int) -> str | None:
    """One line when the proxy is reachable from other machines, None on loopback."""
    if is_loopback(host):
        return None
    return (
        f"warning: the gRPC proxy on {host}:{port} has no authentication and no TLS (Optuna's proxy "
        "supports neither): anyone who can reach this port can read, change and delete every study "
        "in the storage; allow only the workers' private network (firewall) or bind 127.0.0.1 and "
        "reach it through SSH tunnels"
    )
