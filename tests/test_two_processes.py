"""Two processes on one SQLite file, each a full scheduled check: they never run together."""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from core.cli.demo import configure_sandbox, sandbox_environ, sandbox_service
from core.config import TeamSettings, load_settings
from core.runs import ScheduledSync, SyncService
from core.sandbox import Sandbox
from core.store import RunKind


def _service_for(database: str, latency: float) -> tuple[SyncService, Sandbox]:
    sandbox = Sandbox(seed=7, people=60, atlassian=45, latency=latency)
    settings = load_settings(sandbox_environ(database), env_file=None)
    return sandbox_service(sandbox, settings), sandbox


def _scheduled_check(database: str, barrier: Barrier, results: Queue[tuple[str, int]]) -> None:
    service, sandbox = _service_for(database, latency=0.02)
    service.create_schema("setup")  # each process has its own sandbox to write into
    barrier.wait()
    outcome = ScheduledSync(service).run_check()
    results.put((outcome.kind.value, len(sandbox.employees())))
    service.close()


def test_two_serve_processes_never_run_a_sync_together(tmp_path: Path) -> None:
    """Both processes check at the same moment: one syncs, the other is refused as busy."""
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    service, _ = _service_for(database, latency=0.0)
    configure_sandbox(service)
    service.save_team_settings(TeamSettings("C0REPORTS", ("UAPPROVER",)), "setup")
    service.create_schema("setup")
    assert service.sync("UAPPROVER").applied is not None  # a person's first sync
    service.close()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=_scheduled_check, args=(database, barrier, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert outcomes == [("applied", 38), ("busy", 0)]
    check, _ = _service_for(database, latency=0.0)
    runs = [r for r in check.history(10) if r.kind is RunKind.SCHEDULED]
    assert len([r for r in check.history(10) if r.kind is RunKind.MANUAL]) == 1
    check.close()
    assert [r.status.value for r in runs] == ["succeeded"]
