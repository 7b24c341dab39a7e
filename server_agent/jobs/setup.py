"""Wire the jobs capability into the agent's Services container."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from server_agent.config import ConfigError
from server_agent.jobs.catalog import load_catalog
from server_agent.jobs.errors import CatalogError
from server_agent.jobs.runner import default_playbooks_dir
from server_agent.jobs.service import JobService
from server_agent.jobs.store import JobStore

if TYPE_CHECKING:
    from server_agent.runtime import Services

log = logging.getLogger("flypack.jobs")


def attach_jobs(svc: Services) -> JobService | None:
    cfg = svc.config.jobs
    folder = cfg.playbooks_dir or default_playbooks_dir()
    if cfg.playbooks_dir is None and not (folder / "catalog.yml").is_file():
        log.warning("jobs are off: no playbook catalog at %s; set [jobs] playbooks_dir", folder)
        return None
    try:
        catalog = load_catalog(folder)
    except CatalogError as exc:
        raise ConfigError(f"[jobs] {exc}; {exc.hint}") from None
    store = JobStore(svc.db)
    svc.jobs = JobService(svc.config, catalog, store, svc.bus, svc.auth, svc.credentials,
                          svc.devices)
    svc.tasks["jobs"] = svc.jobs.run
    svc.closers.append(svc.jobs.close)
    return svc.jobs
