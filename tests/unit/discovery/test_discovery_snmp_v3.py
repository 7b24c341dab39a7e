"""SNMPv3 settings: config validation, keys from the credential store, never in reprs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server_agent.config import DiscoverySection
from server_agent.discovery.errors import SnmpConfigError
from server_agent.discovery.settings import engine_settings, v3_user
from server_agent.discovery.snmp import SnmpIdentifier, SnmpV3User

KEYS = {"snmp-v3-auth-key": "authpass123", "snmp-v3-priv-key": "privpass123"}


def test_default_is_v2c_only() -> None:
    d = DiscoverySection()
    assert d.snmp_version == ["2c"] and v3_user(d, KEYS.get) is None
    assert engine_settings(d, "public").identify.snmp_versions == ("2c",)


def test_a_single_version_string_and_an_ordered_list() -> None:
    one = DiscoverySection.model_validate({"snmp_version": "3", "snmp_v3_user": "u"})
    assert one.snmp_version == ["3"]
    d = DiscoverySection(snmp_version=["3", "2c"], snmp_v3_user="u")
    assert d.snmp_version == ["3", "2c"]


@pytest.mark.parametrize(("kw", "msg"), [
    ({"snmp_version": "3"}, "set snmp_v3_user"),
    ({"snmp_version": ["2c", "2c"]}, "each once"),
    ({"snmp_version": []}, "each once"),
    ({"snmp_version": "1"}, "snmp_version"),
    ({"snmp_v3_auth_protocol": "SHA-1"}, "snmp_v3_auth_protocol"),
    ({"snmp_v3_auth_protocol": "none", "snmp_v3_priv_protocol": "AES"}, "needs an"),
    ({"snmp_v3_auth_key_ref": "bad ref"}, "letters, digits"),
])
def test_bad_settings_are_refused(kw: dict[str, object], msg: str) -> None:
    with pytest.raises(ValidationError, match=msg):
        DiscoverySection.model_validate(kw)


def test_keys_come_from_the_store_by_reference() -> None:
    d = DiscoverySection(snmp_version=["2c", "3"], snmp_v3_user="flypack",
                         snmp_v3_auth_protocol="SHA-256", snmp_v3_priv_protocol="AES-256")
    u = v3_user(d, KEYS.get)
    assert u == SnmpV3User("flypack", "SHA-256", "authpass123", "AES-256", "privpass123")
    assert u is not None and u.level == "authPriv"
    assert "authpass123" not in repr(u) and "privpass123" not in repr(u)
    ident = engine_settings(d, "public", v3=u).identify
    assert ident.snmp_versions == ("2c", "3") and ident.snmp_v3 is u


def test_a_missing_key_names_the_reference_not_a_value() -> None:
    d = DiscoverySection(snmp_version=["3"], snmp_v3_user="flypack")
    with pytest.raises(SnmpConfigError, match="no 'snmp-v3-priv-key'"):
        v3_user(d, {"snmp-v3-auth-key": "authpass123"}.get)
    with pytest.raises(SnmpConfigError, match="no SNMPv3 user"):
        engine_settings(d, "public")


def test_auth_no_priv_needs_no_priv_key() -> None:
    d = DiscoverySection(snmp_version=["3"], snmp_v3_user="mon", snmp_v3_priv_protocol="none")
    u = v3_user(d, {"snmp-v3-auth-key": "authpass123"}.get)
    assert u is not None and u.level == "authNoPriv" and u.priv_key == ""


@pytest.mark.parametrize(("kw", "msg"), [
    ({"auth_key": "short", "priv_key": "privpass123"}, "auth key is shorter than 8"),
    ({"auth_key": "authpass123"}, "priv key is missing"),
    ({"auth_protocol": "SHA1", "auth_key": "x" * 8, "priv_key": "y" * 8}, "auth protocol"),
])
def test_user_checks(kw: dict[str, str], msg: str) -> None:
    with pytest.raises(SnmpConfigError, match=msg):
        SnmpV3User("flypack", **kw)


def test_identifier_needs_a_user_for_v3() -> None:
    with pytest.raises(SnmpConfigError, match="no SNMPv3 user"):
        SnmpIdentifier(versions=("3",))
    with pytest.raises(SnmpConfigError, match="each once"):
        SnmpIdentifier(versions=("2c", "1"))
