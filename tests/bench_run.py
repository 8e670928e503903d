"""One measurement of ``make bench``, in a process of its own (see :mod:`tests.bench`).

``python -m tests.bench_run STEP`` with the engine's settings in the environment, where
STEP is ``setup`` (configure the Entra connection, create the schema), ``sync`` or
``preview``. It runs that one step through :class:`core.runs.SyncService`, exactly as
the command line would, and prints one JSON line: the requests the run's own meter
counted, the seconds the step took (process start-up and imports left out), its phases
and this process's peak resident memory. One process per measurement, so the peak is
that measurement's alone, and it never holds the sandbox, which runs in the parent.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from typing import Any

from core.clients import RequestCounter
from core.config import load_settings
from core.runs import SyncService

ACTOR = "bench"


class Phases:
    """Time and requests between the messages a run says (``say``): its phases.

    A run says what it starts (reading the schema, the accounts, the Employees, the
    directory; applying), so the span between two messages is one phase. The bench
    turns them into the time the run would take with Assets paced (:mod:`tests.bench`).
    """

    def __init__(self, counter: RequestCounter) -> None:
        self._counter = counter
        self._marks: list[tuple[str, float, dict[str, int]]] = []
        self.say("start")

    def say(self, text: str) -> None:
        self._marks.append((text, time.monotonic(), self._counter.snapshot()))

    def spans(self) -> list[dict[str, Any]]:
        """Each phase: its opening message, seconds, and requests by service."""
        self.say("end")
        spans = []
        for (text, start, before), (_, end, after) in zip(
            self._marks, self._marks[1:], strict=False
        ):
            requests = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
            spans.append({"phase": text, "seconds": end - start, "requests": requests})
        return spans


def _run(step: str, service: SyncService, phases: Phases) -> dict[str, Any]:
    if step == "setup":
        service.configure(
            os.environ["ENTRA_TENANT_ID"],
            os.environ["ENTRA_CLIENT_ID"],
            os.environ["ENTRA_CLIENT_SECRET"],
            7,
            ACTOR,
        )
        service.create_schema(ACTOR, phases.say)
        return {"status": "succeeded"}
    if step == "sync":
        synced = service.sync(ACTOR, say=phases.say)
        applied = synced.applied
        return {
            "status": synced.status.value,
            "counts": synced.plan.counts(),
            "applied": applied.succeeded if applied else 0,
            "failed": applied.failed if applied else 0,
            "requests": synced.requests,
        }
    if step == "preview":
        previewed = service.preview(ACTOR, phases.say)
        return {
            "status": "succeeded",
            "counts": previewed.plan.counts(),
            "requests": previewed.requests,
            "strategy": previewed.strategy,
        }
    raise SystemExit(f"unknown step {step!r}: use setup, sync or preview")


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        raise SystemExit("usage: python -m tests.bench_run setup|sync|preview")
    settings = load_settings(os.environ, env_file=None)
    service = SyncService.open(settings)
    try:
        phases = Phases(service.clients.counter)
        started = time.monotonic()
        result = _run(argv[0], service, phases)
        result["seconds"] = time.monotonic() - started
        result["phases"] = phases.spans()
    finally:
        service.close()
        service.store.close()
    result["peak_rss_kib"] = peak_rss_kib()
    print(json.dumps(result))
    return 0


def peak_rss_kib() -> int:
    """This process's own peak resident memory, in KiB.

    Linux keeps ``ru_maxrss`` across fork and exec, so a child of the bench (which
    holds the whole sandbox) would report the parent's peak; ``VmHWM`` is the
    process's own. Elsewhere ``ru_maxrss`` is the best there is.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
