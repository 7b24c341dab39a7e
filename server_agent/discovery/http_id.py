"""HTTP identification: the ``Server`` header and the page ``<title>`` of ``GET /``."""

from __future__ import annotations

import asyncio
import html
import re

from server_agent.discovery.model import HttpInfo

HTTP_PORTS = (80, 8080)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
MAX_BYTES = 65536


async def identify_http(address: str, port: int, timeout_s: float = 2.0) -> HttpInfo | None:
    try:
        return await asyncio.wait_for(_fetch(address, port), timeout_s)
    except (OSError, TimeoutError, ValueError):
        return None


async def _fetch(address: str, port: int) -> HttpInfo | None:
    reader, writer = await asyncio.open_connection(address, port)
    try:
        writer.write(f"GET / HTTP/1.0\r\nHost: {address}\r\nUser-Agent: flypack-discovery\r\n"
                     "Accept: text/html\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = b""
        while len(data) < MAX_BYTES:
            chunk = await reader.read(MAX_BYTES - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        writer.close()
    if not data.startswith(b"HTTP/"):
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    server = ""
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"server":
            server = v.strip().decode("latin-1")[:200]
    m = _TITLE.search(body)
    title = html.unescape(" ".join(m.group(1).decode("utf-8", "replace").split()))[:200] if m \
        else ""
    return HttpInfo(port=port, server=server, title=title)
