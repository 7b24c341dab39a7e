"""The discovery error tree (every message says what happened and what to do).

    DiscoveryError
     ├── TargetError        a CIDR is malformed, too large without consent, or not allowed
     ├── PrivilegeError     raw sockets (ARP, ICMP) need root or CAP_NET_RAW
     ├── RulesError         the classification rules file is invalid (names file, rule, key)
     ├── RunError           a run cannot start (another is running) or is unknown
     ├── SweepTimeout       the sweep hit [discovery].max_duration_s
     ├── OverrideError      a manual override is refused (unknown device)
 │    └── NameTakenError  the new name is another device's id or name
     └── SnmpConfigError    SNMP settings that cannot work (version, v3 protocol, missing key)
"""

from __future__ import annotations


class DiscoveryError(Exception):
    """Base of the discovery errors."""


class TargetError(DiscoveryError):
    """A sweep target is malformed or too large."""


class PrivilegeError(DiscoveryError):
    """The sweep needs privileges this process lacks."""


class RulesError(DiscoveryError):
    """The rules file is invalid."""


class RunError(DiscoveryError):
    """A discovery run cannot be started or found."""


class SweepTimeout(DiscoveryError):
    """The sweep ran out of time."""


class OverrideError(DiscoveryError):
    """A device override is refused."""


class NameTakenError(OverrideError):
    """The new name already names another device."""


class SnmpConfigError(DiscoveryError):
    """SNMP settings that cannot work (unknown version or protocol, missing or short key)."""
