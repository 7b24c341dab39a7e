"""``flypack-agent``: serve, demo, user and certificate management.

Every failure a user can cause (bad config, bad arguments, port in use) ends with a one-line
message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path

from server_agent.config import AgentConfig, ConfigError, load_config
from server_agent.contract import Role

EXIT_USAGE = 2


class CliError(Exception):
    """A failure the user can fix; printed as one line, exit 2."""


def _load(path: str) -> AgentConfig:
    return load_config(Path(path))


def cmd_serve(args: argparse.Namespace) -> int:
    from server_agent.server import serve

    cfg = _load(args.config)
    if args.port is not None:
        cfg = cfg.model_copy(update={"agent": cfg.agent.model_copy(update={"port": args.port})})
    asyncio.run(serve(cfg))
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from server_agent.auth.service import UserError
    from server_agent.runtime import open_state

    cfg = _load(args.config)
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            raise CliError("the two passwords differ; nothing was changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    db, _, auth = open_state(cfg)
    try:
        auth.add_user(args.name, Role(args.role), password)
    except UserError as exc:
        raise CliError(str(exc)) from None
    finally:
        db.close()
    print(f"user {args.name} added with role {args.role}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from server_agent.runtime import open_state

    db, _, auth = open_state(_load(args.config))
    try:
        for name, role in auth.users():
            print(f"{name}\t{role.value}")
    finally:
        db.close()
    return 0


def cmd_cert_create(args: argparse.Namespace) -> int:
    from server_agent.tls import create_self_signed

    cert, key = Path(args.cert), Path(args.key)
    if (cert.exists() or key.exists()) and not args.force:
        raise CliError(f"{cert} or {key} exists; pass --force to replace them")
    fp = create_self_signed(cert, key, args.host or ["localhost", "127.0.0.1"])
    print(f"certificate: {cert}\nkey:         {key}\nSHA-256 fingerprint: {fp}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server_agent.sim.demo import run_demo

    return run_demo(port=args.port, scale=args.scale, state_dir=args.state_dir)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flypack-agent", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the agent")
    s.add_argument("--config", required=True, help="agent TOML file")
    s.add_argument("--port", type=int, help="override [agent].port")
    s.set_defaults(func=cmd_serve)

    d = sub.add_parser("demo", help="run the agent with a simulated flypack segment")
    d.add_argument("--port", type=int, default=8080)
    d.add_argument("--scale", choices=["small", "seed"], default="small")
    d.add_argument("--state-dir", default=None, help="keep state here (default: a temp dir)")
    d.set_defaults(func=cmd_demo)

    u = sub.add_parser("user", help="manage users").add_subparsers(dest="user_cmd", required=True)
    ua = u.add_parser("add", help="add a user (password from stdin)")
    ua.add_argument("name")
    ua.add_argument("--role", choices=[r.value for r in Role], required=True)
    ua.add_argument("--config", required=True)
    ua.set_defaults(func=cmd_user_add)
    ul = u.add_parser("list", help="list users")
    ul.add_argument("--config", required=True)
    ul.set_defaults(func=cmd_user_list)

    c = sub.add_parser("cert", help="TLS certificates").add_subparsers(dest="cert_cmd",
                                                                       required=True)
    cc = c.add_parser("create", help="make a self-signed certificate; prints its fingerprint")
    cc.add_argument("--cert", required=True)
    cc.add_argument("--key", required=True)
    cc.add_argument("--host", action="append", help="DNS name or IP (repeatable)")
    cc.add_argument("--force", action="store_true")
    cc.set_defaults(func=cmd_cert_create)

    from server_agent.video.cli_commands import add_parsers as add_video_parsers

    add_video_parsers(sub)
    from server_agent.discovery.cli_commands import add_parsers as add_discovery_parsers

    add_discovery_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from server_agent.discovery.errors import DiscoveryError
    from server_agent.video.cli_commands import VideoCliError

    try:
        rc: int = args.func(args)
        return rc
    except (ConfigError, CliError, VideoCliError, DiscoveryError) as exc:
        print(f"flypack-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
