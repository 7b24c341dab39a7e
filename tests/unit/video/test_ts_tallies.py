"""TR 101 290's counting helpers on their own (found alive by `make mutants`): GapTimer's
errors per gap (a gap of exactly the limit is no error), and SecondsTally's errored and
severely errored seconds (a second is judged once a later one began)."""

from __future__ import annotations

from server_agent.video.ts.checks import GapTimer, SecondsTally


def test_a_gap_counts_one_error_per_whole_limit_past_it_never_twice() -> None:
    g = GapTimer(0.5, start=0.0)
    assert g.tick(0.4) == 0
    assert g.tick(0.5) == 0  # exactly the limit: on time
    assert g.tick(0.6) == 1  # late: one error, counted as time passes
    assert g.tick(0.9) == 0  # still the same one
    assert g.tick(1.0) == 1  # two whole limits: the second error
    assert g.seen(1.3) == 0  # the table came: nothing more than tick counted
    assert g.tick(1.7) == 0
    assert g.seen(2.0) == 1  # 0.7 s since 1.3: one error, counted at sight


def test_a_fresh_timer_counts_the_first_gap_in_full() -> None:
    assert GapTimer(0.5, start=10.0).seen(11.2) == 2


def test_errored_and_severely_errored_seconds() -> None:
    t = SecondsTally(ses_errors=10)
    t.add(0.5, 0)  # no errors: no errored second
    assert t.totals() == (0, 0)
    t.add(1.1, 4)
    t.add(1.2, 5)  # 9 in second 1: errored, not severely
    t.add(2.1, 4)
    t.add(2.9, 6)  # 10 in second 2: severely errored
    t.add(3.0, 1)  # second 3 is still open
    t.close_before(3.5)
    assert (t.es, t.ses) == (2, 1)  # seconds 1 and 2 judged, 3 not yet
    assert t.totals() == (3, 1)  # the open second included
    t.add(4.0, 1)
    t.close_before(None)  # the end: every second judged
    assert (t.es, t.ses, t.open) == (4, 1, {})
    assert t.totals() == (4, 1)


def test_closing_with_nothing_open_changes_nothing() -> None:
    t = SecondsTally(ses_errors=1)
    t.close_before(5.0)
    assert (t.es, t.ses) == (0, 0)
    t.add(5.5, 1)
    t.close_before(5.9)  # the same second: still open
    assert (t.es, t.ses, t.totals()) == (0, 0, (1, 1))


def test_one_error_by_default() -> None:
    t = SecondsTally(ses_errors=2)
    t.add(7.0)
    assert t.totals() == (1, 0)
    t.add(7.5)
    assert t.totals() == (1, 1)
