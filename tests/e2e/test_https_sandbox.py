"""The installed ``entra-sync`` command against the sandbox served over HTTPS on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from core.sandbox import SANDBOX_CLOUD_ID, Sandbox, SandboxServer
from core.sandbox.server import settings_env

Runner = Callable[..., subprocess.CompletedProcess[str]]


def _runner(env: dict[str, str], cwd: Path) -> Runner:
    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=120,
            check=False,
        )

    return run


def _configure(run: Runner, env: dict[str, str]) -> None:
    configured = run(
        "configure",
        "--tenant-id",
        env["ENTRA_TENANT_ID"],
        "--client-id",
        env["ENTRA_CLIENT_ID"],
        "--cadence-days",
        "1",
        stdin=env["ENTRA_CLIENT_SECRET"] + "\n",
    )
    assert configured.returncode == 0, configured.stderr


def _environ(server: SandboxServer, tmp_path: Path, *, scoped: bool = False) -> dict[str, str]:
    env = {**os.environ, **settings_env(server, scoped=scoped)}
    env["ENTRA_SYNC_DATABASE_URL"] = f"sqlite:///{tmp_path / 'sync.db'}"
    env["ENTRA_SYNC_ASSETS_RATE"] = "0"
    return env


def test_cli_over_https_against_sandbox_server(tmp_path: Path) -> None:
    """configure, schema, sync and preview in a child process, trusting the sandbox's CA."""
    with SandboxServer(
        Sandbox(seed=3, people=40, atlassian=20), cert_dir=tmp_path / "tls"
    ) as server:
        env = _environ(server, tmp_path)
        run = _runner(env, tmp_path)
        _configure(run, env)
        assert run("schema").returncode == 0
        synced = run("sync", "--yes")
        assert synced.returncode == 0, synced.stderr
        preview = run("preview", "--json")
        assert preview.returncode == 0, preview.stderr
        body = json.loads(preview.stdout)
        assert body["counts"]["creates"] == 0
        # The sync's process kept the tenant's discovery answer and its token: none asked.
        assert "login" not in body["requests"]


def test_check_connection_over_https_with_the_scoped_token(tmp_path: Path) -> None:
    """The settings `entra-sync sandbox --token-kind scoped` prints pass every step, and
    every Jira and Assets request but the cloud id lookup goes through the gateway."""
    sandbox = Sandbox(seed=3, people=40, atlassian=20)
    with SandboxServer(sandbox, cert_dir=tmp_path / "tls") as server:
        env = _environ(server, tmp_path, scoped=True)
        run = _runner(env, tmp_path)
        _configure(run, env)
        checked = run("check-connection")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert all(line.startswith("ok") for line in checked.stdout.splitlines())
    paths = [path for service, _, path in sandbox.request_log if service in {"jira", "assets"}]
    assert "/_edge/tenant_info" in paths
    assert all(p.startswith(f"/ex/jira/{SANDBOX_CLOUD_ID}/") for p in paths if "_edge" not in p)
