"""A cached, debootstrapped Debian Bookworm disk image WITHOUT python3 (design §5b).

``build_image()`` makes, once, under /var/tmp/flypack-vm/<key>/:

    disk.img      ext4 root file system (raw; every VM boots a fresh qcow2 overlay on it)
    vmlinuz       kernel and initrd, passed to qemu from outside (the image has
    initrd.img    update_initramfs=no: a rebuild under TCG emulation takes > 10 min)
    id_ed25519    the test's SSH key (root's authorized key in the image)

The key covers the recipe below, so changing it builds a new image. Run as a script to build
(or reuse) the image outside pytest: ``python -m tests.provision.image``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("FLYPACK_VM_CACHE", "/var/tmp/flypack-vm"))
MIRROR = os.environ.get("FLYPACK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
ROOT_PASSWORD = "flypack-vm-root"
DISK_SIZE = "3G"
# what a stock "SSH server only" Bookworm install has, minus python3 (the deploy brings it)
INCLUDE = ("systemd-sysv,linux-image-amd64,openssh-server,openssh-sftp-server,dbus,"
           "ca-certificates,ifupdown,isc-dhcp-client,sudo,udev,kmod,initramfs-tools,"
           "iproute2,iputils-ping,procps,netbase")
RECIPE_VERSION = "3"

INTERFACES = """\
# written by tests/provision/image.py: a fresh Debian's ifupdown set-up
auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
"""

SSHD_TEST = """\
# test image only: the deploy logs in as root with a password, the test with a key
PermitRootLogin yes
PasswordAuthentication yes
UseDNS no
"""


class ImageError(RuntimeError):
    """The image could not be built; the message names the step."""


@dataclass(frozen=True)
class Image:
    dir: Path
    disk: Path
    kernel: Path
    initrd: Path
    key: Path
    root_password: str = ROOT_PASSWORD


def _key() -> str:
    h = hashlib.sha256()
    for part in (RECIPE_VERSION, MIRROR, INCLUDE, INTERFACES, SSHD_TEST, DISK_SIZE):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def _run(cmd: list[str], what: str, **kw: object) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise ImageError(f"{what} failed ({proc.returncode}): {tail}")


def _configure(root: Path, pubkey: str) -> None:
    (root / "etc/hostname").write_text("flypack-vm\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n127.0.1.1 flypack-vm\n")
    (root / "etc/fstab").write_text("/dev/vda / ext4 defaults,errors=remount-ro 0 1\n")
    (root / "etc/network/interfaces").write_text(INTERFACES)
    # user-mode networking's DNS (nothing beyond it answers: restrict=on)
    resolv = root / "etc/resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    resolv.write_text("nameserver 10.0.2.3\n")
    (root / "etc/ssh/sshd_config.d/test.conf").write_text(SSHD_TEST)
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(pubkey)
    os.chmod(ssh_dir / "authorized_keys", 0o600)
    conf = root / "etc/initramfs-tools/update-initramfs.conf"
    text = conf.read_text() if conf.exists() else ""
    conf.write_text(text.replace("update_initramfs=yes", "update_initramfs=no")
                    + ("" if "update_initramfs=" in text else "update_initramfs=no\n"))
    _run(["chroot", str(root), "chpasswd"], "setting root's password",
         input=f"root:{ROOT_PASSWORD}\n")
    # the guest has no network for apt: drop the lists debootstrap left behind
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True)
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()


def _unmount(root: Path) -> None:
    """Unmount whatever the second stage left mounted below root (before any rmtree)."""
    prefix = str(root.resolve()) + "/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for m in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], check=False, capture_output=True)
    left = [m for m in Path("/proc/mounts").read_text().split() if m.startswith(prefix)]
    if left:
        raise ImageError(f"could not unmount {left}; remove {root} by hand")


def build_image(cache: Path = CACHE) -> Image:
    """The cached image, built first when missing (needs root, debootstrap, mkfs.ext4)."""
    out = cache / _key()
    img = Image(out, out / "disk.img", out / "vmlinuz", out / "initrd.img", out / "id_ed25519")
    if (out / "ready").exists():
        return img
    work = cache / f"build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    root = work / "rootfs"
    root.mkdir(parents=True)
    try:
        _run(["debootstrap", "--variant=minbase", "--foreign", f"--include={INCLUDE}",
              "bookworm", str(root), MIRROR], "debootstrap (first stage)")
        # this host's PID 1 is not systemd: keep packages from starting services on the host
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        _run(["chroot", str(root), "/debootstrap/debootstrap", "--second-stage"],
             "debootstrap (second stage)")
        _unmount(root)
        if shutil.which("ssh-keygen") is None:
            raise ImageError("ssh-keygen is missing (apt-get install openssh-client)")
        key = work / "id_ed25519"
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "flypack-vm-test",
              "-f", str(key)], "ssh-keygen")
        _configure(root, (work / "id_ed25519.pub").read_text())
        policy.unlink(missing_ok=True)
        boot = sorted((root / "boot").glob("vmlinuz-*"))
        initrd = sorted((root / "boot").glob("initrd.img-*"))
        if not boot or not initrd:
            raise ImageError("no kernel or initrd in the image's /boot")
        shutil.copyfile(boot[-1], work / "vmlinuz")
        shutil.copyfile(initrd[-1], work / "initrd.img")
        _run(["truncate", "-s", DISK_SIZE, str(work / "disk.img")], "truncate")
        _run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(root), str(work / "disk.img")],
             "mkfs.ext4 -d")
        shutil.rmtree(root)
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
        (out / "ready").write_text("ok\n")
    finally:
        if work.exists():
            _unmount(root)
            shutil.rmtree(work, ignore_errors=True)
    return img


if __name__ == "__main__":
    image = build_image()
    print(image.dir)
    sys.exit(0)
