"""The ``[jobs]`` table of the agent's configuration (playbooks through the agent)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")


class JobsSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    playbooks_dir: Path | None = Field(
        default=None, description="Folder with catalog.yml; unset = the playbooks/ shipped "
        "beside the agent")
    work_dir: Path | None = Field(
        default=None, description="Private data dirs of jobs; unset = <state_dir>/jobs, or a "
        "temporary dir when the playbook user cannot reach that (docs/jobs.md); set = it must")
    max_concurrent: int = Field(default=2, ge=1, le=16)
    keep_jobs: int = Field(default=200, ge=1, le=100000,
                           description="Finished jobs whose artifacts are kept (oldest pruned)")
    run_as: str = Field(default="flypack-jobs",
                        description="Unprivileged user ansible runs as when the agent is root")
    memory_limit_mb: int = Field(default=2048, ge=128, le=1048576,
                                 description="RLIMIT_AS per ansible process; MemoryMax "
                                 "of the job's scope under systemd")
    cpu_limit_s: int = Field(default=900, ge=10, le=86400,
                             description="RLIMIT_CPU per ansible process")
    cgroup_limits: bool = Field(
        default=True, description="Where systemd is PID 1 (and the agent root): run each "
        "job in a systemd scope with MemoryMax/CPUQuota; rlimits apply either way")
    cpu_quota_percent: int = Field(default=100, ge=1, le=6400,
                                   description="CPUQuota of a job's scope (100 = one core)")
    forks: int = Field(default=10, ge=1, le=100)
    inventory: Path | None = Field(
        default=None, description="Extra Ansible inventory (YAML), e.g. exported by discovery")
    ssh_user: str | None = None
    ssh_key_ref: str | None = Field(
        default=None, description="Credential-store name of the SSH private key")
    ssh_strict_host_keys: bool = True
    http_port: int = Field(default=80, ge=1, le=65535,
                           description="Devices' HTTP API port (the simulator's when [sim] is on)")
    metrics_token_ref: str | None = Field(
        default=None, description="Credential-store name of a /metrics token for snapshots")
    log_file: Path | None = Field(default=None, description="Agent log bundled by snapshots")

    @field_validator("run_as")
    @classmethod
    def _user(cls, v: str) -> str:
        if not _USER.match(v) or v == "root":
            raise ValueError("use a lower-case system user name other than root")
        return v

    @field_validator("ssh_key_ref", "metrics_token_ref")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and not _REF.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 63 characters")
        return v
