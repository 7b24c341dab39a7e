from __future__ import annotations

import json
import math

from server_agent.live.bus import LiveBus, Subscriber, sample


def test_publish_buffers_and_fans_out_to_matching_subscribers() -> None:
    bus = LiveBus()
    a, b = Subscriber(), Subscriber()
    a.subscribe(["flypack_probe_*"], {"device": "enc-01"})
    b.subscribe(["*"], {})
    bus.attach(a)
    bus.attach(b)
    bus.publish([
        sample("flypack_probe_rtt_seconds", {"device": "enc-01"}, 0.002, t=1.0),
        sample("flypack_probe_rtt_seconds", {"device": "enc-02"}, 0.003, t=1.0),
        sample("flypack_other", {"device": "enc-01"}, 1.0, t=1.0),
    ])
    got_a = [json.loads(f) for f in a.take()[0]]
    assert [s["labels"]["device"] for s in got_a] == ["enc-01"]
    assert len(b.take()[0]) == 3
    assert len(bus.buffers) == 3


def test_nan_becomes_null_on_the_wire() -> None:
    bus = LiveBus()
    sub = Subscriber()
    sub.subscribe(["*"], {})
    bus.attach(sub)
    bus.publish([sample("x", {}, math.nan, t=1.0)])
    assert json.loads(sub.take()[0][0])["v"] is None


def test_slow_subscriber_drops_oldest_and_counts() -> None:
    bus = LiveBus()
    sub = Subscriber(max_pending=10)
    sub.subscribe(["*"], {})
    bus.attach(sub)
    bus.publish(sample("x", {}, float(i), t=float(i)) for i in range(25))
    samples, _, dropped = sub.take()
    assert dropped == 15
    assert [json.loads(s)["v"] for s in samples] == [float(i) for i in range(15, 25)]
    assert sub.take()[2] == 0  # the count resets once reported


def test_resubscribe_replaces_the_set() -> None:
    bus = LiveBus()
    sub = Subscriber()
    bus.attach(sub)
    sub.subscribe(["a"], {})
    bus.publish([sample("a", {}, 1.0), sample("b", {}, 1.0)])
    sub.subscribe(["b"], {})
    bus.publish([sample("a", {}, 1.0), sample("b", {}, 1.0)])
    names = [json.loads(s)["series"] for s in sub.take()[0]]
    assert names == ["a", "b"]


def test_listener_sees_every_sample_and_events_reach_all_subscribers() -> None:
    bus = LiveBus()
    seen: list[str] = []
    bus.add_sample_listener(lambda s: seen.append(s.series))
    sub = Subscriber()
    bus.attach(sub)
    bus.publish([sample("a", {}, 1.0)])
    bus.publish_event("alarm.raised", {"id": 1})
    assert seen == ["a"]
    ev = json.loads(sub.take()[1][0])
    assert ev["type"] == "event" and ev["kind"] == "alarm.raised" and ev["data"] == {"id": 1}
