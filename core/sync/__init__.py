"""The sync engine proper: values, matching, the pure planner, guard rails and the applier.

No I/O here. Clients hand in frozen values (:mod:`core.sync.models`), the planner
returns a :class:`Plan`, :func:`hold_reasons` says whether it may apply unattended, and
:func:`apply_plan` writes it through a writer the caller supplies.
"""

from core.sync.applier import ApplyResult, apply_plan
from core.sync.guard import GuardPolicy, SourceCounts, hold_reasons, incomplete_read_reason
from core.sync.matching import object_key_order, owned_keys
from core.sync.models import (
    GRAPH_CONTACT_TYPE,
    GRAPH_USER_TYPE,
    OBJECT_TYPE_NAME,
    SCHEMA_KEY,
    SCHEMA_NAME,
    AtlassianAccount,
    Attr,
    AttributeValues,
    DirectoryUser,
    EmployeeRecord,
    ManagerRef,
    employee_record,
    is_directory_object_id,
)
from core.sync.plan import (
    Create,
    FieldChange,
    Inactivation,
    MissingManager,
    Plan,
    PlanWarning,
    Unmatched,
    Update,
)
from core.sync.planner import SyncPolicy, build_plan
from core.sync.report import failures_text, plan_csv, plan_text, printable
from core.sync.results import ChangeKind, ChangeOutcome, OutcomeStatus
from core.sync.sections import (
    CREATES,
    INACTIVATIONS,
    MISSING_MANAGERS,
    SECTIONS,
    UNMATCHED,
    UPDATES,
    WARNINGS,
    WRITE_SECTIONS,
    Section,
)

__all__ = [
    "CREATES",
    "GRAPH_CONTACT_TYPE",
    "GRAPH_USER_TYPE",
    "INACTIVATIONS",
    "MISSING_MANAGERS",
    "OBJECT_TYPE_NAME",
    "SCHEMA_KEY",
    "SCHEMA_NAME",
    "SECTIONS",
    "UNMATCHED",
    "UPDATES",
    "WARNINGS",
    "WRITE_SECTIONS",
    "ApplyResult",
    "AtlassianAccount",
    "Attr",
    "AttributeValues",
    "ChangeKind",
    "ChangeOutcome",
    "Create",
    "DirectoryUser",
    "EmployeeRecord",
    "FieldChange",
    "GuardPolicy",
    "Inactivation",
    "ManagerRef",
    "MissingManager",
    "OutcomeStatus",
    "Plan",
    "PlanWarning",
    "Section",
    "SourceCounts",
    "SyncPolicy",
    "Unmatched",
    "Update",
    "apply_plan",
    "build_plan",
    "employee_record",
    "failures_text",
    "hold_reasons",
    "incomplete_read_reason",
    "is_directory_object_id",
    "object_key_order",
    "owned_keys",
    "plan_csv",
    "plan_text",
    "printable",
]
