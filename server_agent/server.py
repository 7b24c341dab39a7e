"""Run the ASGI app under uvicorn: TLS 1.3 only when a certificate is configured."""

from __future__ import annotations

import errno
import socket

import uvicorn

from server_agent.app import create_app
from server_agent.config import AgentConfig
from server_agent.runtime import Services, build_services
from server_agent.tls import server_context


class ServeError(Exception):
    pass


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is in use; stop the other process or "
                             "pick another port with --port") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


async def serve(config: AgentConfig, services: Services | None = None) -> None:
    from server_agent.cli import CliError

    a = config.agent
    try:
        sock = _bind(a.listen, a.port)
    except ServeError as exc:
        raise CliError(str(exc)) from None
    svc = services or build_services(config)
    app = create_app(svc)
    ucfg = uvicorn.Config(app, log_level="warning", access_log=False, ws_ping_interval=20,
                          # per-client zlib costs more CPU than 10 Hz to many clients allows
                          ws_per_message_deflate=False,
                          ws_ping_timeout=20)
    if a.tls_cert and a.tls_key:
        ucfg.load()
        ucfg.ssl = server_context(a.tls_cert, a.tls_key)
    server = uvicorn.Server(ucfg)
    scheme = "https" if a.tls else "http"
    print(f"flypack agent {a.flypack} listening on {scheme}://{a.listen}:{a.port}", flush=True)
    await server.serve(sockets=[sock])
