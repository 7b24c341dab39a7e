"""Who may read ``/metrics`` (design §8: not public).

Two modes, chosen by ``[metrics].loopback_only``:

- default: the collector sends ``Authorization: Bearer <scrape token>``. The token lives in the
  agent's credential store under ``[metrics].scrape_token_ref`` (created on first start) and is
  compared in constant time; the agent also writes it to the 0600 file that its scrape config
  names (``credentials_file``), so VictoriaMetrics or Prometheus can send it;
- ``loopback_only = true``: no token is needed, but only clients on 127.0.0.0/8 or ::1 are
  served; every other client gets 403, token or not.

    ScrapeDenied(status, error, detail, hint)   401 no/wrong token, 403 not loopback
"""

from __future__ import annotations

import hmac
import ipaddress

from server_agent.auth.credentials import CredentialStore
from server_agent.config import MetricsSection


class ScrapeDenied(Exception):
    """The request may not read /metrics; carries the HTTP status and an ErrorBody's fields."""

    def __init__(self, status: int, error: str, detail: str, hint: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.hint = hint


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class ScrapeGuard:
    def __init__(self, token: str, loopback_only: bool = False) -> None:
        if not token:
            raise ValueError("the scrape token must not be empty")
        self._token = token.encode()
        self.loopback_only = loopback_only

    @classmethod
    def from_config(cls, section: MetricsSection, credentials: CredentialStore) -> ScrapeGuard:
        return cls(credentials.get_or_create(section.scrape_token_ref, 32), section.loopback_only)

    def check(self, client_host: str | None, authorization: str | None) -> None:
        """Return when the request may read /metrics, else raise :class:`ScrapeDenied`."""
        if self.loopback_only:
            if not is_loopback(client_host):
                raise ScrapeDenied(
                    403, "forbidden",
                    f"/metrics is served to loopback clients only ([metrics].loopback_only); "
                    f"this request came from {client_host or 'an unknown address'}",
                    "scrape from the flypack server itself, or set loopback_only = false and "
                    "send the scrape token (docs/metrics.md)",
                )
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ScrapeDenied(
                401, "unauthorized", "/metrics needs 'Authorization: Bearer <scrape token>'",
                "use the scrape config the agent writes to <state_dir>/collector/scrape.yml "
                "(docs/metrics.md)",
            )
        if not hmac.compare_digest(given.strip().encode(), self._token):
            raise ScrapeDenied(
                401, "unauthorized", "the scrape token is wrong",
                "use the token file named in <state_dir>/collector/scrape.yml; it changes only "
                "when the credential store does",
            )
