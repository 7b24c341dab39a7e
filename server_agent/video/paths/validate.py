"""Checks of a stream's path definition, shared by the config file, the API and the simulator.

Structure (unique hop names, a device on device hops, legs the stream has) is checked
everywhere; that device hops name a known device only where the device registry is at hand
(API create/patch): the config file is read before simulated and discovered devices exist,
so there an unknown device shows as an ``unknown`` hop saying so instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from server_agent.contract import PathHop
from server_agent.video.paths.errors import PathError

MAX_NAMES_LISTED = 8


def validate_path(path: Sequence[PathHop], legs: int,
                  known: Callable[[str], bool] | None = None,
                  names: Callable[[], list[str]] | None = None) -> None:
    """Raise :class:`PathError` for the first problem; ``known(ref)`` says whether a device
    id or name exists, ``names()`` lists some for the hint."""
    seen: set[str] = set()
    for i, hop in enumerate(path):
        where = f"path[{i}] ({hop.name!r})"
        if hop.name in seen:
            raise PathError(f"{where}: the hop name is used twice; give every hop its own name")
        seen.add(hop.name)
        if hop.kind == "device" and not hop.device:
            raise PathError(f"{where}: a device hop needs 'device' (an inventory device id "
                            "or name)")
        if hop.leg is not None and hop.leg > legs:
            raise PathError(f"{where}: leg {hop.leg} does not exist; the stream has "
                            f"{legs} leg{'s' if legs != 1 else ''}")
        if hop.device and known is not None and not known(hop.device):
            listed = sorted(names())[:MAX_NAMES_LISTED] if names is not None else []
            hint = f" (known devices include {', '.join(listed)})" if listed else ""
            raise PathError(f"{where}: device {hop.device!r} is not in the inventory; use the "
                            f"id or name of a device from /api/v1/devices{hint}")
