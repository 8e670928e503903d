"""End-to-end fixtures: the real CLI, engine and clients against the in-process sandbox."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from core.cli import main
from core.cli.demo import sandbox_environ
from core.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT_ID, Sandbox


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Runner(Protocol):
    """The ``cli`` fixture: runs ``entra-sync`` with these arguments and standard input.

    ``tty`` makes standard input say it is a terminal (prompts are then asked).
    """

    def __call__(
        self,
        *argv: str,
        stdin: str = "",
        tty: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> Result: ...


class Terminal(io.StringIO):
    """Standard input that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, value in sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENTRA_SYNC_ASSETS_RATE", "0")
    return tmp_path


@pytest.fixture
def cli(
    sandbox: Sandbox,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Runner:
    def run(
        *argv: str,
        stdin: str = "",
        tty: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> Result:
        monkeypatch.setattr("sys.stdin", Terminal(stdin) if tty else io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(argv), transport=transport or sandbox.transport())
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


CONFIGURE = (
    "configure",
    "--tenant-id",
    SANDBOX_TENANT_ID,
    "--client-id",
    SANDBOX_CLIENT_ID,
    "--cadence-days",
    "7",
)


def configure_connection(cli: Runner) -> Result:
    """``configure`` with the sandbox's tenant and client, its secret on stdin."""
    return cli(*CONFIGURE, stdin=SANDBOX_CLIENT_SECRET + "\n")


@pytest.fixture
def configured(cli: Runner) -> Runner:
    result = configure_connection(cli)
    assert result.code == 0, result.err
    return cli


@pytest.fixture
def with_schema(configured: Runner) -> Runner:
    result = configured("schema")
    assert result.code == 0, result.err
    return configured
