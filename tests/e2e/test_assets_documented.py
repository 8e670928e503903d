"""Assets as its documentation describes it, end to end on the sandbox.

* ``objectschema/list`` answers in pages: a site with more schemas than one page holds
  must still find schema ENTRA.
* ``config/referencetype`` lists only global types unless asked for a schema's: the
  Manager's "Reports to" is made in schema ENTRA, once.
* A User attribute reads back without ``value``: the account id is the ``searchValue``
  and the ``user`` object's ``key`` is a Jira user key. A second run rewrites nothing.
* An Entra User ID typed over by hand (not a GUID) is a warning on that Employee, which
  is left as it is (Graph would answer for it as for a deleted user); the run goes on.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.sandbox import SANDBOX_ATLASSIAN_API_TOKEN, SANDBOX_ATLASSIAN_EMAIL, Sandbox

from .conftest import Runner
from .test_cli_flow import writes


def assets(sandbox: Sandbox) -> httpx.Client:
    """A client on the sandbox's Assets workspace, as a person with a token has."""
    base = f"https://api.sandbox.invalid/jsm/assets/workspace/{sandbox.org.workspace_id}/v1/"
    auth = (SANDBOX_ATLASSIAN_EMAIL, SANDBOX_ATLASSIAN_API_TOKEN)
    return httpx.Client(transport=sandbox.transport(), auth=auth, base_url=base)


def entra_schema(client: httpx.Client) -> dict[str, Any]:
    schemas = client.get("objectschema/list").json()["values"]
    return next(s for s in schemas if s["objectSchemaKey"] == "ENTRA")


def employee_attribute(client: httpx.Client, name: str) -> dict[str, Any]:
    schema = entra_schema(client)
    types = client.get(f"objectschema/{schema['id']}/objecttypes/flat").json()
    employee = next(t for t in types if t["name"] == "Employee")
    attributes = client.get(f"objecttype/{employee['id']}/attributes").json()
    return next(a for a in attributes if a["name"] == name)


def crowd(sandbox: Sandbox, count: int) -> None:
    """Other teams' schemas, made before ours, so ENTRA lands on a later page."""
    for number in range(count):
        sandbox.create_foreign_schema(name=f"Team {number}", key=f"TEAM{number}")


def test_schema_on_a_later_page_is_found_not_created_again(
    configured: Runner, sandbox: Sandbox
) -> None:
    sandbox.limit_schema_pages(2)
    crowd(sandbox, 3)
    first = configured("schema")
    assert first.code == 0, first.err
    assert "schema Entra Directory (ENTRA)" in first.out
    sandbox.request_log.clear()

    second = configured("schema")

    assert second.code == 0, second.err
    assert "nothing to add" in second.out
    assert writes(sandbox) == []
    pages = [p for _, m, p in sandbox.request_log if p.endswith("/objectschema/list")]
    assert len(pages) == 2  # four schemas, two a page
    preview = configured("preview", "--json")
    assert preview.code == 0, preview.err
    assert preview.json()["counts"]["creates"] > 0


def test_reports_to_is_made_in_the_schema_not_globally(
    with_schema: Runner, sandbox: Sandbox
) -> None:
    with assets(sandbox) as client:
        schema_id = entra_schema(client)["id"]
        manager = employee_attribute(client, "Manager")
        global_types = client.get("config/referencetype").json()
        own = client.get("config/referencetype", params={"objectSchemaId": schema_id}).json()

    assert manager["referenceType"]["name"] == "Reports to"
    assert manager["referenceType"]["objectSchemaId"] == schema_id
    assert [r["name"] for r in own] == ["Reports to"]
    assert "Reports to" not in [r["name"] for r in global_types]


def test_the_schemas_own_reports_to_is_used_and_not_made_again(
    configured: Runner, sandbox: Sandbox
) -> None:
    """A schema begun earlier (by a person, or a run cut short) that already has its own
    "Reports to": Manager refers to it, and no second one is made."""
    with assets(sandbox) as client:
        schema = client.post(
            "objectschema/create", json={"name": "Entra Directory", "objectSchemaKey": "ENTRA"}
        ).json()
        body = {"name": "Reports to", "objectSchemaId": schema["id"]}
        made = client.post("config/referencetype", json=body).json()

    result = configured("schema")

    assert result.code == 0, result.err
    with assets(sandbox) as client:
        manager = employee_attribute(client, "Manager")
        every = client.get("config/referencetype", params={"includeAll": "true"}).json()
    assert manager["referenceType"]["id"] == made["id"]
    assert [r["name"] for r in every].count("Reports to") == 1


def test_a_second_run_reads_every_jira_user_back_and_plans_no_update(
    with_schema: Runner, sandbox: Sandbox
) -> None:
    first = with_schema("sync", "--yes")
    assert first.code == 0, first.err
    with assets(sandbox) as client:
        jira_user = employee_attribute(client, "Jira User")
        page = client.post("object/aql", json={"qlQuery": 'objectType = "Employee"'}).json()
    read = [
        item
        for obj in page["values"]
        for attribute in obj["attributes"]
        if attribute["objectTypeAttributeId"] == jira_user["id"]
        for item in attribute["objectAttributeValues"]
    ]
    assert read and all("value" not in item for item in read)  # the documented read shape

    again = with_schema("preview", "--json")

    assert again.code == 0, again.err
    assert again.json()["counts"]["updates"] == 0


def type_over_entra_user_id(sandbox: Sandbox, object_key: str, value: str) -> None:
    """What a person editing the Employee in Assets does."""
    employee = next(e for e in sandbox.employees() if e["objectKey"] == object_key)
    with assets(sandbox) as client:
        attribute = employee_attribute(client, "Entra User ID")
        body = {
            "objectTypeId": employee["objectTypeId"],
            "attributes": [
                {
                    "objectTypeAttributeId": attribute["id"],
                    "objectAttributeValues": [{"value": value}],
                }
            ],
        }
        assert client.put(f"object/{employee['id']}", json=body).status_code == 200


def test_an_entra_user_id_typed_over_is_a_warning_and_the_rest_syncs(
    with_schema: Runner, sandbox: Sandbox
) -> None:
    assert with_schema("sync", "--yes").code == 0
    employees = {e["objectKey"]: e["attributes"] for e in sandbox.employees()}
    key = min(str(a["Manager"]) for a in employees.values() if a.get("Manager"))
    other = max(k for k in employees if k != key)  # someone else, whose title changes
    type_over_entra_user_id(sandbox, key, "not-a-guid")
    sandbox.set_job_title(str(employees[other]["Entra User ID"]), "Chief Example Officer")
    before = {e["objectKey"]: e["attributes"] for e in sandbox.employees()}

    preview = with_schema("preview", "--json")

    assert preview.code == 0, preview.err
    body = preview.json()
    assert body["counts"]["creates"] == body["counts"]["inactivations"] == 0
    (update,) = body["plan"]["updates"]
    assert update["object_key"] == other
    (warning,) = [w for w in body["plan"]["warnings"] if w["code"] == "unusable_entra_user_id"]
    assert f"Employee {key} has Entra User ID 'not-a-guid'" in warning["message"]
    synced = with_schema("sync", "--yes")
    assert synced.code == 0, synced.err
    after = {e["objectKey"]: e["attributes"] for e in sandbox.employees()}
    assert after[other]["Job Title"] == "Chief Example Officer"
    del after[other], before[other]
    assert after == before  # the Employee, and every Manager pointing to it, untouched
