"""Alarm correlation along stream paths: downstream hops report "caused upstream" instead of
raising alarms of their own.

* :func:`stream_alarms` — the alarms a stream should have now. When its first failing hop
  lies upstream of the analysis point, the stream's own symptom alarms (no_signal, TS errors,
  ...) give way to one ``stream_path`` alarm that names the first failing hop and lists the
  symptoms it explains; otherwise the stream's alarms are its own rules, as before.
* :func:`held_devices` — devices whose probe alarms the alarm engine holds back because
  they are ``caused_upstream`` in some stream's path (and the first failing hop of none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server_agent.contract import Severity
from server_agent.video.paths.evaluate import PathResult

PATH_RULE = "stream_path"
_RANK = {Severity.critical: 3, Severity.major: 2, Severity.minor: 1, Severity.warning: 0}


@dataclass(frozen=True, slots=True)
class AlarmWish:
    rule: str
    severity: Severity
    message: str
    device: str | None = None


def stream_alarms(stream_id: str, title: str, result: PathResult | None,
                  active: Mapping[str, str],
                  severities: Mapping[str, Severity]) -> dict[str, AlarmWish]:
    """Alarm key -> what to raise, for one stream (the service raises and clears the
    difference with what is raised already)."""
    own = {f"stream/{stream_id}/{rule}": AlarmWish(
        f"stream_{rule}", severities.get(rule, Severity.minor), f"{title}: {msg}")
        for rule, msg in active.items()}
    if result is None or not result.upstream_of_analysis:
        return own
    assert result.first_index is not None
    first = result.hops[result.first_index]
    symptoms = [h.name for h in result.caused_upstream() if h.kind != "analysis"]
    symptoms += sorted(active)
    if not symptoms:
        return {}  # the hop's own (device) alarms say it all; the stream is fine
    sev = max((severities.get(r, Severity.minor) for r in active), key=_RANK.__getitem__,
              default=Severity.major)
    if any(h.kind != "analysis" for h in result.caused_upstream()):
        sev = max(sev, Severity.major, key=_RANK.__getitem__)
    why = first.reasons[0] if first.reasons else "failing"
    msg = (f"{title}: first failing hop {first.name} ({why}); caused upstream: "
           f"{', '.join(symptoms)}")
    device = result.device_ids.get(first.name)
    return {f"stream/{stream_id}/path/{first.name}": AlarmWish(PATH_RULE, sev, msg, device)}


def held_devices(results: Mapping[str, PathResult]) -> dict[str, str]:
    """Device id -> why its alarms are held (stream id -> its latest path result)."""
    roots = {r.device_ids[r.first_failing] for r in results.values()
             if r.first_failing in r.device_ids}
    out: dict[str, str] = {}
    for sid, r in results.items():
        for h in r.caused_upstream():
            dev = r.device_ids.get(h.name)
            if dev is not None and dev not in roots:
                out.setdefault(dev, f"caused upstream by {r.first_failing} "
                                    f"(stream {sid})")
    return out
