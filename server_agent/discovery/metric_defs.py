"""Metrics of device discovery (labels: flypack, role)."""

from __future__ import annotations

from server_agent.metrics.catalog import declare

DEVICES = declare("flypack_discovery_devices", "gauge",
                  "Discovered devices present in the last sweep, by effective role.",
                  ("flypack", "role"))
HOSTS_FOUND = declare("flypack_discovery_hosts_found", "gauge",
                      "Live hosts the last discovery run found.")
RUN_DURATION = declare("flypack_discovery_run_duration_seconds", "gauge",
                       "Wall time of the last discovery run (sweep + identification).",
                       unit="seconds")
RUNS = declare("flypack_discovery_runs_total", "counter",
               "Discovery runs finished since start, whatever their outcome.")
EVENTS = declare("flypack_discovery_events_total", "counter",
                 "Inventory events (new, gone, back, changed) since start.")
