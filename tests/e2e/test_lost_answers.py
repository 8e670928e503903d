"""Lost answers to creates, end to end on the sandbox: nothing is made twice.

A create can fail in two ways a client cannot tell apart: before Assets did anything
(a timeout or reset on the way there) or after (the object exists; the 503 or the
timeout came on the way back). Either way a sync ends with every Employee exactly once,
the schema bootstrap with every attribute exactly once, and a rerun finds nothing to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import load_settings
from core.runs import SyncService
from core.sandbox import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_EMAIL,
    Answer,
    Fault,
    Sandbox,
)
from core.store import RunStatus, Store, load_cipher
from core.sync import Attr, ChangeKind, OutcomeStatus

CREATES = 38  # seed 7, 60 people, 45 accounts: see tests/e2e/test_cli_flow.py
CREATE_PATH = "/object/create"
ATTRIBUTE_PATH = "/objecttypeattribute/"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def service(tmp_path: Path, sandbox: Sandbox) -> Iterator[SyncService]:
    """Configured against the sandbox; the schema is left to each test."""
    environ = {
        **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
        "ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
        "ENTRA_SYNC_WRITE_CONCURRENCY": "4",
    }
    settings = load_settings(environ, env_file=None)
    store = Store(settings.database_url, load_cipher(settings))
    built = SyncService(
        settings, store, transport=sandbox.transport(), retry=RetryPolicy(sleep=lambda _: None)
    )
    configure_sandbox(built)
    yield built
    built.close()
    store.close()


def entra_ids(sandbox: Sandbox) -> Counter[str]:
    return Counter(str(e["attributes"].get(Attr.ENTRA_USER_ID.value)) for e in sandbox.employees())


def sent(sandbox: Sandbox, method: str, path_part: str) -> int:
    return sum(1 for _, m, path in sandbox.request_log if m == method and path_part in path)


def lookups(sandbox: Sandbox) -> int:
    """AQL searches beyond the one that loads every Employee (60 people fit one page)."""
    return sent(sandbox, "POST", "/object/aql") - sent(sandbox, "POST", "/aql/totalcount") - 1


def assert_converged(service: SyncService, sandbox: Sandbox) -> None:
    """Every Employee once; a second sync plans nothing and writes nothing."""
    counts = entra_ids(sandbox)
    assert len(counts) == CREATES
    assert max(counts.values()) == 1
    sandbox.reset_counts()
    again = service.sync("UADMIN")
    assert again.plan.is_empty, again.plan.counts()
    assert sent(sandbox, "POST", CREATE_PATH) == 0
    assert entra_ids(sandbox) == counts


def create_outcomes_ok(service: SyncService, run_id: int) -> bool:
    stored = service.store.outcomes(run_id)
    creates = [o for o in stored if o.kind is ChangeKind.CREATE]
    return len(creates) == CREATES and all(o.status is OutcomeStatus.OK for o in creates)


@pytest.mark.parametrize("timeout", [False, True], ids=["503", "timeout"])
def test_a_create_processed_then_lost_is_sent_once(
    service: SyncService, sandbox: Sandbox, timeout: bool
) -> None:
    """Assets created the Employee, the answer was lost: it is found, not sent again."""
    service.create_schema("UADMIN")
    sandbox.reset_counts()
    sandbox.add_fault(
        Fault(
            service="assets",
            method="POST",
            path_contains=CREATE_PATH,
            status=503,
            timeout=timeout,
            after_processing=True,
        )
    )

    result = service.sync("UADMIN")

    assert result.status is RunStatus.SUCCEEDED
    assert sent(sandbox, "POST", CREATE_PATH) == CREATES  # the lost one was sent once
    assert lookups(sandbox) == 1
    assert create_outcomes_ok(service, result.run_id)
    assert_converged(service, sandbox)


def test_a_create_that_timed_out_before_it_was_processed_is_made_once_after_the_look_up(
    service: SyncService, sandbox: Sandbox
) -> None:
    service.create_schema("UADMIN")
    sandbox.reset_counts()
    sandbox.add_fault(
        Fault(service="assets", method="POST", path_contains=CREATE_PATH, timeout=True)
    )

    result = service.sync("UADMIN")

    assert result.status is RunStatus.SUCCEEDED
    assert sent(sandbox, "POST", CREATE_PATH) == CREATES + 1
    assert lookups(sandbox) == 1
    assert create_outcomes_ok(service, result.run_id)
    assert_converged(service, sandbox)


@pytest.mark.parametrize(
    ("timeout", "after_processing"),
    [(False, True), (True, True), (True, False)],
    ids=["processed-503", "processed-timeout", "timeout-before"],
)
def test_an_attribute_create_whose_answer_was_lost_is_read_back(
    service: SyncService, sandbox: Sandbox, timeout: bool, after_processing: bool
) -> None:
    """Every attribute exists once; a resend only follows a read that did not find it."""
    sandbox.add_fault(
        Fault(
            service="assets",
            method="POST",
            path_contains=ATTRIBUTE_PATH,
            status=503,
            timeout=timeout,
            after_processing=after_processing,
        )
    )

    report = service.create_schema("UADMIN")

    assert set(report.created_attributes) == {a.value for a in Attr if a is not Attr.FULL_NAME}
    calls = [(m, p.rsplit("/v1/", 1)[1]) for _, m, p in sandbox.request_log if "attribute" in p]
    first_add = next(i for i, (m, _) in enumerate(calls) if m == "POST")
    # The failed create is followed by a read of the type's attributes ...
    assert calls[first_add + 1][0] == "GET"
    posts = sum(1 for m, _ in calls if m == "POST")
    expected = len(report.created_attributes) + (0 if after_processing else 1)
    assert posts == expected  # ... and sent again only when the read did not find it
    again = service.create_schema("UADMIN")
    assert not again.changed
    assert again.mismatched_attributes == ()
    result = service.sync("UADMIN")
    assert result.status is RunStatus.SUCCEEDED
    assert_converged(service, sandbox)


# Every kind of create the schema step sends, by the path it is posted to. The employee
# type's own attributes are covered above; Employees by the sync tests.
SCHEMA_CREATES = [
    pytest.param("/objectschema/create", id="schema"),
    pytest.param("/objecttype/create", id="object-type"),
    pytest.param("/config/referencetype", id="reference-type"),
    pytest.param(ATTRIBUTE_PATH, id="attribute"),
]
LOST = [
    pytest.param({"status": 503, "after_processing": True}, id="processed-503"),
    pytest.param({"timeout": True, "after_processing": True}, id="processed-timeout"),
    pytest.param({"answer": Answer.EMPTY}, id="processed-empty-answer"),
    pytest.param({"answer": Answer.MALFORMED}, id="processed-malformed-answer"),
    pytest.param({"timeout": True}, id="timeout-before"),
]


def made(sandbox: Sandbox) -> Counter[str]:
    """What the schema step made, by kind and name, as Assets lists it."""
    base = f"https://api.sandbox.invalid/jsm/assets/workspace/{sandbox.org.workspace_id}/v1/"
    auth = (SANDBOX_ATLASSIAN_EMAIL, SANDBOX_ATLASSIAN_API_TOKEN)
    things: Counter[str] = Counter()
    with httpx.Client(transport=sandbox.transport(), auth=auth, base_url=base) as assets:
        schemas = assets.get("objectschema/list").json()["values"]
        things.update(f"schema {s['objectSchemaKey']}" for s in schemas)
        every = assets.get("config/referencetype", params={"includeAll": "true"}).json()
        things.update(f"reference type {r['name']}" for r in every)
        for schema in schemas:
            types = assets.get(f"objectschema/{schema['id']}/objecttypes/flat").json()
            things.update(f"object type {t['name']}" for t in types)
            for kind in types:
                attributes = assets.get(f"objecttype/{kind['id']}/attributes").json()
                things.update(f"attribute {a['name']}" for a in attributes)
    return things


@pytest.mark.parametrize("path", SCHEMA_CREATES)
@pytest.mark.parametrize("lost", LOST)
def test_every_schema_create_whose_answer_was_lost_makes_one_thing(
    service: SyncService, sandbox: Sandbox, path: str, lost: dict[str, Any]
) -> None:
    """Whatever the create and however its answer was lost, it exists once, the step
    finishes, a second step adds nothing and the sync runs."""
    sandbox.add_fault(Fault(service="assets", method="POST", path_contains=path, **lost))
    sandbox.reset_counts()

    report = service.create_schema("UADMIN")

    assert report.created_schema and report.created_object_type and report.created_reference_type
    kinds = len(report.created_attributes) if path == ATTRIBUTE_PATH else 1
    processed = bool(lost.get("after_processing") or lost.get("answer"))
    assert sent(sandbox, "POST", path) == kinds + (0 if processed else 1)  # never blindly
    things = made(sandbox)
    assert max(things.values()) == 1, things
    assert things["schema ENTRA"] == things["object type Employee"] == 1
    assert things["reference type Reports to"] == 1
    assert all(things[f"attribute {a.value}"] == 1 for a in Attr)
    assert not service.create_schema("UADMIN").changed
    assert made(sandbox) == things
    assert service.sync("UADMIN").status is RunStatus.SUCCEEDED
    assert_converged(service, sandbox)
