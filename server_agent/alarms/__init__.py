"""Alarms: rules with hysteresis over the live samples, persisted, acknowledged.

    AlarmError
     └── AlarmNotFound   no alarm with that id

The engine lives in :mod:`server_agent.alarms.engine` (imported on demand, so that loading
the metric catalog stays light).
"""

from server_agent.alarms.errors import AlarmError, AlarmNotFound

__all__ = ["AlarmError", "AlarmNotFound"]
