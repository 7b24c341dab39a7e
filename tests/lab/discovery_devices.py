"""Lab devices: real snmpd per device type, an mDNS NMOS node, an HTTP and a TCP-only host."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from tests.lab.netns import Lab

SNMP_KINDS = {
    "encoder": ("Haivision Makito X4 H.264/HEVC video encoder, firmware 1.9.0-31",
                "1.3.6.1.4.1.20308.1.14"),
    "router": ("Cisco IOS XE Software, ASR920 Software (ppc_linux_iosd), Version 17.9.4a",
               "1.3.6.1.4.1.9.1.2278"),
    "switch": ("Arista Networks EOS version 4.31.2F running on an Arista DCS-7020TR-48",
               "1.3.6.1.4.1.30065.1.3011.7020.3736.48"),
}
LLDP = "1.3.6.1.0.8802.1.1.2.1.4.1.1"


def start_snmpd(lab: Lab, short: str, kind: str, sys_name: str, tmp: Path,
                lldp_neighbour: str | None = None) -> None:
    descr, oid = SNMP_KINDS[kind]
    d = tmp / f"snmpd-{short}"
    d.mkdir(parents=True, exist_ok=True)
    conf = [
        "agentaddress udp:161", "rocommunity labcomm default", f"sysdescr {descr}",
        f"sysobjectid {oid}", f"sysname {sys_name}", "syslocation lab rack 1",
    ]
    if lldp_neighbour:
        conf += [f'override {LLDP}.5.0.3.1 octet_str "02:00:00:00:00:99"',
                 f'override {LLDP}.7.0.3.1 octet_str "Ethernet3"',
                 f'override {LLDP}.9.0.3.1 octet_str "{lldp_neighbour}"']
    (d / "snmpd.conf").write_text("\n".join(conf) + "\n")
    lab.spawn(short, ["snmpd", "-f", "-C", "-c", str(d / "snmpd.conf"), "-Lf",
                      str(d / "snmpd.log"), "-p", str(d / "snmpd.pid")],
              env={"MIBS": "", "MIBDIRS": "/nonexistent", "SNMP_PERSISTENT_DIR": str(d / "p")})


NMOS_RESPONDER = textwrap.dedent('''
    import socket, sys, time
    from zeroconf import ServiceInfo, Zeroconf, IPVersion
    addr = sys.argv[1]
    zc = Zeroconf(interfaces=[addr], ip_version=IPVersion.V4Only)
    info = ServiceInfo("_nmos-node._tcp.local.", "lab-nmos-node._nmos-node._tcp.local.",
                       addresses=[socket.inet_aton(addr)], port=80,
                       properties={"api_proto": "http", "api_ver": "v1.3", "pri": "100"},
                       server="lab-nmos-node.local.")
    zc.register_service(info)
    time.sleep(float(sys.argv[2]))  # bounded: the test's lifetime at most
    zc.unregister_service(info)
    zc.close()
''')


def start_nmos_node(lab: Lab, short: str, address: str, tmp: Path) -> None:
    script = tmp / "nmos_node.py"
    script.write_text(NMOS_RESPONDER)
    lab.spawn(short, [sys.executable, str(script), address, "300"], log=tmp / "nmos.log")


HTTP_SERVER = textwrap.dedent('''
    import sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    class H(BaseHTTPRequestHandler):
        server_version = "Kiloview-Web/2.1"
        sys_version = ""
        def do_GET(self):
            body = b"<html><head><title>Kiloview D350 Decoder</title></head></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    HTTPServer((sys.argv[1], 80), H).serve_forever()
''')

TCP_LISTENER = textwrap.dedent('''
    import socket, sys, time
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64); s.settimeout(1.0)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            c, _ = s.accept(); c.close()
        except OSError:
            pass
''')


def start_http(lab: Lab, short: str, address: str, tmp: Path) -> None:
    script = tmp / "http_dev.py"
    script.write_text(HTTP_SERVER)
    lab.spawn(short, [sys.executable, str(script), address], log=tmp / "http.log")


def start_tcp_listener(lab: Lab, short: str, address: str, port: int, tmp: Path) -> None:
    script = tmp / "tcp_only.py"
    script.write_text(TCP_LISTENER)
    lab.spawn(short, [sys.executable, str(script), address, str(port)], log=tmp / "tcp.log")
