"""The deploy's own SSH steps before and after Ansible (on top of :mod:`.ssh`; no Qt).

Ansible connects with OpenSSH and a key: a password login is turned into a temporary key that
this module puts into the target user's authorized_keys (marked, removed when the deploy
ends), so no password sits in a file and no sshpass is needed. The host key that ``ssh.connect``
verified against the pinned fingerprint is written to a private known_hosts file that Ansible
uses with StrictHostKeyChecking=yes. The offline bundle is uploaded here (SFTP) because the
fresh target has no python3 yet, which Ansible's copy module would need.

Failures raise :class:`desktop.provisioning.errors.ProvisionError` subclasses.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Callable
from pathlib import Path

import paramiko

from desktop.provisioning.errors import RemoteCommandFailed
from desktop.provisioning.ssh import SshSession

KEY_MARK = "flypack-deploy-temporary"
REMOTE_BUNDLE_DIR = "/var/tmp/flypack-bundle"
UNPACKED_ROOT = "/var/cache/flypack-bundle"  # the bootstrap role's bootstrap_bundle_root


def write_known_hosts(session: SshSession, path: Path) -> None:
    """Pin the (already verified) host key for OpenSSH."""
    transport = session.client.get_transport()
    if transport is None:
        raise RemoteCommandFailed("the SSH connection closed", "run the deploy again")
    key = transport.get_remote_server_key()
    t = session.target
    host = t.host if t.port == 22 else f"[{t.host}]:{t.port}"
    path.write_text(f"{host} {key.get_name()} {key.get_base64()}\n")
    path.chmod(0o600)


def install_temp_key(session: SshSession, key_path: Path) -> None:
    """A fresh ed25519 key for Ansible, authorised on the target until remove_temp_key."""
    key = paramiko.Ed25519Key.generate() if hasattr(paramiko.Ed25519Key, "generate") else None
    if key is None:  # paramiko cannot generate ed25519 keys: fall back to RSA
        key = paramiko.RSAKey.generate(3072)
    buf = io.StringIO()
    key.write_private_key(buf)
    key_path.write_text(buf.getvalue())
    key_path.chmod(0o600)
    pub = f"{key.get_name()} {key.get_base64()} {KEY_MARK}"
    rc, out, err = session.run(
        "umask 077 && mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys && "
        f"{{ grep -v {KEY_MARK} ~/.ssh/authorized_keys; echo {shlex.quote(pub)}; }} "
        "> ~/.ssh/.flypack-ak && mv ~/.ssh/.flypack-ak ~/.ssh/authorized_keys")
    if rc != 0:
        raise RemoteCommandFailed(f"could not authorise the deploy's key on the target: "
                                  f"{(out + err).strip()[:300]}",
                                  "check that the user's home directory is writable")


def remove_temp_key(session: SshSession) -> None:
    session.run(f"f=~/.ssh/authorized_keys; [ -f $f ] || exit 0; "
                f"grep -v {KEY_MARK} $f > $f.flypack; mv $f.flypack $f")


def upload_bundle(session: SshSession, bundle: Path, sha256: str,
                  progress: Callable[[str], None]) -> str:
    """Upload the bundle unless the same one is there already; returns its remote path."""
    remote = f"{REMOTE_BUNDLE_DIR}/{bundle.name}"
    # the bootstrap role unpacks a verified bundle to UNPACKED_ROOT/<sha256[:16]> and
    # removes the upload: either one means there is nothing to send
    unpacked = f"{UNPACKED_ROOT}/{sha256[:16]}/.verified"
    _rc, out, _err = session.run(f"umask 077; mkdir -p {REMOTE_BUNDLE_DIR} && "
                                 f"if [ -f {unpacked} ]; then echo {sha256}; else "
                                 f"sha256sum {shlex.quote(remote)} 2>/dev/null; fi; true")
    if out.split()[:1] == [sha256]:
        progress(f"the offline bundle is on the target already ({remote})")
        return remote
    progress(f"uploading the offline bundle ({bundle.stat().st_size / 1e6:.0f} MB) to {remote}")
    try:
        sftp = session.client.open_sftp()
        try:
            sftp.put(str(bundle), remote + ".part")
            sftp.posix_rename(remote + ".part", remote)
        finally:
            sftp.close()
    except (OSError, paramiko.SSHException) as exc:
        raise RemoteCommandFailed(f"uploading the offline bundle failed ({exc})",
                                  f"check the free space in {REMOTE_BUNDLE_DIR} on the target "
                                  "and that its SSH server offers SFTP") from None
    return remote
