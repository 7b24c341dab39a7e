"""Metrics of the alarm engine."""

from __future__ import annotations

from server_agent.metrics.catalog import declare

ALARMS_ACTIVE = declare("flypack_alarms_active", "gauge",
                        "Alarms raised and not cleared now, by severity.",
                        ("flypack", "severity"))
