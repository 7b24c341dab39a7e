"""Metrics of the jobs capability (playbooks through the agent)."""

from __future__ import annotations

from server_agent.metrics.catalog import declare

JOBS_QUEUED = declare("flypack_jobs_queued", "gauge", "Jobs waiting in the queue now.")
JOBS_RUNNING = declare("flypack_jobs_running", "gauge", "Jobs running now.")
JOBS_FINISHED = declare("flypack_jobs_finished_total", "counter",
                        "Jobs that ended, by final status (from the job store).",
                        ("flypack", "status"))
