"""``flypack-agent``: serve, demo, user and certificate management, stream and device tools.

Every failure a user can cause (bad config, bad arguments, port in use, an unwritable path)
ends with a one-line message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path
from typing import NoReturn

from server_agent.config import AgentConfig, ConfigError, load_config
from server_agent.contract import Role

EXIT_USAGE = 2


class CliError(Exception):
    """A failure the user can fix; printed as one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line (what is wrong, where help is), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _load(path: str) -> AgentConfig:
    return load_config(Path(path))


def _port(text: str) -> int:
    """argparse type: a TCP port, 1..65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 1..65535") \
            from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not a port number; use 1..65535")
    return port


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
    try:
        fp = create_self_signed(cert, key, args.host or ["localhost", "127.0.0.1"])
    except OSError as exc:
        raise CliError(f"cannot write {cert} and {key} ({exc.filename or cert}: "
                       f"{exc.strerror}); choose a writable place for --cert and --key") \
            from None
    print(f"certificate: {cert}\nkey:         {key}\nSHA-256 fingerprint: {fp}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server_agent.sim.demo import run_demo

    if args.state_dir is not None:
        try:
            Path(args.state_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"--state-dir {args.state_dir}: cannot create it: "
                           f"{exc.strerror}; give a writable directory") from None
    return run_demo(port=args.port, scale=args.scale, state_dir=args.state_dir)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="flypack-agent", description=__doc__.splitlines()[0].replace("``", ""))
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the agent")
    s.add_argument("--config", required=True, help="agent TOML file")
    s.add_argument("--port", type=_port, help="override [agent].port")
    s.set_defaults(func=cmd_serve)

    d = sub.add_parser("demo", help="run the agent with a simulated flypack segment")
    d.add_argument("--port", type=_port, default=8080,
                   help="the agent's port on 127.0.0.1 (plain HTTP; default 8080)")
    d.add_argument("--scale", choices=["small", "seed"], default="small",
                   help="small: 40 devices, seed: 174 (default small)")
    d.add_argument("--state-dir", default=None, help="keep state here (default: a temp dir)")
    d.set_defaults(func=cmd_demo)

    u = sub.add_parser("user", help="manage users").add_subparsers(
        dest="user_cmd", required=True, metavar="COMMAND")
    ua = u.add_parser("add", help="add a user (password from stdin)",
                      description="Add a user. The password is asked twice on a terminal, "
                                  "else read as the first line of stdin.")
    ua.add_argument("name", help="user name")
    ua.add_argument("--role", choices=[r.value for r in Role], required=True,
                    help="viewer reads everything; operator also acknowledges alarms and "
                    "changes streams; admin may do everything (docs/operations.md)")
    ua.add_argument("--config", required=True, help="agent TOML file")
    ua.set_defaults(func=cmd_user_add)
    ul = u.add_parser("list", help="list users")
    ul.add_argument("--config", required=True, help="agent TOML file")
    ul.set_defaults(func=cmd_user_list)

    c = sub.add_parser("cert", help="TLS certificates").add_subparsers(
        dest="cert_cmd", required=True, metavar="COMMAND")
    cc = c.add_parser("create", help="make a self-signed certificate; prints its fingerprint")
    cc.add_argument("--cert", required=True, help="certificate file to write (PEM)")
    cc.add_argument("--key", required=True, help="private key file to write (PEM, mode 0600)")
    cc.add_argument("--host", action="append",
                    help="DNS name or IP (repeatable; default localhost and 127.0.0.1)")
    cc.add_argument("--force", action="store_true", help="replace existing files")
    cc.set_defaults(func=cmd_cert_create)

    from server_agent.video.cli_commands import add_parsers as add_video_parsers

    add_video_parsers(sub)
    from server_agent.discovery.cli_commands import add_parsers as add_discovery_parsers

    add_discovery_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
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
    except OSError as exc:  # a path the user gave (state dir, file) that cannot be used
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"flypack-agent: {where}{exc.strerror or exc}; check the path and its "
              "permissions", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
