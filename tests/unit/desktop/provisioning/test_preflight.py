"""Preflight parsing and decisions: each check's ok/warn/fail and that it says what to do."""

from __future__ import annotations

import pytest

from desktop.provisioning.errors import ProvisionError
from desktop.provisioning.preflight import Check, Facts, evaluate, mirror_probe, parse_facts

GOOD = """os_id=debian
os_version=12
os_name=Debian GNU/Linux 12 (bookworm)
arch=x86_64
mem_kb=4026532
disk_kb=30000000
uid=0
have_sudo=0
apt_source=deb http://deb.debian.org/debian bookworm main
now=1700000000.5
garbage line without equals
Bad-Key=1
"""


def by_key(checks: list[Check]) -> dict[str, Check]:
    return {c.key: c for c in checks}


def facts(text: str = GOOD, **values: str) -> Facts:
    f = parse_facts(text)
    f.values.update(values)
    f.skew_s = 0.3
    return f


def test_parse_keeps_first_value_and_all_repeats() -> None:
    f = parse_facts(GOOD + "flypack_path=/opt/flypack\nflypack_path=/etc/flypack/agent.toml\n")
    assert f.get("os_id") == "debian" and f.number("mem_kb") == 4026532
    assert f.multi["flypack_path"] == ["/opt/flypack", "/etc/flypack/agent.toml"]
    assert "Bad-Key" not in f.values and f.number("os_name") is None


def test_a_good_bookworm_root_target_passes_with_a_bundle() -> None:
    checks = evaluate(facts(), has_bundle=True)
    assert [c.status for c in checks] == ["ok"] * len(checks), checks
    assert by_key(checks)["python"].detail.startswith("not installed")


@pytest.mark.parametrize(("values", "key", "status", "hint_word"), [
    ({"os_version": "11", "os_name": "Debian GNU/Linux 11 (bullseye)"}, "os", "fail",
     "Debian 12"),
    ({"os_id": "ubuntu", "os_version": "24.04"}, "os", "fail", "Debian 12"),
    ({"arch": "armv7l"}, "arch", "fail", "amd64"),
    ({"arch": "aarch64"}, "arch", "ok", ""),
    ({"mem_kb": "524288"}, "ram", "fail", "at least"),
    ({"mem_kb": "1500000"}, "ram", "warn", "recommended"),
    ({"mem_kb": "2000000"}, "ram", "ok", ""),  # a "2 GiB" VM reports a little less
    ({"mem_kb": ""}, "ram", "warn", "2 GiB"),
    ({"disk_kb": "524288"}, "disk", "fail", "apt-get clean"),
    ({"disk_kb": "2000000"}, "disk", "warn", "recommended"),
    ({"disk_kb": "6000000"}, "disk", "warn", "recommended"),
    ({"uid": "1000", "have_sudo": "0"}, "sudo", "fail", "install sudo"),
    ({"uid": "1000", "have_sudo": "1", "sudo_nopasswd": "1"}, "sudo", "ok", ""),
    ({"uid": "1000", "have_sudo": "1", "sudo_nopasswd": "0"}, "sudo", "fail",
     "sudo password"),
    ({"python3": "Python 3.11.2"}, "python", "ok", ""),
])
def test_each_decision(values: dict[str, str], key: str, status: str, hint_word: str) -> None:
    c = by_key(evaluate(facts(**values), has_bundle=True))[key]
    assert c.status == status, c
    assert hint_word in c.hint
    if status != "ok":
        assert c.hint, f"{key}: a {status} must say what to do"


def test_sudo_password_tried() -> None:
    f = facts(uid="1000", have_sudo="1", sudo_nopasswd="0")
    f.sudo_with_password = True
    assert by_key(evaluate(f, has_bundle=True))["sudo"].status == "ok"
    f.sudo_with_password = False
    c = by_key(evaluate(f, has_bundle=True))["sudo"]
    assert c.status == "fail" and "refused" in c.detail


@pytest.mark.parametrize(("skew", "status"), [(0.5, "ok"), (-30.0, "warn"), (3600.0, "fail"),
                                              (None, "warn")])
def test_clock_skew(skew: float | None, status: str) -> None:
    f = facts()
    f.skew_s = skew
    c = by_key(evaluate(f, has_bundle=True))["clock"]
    assert c.status == status
    if skew is not None and status != "ok":
        assert ("behind" if skew < 0 else "ahead") in c.detail and "date" in c.hint


def test_existing_install_warns() -> None:
    f = parse_facts(GOOD + "flypack_path=/etc/flypack/agent.toml\n")
    f.skew_s = 0.0
    c = by_key(evaluate(f, has_bundle=True))["existing"]
    assert c.status == "warn" and "/etc/flypack/agent.toml" in c.detail
    assert "keeps its state" in c.hint


def test_packages_bundle_mirror_or_offline_bundle_required() -> None:
    f = facts()
    assert by_key(evaluate(f, has_bundle=True))["packages"].status == "ok"
    c = by_key(evaluate(f, has_bundle=False))["packages"]
    assert c.status == "fail" and c.detail.startswith("offline bundle required")
    assert "deb.debian.org" in c.detail  # shows what the target would use
    f.mirror, f.mirror_answer = "http://127.0.0.1:8000/debian", "HTTP/1.0 200 OK"
    assert by_key(evaluate(f, has_bundle=False))["packages"].status == "ok"
    f.mirror_answer = None
    c = by_key(evaluate(f, has_bundle=False))["packages"]
    assert c.status == "fail" and "does not answer" in c.detail


def test_mirror_probe_is_bounded_and_quoted() -> None:
    cmd = mirror_probe("http://127.0.0.1:3142/debian/dists/bookworm/Release")
    assert cmd.startswith("timeout 5 bash -c ")
    assert "/dev/tcp/127.0.0.1/3142" in cmd and "HEAD /debian/dists/bookworm/Release" in cmd
    for bad in ("https://mirror/", "ftp://x/", "http://a;rm -rf /", "not a url"):
        with pytest.raises(ProvisionError, match="http://host"):
            mirror_probe(bad)
