"""The discovered-device inventory in the agent's SQLite database.

    Inventory(db).merge(hosts, verdicts, swept, run_id) -> [events]   (one transaction)
    Inventory(db).devices() / get(id) / set_overrides(id, ...) / events(...)

Device ids survive address changes (design §8): a device is matched by MAC (when that MAC
answers for one address only), else by SNMP engine id (when unique in the sweep), else by
sysName + address, else by address; a new device's id is ``d-`` + 10 hex digits of a hash of
that key, fixed from then on. Events: ``new``, ``gone`` (not seen in ``gone_after`` sweeps that
covered its address), ``back``, ``changed`` (moved to another address; an address now answered
by another MAC; role/vendor/model changed). Manual overrides (name, role, notes) live in their
own columns, which a sweep never writes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import time
from collections import Counter
from dataclasses import asdict
from typing import Any

from server_agent.discovery.model import Host
from server_agent.discovery.rules import Verdict
from server_agent.store.db import Database

MIGRATIONS = [
    """
    CREATE TABLE discovered_devices (
        id TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        mac TEXT, engine_id TEXT, sys_name TEXT,
        address TEXT NOT NULL,
        previous_addresses TEXT NOT NULL DEFAULT '[]',
        network TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT 'unknown',
        vendor TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '',
        rule TEXT NOT NULL DEFAULT '', evidence TEXT NOT NULL DEFAULT '[]',
        vars TEXT NOT NULL DEFAULT '{}', facts TEXT NOT NULL DEFAULT '{}',
        first_seen REAL NOT NULL, last_seen REAL NOT NULL,
        present INTEGER NOT NULL DEFAULT 1, missed INTEGER NOT NULL DEFAULT 0,
        name_override TEXT, role_override TEXT, notes TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX discovered_devices_mac ON discovered_devices(mac);
    CREATE INDEX discovered_devices_address ON discovered_devices(address);
    CREATE TABLE discovery_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, t REAL NOT NULL, run TEXT NOT NULL,
        device TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE discovery_runs (
        id TEXT PRIMARY KEY, state TEXT NOT NULL, started REAL NOT NULL, finished REAL,
        request TEXT NOT NULL DEFAULT '{}', result TEXT NOT NULL DEFAULT '{}'
    );
    """,
]


def device_id(key: str) -> str:
    return "d-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def display_name(h: Host) -> str:
    for cand in ((h.snmp.sys_name if h.snmp else ""), *(m.name for m in h.mdns)):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", cand).strip("-.")[:63]
        if name:
            return name
    return "host-" + h.address.replace(".", "-")


def _facts(h: Host) -> dict[str, Any]:
    return {
        "via": sorted(h.via), "rtt_s": h.rtt_s, "open_ports": h.open_ports,
        "oui_vendor": h.oui_vendor, "snmp": asdict(h.snmp) if h.snmp else None,
        "mdns": [asdict(m) for m in h.mdns], "http": asdict(h.http) if h.http else None,
        "name": display_name(h),
    }


def _fold_multihomed(hosts: dict[str, Host]) -> tuple[dict[str, Host], dict[str, list[str]]]:
    """One device answering SNMP on several addresses (a router's interfaces: the same engine
    id AND sysName) becomes one host at its best address (one with a MAC, else the lowest);
    simulators that share an engine id across devices differ in sysName and stay apart."""
    groups: dict[tuple[str, str], list[str]] = {}
    for addr, h in hosts.items():
        if h.snmp and h.snmp.engine_id:
            groups.setdefault((h.snmp.engine_id, h.snmp.sys_name), []).append(addr)
    out, aliases = dict(hosts), {}
    for addrs in groups.values():
        if len(addrs) < 2:
            continue
        primary = min(addrs, key=lambda a: (hosts[a].mac is None,
                                            int(ipaddress.IPv4Address(a))))
        aliases[primary] = sorted(a for a in addrs if a != primary)
        for a in aliases[primary]:
            out[primary].via |= hosts[a].via
            del out[a]
    return out, aliases


class Inventory:
    def __init__(self, db: Database, gone_after: int = 3) -> None:
        self.db = db
        self.gone_after = gone_after
        db.migrate("inventory", MIGRATIONS)

    # --- reading --------------------------------------------------------------------------

    def devices(self) -> list[dict[str, Any]]:
        return [self._row(r) for r in self.db.all("SELECT * FROM discovered_devices ORDER BY "
                                                   "address")]

    def get(self, dev_id: str) -> dict[str, Any] | None:
        r = self.db.one("SELECT * FROM discovered_devices WHERE id = ?", (dev_id,))
        return self._row(r) if r else None

    @staticmethod
    def _row(r: Any) -> dict[str, Any]:
        d = dict(r)
        for k in ("previous_addresses", "evidence", "vars", "facts"):
            d[k] = json.loads(d[k])
        d["present"] = bool(d["present"])
        d["name"] = d["name_override"] or d["facts"].get("name") or d["id"]
        d["effective_role"] = d["role_override"] or d["role"]
        return d

    def events(self, run: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        sql = "SELECT * FROM discovery_events"
        args: tuple[Any, ...] = ()
        if run is not None:
            sql, args = sql + " WHERE run = ?", (run,)
        rows = self.db.all(sql + " ORDER BY seq LIMIT ?", (*args, limit))
        return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]

    # --- overrides ------------------------------------------------------------------------

    def set_overrides(self, dev_id: str, changes: dict[str, str | None]) -> dict[str, Any] | None:
        cols = {"name": "name_override", "role": "role_override", "notes": "notes"}
        sets = [(cols[k], (v if v is not None else ("" if k == "notes" else None)))
                for k, v in changes.items() if k in cols]
        if sets:
            self.db.execute(
                f"UPDATE discovered_devices SET {', '.join(c + ' = ?' for c, _ in sets)} "
                "WHERE id = ?", (*[v for _, v in sets], dev_id))
        return self.get(dev_id)

    # --- merging a sweep ------------------------------------------------------------------

    def merge(self, hosts: dict[str, Host], verdicts: dict[str, Verdict],
              swept: list[ipaddress.IPv4Network], run_id: str,
              now: float | None = None) -> list[dict[str, Any]]:
        now = time.time() if now is None else now
        hosts, aliases = _fold_multihomed(hosts)
        macs = Counter(h.mac for h in hosts.values() if h.mac)
        engines = Counter(h.snmp.engine_id for h in hosts.values() if h.snmp and
                          h.snmp.engine_id)
        events: list[dict[str, Any]] = []
        seen: set[str] = set()
        with self.db.lock:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                for addr in sorted(hosts, key=lambda a: ipaddress.IPv4Address(a)):
                    h, v = hosts[addr], verdicts[addr]
                    uniq_mac = h.mac if h.mac and macs[h.mac] == 1 else None
                    eng = h.snmp.engine_id if h.snmp and engines[h.snmp.engine_id] == 1 else ""
                    dev_id = self._upsert(h, v, uniq_mac, eng or None, run_id, now, events, seen,
                                          aliases.get(addr, []))
                    seen.add(dev_id)
                self._missed(swept, seen, run_id, now, events)
                for e in events:
                    self.db.conn.execute(
                        "INSERT INTO discovery_events(t, run, device, kind, detail) "
                        "VALUES(?, ?, ?, ?, ?)",
                        (now, run_id, e["device"], e["kind"], json.dumps(e["detail"])))
                self.db.conn.execute("COMMIT")
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                raise
        return events

    def _find(self, h: Host, mac: str | None, engine: str | None) -> Any:
        c = self.db.conn
        if mac:
            r = c.execute("SELECT * FROM discovered_devices WHERE mac = ?", (mac,)).fetchone()
            if r:
                return r
        if engine:
            r = c.execute("SELECT * FROM discovered_devices WHERE engine_id = ?",
                          (engine,)).fetchone()
            if r:
                return r
        # the same address, unless another MAC answers for it now (an IP moved to a MAC)
        r = c.execute("SELECT * FROM discovered_devices WHERE address = ? AND present = 1",
                      (h.address,)).fetchone()
        if r is None or (h.mac and r["mac"] and r["mac"] != h.mac):
            return None
        return r

    def _upsert(self, h: Host, v: Verdict, mac: str | None, engine: str | None, run_id: str,
                now: float, events: list[dict[str, Any]], seen: set[str],
                also: list[str]) -> str:
        c = self.db.conn
        row = self._find(h, mac, engine)
        if row is not None and row["id"] in seen:
            row = None  # two addresses matched one device: keep the second apart
        facts = json.dumps({**_facts(h), "other_addresses": also})
        sys_name = h.snmp.sys_name if h.snmp else None
        if row is None:
            # the address may have belonged to another device before: an IP moved to a MAC
            old = c.execute("SELECT id, mac FROM discovered_devices WHERE address = ? AND "
                            "present = 1", (h.address,)).fetchone()
            key = (f"mac:{mac}" if mac else f"snmp:{engine}" if engine else
                   f"name:{sys_name}@{h.address}" if sys_name else
                   f"mac:{h.mac}@{h.address}" if h.mac else f"ip:{h.address}")
            dev_id = device_id(key)
            while c.execute("SELECT 1 FROM discovered_devices WHERE id = ?",
                            (dev_id,)).fetchone():
                dev_id = device_id(key + f"#{now}")
            c.execute(
                "INSERT INTO discovered_devices(id, key, mac, engine_id, sys_name, address, "
                "network, role, vendor, model, rule, evidence, vars, facts, first_seen, "
                "last_seen) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (dev_id, key, h.mac, engine, sys_name, h.address, h.network, v.role.value,
                 v.vendor, v.model, v.rule, json.dumps(v.evidence), json.dumps(v.vars), facts,
                 now, now))
            events.append({"device": dev_id, "kind": "new",
                           "detail": {"address": h.address, "mac": h.mac,
                                      "role": v.role.value, "vendor": v.vendor}})
            if old is not None:
                c.execute("UPDATE discovered_devices SET present = 0, missed = ? WHERE id = ?",
                          (self.gone_after, old["id"]))
                events.append({"device": dev_id, "kind": "changed",
                               "detail": {"what": "mac", "address": h.address,
                                          "from_mac": old["mac"], "to_mac": h.mac,
                                          "previous_device": old["id"]}})
            return dev_id
        dev_id = str(row["id"])
        prev = json.loads(row["previous_addresses"])
        if row["address"] != h.address:
            prev = [a for a in [row["address"], *prev] if a != h.address][:16]
            events.append({"device": dev_id, "kind": "changed",
                           "detail": {"what": "address", "from": row["address"],
                                      "to": h.address, "mac": h.mac}})
        if not row["present"]:
            events.append({"device": dev_id, "kind": "back", "detail": {"address": h.address}})
        was = (row["role"], row["vendor"], row["model"])
        now_is = (v.role.value, v.vendor, v.model)
        if was != now_is and v.rule:
            events.append({"device": dev_id, "kind": "changed",
                           "detail": {"what": "classification", "from": list(was),
                                      "to": list(now_is)}})
        c.execute(
            "UPDATE discovered_devices SET mac = COALESCE(?, mac), engine_id = COALESCE(?, "
            "engine_id), sys_name = COALESCE(?, sys_name), address = ?, previous_addresses = ?, "
            "network = ?, role = ?, vendor = ?, model = ?, rule = ?, evidence = ?, vars = ?, "
            "facts = ?, last_seen = ?, present = 1, missed = 0 WHERE id = ?",
            (h.mac, engine, sys_name, h.address, json.dumps(prev), h.network, *now_is, v.rule,
             json.dumps(v.evidence), json.dumps(v.vars), facts, now, dev_id))
        return dev_id

    def _missed(self, swept: list[ipaddress.IPv4Network], seen: set[str], run_id: str,
                now: float, events: list[dict[str, Any]]) -> None:
        c = self.db.conn
        for r in c.execute("SELECT id, address, missed FROM discovered_devices WHERE "
                           "present = 1").fetchall():
            if r["id"] in seen:
                continue
            ip = ipaddress.IPv4Address(r["address"])
            if not any(ip in n for n in swept):
                continue
            missed = r["missed"] + 1
            gone = missed >= self.gone_after
            c.execute("UPDATE discovered_devices SET missed = ?, present = ? WHERE id = ?",
                      (missed, 0 if gone else 1, r["id"]))
            if gone:
                events.append({"device": r["id"], "kind": "gone",
                               "detail": {"address": r["address"], "missed_sweeps": missed}})
