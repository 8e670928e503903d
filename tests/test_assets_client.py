"""The Assets client at the HTTP boundary: AQL paging and value parsing."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from core.clients import (
    ApiClient,
    AssetsClient,
    EmployeeType,
    RequestCounter,
    RetryPolicy,
    discover_workspace,
)
from core.clients.assets import AQL_PAGE_SIZE, SCHEMA_PAGE_SIZE
from core.errors import ApiError, IncompleteRead, UnreadableAnswer
from core.sync import Attr

BASE = "https://api.test/jsm/assets/workspace/w1/v1"
TYPE = EmployeeType("1", "7", tuple((attr, str(100 + i)) for i, attr in enumerate(Attr)))


def _api(base: str = BASE) -> ApiClient:
    return ApiClient(
        "assets",
        base,
        httpx.Client(),
        counter=RequestCounter(),
        retry=RetryPolicy(sleep=lambda s: None),
    )


def _guid(n: int) -> str:
    """An Entra object id, as Graph writes it (lower-case GUID)."""
    return f"00000000-0000-4000-8000-{n:012d}"


def _obj(n: int, **values: object) -> dict[str, object]:
    attributes = [
        {
            "objectTypeAttributeId": TYPE.attribute_id(Attr.ENTRA_USER_ID),
            "objectAttributeValues": [{"value": _guid(n)}],
        },
        {
            "objectTypeAttributeId": TYPE.attribute_id(Attr.ACTIVE),
            "objectAttributeValues": [{"value": values.get("active", "True")}],
        },
        {
            "objectTypeAttributeId": TYPE.attribute_id(Attr.MANAGER),
            "objectAttributeValues": [{"referencedObject": {"objectKey": "ENTRA-1"}}],
        },
        {"objectTypeAttributeId": "999", "objectAttributeValues": [{"value": "ignored"}]},
    ]
    return {"id": str(n), "objectKey": f"ENTRA-{n}", "attributes": attributes}


def _counted(total: int) -> respx.Route:
    """Assets' own count for the Employee query."""
    return respx.post(f"{BASE}/object/aql/totalcount").mock(
        return_value=httpx.Response(200, json={"totalCount": total})
    )


@respx.mock
def test_a_read_cut_short_by_an_early_is_last_stops_the_run() -> None:
    """isLast on the first of three pages: fewer objects than Assets counts is an error."""
    respx.post(f"{BASE}/object/aql").mock(
        return_value=httpx.Response(200, json={"values": [_obj(1), _obj(2)], "isLast": True})
    )
    count = _counted(3)
    with pytest.raises(IncompleteRead) as caught:
        AssetsClient(_api()).employees(TYPE)
    assert "returned 2 objects but Assets counts 3" in str(caught.value)
    assert json.loads(count.calls.last.request.content) == {"qlQuery": "objectTypeId = 7"}


@respx.mock
def test_employees_pages_until_is_last() -> None:
    """AQL is read page after page at 999 until isLast, never stopping early."""
    pages = [
        {"values": [_obj(1), _obj(2)], "isLast": False},
        {"values": [_obj(3)], "isLast": True},
    ]
    route = respx.post(f"{BASE}/object/aql").mock(
        side_effect=[httpx.Response(200, json=p) for p in pages]
    )
    _counted(3)
    records = AssetsClient(_api()).employees(TYPE)
    assert [r.object_key for r in records] == ["ENTRA-1", "ENTRA-2", "ENTRA-3"]
    first, second = route.calls
    assert first.request.url.params["maxResults"] == str(AQL_PAGE_SIZE)
    assert second.request.url.params["startAt"] == "2"
    assert json.loads(first.request.content) == {"qlQuery": "objectTypeId = 7"}


def _schema(n: int) -> dict[str, object]:
    return {"id": str(n), "name": f"Schema {n}", "objectSchemaKey": f"S{n}"}


@respx.mock
def test_schemas_are_read_page_after_page_until_is_last() -> None:
    """A page may hold fewer than asked for; the next one starts after what came."""
    pages = [
        {"startAt": 0, "values": [_schema(1), _schema(2)], "isLast": False},
        {"startAt": 2, "values": [_schema(3)], "isLast": True},
    ]
    route = respx.get(f"{BASE}/objectschema/list").mock(
        side_effect=[httpx.Response(200, json=p) for p in pages]
    )
    schemas = AssetsClient(_api()).schemas()
    assert [s.key for s in schemas] == ["S1", "S2", "S3"]
    first, second = route.calls
    assert first.request.url.params["startAt"] == "0"
    assert first.request.url.params["maxResults"] == str(SCHEMA_PAGE_SIZE)
    assert second.request.url.params["startAt"] == "2"


