"""Per-stream TR 101 290 threshold overrides -> :class:`Tr101290Settings`."""

from __future__ import annotations

import dataclasses

from server_agent.video.ts.checks import Tr101290Settings

_FIELDS = {f.name: f.type for f in dataclasses.fields(Tr101290Settings)}


def check_thresholds(v: dict[str, float]) -> dict[str, float]:
    for k, val in v.items():
        if k not in _FIELDS:
            raise ValueError(f"unknown TR 101 290 setting {k!r}; use one of "
                             f"{', '.join(sorted(_FIELDS))}")
        if not val > 0:
            raise ValueError(f"{k} must be > 0")
    return v


def settings_of(v: dict[str, float]) -> Tr101290Settings:
    ints = {"sync_acquire", "sync_lose", "ses_errors"}
    base = Tr101290Settings()
    return dataclasses.replace(
        base, **{k: (int(x) if k in ints else float(x)) for k, x in v.items()})  # type: ignore[arg-type]
