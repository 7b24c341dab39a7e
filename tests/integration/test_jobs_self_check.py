"""The agent-self-check playbook (docs/jobs.md) run by a real agent: ansible asks the agent's
own health API, measures free disk and checks the output folder, and reports what it found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.jobs_support import job_events, run_job
from tests.support import AgentProc, agent_process

pytestmark = pytest.mark.slow


def _job(agent: AgentProc, body: dict[str, Any]) -> dict[str, Any]:
    job = run_job(agent, body, timeout=180)
    job["_events"] = job_events(agent, job["id"])
    return job


def _texts(job: dict[str, Any]) -> str:
    return "\n".join(str(e.get("stdout") or "") for e in job["_events"])


def test_self_check_reports_the_agents_health_and_space(tmp_path: Path) -> None:
    with agent_process(tmp_path) as agent:
        job = _job(agent, {"playbook": "agent-self-check"})
        assert job["status"] == "successful", (job.get("reason"), _texts(job)[-3000:])
        out = _texts(job)
        assert "agent flypack-test" in out and "MB free" in out, out[-3000:]
        # a demand it cannot meet fails the job, and the reason carries the playbook's words
        job = _job(agent, {"playbook": "agent-self-check", "vars": {"min_free_mb": 1_000_000}})
        assert job["status"] == "failed"
        assert "need 1000000" in (job.get("reason") or "") + _texts(job)
