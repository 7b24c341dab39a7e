"""Entry point of the frozen desktop (PyInstaller runs this file as __main__).

``flypack-desktop provision …`` runs the provisioning wizard's backend headless
(:mod:`desktop.provisioning.cli`); anything else starts the app.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["provision"]:
        from desktop.provisioning.cli import main as provision

        sys.exit(provision(sys.argv[2:]))
    from desktop.app import main

    sys.exit(main())
