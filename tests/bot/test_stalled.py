"""Stalled connections neither hold up a signed command nor stay open past the timeouts.

The same measurement as ``make stalled`` (:mod:`tests.stalled`), with fewer
connections and short timeouts so it runs in seconds.
"""

from __future__ import annotations

import pytest

from bot.server import HttpLimits
from tests.stalled import measure

STALLED = 150
LIMITS = HttpLimits(read_timeout=1.5, keepalive_timeout=2, check_interval=1)


@pytest.mark.no_cover
def test_stalled_connections_cost_no_threads_and_are_closed_after_the_timeouts() -> None:
    figures = measure(STALLED, LIMITS, wait_limit=15)

    assert figures.status == 200
    assert figures.latency < 1.0
    assert figures.threads_stalled == figures.threads_before  # a socket each, not a thread
    assert figures.closed == STALLED
    # Half-sent requests go at the read deadline, silent ones at the keep-alive timeout,
    # each within one check interval (plus scheduling slack on a busy machine).
    assert figures.first_close >= LIMITS.read_timeout - 0.2
    assert figures.last_close <= LIMITS.keepalive_timeout + LIMITS.check_interval + 1.5
