"""Cadence: calendar-date arithmetic in the team's time zone, and the next daily check."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.runs.cadence import days_ago, due_date, is_due, next_check, previous_check

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LAST = datetime(2026, 11, 20, 2, 0, 5, tzinfo=UTC)  # finished a few seconds after the check


def test_due_when_nothing_has_succeeded_yet() -> None:
    assert is_due(LAST, None, 100, UTC_ZONE)
    assert due_date(None, 7, UTC_ZONE) is None


@pytest.mark.parametrize("cadence", [1, 7, 100])
def test_due_exactly_cadence_checks_later_and_not_the_day_before(cadence: int) -> None:
    """Dates, not hours: the check at 02:00:00 is due although 02:00:05 came N days before."""
    check = datetime(2026, 11, 20, 2, 0, tzinfo=UTC) + timedelta(days=cadence)
    assert is_due(check, LAST, cadence, UTC_ZONE)
    assert not is_due(check - timedelta(days=1), LAST, cadence, UTC_ZONE)
    assert due_date(LAST, cadence, UTC_ZONE) == check.date()


def test_never_due_on_the_same_day_with_cadence_one() -> None:
    assert not is_due(LAST.replace(hour=23, minute=59), LAST, 1, UTC_ZONE)


def test_dates_are_counted_in_the_team_time_zone() -> None:
    """23:30 UTC is already tomorrow in Berlin: a daily cadence is due at Berlin's 02:00."""
    last = datetime(2026, 6, 1, 0, 30, tzinfo=UTC)  # 02:30 on June 1 in Berlin
    check = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 01:30 on June 2 in Berlin
    assert is_due(check, last, 1, BERLIN)
    assert not is_due(check, last, 1, UTC_ZONE)  # the same day in UTC
    assert days_ago(check, last, BERLIN) == 1


def test_next_check_later_today_or_tomorrow() -> None:
    before = datetime(2026, 11, 20, 1, 59, tzinfo=UTC)
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert next_check(before, time(2, 0), UTC_ZONE) == at
    assert next_check(at, time(2, 0), UTC_ZONE) == at + timedelta(days=1)  # strictly after


def test_next_check_across_midnight_and_the_year() -> None:
    now = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)
    assert next_check(now, time(0, 0), UTC_ZONE) == datetime(2027, 1, 1, tzinfo=UTC)


def test_next_check_is_aware_in_the_team_zone() -> None:
    found = next_check(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), time(2, 0), BERLIN)
    assert found.tzinfo is BERLIN
    assert found.astimezone(UTC) == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # CET, UTC+1


def test_next_check_when_the_clocks_go_forward() -> None:
    """02:30 does not exist on 8 March 2026 in New York: the check runs an hour later."""
    now = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    found = next_check(now, time(2, 30), NEW_YORK)
    assert found.astimezone(UTC) > now
    assert found.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    after = next_check(found.astimezone(UTC), time(2, 30), NEW_YORK)
    assert after.astimezone(UTC) == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)  # 02:30 EDT


def test_next_check_when_the_clocks_go_back() -> None:
    """01:30 happens twice on 1 November 2026 in New York: the check runs once, first."""
    now = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT
    first = next_check(now, time(1, 30), NEW_YORK)
    assert first.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    # In the repeated hour (01:10 EST, after the first 01:30) the next one is tomorrow.
    repeated = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    found = next_check(repeated, time(1, 30), NEW_YORK)
    assert found.astimezone(UTC) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_previous_check_names_the_check_a_late_run_belongs_to() -> None:
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert previous_check(at, time(2, 0), UTC_ZONE) == at  # at or before
    assert previous_check(at + timedelta(hours=13), time(2, 0), UTC_ZONE) == at
    assert previous_check(at - timedelta(seconds=1), time(2, 0), UTC_ZONE) == at - timedelta(days=1)
    late = previous_check(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), time(2, 0), BERLIN)
    assert late.tzinfo == BERLIN and late.astimezone(UTC) == datetime(
        2026, 11, 20, 1, 0, tzinfo=UTC
    )