@respx.mock
@pytest.mark.parametrize("last", [{"last": True}, {"values": []}], ids=["last", "empty-page"])
def test_schema_paging_also_ends_on_last_or_an_empty_page(last: dict[str, object]) -> None:
    """``last`` is the older spelling of ``isLast``; an empty page has nothing after it."""
    route = respx.get(f"{BASE}/objectschema/list").mock(
        side_effect=[
            httpx.Response(200, json={"values": [_schema(1)]}),
            httpx.Response(200, json={"values": [_schema(2)], **last}),
        ]
    )
    keys = [s.key for s in AssetsClient(_api()).schemas()]
    assert keys == (["S1", "S2"] if "last" in last else ["S1"])
    assert route.call_count == 2


@respx.mock
def test_employee_values_are_normalised() -> None:
    """Booleans read lower-case, references as the object key, unknown attributes dropped."""
    respx.post(f"{BASE}/object/aql").mock(
        return_value=httpx.Response(200, json={"values": [_obj(4)], "isLast": True})
    )
    _counted(1)
    (record,) = AssetsClient(_api()).employees(TYPE)
    assert record.get(Attr.ACTIVE) == "true"
    assert record.get(Attr.MANAGER) == "ENTRA-1"
    assert record.entra_user_id == _guid(4)
    assert len(record.values) == 3


@respx.mock
def test_update_sends_only_given_attributes_and_clears_none() -> None:
    """An update names only the changed attributes; None becomes an empty value list."""
    route = respx.put(f"{BASE}/object/42").mock(return_value=httpx.Response(200, json={}))
    AssetsClient(_api()).update_employee(TYPE, "42", {Attr.JOB_TITLE: "CTO", Attr.DEPARTMENT: None})
    body = json.loads(route.calls.last.request.content)
    assert body["attributes"] == [
        {
            "objectTypeAttributeId": TYPE.attribute_id(Attr.JOB_TITLE),
            "objectAttributeValues": [{"value": "CTO"}],
        },
        {"objectTypeAttributeId": TYPE.attribute_id(Attr.DEPARTMENT), "objectAttributeValues": []},
    ]


@respx.mock
def test_site_without_assets_workspace_is_an_error() -> None:
    """A site with no Assets workspace says Assets needs Premium or Enterprise."""
    respx.get("https://site.test/rest/servicedeskapi/assets/workspace").mock(
        return_value=httpx.Response(200, json={"values": []})
    )
    with pytest.raises(ApiError, match="Premium"):
        discover_workspace(_api("https://site.test"))


@respx.mock
@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"value": None, "displayValue": None}, id="null value"),
        pytest.param({"referencedObject": None, "searchValue": None}, id="null reference"),
    ],
)
def test_a_value_listed_with_nothing_in_it_is_refused(value: dict[str, object]) -> None:
    """Assets leaves out an attribute without a value; one listed as null was spoiled on
    the way, and read as empty it would plan a create for an Employee that exists."""
    obj = _obj(1)
    attributes = obj["attributes"]
    assert isinstance(attributes, list)
    attributes[0]["objectAttributeValues"] = [value]
    respx.post(f"{BASE}/object/aql").mock(
        return_value=httpx.Response(200, json={"values": [obj], "isLast": True})
    )
    _counted(1)
    with pytest.raises(UnreadableAnswer, match="ENTRA-1 came back with Entra User ID listed"):
        AssetsClient(_api()).employees(TYPE)


@respx.mock
@pytest.mark.parametrize("answer", [{"totalCount": None}, {"totalCount": "many"}, []])
def test_a_count_without_a_number_is_unreadable(answer: object) -> None:
    respx.post(f"{BASE}/object/aql/totalcount").mock(return_value=httpx.Response(200, json=answer))
    with pytest.raises(UnreadableAnswer, match="holds no number"):
        AssetsClient(_api()).count("objectTypeId = 7")


