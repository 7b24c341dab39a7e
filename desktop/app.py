"""``flypack-desktop``: the laptop app (qasync bootstrap in :mod:`desktop.ui.runner`).

    flypack-desktop                       # the fleet: every known flypack, add more
    flypack-desktop --url https://flypack-01:8443 --user operator   # one agent only
    flypack-desktop provision --host … --settings …                  # the wizard, headless

The password is typed into the login view; for scripted demos only, ``FLYPACK_PASSWORD`` in the
environment logs in at once. Exit status: 0 after a normal close, 2 on bad arguments
(``provision``: see :mod:`desktop.provisioning.cli`). The venv's entry point and the frozen
bundle (packaging/flypack_desktop_main.py) take the same commands.

Logging: INFO by default, without a line per HTTP request (httpx/httpcore log at WARNING);
``-v``/``--verbose`` or ``--log-level DEBUG`` shows everything, requests included.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

# libraries that log one INFO line per request: quiet unless the user asks for detail
CHATTY_LOGGERS = ("httpx", "httpcore")


def build_parser() -> argparse.ArgumentParser:
    from desktop.provisioning.cli import (  # argparse only: --help stays fast
        DESCRIPTION,
        EPILOG,
        Parser,
        add_arguments,
    )

    p = Parser(prog="flypack-desktop",
               description="Monitor a flypack agent from a laptop or tablet.")
    p.add_argument("--url", default=os.environ.get("FLYPACK_URL", ""),
                   help="agent URL, e.g. https://flypack-01:8443 (env FLYPACK_URL)")
    p.add_argument("--user", default=os.environ.get("FLYPACK_USER", ""),
                   help="user name to prefill (env FLYPACK_USER)")
    p.add_argument("--config-dir", default=os.environ.get("FLYPACK_CONFIG_DIR", ""),
                   help="where the fleet list lives (default ~/.config/flypack; env "
                        "FLYPACK_CONFIG_DIR)")
    p.add_argument("--smoke", action="store_true",
                   help="start, paint the main window once and exit (packaging check)")
    p.add_argument("--log-level", default="INFO",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   help="log level (default INFO; HTTP requests are logged only with DEBUG)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="debug logging, every HTTP request included")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands",
                           description="optional; without a command the app starts")
    prov = sub.add_parser("provision", help="provision a flypack server over SSH (headless)",
                          description=DESCRIPTION, epilog=EPILOG)
    add_arguments(prov)
    return p


def setup_logging(level: str, verbose: bool) -> None:
    root_level = logging.DEBUG if verbose else getattr(logging, level)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(root_level)  # also when a handler was there before
    quiet = not verbose and root_level > logging.DEBUG
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "provision":
        from desktop.provisioning.cli import run_command

        if args.verbose:  # else as in the bundle: its own lines on stdout, warnings only
            setup_logging(args.log_level, args.verbose)
        return run_command(args)
    setup_logging(args.log_level, args.verbose)
    from pathlib import Path

    from desktop.ui.runner import run_desktop, run_fleet  # Qt loads only now (fast --help)

    if not args.url:
        return run_fleet(Path(args.config_dir) if args.config_dir else None, args.smoke)
    return run_desktop(args.url, args.user, os.environ.get("FLYPACK_PASSWORD") or None)


if __name__ == "__main__":
    sys.exit(main())
