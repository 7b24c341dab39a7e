"""``snmpsim-command-responder`` with per-endpoint data files and fault injection.

Run as ``python -m server_agent.sim.snmpsim_compat --faults FILE <snmpsim arguments>``.

Why not the plain ``snmpsim-command-responder`` script: snmpsim 1.2.2 chooses a data file per
transport endpoint in ``handleMgmtOperation`` (data layout ``<community>/<transport-id>.snmprec``,
transport ids ``1.3.6.1.6.1.1.N`` in the order of ``--agent-udpv4-endpoint``), but pysnmp 7
calls ``handle_management_operation`` with one argument fewer, so that selection never runs and
every endpoint answers from ``public.snmprec``. Running one SNMP engine per endpoint
(``--v3-engine-id`` blocks) works with the stock script, but costs ~1.4 MB and 0.2 s of CPU per
endpoint (236 MB and 33 s for the seed's 174 devices). This module restores snmpsim's own
selection (:func:`snmpsim.datafile.probe_context`) under pysnmp 7's method name and then runs
snmpsim's unmodified ``main()``.

Faults: ``FILE`` is JSON ``{"<transport-id>": {"down": bool, "loss": 0..1}}``, rewritten by the
agent; it is re-read when its mtime changes (checked at most every 0.2 s). A request to a down
endpoint, or one lost by chance, gets no answer at all.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from hashlib import md5
from typing import Any

_FAULTS: dict[str, dict[str, Any]] = {}
_STATE = {"path": "", "mtime": 0, "checked": 0.0}


def _faults() -> dict[str, dict[str, Any]]:
    now = time.monotonic()
    if now - _STATE["checked"] >= 0.2 and _STATE["path"]:  # type: ignore[operator]
        _STATE["checked"] = now
        try:
            mtime = os.stat(str(_STATE["path"])).st_mtime_ns
            if mtime != _STATE["mtime"]:
                with open(str(_STATE["path"]), encoding="utf-8") as fh:
                    data = json.load(fh)
                _FAULTS.clear()
                _FAULTS.update(data)
                _STATE["mtime"] = mtime
        except (OSError, ValueError):
            pass
    return _FAULTS


def _dropped(domain: str) -> bool:
    f = _faults().get(domain)
    if not f:
        return False
    return bool(f.get("down")) or random.random() < float(f.get("loss", 0.0))


def _select(snmp_context: Any, context_name: bytes, domain: Any, address: Any) -> bytes:
    """snmpsim's data-file choice: ``<community>/<transport-id>[/<source>]`` then ``<community>``.

    For v1/v2c, pysnmp's context name is md5(community) (snmpsim's snmpCommunityTable entries);
    map it back to the community of a top-level data file (``public.snmprec``).
    """
    from snmpsim import datafile

    names: dict[bytes, Any] = snmp_context.context_names
    community = next((k for k in names if b"/" not in k
                      and md5(k).hexdigest().encode() == context_name), context_name)
    for cand in datafile.probe_context(domain, address, None, community.decode()):
        key = md5(cand).hexdigest().encode() if len(cand) > 32 else cand
        if key in names:
            return key
    return context_name


def _patch() -> None:
    from snmpsim.commands import responder

    for cls in (responder.GetCommandResponder, responder.SetCommandResponder,
                responder.NextCommandResponder, responder.BulkCommandResponder):
        base = cls.__mro__[1]

        def handle(self: Any, engine: Any, state_ref: Any, context_name: Any, pdu: Any,
                   _base: Any = base) -> None:
            ctx = engine.observer.get_execution_context("rfc3412.receiveMessage:request")
            domain, address = ctx["transportDomain"], ctx["transportAddress"]
            if _dropped(".".join(str(x) for x in domain)):
                self.release_state_information(state_ref)
                return
            chosen = _select(self.snmpContext, bytes(context_name), domain, address)
            _base.handle_management_operation(self, engine, state_ref, chosen, pdu)

        cls.handle_management_operation = handle


def _watch_parent(parent: int) -> None:
    """Exit when the agent that started us is gone (it stops us by PID; this covers a crash)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "--faults":
        _STATE["path"] = argv[1]
        argv = argv[2:]
    _watch_parent(os.getppid())
    _patch()
    from snmpsim.commands import responder

    sys.argv = ["snmpsim-command-responder", *argv]
    rc: int = responder.main()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
