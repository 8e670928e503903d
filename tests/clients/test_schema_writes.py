"""The schema bootstrap against respx: an attribute create whose answer was lost is
read back, never blindly sent twice; an Entra User ID that is not unique is named."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from core.clients import ApiClient, AssetsClient, RequestCounter, RetryPolicy, ensure_schema
from core.clients.assets import DEFAULT_BOOLEAN, DEFAULT_EMAIL, TYPE_REFERENCE, TYPE_USER
from core.errors import ServerError
from core.sync import Attr

BASE = "https://api.test/jsm/assets/workspace/w1/v1"
ADD = f"{BASE}/objecttypeattribute/7"
READ = f"{BASE}/objecttype/7/attributes"


@pytest.fixture
def assets(http: httpx.Client, counter: RequestCounter, policy: RetryPolicy) -> AssetsClient:
    return AssetsClient(ApiClient("assets", BASE, http, counter=counter, retry=policy))


def attribute(number: int, name: str, **fields: Any) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {
        Attr.EMAIL.value: {"defaultType": {"id": DEFAULT_EMAIL}},
        Attr.ACTIVE.value: {"defaultType": {"id": DEFAULT_BOOLEAN}},
        Attr.JIRA_USER.value: {"type": TYPE_USER},
        Attr.MANAGER.value: {"type": TYPE_REFERENCE, "referenceObjectTypeId": "7"},
    }
    kind = kinds.get(name, {"defaultType": {"id": 0}})
    unique = name in (Attr.ENTRA_USER_ID.value, Attr.ATLASSIAN_ACCOUNT_ID.value)
    return {
        "id": str(number),
        "name": name,
        "type": 0,
        "label": name == Attr.FULL_NAME.value,
        "uniqueAttribute": unique,
        **kind,
        **fields,
    }


def employee_attributes(
    *, without: tuple[Attr, ...] = (), changed: dict[str, dict[str, Any]] | None = None
) -> list[Any]:
    names = ["Key", *(a.value for a in Attr if a not in without)]
    changes = changed or {}
    return [{**attribute(200 + i, name), **changes.get(name, {})} for i, name in enumerate(names)]


def existing_schema(router: respx.MockRouter) -> None:
    """Schema ENTRA with its Employee type (id 7) already there."""
    schema = {"id": "1", "name": "Entra Directory", "objectSchemaKey": "ENTRA"}
    router.get(f"{BASE}/objectschema/list").mock(
        return_value=httpx.Response(200, json={"values": [schema], "isLast": True})
    )
    router.get(f"{BASE}/objectschema/1/objecttypes/flat").mock(
        return_value=httpx.Response(200, json=[{"id": "7", "name": "Employee"}])
    )
    router.get(f"{BASE}/config/referencetype", params={"objectSchemaId": "1"}).mock(
        return_value=httpx.Response(200, json=[{"id": "3", "name": "Reference"}])
    )


def sent(router: respx.MockRouter) -> list[str]:
    """Attribute reads and creates, in order."""
    return [
        f"{call.request.method} {call.request.url.path.rsplit('/v1/', 1)[1]}"
        for call in router.calls
        if "attribute" in call.request.url.path
    ]


Failure = Callable[[], httpx.Response | httpx.TransportError]
AMBIGUOUS = [
    pytest.param(lambda: httpx.Response(503), id="503"),
    pytest.param(lambda: httpx.Response(500), id="500"),
    pytest.param(lambda: httpx.ReadTimeout("no answer"), id="timeout"),
    pytest.param(lambda: httpx.RemoteProtocolError("connection reset by peer"), id="reset"),
    pytest.param(lambda: httpx.Response(201, json={}), id="201-without-the-attribute"),
]
DEPARTMENT = attribute(299, Attr.DEPARTMENT.value)


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_an_attribute_created_then_lost_is_read_back_not_sent_again(
    assets: AssetsClient, router: respx.MockRouter, failure: Failure
) -> None:
    existing_schema(router)
    router.get(READ).mock(
        side_effect=[
            httpx.Response(200, json=employee_attributes(without=(Attr.DEPARTMENT,))),
            httpx.Response(
                200, json=[*employee_attributes(without=(Attr.DEPARTMENT,)), DEPARTMENT]
            ),
        ]
    )
    router.post(ADD).mock(side_effect=[failure(), httpx.Response(201, json=DEPARTMENT)])

    report = ensure_schema(assets)

    assert report.created_attributes == (Attr.DEPARTMENT.value,)
    assert sent(router) == [
        "GET objecttype/7/attributes",
        "POST objecttypeattribute/7",
        "GET objecttype/7/attributes",
    ]


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_an_attribute_lost_before_it_was_made_is_created_once_after_the_read(
    assets: AssetsClient, router: respx.MockRouter, failure: Failure
) -> None:
    existing_schema(router)
    router.get(READ).mock(
        return_value=httpx.Response(200, json=employee_attributes(without=(Attr.DEPARTMENT,)))
    )
    add = router.post(ADD).mock(side_effect=[failure(), httpx.Response(201, json=DEPARTMENT)])

    report = ensure_schema(assets)

    assert report.created_attributes == (Attr.DEPARTMENT.value,)
    assert sent(router) == [
        "GET objecttype/7/attributes",
        "POST objecttypeattribute/7",
        "GET objecttype/7/attributes",
        "POST objecttypeattribute/7",
    ]
    assert json.loads(add.calls[0].request.content) == json.loads(add.calls[1].request.content)


def test_attribute_retries_are_bounded(assets: AssetsClient, router: respx.MockRouter) -> None:
    existing_schema(router)
    router.get(READ).mock(
        return_value=httpx.Response(200, json=employee_attributes(without=(Attr.DEPARTMENT,)))
    )
    add = router.post(ADD).mock(return_value=httpx.Response(503))

    with pytest.raises(ServerError):
        ensure_schema(assets)
    assert add.call_count == 2


def test_entra_user_id_is_created_unique(assets: AssetsClient, router: respx.MockRouter) -> None:
    existing_schema(router)
    router.get(READ).mock(
        return_value=httpx.Response(200, json=employee_attributes(without=(Attr.ENTRA_USER_ID,)))
    )
    add = router.post(ADD).mock(
        return_value=httpx.Response(201, json=attribute(299, Attr.ENTRA_USER_ID.value))
    )

    ensure_schema(assets)

    body = json.loads(add.calls.last.request.content)
    assert body["name"] == Attr.ENTRA_USER_ID.value
    assert body["uniqueAttribute"] is True


def test_an_entra_user_id_that_is_not_unique_is_named_and_left_alone(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    """Someone's schema is not changed behind their back: the report says what to do."""
    existing_schema(router)
    not_unique: dict[str, dict[str, Any]] = {Attr.ENTRA_USER_ID.value: {"uniqueAttribute": False}}
    router.get(READ).mock(
        return_value=httpx.Response(200, json=employee_attributes(changed=not_unique))
    )

    report = ensure_schema(assets)

    assert not report.changed
    (note,) = report.mismatched_attributes
    assert note.startswith("Entra User ID is not unique")
    assert "Unique" in note  # names the setting to turn on
    assert all(call.request.method == "GET" for call in router.calls)  # nothing written


