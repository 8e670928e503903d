"""The stored form of a plan: previews saved by earlier releases must load, and the
fingerprint an approval is bound to must never move for the same plan."""

from __future__ import annotations

import json
from typing import Any

from core.sync import Plan
from core.sync.plan import PlanStats, PlanWarning, WarningCode
from tests.test_plan_support import golden_plan

GOLDEN_JSON = (
    '{"creates": [{"entra_user_id": "u-zoe", "label": "Zo\\u00eb \\u00c5ngstr\\u00f6m", '
    '"values": [["Entra User ID", "value of Entra User ID"], ["Name", "value of Name"], '
    '["Email", "value of Email"], ["Job Title", "value of Job Title"], '
    '["Atlassian Account ID", "value of Atlassian Account ID"], ["Jira User", '
    '"value of Jira User"], ["Active", "value of Active"], ["Department", '
    '"value of Department"], ["Manager", "value of Manager"], '
    '["Manager Atlassian Account ID", "value of Manager Atlassian Account ID"]]}, '
    '{"entra_user_id": "u-bo", "label": "Bo", "values": [["Name", "Bo"], ["Job Title", '
    'null], ["Manager", "u-zoe"]]}], "updates": [{"object_id": "101", '
    '"object_key": "ENTRA-9", "entra_user_id": "u-cy", "label": "Cy", '
    '"changes": [{"attr": "Job Title", "before": null, "after": "CTO"}, '
    '{"attr": "Department", "before": "R&D", "after": null}, {"attr": "Manager", '
    '"before": "u-zoe", "after": "u-bo"}]}, {"object_id": "102", "object_key": "ENTRA-10", '
    '"entra_user_id": "u-di", "label": "Di", "changes": []}], '
    '"inactivations": [{"object_id": "200", "object_key": "ENTRA-20", '
    '"entra_user_id": "u-gone-0", "label": "Gone 0", "reason": "Atlassian account inactive", '
    '"changes": [{"attr": "Active", "before": "true", "after": "false"}, {"attr": "Manager", '
    '"before": "u-cy", "after": null}]}, {"object_id": "201", "object_key": "ENTRA-21", '
    '"entra_user_id": "u-gone-1", "label": "Gone 1", '
    '"reason": "Atlassian account no longer exists", "changes": [{"attr": "Active", '
    '"before": "true", "after": "false"}]}, {"object_id": "202", "object_key": "ENTRA-22", '
    '"entra_user_id": "u-gone-2", "label": "Gone 2", "reason": "directory account disabled", '
    '"changes": [{"attr": "Active", "before": "true", "after": "false"}]}, '
    '{"object_id": "203", "object_key": "ENTRA-23", "entra_user_id": "u-gone-3", '
    '"label": "Gone 3", "reason": "directory user deleted or not found", '
    '"changes": [{"attr": "Active", "before": "true", "after": "false"}]}], '
    '"unmatched": [{"account_id": "acc-0", "display_name": "Account 0", "email": null, '
    '"reason": "email hidden by profile visibility", "detail": "detail 0 \\"quoted\\""}, '
    '{"account_id": "acc-1", "display_name": "Account 1", "email": "a1@example.com", '
    '"reason": "no directory user with this email", "detail": ""}, {"account_id": "acc-2", '
    '"display_name": "Account 2", "email": "a2@example.com", '
    '"reason": "several directory users answer to this email", '
    '"detail": "detail 2 \\"quoted\\""}, {"account_id": "acc-3", '
    '"display_name": "Account 3", "email": "a3@example.com", '
    '"reason": "email shared by several Atlassian accounts", "detail": ""}, '
    '{"account_id": "acc-4", "display_name": "Account 4", "email": "a4@example.com", '
    '"reason": "directory user already linked to another Atlassian account", '
    '"detail": "detail 4 \\"quoted\\""}], "missing_managers": [{"entra_user_id": "u-m0", '
    '"label": "Report 0", "manager_id": "mgr-0", "manager_name": "Manager 0", '
    '"reason": "manager has no Atlassian account"}, {"entra_user_id": "u-m1", '
    '"label": "Report 1", "manager_id": "mgr-1", "manager_name": "Manager 1", '
    '"reason": "manager is an organisational contact"}, {"entra_user_id": "u-m2", '
    '"label": "Report 2", "manager_id": "mgr-2", "manager_name": null, '
    '"reason": "manager not found in the directory"}], '
    '"warnings": [{"code": "duplicate_email", "subject": "subject 0", '
    '"message": "message duplicate_email"}, {"code": "case_variant_email", '
    '"subject": "subject 1", "message": "message case_variant_email"}, {"code": "guest", '
    '"subject": "subject 2", "message": "message guest"}, {"code": "duplicate_owned_object", '
    '"subject": "subject 3", "message": "message duplicate_owned_object"}, '
    '{"code": "unowned_object_conflict", "subject": "subject 4", '
    '"message": "message unowned_object_conflict"}, {"code": "manager_cycle", '
    '"subject": "subject 5", "message": "message manager_cycle"}, {"code": "no_mail", '
    '"subject": "subject 6", "message": "message no_mail"}], '
    '"stats": {"atlassian_accounts": 12, "directory_users": 34, "owned_employees": 5}, '
    '"manager_names": [["u-zoe", "Zo\\u00eb \\u00c5ngstr\\u00f6m"], ["u-bo", "Bo"], ["u-cy", '
    '"Cy"]]}'
)
GOLDEN_FINGERPRINT = "2f0beb710ce82e81371ef842a7c13983d8b445bb2b1ede59611201d2f5e95a20"


def test_the_stored_form_is_pinned() -> None:
    """Byte for byte what earlier releases stored; change it and old previews break."""
    assert json.dumps(golden_plan().to_dict()) == GOLDEN_JSON


def test_the_fingerprint_is_pinned() -> None:
    """Approvals are bound to this hash; the same plan must keep it across releases."""
    assert golden_plan().fingerprint == GOLDEN_FINGERPRINT


def test_a_stored_plan_loads_back_equal() -> None:
    plan = golden_plan()
    assert Plan.from_dict(plan.to_dict()) == plan
    assert Plan.from_dict(json.loads(GOLDEN_JSON)) == plan
    assert Plan.from_dict(json.loads(json.dumps(Plan().to_dict()))) == Plan()


def test_a_plan_stored_before_details_stats_and_manager_names_still_loads() -> None:
    """Older previews lack ``detail``, ``stats`` and ``manager_names``: defaults fill them."""
    data: dict[str, Any] = json.loads(GOLDEN_JSON)
    for item in data["unmatched"]:
        del item["detail"]
    del data["stats"]
    del data["manager_names"]
    plan = Plan.from_dict(data)
    assert all(u.detail == "" for u in plan.unmatched)
    assert plan.stats == PlanStats()
    assert plan.manager_names == ()
    assert plan.fingerprint == GOLDEN_FINGERPRINT


def test_every_warning_code_round_trips() -> None:
    """Codes added after the pinned forms were written store and load like the others."""
    warnings = tuple(PlanWarning(code, "someone", "why") for code in WarningCode)
    plan = Plan(warnings=warnings)
    assert Plan.from_dict(plan.to_dict()) == plan
