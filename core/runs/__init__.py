"""Runs: the one door every shell goes through to preview, sync, approve or check.

:class:`SyncService` reads, plans, guards and applies under the run lease;
:class:`Approvals` decides clicks on stored previews; :class:`ScheduledSync` runs the
daily check. The CLI, the Slack listeners and the scheduler job call these and render
what they return.
"""

from core.runs.approvals import Approvals, Decision, DecisionKind
from core.runs.cadence import next_check
from core.runs.causes import FailureCause, cause_fix
from core.runs.connection_check import SKIPPED, CheckStep, ConnectionCheck, check_connection
from core.runs.database import schema_line, schema_of, upgrade_schema_of
from core.runs.explain import MAX_QUERY, People, PersonReport, check_query
from core.runs.monitoring import Monitoring, history_json, monitoring, status_json
from core.runs.person_sync import PersonSync, PersonSyncResult
from core.runs.person_text import (
    explanation_text,
    history_lines,
    not_found_text,
    person_write_json,
    report_json,
)
from core.runs.readiness import database_problem
from core.runs.report import requests_text, run_line, status_text, when
from core.runs.scheduled import (
    SCHEDULER,
    QuarantineAlert,
    ScheduledKind,
    ScheduledOutcome,
    ScheduledSync,
    ScheduleStatus,
)
from core.runs.service import SyncService
from core.runs.values import (
    LeaseLost,
    PreviewResult,
    Review,
    RunInProgress,
    StalePlan,
    StatusReport,
    SyncResult,
)

__all__ = [
    "MAX_QUERY",
    "SCHEDULER",
    "SKIPPED",
    "Approvals",
    "CheckStep",
    "ConnectionCheck",
    "Decision",
    "DecisionKind",
    "FailureCause",
    "LeaseLost",
    "Monitoring",
    "People",
    "PersonReport",
    "PersonSync",
    "PersonSyncResult",
    "PreviewResult",
    "QuarantineAlert",
    "Review",
    "RunInProgress",
    "ScheduleStatus",
    "ScheduledKind",
    "ScheduledOutcome",
    "ScheduledSync",
    "StalePlan",
    "StatusReport",
    "SyncResult",
    "SyncService",
    "cause_fix",
    "check_connection",
    "check_query",
    "database_problem",
    "explanation_text",
    "history_json",
    "history_lines",
    "monitoring",
    "next_check",
    "not_found_text",
    "person_write_json",
    "report_json",
    "requests_text",
    "run_line",
    "schema_line",
    "schema_of",
    "status_json",
    "status_text",
    "upgrade_schema_of",
    "when",
]
