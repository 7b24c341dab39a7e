"""HistoryService: VictoriaMetrics when it answers, the live buffers (and a plain note) otherwise.

The VictoriaMetrics here is a small HTTP stand-in on loopback that records the query; the real
one is exercised in tests/integration/test_history_vm.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from server_agent.config import HistorySection
from server_agent.live.bus import LiveBus, sample
from server_agent.metrics.catalog import MetricDef
from server_agent.metrics.history import HistoryRequestError, HistoryService
from server_agent.runtime import Services
from tests.support import free_port

CAT = {
    "flypack_t_rtt_seconds": MetricDef("flypack_t_rtt_seconds", "gauge", "seconds", "RTT.",
                                       ("flypack", "device"), peaks=True),
}
TAIL = "showing the last 2 min at full rate and 1 h at 1 s"


class StubVM:
    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.status = 200
        self.result: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                u = urlparse(self.path)
                stub.queries.append(parse_qs(u.query))
                body = json.dumps({"status": "success" if stub.status == 200 else "error",
                                   "data": {"resultType": "matrix", "result": stub.result},
                                   "error": "bad query"}).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vm() -> Iterator[StubVM]:
    stub = StubVM()
    yield stub
    stub.close()


def filled_bus() -> LiveBus:
    bus = LiveBus()
    # 10 s at 10 Hz, with one gap, plus another device
    bus.publish(sample("flypack_t_rtt_seconds", {"device": "enc-01"},
                       None if i == 5 else 0.001 * (i % 7), t=1000.0 + i / 10) for i in range(100))
    bus.publish([sample("flypack_t_rtt_seconds", {"device": "enc-02"}, 0.5, t=1005.0)])
    return bus


def service(url: str | None, bus: LiveBus | None = None) -> HistoryService:
    cfg = HistorySection(victoriametrics_url=url, timeout_s=2.0, scrape_interval_s=5.0)
    return HistoryService(cfg, bus or filled_bus(), "fp-a", catalog=CAT)


async def test_no_victoriametrics_answers_from_buffers_with_a_note() -> None:
    h = await service(None).query("flypack_t_rtt_seconds", {"device": "enc-01"},
                                  1000.0, 1200.0, 1.0)
    assert h.source == "buffer"
    assert h.note == ("long history unavailable: VictoriaMetrics not configured "
                      f"([history].victoriametrics_url); {TAIL}")
    assert h.query is None
    [s] = h.series
    assert s.labels == {"device": "enc-01", "flypack": "fp-a"}
    assert len(s.points) == 100 and s.points[5] == (1000.5, None)
    # the answer travels as JSON without NaN
    assert "NaN" not in h.model_dump_json()


async def test_unreachable_victoriametrics_answers_from_buffers() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    h = await service(url).query("flypack_t_rtt_seconds", {}, 1000.0, 1200.0, 1.0)
    assert h.source == "buffer"
    assert h.note == f"long history unavailable: VictoriaMetrics unreachable at {url} " \
                     f"(connection refused); {TAIL}"
    assert {s.labels["device"] for s in h.series} == {"enc-01", "enc-02"}


async def test_victoriametrics_error_answers_from_buffers(vm: StubVM) -> None:
    vm.status = 422
    h = await service(vm.url).query("flypack_t_rtt_seconds", {}, 1000.0, 1200.0, 1.0)
    assert h.source == "buffer"
    assert h.note.startswith(f"long history unavailable: VictoriaMetrics at {vm.url} answered "
                             "with an error (HTTP Status Code 422")
    assert h.note.endswith(TAIL)


async def test_victoriametrics_answer(vm: StubVM) -> None:
    vm.result = [{"metric": {"__name__": "flypack_t_rtt_seconds", "device": 'x"}or vector(1)',
                             "flypack": "fp-a", "job": "flypack-agent",
                             "instance": "127.0.0.1:1"},
                  "values": [[1000, "0.002"], [1005, "NaN"], [1010, "0.003"]]}]
    h = await service(vm.url).query("flypack_t_rtt_seconds", {"device": 'x"}or vector(1)'},
                                    1000.0, 1010.0, 5.0)
    assert h.source == "victoriametrics" and h.note == ""
    assert h.query == 'flypack_t_rtt_seconds{device="x\\"}or vector(1)",flypack="fp-a"}'
    [q] = vm.queries
    assert q["query"] == [h.query]
    assert q["start"] == ["1000"] and q["end"] == ["1010"] and q["step"] == ["5000ms"]
    [s] = h.series
    assert s.labels == {"device": 'x"}or vector(1)', "flypack": "fp-a"}
    assert s.points == [(1000.0, 0.002), (1005.0, None), (1010.0, 0.003)]


async def test_empty_victoriametrics_answer_says_so(vm: StubVM) -> None:
    h = await service(vm.url).query("flypack_t_rtt_seconds_max", {}, 1000.0, 1010.0, 5.0)
    assert h.source == "victoriametrics" and h.series == []
    assert "no data" in h.note
    assert vm.queries[0]["query"] == ['max_over_time(flypack_t_rtt_seconds_max{flypack="fp-a"}'
                                      '[5000ms])']


async def test_peaks_from_buffers_use_the_1s_extremes() -> None:
    bus = LiveBus()
    # 200 s at 10 Hz: the first ~80 s have left the fine buffer and live on as 1 s aggregates
    bus.publish(sample("flypack_t_rtt_seconds", {"device": "d"}, float(i % 10), t=i / 10)
                for i in range(2000))
    svc = service(None, bus)
    mx = (await svc.query("flypack_t_rtt_seconds_max", {}, 0.0, 200.0, 1.0)).series[0].points
    mean = (await svc.query("flypack_t_rtt_seconds", {}, 0.0, 200.0, 1.0)).series[0].points
    mn = (await svc.query("flypack_t_rtt_seconds_min", {}, 0.0, 200.0, 1.0)).series[0].points
    assert mx[0] == (0.0, 9.0) and mean[0] == (0.0, 4.5) and mn[0] == (0.0, 0.0)
    assert len(mx) == len(mean) == len(mn) == 80 + 1201


async def test_invalid_requests_raise() -> None:
    svc = service(None)
    with pytest.raises(HistoryRequestError):
        await svc.query("flypack_nope", {}, 0.0, 10.0, 1.0)
    with pytest.raises(HistoryRequestError):
        await svc.query("flypack_t_rtt_seconds", {"probe": "icmp"}, 0.0, 10.0, 1.0)
    with pytest.raises(HistoryRequestError):
        await svc.query("flypack_t_rtt_seconds", {}, 10.0, 0.0, 1.0)


# --- the HTTP endpoint ---------------------------------------------------------------------


def test_history_endpoint(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    services.bus.publish(sample("flypack_probe_up", {"device": "enc-01", "probe": "tcp:9"},
                                1.0, t=1000.0 + i) for i in range(10))
    h = {"Authorization": f"Bearer {tokens['viewer']}"}
    params: dict[str, Any] = {"series": "flypack_probe_up", "match": ["device=enc-01"],
                              "start": 900, "end": 1100, "step": 1}
    assert client.get("/api/v1/history", params=params).status_code == 401
    r = client.get("/api/v1/history", params=params, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "buffer" and "long history unavailable" in body["note"]
    assert len(body["series"][0]["points"]) == 10
    params["match"] = ['device=x"}or vector(1)']
    r = client.get("/api/v1/history", params=params, headers=h)
    assert r.status_code == 200 and r.json()["series"] == []


@pytest.mark.parametrize(("params", "needle"), [
    ({"series": "flypack_nope"}, "not a known metric"),
    ({"series": "flypack_probe_up", "match": ["nolabel"]}, "match=<label>=<value>"),
    ({"series": "flypack_probe_up", "match": ["stream=x"]}, "has no label"),
    ({"series": "flypack_probe_up", "start": 10, "end": 5}, "before"),
    ({"series": "flypack_probe_up", "start": 0, "end": 100, "step": 0.01}, "at least 0.1"),
    ({"series": "flypack_probe_up", "start": 0, "end": 100000, "step": 1}, "too many"),
    ({"series": "flypack_probe_up", "start": 0, "end": 40 * 86400, "step": 3600}, "31 days"),
    ({"series": "flypack_probe_up", "start": "yesterday"}, "start"),
    ({}, "series"),
])
def test_history_endpoint_refuses_with_422(client: TestClient, tokens: dict[str, str],
                                           params: dict[str, Any], needle: str) -> None:
    r = client.get("/api/v1/history", params=params,
                   headers={"Authorization": f"Bearer {tokens['viewer']}"})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input"
    assert needle in r.json()["detail"]
