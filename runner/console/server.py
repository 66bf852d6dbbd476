"""Serving the console with uvicorn on a socket bound here first, so that port 0 picks a free
port and a busy port is one clear line."""

from __future__ import annotations

import ipaddress
import socket

import uvicorn

from runner.console.app import create_app
from runner.console.base import Console
from runner.project import Project, ProjectError

LOOPBACK_NAMES = ["localhost"]


class ServeError(ProjectError):
    """The console cannot listen where it was asked to."""


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str]:
    """The names a request's Host header may give: the bound address (and `localhost` for a
    loopback address). Bound to every address, this machine's own names and addresses."""
    if is_loopback(host):
        return sorted({host, *LOOPBACK_NAMES})
    if host in ("0.0.0.0", "::"):
        names = {socket.gethostname(), socket.getfqdn(), "127.0.0.1", *LOOPBACK_NAMES}
        try:
            names.update(socket.gethostbyname_ex(socket.gethostname())[2])
        except OSError:
            pass
        return sorted(names)
    return [host]


def bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except (OSError, UnicodeError) as error:
        raise ServeError(f"cannot serve on {host}:{port}: {getattr(error, 'strerror', None) or error}") from None
    return sock


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(project: Project, sock: socket.socket) -> None:
    """Serve until Ctrl-C or SIGTERM; then stop a backfill still running (as Ctrl-C would)."""
    host = sock.getsockname()[0]
    console = Console(project, allowed_hosts(host))
    config = uvicorn.Config(create_app(console), log_level="warning", access_log=False, lifespan="on")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down cleanly, then raises the signal it caught again
        pass
