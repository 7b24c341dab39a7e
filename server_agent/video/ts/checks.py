"""The TR 101 290 checks flypack counts, their names (design §8) and their settings.

Priority 1                                 Priority 2
  ts_sync_loss          1.1                  transport_error                     2.1
  sync_byte_error       1.2                  crc_error                           2.2
  pat_error             1.3a (PAT_error_2)   pcr_repetition_error                2.3a
  continuity_count_error 1.4                 pcr_discontinuity_indicator_error   2.3b
  pmt_error             1.5a (PMT_error_2)   pcr_accuracy_error                  2.4
  pid_error             1.6                  pts_error                           2.5
                                             cat_error                           2.6

Where the standard has a ``_2`` variant (PAT_error_2, PMT_error_2) the ``_2`` definition is
the one counted. Time-based checks (PAT, PMT, PTS, PID, PCR repetition) measure time on the
stream's own clock: the PCR of the first PCR PID, interpolated by byte position between PCRs
(the same for files and live chunks; arrival jitter does not count). A gap counts one error for
every full limit period it lasts (a PAT gap of 0.7 s -> 1, of 1.2 s -> 2), so a table that
stays away keeps counting. Streams without any PCR get no time-based checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

P1 = ("ts_sync_loss", "sync_byte_error", "pat_error", "continuity_count_error", "pmt_error",
      "pid_error")
P2 = ("transport_error", "crc_error", "pcr_repetition_error",
      "pcr_discontinuity_indicator_error", "pcr_accuracy_error", "pts_error", "cat_error")
COUNTERS = P1 + P2


@dataclass(frozen=True, slots=True)
class Tr101290Settings:
    """Thresholds; the defaults are the standard's, except where it has none (pid_timeout_s)."""

    pat_interval_s: float = 0.5          # PAT_error_2
    pmt_interval_s: float = 0.5          # PMT_error_2
    pcr_repetition_s: float = 0.040      # 40 ms (TR 101 290; ISO 13818-1 and TSDuck use 100 ms)
    pcr_discontinuity_s: float = 0.100   # PCR_discontinuity_indicator_error: 0..100 ms
    pcr_accuracy_ns: float = 500.0       # +-500 ns, CBR streams only, from byte positions
    pts_interval_s: float = 0.700        # PTS_error
    pid_timeout_s: float = 1.0           # PID_error: no default in the standard; flypack's
    sync_acquire: int = 5                # sync bytes in a row to acquire sync
    sync_lose: int = 2                   # corrupted sync bytes in a row to lose it
    ses_errors: int = 10                 # errors of one check in one second -> severely errored


class GapTimer:
    """Counts ``floor(gap / limit)`` errors per gap between occurrences, counting as time
    passes (``tick``) and never twice (``seen`` subtracts what ``tick`` already counted)."""

    __slots__ = ("counted", "last", "limit")

    def __init__(self, limit: float, start: float) -> None:
        self.limit = limit
        self.last = start
        self.counted = 0

    def _due(self, t: float) -> int:
        gap = t - self.last
        return math.floor(gap / self.limit) if gap > self.limit else 0

    def tick(self, t: float) -> int:
        n = self._due(t) - self.counted
        if n > 0:
            self.counted += n
            return n
        return 0

    def seen(self, t: float) -> int:
        n = max(0, self._due(t) - self.counted)
        self.last, self.counted = t, 0
        return n


class SecondsTally:
    """Errored seconds (>= 1 error) and severely errored seconds (>= ``ses_errors``) of one
    check, on the stream clock. A second is judged once a later second has begun."""

    __slots__ = ("es", "open", "ses", "ses_errors")

    def __init__(self, ses_errors: int) -> None:
        self.ses_errors = ses_errors
        self.open: dict[int, int] = {}
        self.es = 0
        self.ses = 0

    def add(self, t: float, n: int = 1) -> None:
        if n > 0:
            s = math.floor(t)
            self.open[s] = self.open.get(s, 0) + n

    def close_before(self, t: float | None) -> None:
        if not self.open:
            return
        cut = math.inf if t is None else math.floor(t)
        for s in [s for s in self.open if s < cut]:
            n = self.open.pop(s)
            self.es += 1
            self.ses += n >= self.ses_errors

    def totals(self) -> tuple[int, int]:
        """(errored, severely errored) seconds, the open second included."""
        es, ses = self.es, self.ses
        for n in self.open.values():
            es += 1
            ses += n >= self.ses_errors
        return es, ses
