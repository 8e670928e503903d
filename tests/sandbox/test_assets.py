"""Assets: schema bootstrap, AQL paging and write validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.sandbox import Sandbox
from core.sandbox.http import HttpError
from tests.sandbox.conftest import API


class Workspace:
    """Small helper speaking to one sandbox workspace."""

    def __init__(self, site: httpx.Client, sandbox: Sandbox) -> None:
        self.site = site
        self.sandbox = sandbox
        self.base = f"{API}/jsm/assets/workspace/{sandbox.org.workspace_id}/v1"

    def post(self, path: str, body: dict[str, Any], **params: Any) -> httpx.Response:
        return self.site.post(f"{self.base}/{path}", json=body, params=params)

    def get(self, path: str) -> httpx.Response:
        return self.site.get(f"{self.base}/{path}")

    def employee_type(self) -> tuple[str, dict[str, str]]:
        """Schema ENTRA with an Employee type; returns its id and attribute ids by name."""
        schema = self.post(
            "objectschema/create", {"name": "Entra Directory", "objectSchemaKey": "ENTRA"}
        ).json()
        icon = next(i for i in self.get("icon/global").json() if i["name"] == "User")
        kind = self.post(
            "objecttype/create",
            {"name": "Employee", "iconId": icon["id"], "objectSchemaId": schema["id"]},
        ).json()
        reference = next(r for r in self.get("config/referencetype").json())
        for body in (
            {"name": "Entra User ID", "type": 0, "defaultTypeId": 0, "uniqueAttribute": True},
            {"name": "Email", "type": 0, "defaultTypeId": 8},
            {"name": "Active", "type": 0, "defaultTypeId": 2},
            {"name": "Jira User", "type": 2, "additionalValue": "SHOW_PROFILE"},
            {"name": "Manager", "type": 1, "typeValue": kind["id"],
             "additionalValue": reference["id"]},
        ):  # fmt: skip
            response = self.post(f"objecttypeattribute/{kind['id']}", body)
            assert response.status_code == 201, response.text
        attributes = self.get(f"objecttype/{kind['id']}/attributes").json()
        return kind["id"], {a["name"]: a["id"] for a in attributes}

    def create(self, type_id: str, values: dict[str, list[str]]) -> httpx.Response:
        return self.post("object/create", {"objectTypeId": type_id, "attributes": _attrs(values)})


def _attrs(values: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"objectTypeAttributeId": attr_id, "objectAttributeValues": [{"value": v} for v in vals]}
        for attr_id, vals in values.items()
    ]


@pytest.fixture
def ws(site: httpx.Client, sandbox: Sandbox) -> Workspace:
    return Workspace(site, sandbox)


def test_object_type_gets_system_attributes(ws: Workspace) -> None:
    type_id, _ = ws.employee_type()
    attributes = {a["name"]: a for a in ws.get(f"objecttype/{type_id}/attributes").json()}
    assert list(attributes)[:4] == ["Key", "Name", "Created", "Updated"]
    assert attributes["Key"]["system"] is True
    assert attributes["Name"]["label"] is True
    assert attributes["Name"]["minimumCardinality"] == 1
    assert attributes["Name"]["defaultType"] == {"id": 0, "name": "Text"}
    assert attributes["Manager"]["referenceObjectTypeId"] == type_id
    assert attributes["Manager"]["referenceType"]["name"]
    assert attributes["Entra User ID"]["uniqueAttribute"] is True
    schemas = ws.get("objectschema/list").json()
    assert schemas["values"][0]["objectSchemaKey"] == "ENTRA"
    assert schemas["values"][0]["objectTypeCount"] == 1
    flat = ws.get(f"objectschema/{schemas['values'][0]['id']}/objecttypes/flat").json()
    assert [t["name"] for t in flat] == ["Employee"]


def test_schema_list_pages_and_caps_the_page_size(ws: Workspace, sandbox: Sandbox) -> None:
    sandbox.limit_schema_pages(2)
    for number in range(3):
        sandbox.create_foreign_schema(name=f"Team {number}", key=f"TEAM{number}")
    first = ws.site.get(f"{ws.base}/objectschema/list", params={"maxResults": 1000}).json()
    assert [s["objectSchemaKey"] for s in first["values"]] == ["TEAM0", "TEAM1"]
    assert (first["maxResults"], first["total"], first["isLast"]) == (2, 3, False)
    rest = ws.site.get(f"{ws.base}/objectschema/list", params={"startAt": 2}).json()
    assert [s["objectSchemaKey"] for s in rest["values"]] == ["TEAM2"]
    assert rest["isLast"] is True
    bad = ws.site.get(f"{ws.base}/objectschema/list", params={"startAt": "x"})
    assert bad.status_code == 400


def test_schema_and_type_refusals(ws: Workspace, sandbox: Sandbox) -> None:
    sandbox.create_foreign_schema()
    taken = ws.post("objectschema/create", {"name": "Entra Directory", "objectSchemaKey": "ENTRA"})
    assert taken.status_code == 400
    assert "objectSchemaKey" in taken.json()["errors"]
    schema_id = ws.get("objectschema/list").json()["values"][0]["id"]
    no_icon = ws.post("objecttype/create", {"name": "Employee", "objectSchemaId": schema_id})
    assert no_icon.status_code == 400
    assert "iconId" in no_icon.json()["errors"]


def test_duplicate_attribute_and_bad_reference_definition(ws: Workspace) -> None:
    type_id, _ = ws.employee_type()
    duplicate = ws.post(f"objecttypeattribute/{type_id}", {"name": "email", "type": 0,
                                                          "defaultTypeId": 0})  # fmt: skip
    assert duplicate.status_code == 400
    no_ref_type = ws.post(f"objecttypeattribute/{type_id}", {"name": "Boss", "type": 1,
                                                            "typeValue": type_id})  # fmt: skip
    assert no_ref_type.status_code == 400


def test_reference_types_global_unless_the_schema_is_named(ws: Workspace) -> None:
    ws.employee_type()
    schema_id = ws.get("objectschema/list").json()["values"][0]["id"]
    own = ws.post("config/referencetype", {"name": "Reports to", "objectSchemaId": schema_id})
    assert own.status_code == 201
    assert own.json()["objectSchemaId"] == schema_id
    global_names = [r["name"] for r in ws.get("config/referencetype").json()]
    assert global_names == ["Dependency", "Reference", "Link"]
    scoped = ws.site.get(f"{ws.base}/config/referencetype", params={"objectSchemaId": schema_id})
    assert [r["name"] for r in scoped.json()] == ["Reports to"]
    every = ws.site.get(f"{ws.base}/config/referencetype", params={"includeAll": "true"})
    assert len(every.json()) == 4
    again = ws.post("config/referencetype", {"name": "reports TO", "objectSchemaId": schema_id})
    assert again.status_code == 400  # one name per schema ...
    assert (
        ws.post("config/referencetype", {"name": "Reports to"}).status_code == 201
    )  # ... or globally
    unknown = ws.post("config/referencetype", {"name": "X", "objectSchemaId": "999"})
    assert unknown.status_code == 400


def test_a_reference_may_use_a_global_type_or_its_schemas_own(ws: Workspace) -> None:
    type_id, _ = ws.employee_type()
    other = ws.post("objectschema/create", {"name": "Other", "objectSchemaKey": "OTHER"}).json()
    theirs = ws.post("config/referencetype", {"name": "Theirs", "objectSchemaId": other["id"]})
    body = {"name": "Mentor", "type": 1, "typeValue": type_id}
    refused = ws.post(
        f"objecttypeattribute/{type_id}", {**body, "additionalValue": theirs.json()["id"]}
    )
    assert refused.status_code == 400
    assert "additionalValue" in refused.json()["errors"]


def test_create_update_and_read_back(ws: Workspace, sandbox: Sandbox) -> None:
    type_id, ids = ws.employee_type()
    account_id = next(iter(sandbox.atlassian_accounts))
    boss = ws.create(type_id, {ids["Name"]: ["Boss"], ids["Entra User ID"]: ["u-1"]}).json()
    assert boss["objectKey"] == "ENTRA-1"
    worker = ws.create(
        type_id,
        {ids["Name"]: ["Worker"], ids["Entra User ID"]: ["u-2"], ids["Active"]: ["true"],
         ids["Manager"]: [boss["objectKey"]], ids["Jira User"]: [account_id]},
    ).json()  # fmt: skip
    by_attr = {a["objectTypeAttributeId"]: a["objectAttributeValues"] for a in worker["attributes"]}
    assert by_attr[ids["Manager"]][0]["referencedObject"]["objectKey"] == "ENTRA-1"
    assert "value" not in by_attr[ids["Manager"]][0]
    jira_user = by_attr[ids["Jira User"]][0]
    assert "value" not in jira_user  # optional in the read shape; the id is searchValue
    assert jira_user["searchValue"] == account_id
    assert jira_user["user"]["key"] != account_id  # a Jira user key, not the account id
    assert jira_user["user"]["displayName"] == jira_user["displayValue"]
    assert by_attr[ids["Key"]][0]["value"] == "ENTRA-2"
    updated = ws.site.put(
        f"{ws.base}/object/{worker['id']}",
        json={"attributes": _attrs({ids["Active"]: ["false"], ids["Manager"]: []})},
    )
    assert updated.status_code == 200
    stored = {e["objectKey"]: e["attributes"] for e in sandbox.employees()}
    assert stored["ENTRA-2"] == {
        "Name": "Worker", "Entra User ID": "u-2", "Active": "false", "Jira User": account_id,
    }  # fmt: skip
    assert ws.get("object/99999").status_code == 404


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("Active", "yes"),
        ("Email", "not-an-email"),
        ("Manager", "ENTRA-404"),
        ("Jira User", "no-such-account"),
        ("Entra User ID", "u-1"),
    ],
)
def test_write_validation(ws: Workspace, attribute: str, value: str) -> None:
    """Assets' 400: no errorMessages, the attribute's problem keyed by its id."""
    type_id, ids = ws.employee_type()
    assert ws.create(type_id, {ids["Name"]: ["First"], ids["Entra User ID"]: ["u-1"]}).is_success
    response = ws.create(type_id, {ids["Name"]: ["Second"], ids[attribute]: [value]})
    assert response.status_code == 400
    assert response.json()["errorMessages"] == []
    errors = response.json()["errors"]
    assert list(errors) == [f"rlabs-insight-attribute-{ids[attribute]}"]
    assert attribute in errors[f"rlabs-insight-attribute-{ids[attribute]}"]


def test_a_duplicate_of_a_unique_value_is_refused(ws: Workspace, sandbox: Sandbox) -> None:
    """Entra User ID is unique: a second object with the same value is not created."""
    type_id, ids = ws.employee_type()
    first = ws.create(type_id, {ids["Name"]: ["First"], ids["Entra User ID"]: ["u-1"]}).json()
    copy = ws.create(type_id, {ids["Name"]: ["Copy"], ids["Entra User ID"]: ["U-1"]})
    assert copy.status_code == 400
    message = copy.json()["errors"][f"rlabs-insight-attribute-{ids['Entra User ID']}"]
    assert "unique" in message and first["objectKey"] in message
    assert [e["objectKey"] for e in sandbox.employees()] == [first["objectKey"]]


def test_name_is_required_and_unknown_attribute(ws: Workspace) -> None:
    type_id, ids = ws.employee_type()
    missing = ws.create(type_id, {ids["Entra User ID"]: ["u-9"]})
    assert missing.status_code == 400
    assert f"rlabs-insight-attribute-{ids['Name']}" in missing.json()["errors"]
    unknown = ws.create(type_id, {ids["Name"]: ["X"], "424242": ["?"]})
    assert unknown.status_code == 400


def test_unique_check_ignores_the_object_itself(ws: Workspace) -> None:
    type_id, ids = ws.employee_type()
    first = ws.create(type_id, {ids["Name"]: ["A"], ids["Entra User ID"]: ["u-1"]}).json()
    same = ws.site.put(
        f"{ws.base}/object/{first['id']}",
        json={"attributes": _attrs({ids["Entra User ID"]: ["u-1"], ids["Name"]: ["A2"]})},
    )
    assert same.status_code == 200


def test_aql_paging(ws: Workspace) -> None:
    type_id, ids = ws.employee_type()
    for n in range(30):
        values = {ids["Name"]: [f"P{n}"], ids["Entra User ID"]: [f"u{n}"]}
        assert ws.create(type_id, values).is_success
    seen: list[str] = []
    start = 0
    while True:
        page = ws.post(
            "object/aql", {"qlQuery": 'objectType = "Employee"'}, startAt=start, maxResults=8
        ).json()
        seen += [o["objectKey"] for o in page["values"]]
        assert page["total"] == 30
        if page["isLast"]:
            break
        start += len(page["values"])
    assert len(seen) == len(set(seen)) == 30
    default = ws.post("object/aql", {"qlQuery": f"objectTypeId = {type_id}"}).json()
    assert len(default["values"]) == 25
    assert default["objectTypeAttributes"]
    one = ws.post("object/aql", {"qlQuery": 'objectType = "Employee" AND "Entra User ID" = "u7"'})
    assert [o["label"] for o in one.json()["values"]] == ["P7"]


def test_bad_aql_and_wrong_workspace(ws: Workspace) -> None:
    ws.employee_type()
    assert ws.post("object/aql", {"qlQuery": "objectType ~ Employee"}).status_code == 400
    wrong = ws.site.get(f"{API}/jsm/assets/workspace/not-ours/v1/objectschema/list")
    assert wrong.status_code == 404


def test_delete_exists_and_is_logged(ws: Workspace, sandbox: Sandbox) -> None:
    type_id, ids = ws.employee_type()
    obj = ws.create(type_id, {ids["Name"]: ["Gone"]}).json()
    assert ws.site.delete(f"{ws.base}/object/{obj['id']}").status_code == 204
    path = f"/jsm/assets/workspace/{sandbox.org.workspace_id}/v1/object/{obj['id']}"
    assert ("assets", "DELETE", path) in sandbox.request_log
    assert sandbox.employees() == []


def test_uniqueness_is_what_refuses_a_duplicate(ws: Workspace, sandbox: Sandbox) -> None:
    """Without Unique a second object with the same Entra User ID is stored; turning
    Unique back on is refused while the duplicate exists."""
    type_id, ids = ws.employee_type()
    sandbox.set_unique("Entra User ID", False)
    for name in ("First", "Copy"):
        assert ws.create(type_id, {ids["Name"]: [name], ids["Entra User ID"]: ["u-1"]}).is_success
    assert len(sandbox.employees()) == 2
    with pytest.raises(HttpError):
        sandbox.set_unique("Entra User ID", True)
    attributes = {a["name"]: a for a in ws.get(f"objecttype/{type_id}/attributes").json()}
    assert attributes["Entra User ID"]["uniqueAttribute"] is False
