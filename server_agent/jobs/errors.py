"""Errors of the jobs capability::

    JobError                    any failure of the jobs capability
    ├── CatalogError            playbooks/catalog.yml is missing or invalid (start-up)
    ├── JobRejected             a job request is refused; nothing was queued or run
    │   ├── UnknownPlaybook     the playbook is not in the catalog
    │   ├── RoleTooLow          the caller's role is below the playbook's least role
    │   ├── InvalidVars         a variable fails the schema or the data-only rules
    │   ├── InvalidTargets      the limit names hosts/groups the playbook may not touch
    │   └── IdempotencyConflict the key was used before for a different request
    ├── JobNotFound             no job with that id
    ├── JobStateError           the job cannot do that in its state (e.g. cancel a finished job)
    └── SandboxError            the unprivileged runner cannot be prepared
"""

from __future__ import annotations


class JobError(Exception):
    """Base of the jobs errors; ``hint`` says what to do."""

    hint = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint


class CatalogError(JobError):
    hint = "fix playbooks/catalog.yml (see docs/jobs.md) and restart the agent"


class JobRejected(JobError):
    pass


class UnknownPlaybook(JobRejected):
    hint = "list the playbooks at GET /api/v1/playbooks and use a name from there"


class RoleTooLow(JobRejected):
    hint = "ask a user with that role to run it"


class InvalidVars(JobRejected):
    hint = "fix the named variable and send again"


class InvalidTargets(JobRejected):
    hint = "use host or group names from the playbook's targets (GET /api/v1/playbooks)"


class IdempotencyConflict(JobRejected):
    hint = "use a new Idempotency-Key for a different request"


class JobNotFound(JobError):
    hint = "list the jobs at GET /api/v1/jobs and use an id from there"


class JobStateError(JobError):
    pass


class SandboxError(JobError):
    hint = "see docs/jobs.md (unprivileged runner) and the agent log"
