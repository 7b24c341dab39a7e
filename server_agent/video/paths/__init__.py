"""Stream paths and the first failing hop (pure, HTTP-free).

A stream's path lists its hops in signal order (``contract.PathHop``): devices (encoder,
switch, router, decoder), links (the transport of one leg) and analysis points (where the
agent analyses the stream). :class:`PathTracker` judges each hop from its own evidence and
finds the first failing one; :mod:`.correlate` turns that into alarms (one alarm naming the
cause instead of a symptom per downstream hop); :func:`validate_path` checks a definition.
"""

from __future__ import annotations

from server_agent.video.paths.correlate import PATH_RULE, AlarmWish, held_devices, stream_alarms
from server_agent.video.paths.errors import PathError
from server_agent.video.paths.evaluate import DeviceLookup, PathResult, PathTracker
from server_agent.video.paths.hops import LegDeltas, StreamFigures, Verdict
from server_agent.video.paths.validate import validate_path

__all__ = ["PATH_RULE", "AlarmWish", "DeviceLookup", "LegDeltas", "PathError", "PathResult",
           "PathTracker", "StreamFigures", "Verdict", "held_devices", "stream_alarms",
           "validate_path"]