MANAGER = attribute(298, Attr.MANAGER.value, type=TYPE_REFERENCE)


def manager_missing(router: respx.MockRouter) -> respx.Route:
    """Schema ENTRA without Manager; returns the route that adds attributes."""
    existing_schema(router)
    router.get(READ).mock(
        return_value=httpx.Response(200, json=employee_attributes(without=(Attr.MANAGER,)))
    )
    return router.post(ADD).mock(return_value=httpx.Response(201, json=MANAGER))


def test_manager_uses_the_schemas_own_reports_to(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    add = manager_missing(router)
    types = router.get(f"{BASE}/config/referencetype", params={"objectSchemaId": "1"}).mock(
        return_value=httpx.Response(200, json=[{"id": "3", "name": "Reports to"}])
    )
    made = router.post(f"{BASE}/config/referencetype")

    report = ensure_schema(assets)

    assert types.called
    assert not made.called
    assert report.created() == ["attribute Manager"]
    assert json.loads(add.calls.last.request.content)["additionalValue"] == "3"


def test_reports_to_is_made_in_the_schema_when_it_has_none(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    """Only a global "Reference" around: "Reports to" is made in the schema."""
    add = manager_missing(router)
    made = router.post(f"{BASE}/config/referencetype").mock(
        return_value=httpx.Response(201, json={"id": "12", "name": "Reports to"})
    )

    report = ensure_schema(assets)

    body = json.loads(made.calls.last.request.content)
    assert (body["name"], body["objectSchemaId"]) == ("Reports to", "1")
    assert report.created() == ["reference type Reports to", "attribute Manager"]
    assert json.loads(add.calls.last.request.content)["additionalValue"] == "12"
