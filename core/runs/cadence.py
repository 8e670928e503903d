"""When a scheduled sync is due: pure functions of dates, in the team's time zone.

The bot checks once a day at a fixed local time. Whether that check syncs depends on
calendar dates, not elapsed hours: a sync that started at 02:00:00 and one that
started at 02:00:05 are both due again exactly ``cadence_days`` checks later. Elapsed
time would drift by the run's own duration and skip a day every so often.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def is_due(now: datetime, last_success: datetime | None, cadence_days: int, tz: ZoneInfo) -> bool:
    """True when no scheduled sync has succeeded yet, or ``cadence_days`` dates have passed."""
    if last_success is None:
        return True
    return (now.astimezone(tz).date() - last_success.astimezone(tz).date()).days >= cadence_days


def due_date(last_success: datetime | None, cadence_days: int, tz: ZoneInfo) -> date | None:
    """The first local date on which a check syncs again; None when one is due already."""
    if last_success is None:
        return None
    return last_success.astimezone(tz).date() + timedelta(days=cadence_days)


def next_check(now: datetime, check_time: time, tz: ZoneInfo) -> datetime:
    """The next daily check strictly after ``now``, aware in ``tz``.

    Compared in UTC: two datetimes sharing one ``tzinfo`` compare by wall clock,
    which is wrong in the repeated hour when the clocks go back. A check time that
    does not exist on a spring-forward day resolves as ``zoneinfo`` does (fold 0),
    which lands an hour later on the wall clock: a late check, never a skipped one.
    """
    local = now.astimezone(tz)
    for offset in range(3):
        day = local.date() + timedelta(days=offset)
        candidate = datetime.combine(day, check_time, tzinfo=tz)
        if candidate.astimezone(UTC) > now.astimezone(UTC):
            return candidate
    raise AssertionError("unreachable: a daily time recurs within two days")  # pragma: no cover


def previous_check(now: datetime, check_time: time, tz: ZoneInfo) -> datetime:
    """The latest daily check at or before ``now``, aware in ``tz``: which check a run is.

    A check fired late (a busy host, a catch-up at start-up) still belongs to the check
    time before it, so every process names one check alike.
    """
    local = now.astimezone(tz)
    for offset in range(3):
        day = local.date() - timedelta(days=offset)
        candidate = datetime.combine(day, check_time, tzinfo=tz)
        if candidate.astimezone(UTC) <= now.astimezone(UTC):
            return candidate
    raise AssertionError("unreachable: a daily time recurs within two days")  # pragma: no cover


def days_ago(now: datetime, then: datetime, tz: ZoneInfo) -> int:
    """Whole calendar days between two moments, as the team's calendar counts them."""
    return (now.astimezone(tz).date() - then.astimezone(tz).date()).days
