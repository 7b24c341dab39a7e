from __future__ import annotations

import pytest
from pydantic import ValidationError

from server_agent.contract import SimFault, SimTsErrors
from server_agent.sim.faults import FaultBook, FaultError


def book() -> FaultBook:
    return FaultBook(["enc-01", "ep-001"], streaming=["enc-01"])


def test_set_get_clear() -> None:
    fb = book()
    seen: list[int] = []
    fb.on_change(lambda: seen.append(1))
    fb.set("enc-01", SimFault(latency_ms=20, loss_ratio=0.1))
    assert fb.get("enc-01").latency_ms == 20 and [s.device for s in fb.active()] == ["enc-01"]
    fb.set("enc-01", SimFault())  # an empty fault clears
    assert fb.active() == []
    fb.set("ep-001", SimFault(down=True))
    fb.clear()
    assert fb.active() == [] and len(seen) == 4


def test_unknown_device_and_ts_errors_without_stream() -> None:
    fb = book()
    with pytest.raises(FaultError) as e:
        fb.set("enc-99", SimFault(down=True))
    assert e.value.status == 404 and "enc-99" in str(e.value)
    with pytest.raises(FaultError) as e:
        fb.set("ep-001", SimFault(ts_errors=SimTsErrors(drop_per_s=5)))
    assert e.value.status == 422 and "no stream" in str(e.value)
    with pytest.raises(FaultError):
        fb.clear("nope")


@pytest.mark.parametrize("body", [
    {"loss_ratio": 1.5}, {"loss_ratio": -0.1}, {"latency_ms": -1}, {"latency_ms": 1e9},
    {"latency_ms": float("nan")}, {"down": "maybe"}, {"ts_errors": {"drop_per_s": -3}},
    {"ts_errors": {"bogus": 1}}, {"speed": 3},
])
def test_bad_values_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimFault.model_validate(body)


def test_loss_and_down_decide_each_packet() -> None:
    fb = book()
    assert not fb.lost("enc-01")
    fb.set("enc-01", SimFault(loss_ratio=1.0))
    assert fb.lost("enc-01")
    fb.set("enc-01", SimFault(loss_ratio=0.5))
    fb.rng.seed(1)
    share = sum(fb.lost("enc-01") for _ in range(2000)) / 2000
    assert 0.4 < share < 0.6
    fb.set("enc-01", SimFault(down=True))
    assert all(fb.lost("enc-01") for _ in range(10))
