"""A sign-in that falters once does not fail the run; one that keeps failing says so clearly.

Runs a real :class:`SyncService` preview against the in-process sandbox with faults on
the Microsoft token endpoint; the retry policy records its waits instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import load_settings
from core.errors import ServerError, TransportFailure
from core.runs import SyncService
from core.sandbox import Fault, Sandbox
from core.store import RunStatus, Store, load_cipher

TOKEN_PATH = "/oauth2/v2.0/token"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def service(tmp_path: Path, sandbox: Sandbox, waits: list[float]) -> Iterator[SyncService]:
    environ = {
        **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
        "ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
    }
    settings = load_settings(environ, env_file=None)
    store = Store(settings.database_url, load_cipher(settings))
    retry = RetryPolicy(attempts=4, sleep=waits.append)
    service = SyncService(settings, store, transport=sandbox.transport(), retry=retry)
    configure_sandbox(service)
    service.create_schema("UADMIN")
    yield service
    service.close()
    store.close()


def token_requests(sandbox: Sandbox) -> int:
    return sum(1 for service, method, path in sandbox.request_log if path.endswith(TOKEN_PATH))


@pytest.mark.parametrize(
    "fault",
    [
        Fault(service="login", path_contains=TOKEN_PATH, status=503, times=1),
        Fault(service="login", path_contains=TOKEN_PATH, status=429, retry_after=3, times=1),
        Fault(service="login", path_contains=TOKEN_PATH, timeout=True, times=1),
    ],
    ids=["503", "429-retry-after", "timeout"],
)
def test_one_transient_sign_in_failure_does_not_fail_the_preview(
    service: SyncService, sandbox: Sandbox, waits: list[float], fault: Fault
) -> None:
    """The token request is sent again after one wait, and the preview completes."""
    sandbox.reset_counts()
    sandbox.add_fault(fault)
    result = service.preview("UREQUESTER")
    assert result.preview_id is not None
    assert result.plan.write_count > 0
    assert token_requests(sandbox) == 2
    assert len(waits) == 1
    if fault.retry_after is not None:
        assert waits == [fault.retry_after]
    assert service.history(1)[0].status is RunStatus.SUCCEEDED


def test_a_persistent_503_fails_the_preview_with_a_clear_error(
    service: SyncService, sandbox: Sandbox, waits: list[float]
) -> None:
    """After the bounded attempts the run fails, naming the sign-in service, not a setting."""
    sandbox.reset_counts()
    sandbox.add_fault(Fault(service="login", path_contains=TOKEN_PATH, status=503, times=100))
    with pytest.raises(ServerError) as caught:
        service.preview("UREQUESTER")
    message = "login HTTP 503: the sign-in service failed after 4 attempts; try again later"
    assert str(caught.value) == message
    assert token_requests(sandbox) == 4
    assert len(waits) == 3
    assert sandbox.requests["graph"] == 0
    run = service.history(1)[0]
    assert (run.status, run.error, run.cause) == (RunStatus.FAILED, message, "server")


def test_a_sign_in_that_keeps_timing_out_fails_as_unreachable(
    service: SyncService, sandbox: Sandbox, waits: list[float]
) -> None:
    sandbox.reset_counts()
    sandbox.add_fault(Fault(service="login", path_contains=TOKEN_PATH, timeout=True, times=100))
    with pytest.raises(TransportFailure, match=r"\(ReadTimeout\) after 4 attempts"):
        service.preview("UREQUESTER")
    assert token_requests(sandbox) == 4
    assert service.history(1)[0].cause == "transport"
