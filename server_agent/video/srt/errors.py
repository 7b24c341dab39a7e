"""Errors of the SRT capability (httpx-style tree; all are receiver errors, so the stream
service and stream-check report them like a UDP leg that cannot open).

    ReceiverError (video.udp.errors)
     └── SrtError                a failure of an SRT leg; the message says what to do
          ├── SrtUnavailable     libsrt (Debian libsrt1.5-gnutls) is not installed
          ├── SrtSocketError     libsrt refused an operation (bind, option, ...)
          └── SrtSecretMissing   passphrase_ref names no secret in the credential store
"""

from __future__ import annotations

from server_agent.video.udp.errors import ReceiverError


class SrtError(ReceiverError):
    pass


class SrtUnavailable(SrtError):
    pass


class SrtSocketError(SrtError):
    pass


class SrtSecretMissing(SrtError):
    pass
