"""``flypack-desktop``: the laptop app (qasync bootstrap in :mod:`desktop.ui.runner`).

    flypack-desktop                       # the fleet: every known flypack, add more
    flypack-desktop --url https://flypack-01:8443 --user operator   # one agent only

The password is typed into the login view; for scripted demos only, ``FLYPACK_PASSWORD`` in the
environment logs in at once. Exit status: 0 after a normal close, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flypack-desktop",
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
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from pathlib import Path

    from desktop.ui.runner import run_desktop, run_fleet  # Qt loads only now (fast --help)

    if not args.url:
        return run_fleet(Path(args.config_dir) if args.config_dir else None, args.smoke)
    return run_desktop(args.url, args.user, os.environ.get("FLYPACK_PASSWORD") or None)


if __name__ == "__main__":
    sys.exit(main())
