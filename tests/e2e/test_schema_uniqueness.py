"""`entra-sync schema` and the uniqueness of Entra User ID, on the sandbox."""

from __future__ import annotations

from typing import Any

import httpx

from core.sandbox import SANDBOX_ATLASSIAN_API_TOKEN, SANDBOX_ATLASSIAN_EMAIL, Sandbox
from tests.e2e.conftest import Runner


def employee_attributes(sandbox: Sandbox) -> dict[str, Any]:
    """The Employee type's attributes by name, read as any Assets client would."""
    base = f"https://api.sandbox.invalid/jsm/assets/workspace/{sandbox.org.workspace_id}/v1"
    auth = (SANDBOX_ATLASSIAN_EMAIL, SANDBOX_ATLASSIAN_API_TOKEN)
    with httpx.Client(transport=sandbox.transport(), auth=auth, base_url=base) as assets:
        schema = next(
            s
            for s in assets.get("objectschema/list").json()["values"]
            if s["objectSchemaKey"] == "ENTRA"
        )
        types = assets.get(f"objectschema/{schema['id']}/objecttypes/flat").json()
        employee = next(t for t in types if t["name"] == "Employee")
        attributes = assets.get(f"objecttype/{employee['id']}/attributes").json()
    return {a["name"]: a for a in attributes}


def test_schema_makes_entra_user_id_unique(configured: Runner, sandbox: Sandbox) -> None:
    result = configured("schema")
    assert result.code == 0, result.err
    assert "note:" not in result.out
    assert employee_attributes(sandbox)["Entra User ID"]["uniqueAttribute"] is True


def test_schema_names_an_entra_user_id_that_is_not_unique_and_leaves_it(
    with_schema: Runner, sandbox: Sandbox
) -> None:
    sandbox.set_unique("Entra User ID", False)
    sandbox.reset_counts()

    result = with_schema("schema")

    assert result.code == 0, result.err
    notes = [line for line in result.out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert "Entra User ID is not unique" in notes[0]
    assert "left as it is" in notes[0]
    assert [m for _, m, _ in sandbox.request_log if m != "GET"] == []  # nothing written
    assert employee_attributes(sandbox)["Entra User ID"]["uniqueAttribute"] is False