@respx.mock
def test_an_object_read_without_any_attribute_stops_the_run() -> None:
    """It would read as an Employee nobody owns, and the plan would create it again."""
    bare = {"id": "9", "objectKey": "ENTRA-9", "attributes": []}
    respx.post(f"{BASE}/object/aql").mock(
        return_value=httpx.Response(200, json={"values": [_obj(1), bare], "isLast": True})
    )
    _counted(2)
    with pytest.raises(UnreadableAnswer, match="ENTRA-9 came back without any attribute"):
        AssetsClient(_api()).employees(TYPE)


ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"
USER_KEY = "ug:0c2f5c1e-9a44-4e0e-9a61-0d3f7f6f1b2a"


def _with_jira_user(value: dict[str, object], *, stored_account: str | None) -> dict[str, object]:
    """``_obj(1)`` with a Jira User value and, if given, an Atlassian Account ID."""
    obj = _obj(1)
    attributes = obj["attributes"]
    assert isinstance(attributes, list)
    attributes.append(
        {
            "objectTypeAttributeId": TYPE.attribute_id(Attr.JIRA_USER),
            "objectAttributeValues": [value],
        }
    )
    if stored_account is not None:
        attributes.append(
            {
                "objectTypeAttributeId": TYPE.attribute_id(Attr.ATLASSIAN_ACCOUNT_ID),
                "objectAttributeValues": [{"value": stored_account}],
            }
        )
    return obj


@respx.mock
@pytest.mark.parametrize(
    ("value", "stored_account"),
    [
        pytest.param({"value": ACCOUNT, "displayValue": "Ada"}, None, id="value"),
        pytest.param({"searchValue": ACCOUNT, "displayValue": "Ada"}, None, id="searchValue"),
        pytest.param({"user": {"key": ACCOUNT}, "displayValue": "Ada"}, None, id="user.key"),
        pytest.param(
            {"displayValue": "Ada", "searchValue": ACCOUNT, "user": {"key": USER_KEY}},
            ACCOUNT,
            id="documented: searchValue and a user key",
        ),
        pytest.param(
            {"displayValue": "Ada", "searchValue": "Ada", "user": {"key": ACCOUNT, "name": "Ada"}},
            ACCOUNT,
            id="the one equal to the stored account id wins",
        ),
    ],
)
def test_the_jira_user_is_read_wherever_assets_puts_the_account_id(
    value: dict[str, object], stored_account: str | None
) -> None:
    respx.post(f"{BASE}/object/aql").mock(
        return_value=httpx.Response(
            200,
            json={
                "values": [_with_jira_user(value, stored_account=stored_account)],
                "isLast": True,
            },
        )
    )
    _counted(1)
    (record,) = AssetsClient(_api()).employees(TYPE)
    assert record.get(Attr.JIRA_USER) == ACCOUNT


@respx.mock
def test_a_jira_user_with_nothing_in_it_is_refused() -> None:
    respx.post(f"{BASE}/object/aql").mock(
        return_value=httpx.Response(
            200,
            json={
                "values": [
                    _with_jira_user({"displayValue": "Ada", "user": {}}, stored_account=None)
                ],
                "isLast": True,
            },
        )
    )
    _counted(1)
    with pytest.raises(UnreadableAnswer, match="Jira User listed but no value"):
        AssetsClient(_api()).employees(TYPE)


@respx.mock
@pytest.mark.parametrize(
    ("stored", "owned"),
    [
        pytest.param(" 00000000-0000-4000-8000-0000000000AB ", True, id="a GUID in capitals"),
        pytest.param("not-a-guid", False, id="typed over"),
        pytest.param("00000000-0000-4000-8000-00000000000", False, id="a digit short"),
        pytest.param("ada@contoso.com", False, id="an email"),
    ],
)
def test_an_entra_user_id_that_is_no_directory_id_is_set_aside(stored: str, owned: bool) -> None:
    """Not a GUID: the Employee is read, but not as ours, and the value is kept to report."""
    obj = _obj(1)
    attributes = obj["attributes"]
    assert isinstance(attributes, list)
    attributes[0]["objectAttributeValues"] = [{"value": stored}]
    respx.post(f"{BASE}/object/aql").mock(
        return_value=httpx.Response(200, json={"values": [obj], "isLast": True})
    )
    _counted(1)
    (record,) = AssetsClient(_api()).employees(TYPE)
    assert record.is_owned is owned
    assert record.unusable_entra_user_id == (None if owned else stored)
    assert record.get(Attr.ACTIVE) == "true"  # the rest is read as usual
