"""Creates whose answer was lost: looked up by Entra User ID, never blindly sent twice.

respx stands in for Assets. A create that failed ambiguously (a timeout or reset after
sending, a 5xx, a 409, a success that names no object) may or may not have happened;
the client reads the Employee type by Entra User ID and either takes the object it
finds or sends the create once more, at most twice in all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from core.clients import ApiClient, AssetsClient, EmployeeType, RequestCounter, RetryPolicy
from core.errors import ApiError, RequestRejected, ServerError, TransportFailure
from core.sync import Attr

BASE = "https://api.test/jsm/assets/workspace/w1/v1"
TYPE = EmployeeType("1", "7", tuple((attr, str(100 + i)) for i, attr in enumerate(Attr)))
VALUES: dict[Attr, str | None] = {Attr.FULL_NAME: "Ada Lovelace", Attr.ENTRA_USER_ID: "u-1"}
LOOKUP = 'objectTypeId = 7 AND "Entra User ID" = "u-1"'


@pytest.fixture
def assets(http: httpx.Client, counter: RequestCounter, policy: RetryPolicy) -> AssetsClient:
    return AssetsClient(ApiClient("assets", BASE, http, counter=counter, retry=policy))


def created(object_id: str, key: str) -> httpx.Response:
    return httpx.Response(201, json={"id": object_id, "objectKey": key, "attributes": []})


def found(*objects: tuple[str, str]) -> httpx.Response:
    values = [{"id": i, "objectKey": k, "attributes": []} for i, k in objects]
    return httpx.Response(200, json={"values": values, "isLast": True})


def sent(router: respx.MockRouter) -> list[str]:
    """The requests sent, in order, as ``create`` or the AQL query of a look-up."""
    names = []
    for call in router.calls:
        body: dict[str, Any] = json.loads(call.request.content or b"{}")
        names.append(body.get("qlQuery", "create") if "aql" in call.request.url.path else "create")
    return names


Failure = Callable[[], httpx.Response | httpx.TransportError]
AMBIGUOUS = [
    pytest.param(lambda: httpx.Response(500), id="500"),
    pytest.param(lambda: httpx.Response(502), id="502"),
    pytest.param(lambda: httpx.Response(503, headers={"Retry-After": "1"}), id="503"),
    pytest.param(lambda: httpx.Response(504), id="504"),
    pytest.param(lambda: httpx.Response(409, json={"errorMessages": ["conflict"]}), id="409"),
    pytest.param(lambda: httpx.ReadTimeout("no answer"), id="timeout"),
    pytest.param(lambda: httpx.RemoteProtocolError("connection reset by peer"), id="reset"),
    pytest.param(
        lambda: httpx.Response(
            200, text="<html>Sign in</html>", headers={"Content-Type": "text/html"}
        ),
        id="200 not JSON",
    ),
    pytest.param(lambda: httpx.Response(201, json={}), id="201 without id"),
]


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_a_create_processed_then_lost_is_sent_once_and_found(
    assets: AssetsClient, router: respx.MockRouter, failure: Failure
) -> None:
    """The answer is lost but the object exists: the look-up finds it; no second create."""
    create = router.post(f"{BASE}/object/create").mock(
        side_effect=[failure(), created("999", "ENTRA-999")]
    )
    router.post(f"{BASE}/object/aql").mock(return_value=found(("41", "ENTRA-41")))

    assert assets.create_employee(TYPE, VALUES) == ("41", "ENTRA-41")
    assert create.call_count == 1
    assert sent(router) == ["create", LOOKUP]


@pytest.mark.parametrize("failure", AMBIGUOUS)
def test_a_create_lost_before_processing_is_sent_once_more_after_the_look_up(
    assets: AssetsClient, router: respx.MockRouter, failure: Failure
) -> None:
    """Nothing found by Entra User ID: creating once more is safe, and it is done once."""
    router.post(f"{BASE}/object/create").mock(side_effect=[failure(), created("42", "ENTRA-42")])
    router.post(f"{BASE}/object/aql").mock(return_value=found())

    assert assets.create_employee(TYPE, VALUES) == ("42", "ENTRA-42")
    assert sent(router) == ["create", LOOKUP, "create"]


def test_the_look_up_pages_and_reads_no_attributes(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    router.post(f"{BASE}/object/create").mock(side_effect=[httpx.ReadTimeout("no answer")])
    aql = router.post(f"{BASE}/object/aql").mock(return_value=found(("41", "ENTRA-41")))

    assets.create_employee(TYPE, VALUES)

    params = aql.calls.last.request.url.params
    assert params["includeAttributes"] == "false"
    assert params["startAt"] == "0"


def test_a_value_with_quotes_is_escaped_in_the_look_up(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    router.post(f"{BASE}/object/create").mock(side_effect=[httpx.Response(503)])
    router.post(f"{BASE}/object/aql").mock(return_value=found(("41", "ENTRA-41")))

    assets.create_employee(TYPE, {**VALUES, Attr.ENTRA_USER_ID: 'a"b\\c'})

    assert sent(router)[1] == 'objectTypeId = 7 AND "Entra User ID" = "a\\"b\\\\c"'


def test_retries_are_bounded_two_creates_and_two_look_ups(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    """Still no answer and still nothing found: the error stands after two creates."""
    router.post(f"{BASE}/object/create").mock(return_value=httpx.Response(503))
    router.post(f"{BASE}/object/aql").mock(return_value=found())

    with pytest.raises(ServerError):
        assets.create_employee(TYPE, VALUES)
    assert sent(router) == ["create", LOOKUP, "create", LOOKUP]


def test_a_resend_refused_as_a_duplicate_is_looked_up_again(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    """The first create was processed after all (the search had not seen it yet): the
    unique Entra User ID refuses the copy, and the second look-up finds the original."""
    duplicate = httpx.Response(
        400,
        json={
            "errorMessages": [],
            "errors": {"rlabs-insight-attribute-101": "Entra User ID must be unique"},
        },
    )
    router.post(f"{BASE}/object/create").mock(side_effect=[httpx.ReadTimeout("lost"), duplicate])
    router.post(f"{BASE}/object/aql").mock(side_effect=[found(), found(("41", "ENTRA-41"))])

    assert assets.create_employee(TYPE, VALUES) == ("41", "ENTRA-41")
    assert sent(router) == ["create", LOOKUP, "create", LOOKUP]


def test_a_plain_refusal_is_not_looked_up(assets: AssetsClient, router: respx.MockRouter) -> None:
    """A 400 on the first send says the create did not happen; nothing to look up."""
    router.post(f"{BASE}/object/create").mock(
        return_value=httpx.Response(400, json={"errorMessages": [], "errors": {"x": "bad"}})
    )
    router.post(f"{BASE}/object/aql").mock(return_value=found(("41", "ENTRA-41")))

    with pytest.raises(RequestRejected):
        assets.create_employee(TYPE, VALUES)
    assert sent(router) == ["create"]


def test_a_failed_look_up_says_the_create_may_have_happened(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    router.post(f"{BASE}/object/create").mock(side_effect=[httpx.ReadTimeout("lost")])
    router.post(f"{BASE}/object/aql").mock(return_value=httpx.Response(403))

    with pytest.raises(ApiError) as raised:
        assets.create_employee(TYPE, VALUES)
    assert "may have been created" in str(raised.value)
    assert sent(router) == ["create", LOOKUP]


def test_a_create_without_an_entra_user_id_is_never_resent(
    assets: AssetsClient, router: respx.MockRouter
) -> None:
    """Nothing to look it up by: the ambiguous failure is the outcome."""
    router.post(f"{BASE}/object/create").mock(side_effect=[httpx.ReadTimeout("lost")])

    with pytest.raises(TransportFailure):
        assets.create_employee(TYPE, {Attr.FULL_NAME: "Nobody"})
    assert sent(router) == ["create"]
