"""Metrics of the agent itself."""

from __future__ import annotations

from server_agent.metrics.catalog import declare

AGENT_INFO = declare("flypack_agent_info", "gauge", "Agent version (value 1).",
                     ("flypack", "version"), unit="info")
LIVE_SUBSCRIBERS = declare("flypack_live_subscribers", "gauge",
                           "Live WebSocket clients connected now.")
LIVE_SAMPLES = declare("flypack_live_samples_published_total", "counter",
                       "Samples published on the live bus since start.")
