"""Fresh Debian Bookworm VMs under qemu for the provisioning tests (design §5b, §9).

Fixtures (session scope; conftest.py imports them):

    bookworm_image -> Path         the cached image directory (tests/provision/image.py)
    offline_bundle -> Path         the cached offline bundle (desktop/provisioning/bundle.py)
    fresh_vm -> VM                 a qcow2 overlay booted under qemu (TCG)
    provisioned_vm -> Provisioned  fresh_vm deployed once through DeployDriver
    own_fresh_vm -> VM             (function scope) a VM of one test's own, stopped after it

Networking: NIC 1 is qemu's user network with ``restrict=on`` (nothing in the guest reaches
any network) and one host forward 127.0.0.1:<port> -> 22. NICs 2 and 3 are taps that qemu opens
in the root namespace and the test then moves into a lab namespace of its own: the management
network (198.51.100.1/24 in the lab) and a media network (203.0.113.1/24). The deploy also puts
a VLAN (100, 198.18.0.10/24) on the media NIC; this host's kernel has no VLAN support, so the
lab has no peer for it and the test checks it inside the guest only.
qemu is stopped by its PID and the namespace deleted, also on failure.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest

from desktop.provisioning.deploy import DeployDriver, DeployEvent, DeployResult
from desktop.provisioning.hostkeys import sha256_fingerprint
from desktop.provisioning.settings import FlypackSettings, MonitoredNetwork, Target
from tests.lab.netns import Lab
from tests.provision.image import Image, build_image
from tests.support import REQUIRE_REAL, free_port, require_binary, require_root

MGMT_GUEST, MGMT_LAB = "198.51.100.10/24", "198.51.100.1/24"
MEDIA_GUEST, MEDIA_LAB = "203.0.113.10/24", "203.0.113.1/24"
VLAN_GUEST, VLAN_ID = "198.18.0.10/24", 100
BOOT_TIMEOUT_S = 300
_serial = itertools.count()  # several VMs in one test process need their own names


class VMError(RuntimeError):
    pass


@dataclass
class VM:
    host: str
    port: int
    user: str
    password: str
    key: Path
    workdir: Path
    lab: Lab
    taps: tuple[str, str]
    pid: int | None = None
    _client: paramiko.SSHClient | None = None

    @property
    def lab_ns(self) -> str:
        return "seg"

    def _connect(self) -> paramiko.SSHClient:
        transport = self._client.get_transport() if self._client is not None else None
        if self._client is None or transport is None or not transport.is_active():
            client = paramiko.SSHClient()
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # test VM only
            client.connect(self.host, port=self.port, username="root",
                           key_filename=str(self.key), timeout=10, banner_timeout=30,
                           auth_timeout=30, look_for_keys=False, allow_agent=False)
            self._client = client
        return self._client

    def ssh(self, cmd: str, timeout: float = 300) -> tuple[int, str]:
        """Run a shell command in the guest as root: (exit code, stdout + stderr)."""
        _i, out, err = self._connect().exec_command(cmd, timeout=timeout)
        text = out.read().decode(errors="replace") + err.read().decode(errors="replace")
        return out.channel.recv_exit_status(), text

    def host_key_sha256(self) -> str:
        transport = self._connect().get_transport()
        assert transport is not None
        return sha256_fingerprint(transport.get_remote_server_key().asbytes())

    def wait_ssh(self, timeout: float = BOOT_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.pid is not None and not Path(f"/proc/{self.pid}").exists():
                raise VMError(f"qemu exited during boot; see {self.workdir}/console.log")
            try:
                self._client = None
                rc, out = self.ssh("systemctl is-system-running --wait", timeout=240)
                if out.strip() in ("running", "degraded"):
                    return
                last = VMError(f"system state {out.strip()!r} (rc {rc})")
            except (OSError, paramiko.SSHException, EOFError) as exc:
                last = exc
            time.sleep(2)
        raise VMError(f"no SSH into the VM within {timeout:.0f} s ({last}); "
                      f"see {self.workdir}/console.log")

    def lab_run(self, *cmd: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return self.lab.run(self.lab_ns, *cmd, check=check)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.pid is not None:
            try:
                os.kill(self.pid, 15)
                for _ in range(50):
                    if not Path(f"/proc/{self.pid}").exists():
                        break
                    time.sleep(0.1)
                else:
                    os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
            self.pid = None
        self.lab.close()
        for tap in self.taps:  # gone with the namespace, unless qemu never moved them
            subprocess.run(["ip", "link", "del", tap], capture_output=True, check=False)


def boot_vm(image: Image, workdir: Path) -> VM:
    """A fresh overlay of the image, booted; returns once SSH answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    overlay = workdir / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                    str(image.disk), str(overlay)], check=True, capture_output=True)
    port = free_port()
    n = next(_serial)
    lab = Lab(f"vm{n}")
    taps = (f"fpvm{n}{os.getpid() % 100000}", f"fpvd{n}{os.getpid() % 100000}")
    vm = VM("127.0.0.1", port, "root", image.root_password, image.key, workdir, lab, taps)
    try:
        lab.ns(vm.lab_ns)
        cmd = [
            "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-m", "2048",
            "-smp", "2", "-kernel", str(image.kernel), "-initrd", str(image.initrd),
            "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet",
            "-drive", f"file={overlay},if=virtio,format=qcow2,cache=unsafe",
            "-netdev", f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:f1:00:01",
            "-netdev", f"tap,id=n1,ifname={taps[0]},script=no,downscript=no",
            "-device", "virtio-net-pci,netdev=n1,mac=52:54:00:f1:00:02",
            "-netdev", f"tap,id=n2,ifname={taps[1]},script=no,downscript=no",
            "-device", "virtio-net-pci,netdev=n2,mac=52:54:00:f1:00:03",
            "-display", "none", "-monitor", "none", "-serial", f"file:{workdir}/console.log",
            "-daemonize", "-pidfile", str(workdir / "qemu.pid"),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        vm.pid = int((workdir / "qemu.pid").read_text().strip())
        # a tap stays attached to qemu's file descriptor when it moves to the lab
        for tap, cidr in zip(taps, (MGMT_LAB, MEDIA_LAB), strict=True):
            subprocess.run(["ip", "link", "set", tap, "netns", lab.name(vm.lab_ns)],
                           check=True, capture_output=True)
            lab.ip(vm.lab_ns, "addr", "add", cidr, "dev", tap)
            lab.ip(vm.lab_ns, "link", "set", tap, "up")
        vm.wait_ssh()
    except BaseException:
        vm.stop()
        raise
    return vm


def vm_settings() -> FlypackSettings:
    return FlypackSettings(
        flypack_id="flypack-vm", mgmt_interface="eth1", mgmt_address=MGMT_GUEST,
        monitored=(MonitoredNetwork("eth2", MEDIA_GUEST, media=True),
                   MonitoredNetwork("eth2", VLAN_GUEST, vlan=VLAN_ID, media=True)),
        admin_user="admin", agent_port=8443)


@dataclass
class Provisioned:
    vm: VM
    result: DeployResult
    events: list[DeployEvent]
    seconds: float
    python_before: bool
    bundle: Path


def run_deploy(vm: VM, bundle: Path | None, workdir: Path) -> tuple[DeployResult,
                                                                   list[DeployEvent], float]:
    target = Target(host=vm.host, port=vm.port, user="root", password=vm.password,
                    host_key_sha256=vm.host_key_sha256())
    events: list[DeployEvent] = []
    driver = DeployDriver(target, vm_settings(), bundle=bundle, workdir=workdir)
    started = time.monotonic()
    result = driver.run(events.append, threading.Event())
    return result, events, time.monotonic() - started


def _require_vm_tools() -> None:
    require_root("qemu tap networking, debootstrap and lab namespaces")
    for tool in ("qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4", "apt-get"):
        require_binary(tool)
    if not Path("/dev/net/tun").exists():
        msg = "/dev/net/tun is missing (tap networking)"
        if REQUIRE_REAL:
            pytest.fail(msg + " and FLYPACK_REQUIRE_REAL=1")
        pytest.skip(msg)


@pytest.fixture(scope="session")
def bookworm_image() -> Path:
    _require_vm_tools()
    return build_image().dir


@pytest.fixture(scope="session")
def offline_bundle() -> Path:
    _require_vm_tools()
    from desktop.provisioning.bundle import build_bundle
    return build_bundle()


@pytest.fixture(scope="session")
def fresh_vm(bookworm_image: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VM]:
    vm = boot_vm(build_image(), tmp_path_factory.mktemp("vm"))
    try:
        yield vm
    finally:
        vm.stop()


@pytest.fixture()
def own_fresh_vm(bookworm_image: Path, tmp_path: Path) -> Iterator[VM]:
    """A fresh VM for one test alone: a first deploy by another driver (the frozen desktop)."""
    vm = boot_vm(build_image(), tmp_path / "vm")
    try:
        yield vm
    finally:
        vm.stop()


@pytest.fixture(scope="session")
def provisioned_vm(fresh_vm: VM, offline_bundle: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Provisioned:
    rc, _ = fresh_vm.ssh("command -v python3")
    result, events, seconds = run_deploy(fresh_vm, offline_bundle,
                                         tmp_path_factory.mktemp("deploy"))
    if result.status != "successful":
        tail = "\n".join(e.message for e in events[-25:])
        shutil.copy(fresh_vm.workdir / "console.log", "/tmp/flypack-vm-console.log")
        pytest.fail(f"the deploy failed: {result.message}\nlast events:\n{tail}")
    return Provisioned(fresh_vm, result, events, seconds, rc == 0, offline_bundle)
