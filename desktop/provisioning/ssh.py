"""SSH to a provisioning target with paramiko: learn its host key, then log in pinned to it.

    key = fetch_host_key("198.51.100.7", 22)          # no login: shown to the technician
    with connect(target, key.fingerprint) as ssh:     # password or key; key pinned
        rc, out, err = ssh.run("uname -m")

Blocking (paramiko): the wizard calls these from a worker thread. Failures are typed
(:mod:`desktop.provisioning.errors`) and say what to do.
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any

import paramiko

from desktop.provisioning.errors import (
    HostKeyChanged,
    HostKeyNotConfirmed,
    LoginFailed,
    ProvisionError,
    RemoteCommandFailed,
    TargetUnreachable,
)
from desktop.provisioning.hostkeys import HostKey, sha256_fingerprint
from desktop.provisioning.settings import Target

__all__ = ["HostKey", "SshSession", "connect", "fetch_host_key"]

TIMEOUT_S = 10.0


def _where(host: str, port: int) -> str:
    return f"{host}:{port}"


def _open_socket(host: str, port: int, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise TargetUnreachable(f"{_where(host, port)} did not answer within {timeout:.0f} s",
                                "check the address and that the machine is on and on this "
                                "network") from None
    except OSError as exc:
        raise TargetUnreachable(f"cannot reach SSH on {_where(host, port)}: "
                                f"{exc.strerror or exc}",
                                "check the address and port, and that sshd runs on the "
                                "target (systemctl status ssh)") from None


def fetch_host_key(host: str, port: int = 22, timeout: float = TIMEOUT_S) -> HostKey:
    """The target's host key, without logging in (for the technician to confirm)."""
    sock = _open_socket(host, port, timeout)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
        return HostKey(key.get_name(), sha256_fingerprint(key.asbytes()))
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise TargetUnreachable(f"{_where(host, port)} answered, but not as an SSH server "
                                f"({exc or type(exc).__name__})",
                                "check the port (SSH is usually 22)") from None
    finally:
        transport.close()
        sock.close()


class _PinnedKey(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]  # no stubs
    def __init__(self, host_id: str, fingerprint: str) -> None:
        self.host_id, self.fingerprint = host_id, fingerprint

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        seen = sha256_fingerprint(key.asbytes())
        if seen != self.fingerprint:
            raise HostKeyChanged(self.host_id, self.fingerprint, seen)


def _load_key(path: str, passphrase: str | None) -> paramiko.PKey:
    try:
        try:  # an unencrypted key ignores whatever is in the passphrase field
            return paramiko.PKey.from_path(path)
        except (paramiko.PasswordRequiredException, TypeError):  # TypeError: "protected"
            if not passphrase:
                raise LoginFailed(f"the key file {path} is protected by a passphrase",
                                  "enter the key's passphrase in the password field") from None
        try:
            return paramiko.PKey.from_path(path, passphrase.encode())
        except (paramiko.SSHException, ValueError, TypeError):
            raise LoginFailed(f"the passphrase does not open the key file {path}",
                              "check the key's passphrase (the password field)") from None
    except FileNotFoundError:
        raise LoginFailed(f"the key file {path} does not exist",
                          "choose the private key file (e.g. ~/.ssh/id_ed25519)") from None
    except (paramiko.SSHException, OSError, ValueError) as exc:
        raise LoginFailed(f"cannot use the key file {path}: {exc}",
                          "choose an OpenSSH private key (ed25519, ecdsa or rsa)") from None


class SshSession:
    """A logged-in connection; ``run`` executes one shell command."""

    def __init__(self, client: paramiko.SSHClient, target: Target) -> None:
        self.client, self.target = client, target

    def run(self, command: str, stdin: str | None = None,
            timeout: float = 60.0) -> tuple[int, str, str]:
        try:
            chan_in, chan_out, chan_err = self.client.exec_command(command, timeout=timeout)
            if stdin is not None:
                chan_in.write(stdin)
                chan_in.flush()
            chan_in.channel.shutdown_write()
            out = chan_out.read().decode(errors="replace")
            err = chan_err.read().decode(errors="replace")
            return chan_out.channel.recv_exit_status(), out, err
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise RemoteCommandFailed(
                f"the connection to {self.target.host} broke while running a check "
                f"({exc or type(exc).__name__})",
                "check the network to the target and run the checks again") from None

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> SshSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def connect(target: Target, fingerprint: str | None = None,
            timeout: float = TIMEOUT_S) -> SshSession:
    """Log in to ``target``; its host key must have ``fingerprint`` (default: the target's
    pinned ``host_key_sha256``). Password, key file, or both (key passphrase = password)."""
    pinned = fingerprint or target.host_key_sha256
    if not pinned:
        raise HostKeyNotConfirmed(f"the SSH host key of {target.host} was not confirmed",
                                  "go back to the host key step and confirm it")
    sock = _open_socket(target.host, target.port, timeout)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(_PinnedKey(_where(target.host, target.port), pinned))
    kwargs: dict[str, Any] = dict(hostname=target.host, port=target.port,
                                  username=target.user, sock=sock, timeout=timeout,
                                  banner_timeout=timeout, auth_timeout=timeout,
                                  allow_agent=False, look_for_keys=False)
    if target.key_file:
        kwargs["pkey"] = _load_key(target.key_file, target.password)
    elif target.password is not None:
        kwargs["password"] = target.password
    else:
        sock.close()
        raise LoginFailed("neither a password nor a key file was given",
                          "enter the password of the user, or choose a private key file")
    try:
        client.connect(**kwargs)
    except ProvisionError:
        client.close()
        sock.close()
        raise
    except paramiko.AuthenticationException:
        client.close()
        sock.close()
        raise LoginFailed(f"{target.user}@{target.host} refused the "
                          f"{'key' if target.key_file else 'password'}",
                          "check the user name and password (or key); root logins with a "
                          "password are often disabled: use a sudo user or a key") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        sock.close()
        raise TargetUnreachable(f"the SSH login to {_where(target.host, target.port)} "
                                f"failed: {exc or type(exc).__name__}",
                                "check that this is the right machine and try again") from None
    return SshSession(client, target)
