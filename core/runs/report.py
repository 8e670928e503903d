"""Plain-text renderings of runs: one line a run, the status page, request counts.

Pure functions from the store's views to strings, shared by the CLI and the bot.
"""

from __future__ import annotations

from datetime import datetime

from core.runs.values import StatusReport
from core.store import RunView
from core.sync import printable
from core.version import DISTRIBUTION


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def requests_text(requests: dict[str, int]) -> str:
    total = sum(requests.values())
    parts = ", ".join(f"{service} {count}" for service, count in sorted(requests.items()))
    return f"{total} requests ({parts})" if parts else "0 requests"


def status_text(report: StatusReport) -> str:
    """The status page: connection, last syncs, current run, recent history."""
    conn = report.connection
    lines = [
        f"Version: {DISTRIBUTION} {report.version}",
        "Connection: "
        + (
            f"tenant {conn.tenant_id}, client {conn.client_id}, every {conn.cadence_days} days"
            if conn
            else "not configured"
        ),
        f"Last manual sync:    {run_line(report.last_manual)}",
        f"Last scheduled sync: {run_line(report.last_scheduled)}",
        "Current run:         " + (", ".join(run_line(r) for r in report.running) or "none"),
        "Recent runs:",
        *[f"  {run_line(r)}" for r in report.recent],
    ]
    return "\n".join(lines)


def run_line(run: RunView | None) -> str:
    if run is None:
        return "never"
    counts = ", ".join(f"{k} {v}" for k, v in (run.counts or {}).items() if v)
    error = f" error: {run.error}" if run.error else ""
    return printable(
        f"#{run.id} {run.kind.value} {run.status.value} at {when(run.started_at)} "
        f"by {run.requested_by}" + (f" [{counts}]" if counts else "") + error
    )
