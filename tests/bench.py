"""``python -m tests.bench`` (``make bench``): what a sync and a preview cost at scale.

For each size (directory users / Atlassian accounts: 10k/2.5k, 20k/5k, 50k/12.5k and
100k/25k unless ``--sizes`` picks some), the sandbox organisation of that size is
served over HTTPS on loopback by this process (``core.sandbox.SandboxServer``), and
the engine runs against it in a child process per measurement
(:mod:`tests.bench_run`), so each measurement's peak memory is its own and never
includes the sandbox:

1. setup: the Entra connection and the Assets schema (not reported);
2. the first sync, with Assets pacing off (``ENTRA_SYNC_ASSETS_RATE=0``);
3. a preview with nothing changed;
4. a preview after 10 title changes and 5 leavers (directory accounts disabled).

Requests by service are those the sandbox received (sign-in included); Assets writes
are its creates (``POST object/create``) and updates (``PUT object/{id}``). The time
at the default pacing is computed, not waited for: the pacer lets Assets requests
through at the configured rate, so each phase of the run (as the run announces them:
schema, accounts, Employees, directory, apply) takes at least its Assets requests
divided by that rate, and otherwise the time it took unpaced. It measures whatever the
service does, so it stays true when the reads change.

It writes ``docs/performance.md`` (``--out``; ``--out -`` only prints). ``--sizes``
takes labels such as ``10k,20k`` or a number of directory users (with a quarter as
many accounts), which the test uses to keep the harness from rotting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import load_settings
from core.sandbox import Sandbox, SandboxServer, settings_env
from core.sync import Attr

SIZES = {"10k": 10_000, "20k": 20_000, "50k": 50_000, "100k": 100_000}
ACCOUNTS_PER_USER = 0.25
SEED = 11
TITLE_CHANGES = 10
LEAVERS = 5
BOUND_RATE = 1_000  # requests a minute Assets allows
SERVICES = (("graph", "Graph"), ("jira", "Jira"), ("admin", "org admin"), ("assets", "Assets"))
SIGN_IN = ("login", "sign-in")
DEFAULT_OUT = Path("docs/performance.md")
ROOT = Path(__file__).resolve().parents[1]  # where ``python -m tests.bench_run`` is found
Log = Callable[[str], None]


class BenchError(RuntimeError):
    """A measurement that did not run as it must; the bench stops rather than report it."""


@dataclass(frozen=True)
class Size:
    label: str
    people: int
    atlassian: int


@dataclass(frozen=True)
class Measurement:
    """One step as the sandbox saw it and as the engine's process reported it."""

    received: dict[str, int]
    creates: int
    updates: int
    report: dict[str, Any]

    @property
    def seconds(self) -> float:
        return float(self.report["seconds"])

    @property
    def peak_mib(self) -> float:
        return int(self.report["peak_rss_kib"]) / 1024

    @property
    def total(self) -> int:
        return sum(self.received.values())

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.report.get("counts", {})
        return counts

    def paced_seconds(self, rate: float) -> float:
        """The time with Assets paced at ``rate`` a minute, phase by phase."""
        return sum(
            max(float(p["seconds"]), float(p["requests"].get("assets", 0)) * 60.0 / rate)
            for p in self.report["phases"]
        )


@dataclass
class SizeResult:
    size: Size
    build_seconds: float
    steps: dict[str, Measurement] = field(default_factory=dict)


def parse_sizes(text: str) -> list[Size]:
    """``10k,20k`` or ``400``: labels of :data:`SIZES` or numbers of directory users."""
    sizes = []
    for part in (p.strip().lower() for p in text.split(",")):
        if part in SIZES:
            people = SIZES[part]
        elif part.isdigit() and int(part) > 0:
            people = int(part)
        else:
            raise argparse.ArgumentTypeError(
                f"{part!r} is neither one of {', '.join(SIZES)} nor a number of users"
            )
        sizes.append(Size(part, people, int(people * ACCOUNTS_PER_USER)))
    return sizes


def child_environ(server: SandboxServer, database: Path) -> dict[str, str]:
    """The engine's settings for the sandbox; none of the caller's own ENTRA_ ones."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ENTRA_")}
    return {
        **base,
        **settings_env(server),
        "ENTRA_SYNC_DATABASE_URL": f"sqlite:///{database}",
        "ENTRA_SYNC_ASSETS_RATE": "0",
    }


def run_step(sandbox: Sandbox, step: str, environ: Mapping[str, str]) -> Measurement:
    """Run ``step`` in a child process; count what the sandbox received meanwhile."""
    sandbox.reset_counts()
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench_run", step],
        env=dict(environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"{step} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["status"] != "succeeded":
        raise BenchError(f"{step} ended {report['status']}: {report}")
    writes = [(m, p) for s, m, p in sandbox.request_log if s == "assets"]
    return Measurement(
        received={k: v for k, v in sandbox.requests.items() if v},
        creates=sum(1 for m, p in writes if m == "POST" and p.endswith("/object/create")),
        updates=sum(1 for m, p in writes if m == "PUT" and "/object/" in p),
        report=report,
    )


def make_changes(sandbox: Sandbox) -> None:
    """10 title changes and 5 leavers among the synced Employees, the same every run."""
    users = sandbox.directory_users
    synced = sorted(
        (e for e in sandbox.employees() if e["attributes"].get(Attr.ENTRA_USER_ID.value) in users),
        key=lambda e: int(e["id"]),
    )
    chosen = [
        u for e in synced if (u := users[e["attributes"][Attr.ENTRA_USER_ID.value]]).account_enabled
    ]
    wanted = TITLE_CHANGES + LEAVERS
    if len(chosen) < wanted:
        raise BenchError(f"only {len(chosen)} synced, enabled Employees; {wanted} are needed")
    step = len(chosen) // wanted
    picked = [chosen[i * step] for i in range(wanted)]
    for user in picked[:TITLE_CHANGES]:
        sandbox.set_job_title(user.id, f"Acting {user.job_title or 'Lead'}")
    for user in picked[TITLE_CHANGES:]:
        sandbox.disable_user(user.id)


def check(result: SizeResult) -> None:
    """The steps did what they claim, or the figures would mean nothing."""
    sync = result.steps["sync"]
    if sync.report["failed"]:
        raise BenchError(f"{result.size.label}: {sync.report['failed']} changes failed")
    if sync.creates != sync.counts["creates"]:
        raise BenchError(f"{result.size.label}: {sync.creates} creates sent for a plan of "
                         f"{sync.counts['creates']}")  # fmt: skip
    quiet = result.steps["preview"].counts
    if quiet["creates"] or quiet["updates"] or quiet["inactivations"]:
        raise BenchError(f"{result.size.label}: the preview after the sync is not empty: {quiet}")
    changed = result.steps["changed"].counts
    if (changed["updates"], changed["inactivations"]) != (TITLE_CHANGES, LEAVERS):
        raise BenchError(f"{result.size.label}: the preview after the changes shows {changed}")


def measure(size: Size, seed: int, root: Path, log: Log) -> SizeResult:
    """Every step at one size, against a fresh sandbox and database."""
    started = time.monotonic()
    sandbox = Sandbox(seed=seed, people=size.people, atlassian=size.atlassian)
    result = SizeResult(size, time.monotonic() - started)
    log(f"{size.label}: sandbox of {size.people:,} users built in {result.build_seconds:.1f} s")
    work = root / size.label
    work.mkdir()
    with SandboxServer(sandbox, cert_dir=work / "tls") as server:
        environ = child_environ(server, work / "bench.db")
        run_step(sandbox, "setup", environ)
        for step, label in (("sync", "first sync"), ("preview", "preview, nothing changed")):
            result.steps[step] = run_step(sandbox, step, environ)
            log(f"{size.label}: {label} in {result.steps[step].seconds:.1f} s")
        make_changes(sandbox)
        result.steps["changed"] = run_step(sandbox, "preview", environ)
        log(f"{size.label}: preview after changes in {result.steps['changed'].seconds:.1f} s")
    check(result)
    return result


# -- the report ----------------------------------------------------------------------


def machine() -> list[str]:
    """CPU model, cores, Python and OS: enough to compare runs, and no paths."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return [
        f"CPU: {model}, {os.cpu_count()} cores",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"{platform.system()} {platform.release()}",
    ]


def _size_cell(size: Size) -> str:
    return f"{size.people:,} / {size.atlassian:,}"


def _requests_cells(m: Measurement) -> list[str]:
    names = [s for s, _ in SERVICES] + [SIGN_IN[0]]
    return [f"{m.received.get(name, 0):,}" for name in names] + [f"{m.total:,}"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def render(results: Sequence[SizeResult], seed: int, when: datetime) -> str:
    rate = load_settings({}, env_file=None).assets_requests_per_minute
    service_names = [name for _, name in SERVICES] + [SIGN_IN[1], "total"]
    sync_rows = []
    for r in results:
        m = r.steps["sync"]
        assets = m.received.get("assets", 0)
        extra = m.creates and (m.updates / m.creates)
        sync_rows.append(
            [
                _size_cell(r.size),
                *_requests_cells(m),
                f"{m.creates:,} + {m.updates:,} ({extra:.1%})",
                f"{m.seconds:.1f} s",
                _minutes(assets * 60 / BOUND_RATE),
                _minutes(m.paced_seconds(rate)),
                f"{m.peak_mib:.0f} MiB",
            ]
        )
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`python -m tests.bench`, described in its docstring); run",
        "it again rather than edit this page. The sandbox organisation of each size (seed "
        f"{seed}) is",
        "served over HTTPS on loopback, and the engine runs against it in a process of its own",
        "per measurement, so each peak memory figure is that measurement's alone. Requests are",
        "those the sandbox received, sign-in included.",
        "",
        f"Measured {when:%Y-%m-%d} on: " + "; ".join(machine()) + ".",
        "",
        "## First sync",
        "",
        "Assets writes are creates + other writes (updates of the manager reference that a",
        "create could not carry), with the other writes as a share of the creates. The wall",
        "time is with Assets pacing off. The bound is the Assets requests at the 1,000 a",
        f"minute Assets allows; the time at the default pacing ({rate:,.0f} a minute) is",
        "computed phase by phase: each phase of the run takes at least its Assets requests",
        "at that rate, and otherwise as long as it took.",
        "",
        *_table(
            [
                "directory users / accounts",
                *service_names,
                "Assets writes",
                "wall time",
                "bound at 1,000/min",
                f"at {rate:,.0f}/min",
                "peak RSS",
            ],
            sync_rows,
        ),
    ]
    for step, title in (
        ("preview", "Preview, nothing changed since the sync"),
        ("changed", f"Preview after {TITLE_CHANGES} title changes and {LEAVERS} leavers"),
    ):
        rows = [
            [
                _size_cell(r.size),
                *_requests_cells(r.steps[step]),
                f"{r.steps[step].seconds:.1f} s",
                f"{r.steps[step].peak_mib:.0f} MiB",
            ]
            for r in results
        ]
        lines += ["", f"## {title}", ""]
        lines += _table(
            ["directory users / accounts", *service_names, "wall time", "peak RSS"], rows
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes(",".join(SIZES)))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the page to write; - prints")
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    results = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="entra-bench-") as root:
        for size in args.sizes:
            results.append(measure(size, args.seed, Path(root), log))
    page = render(results, args.seed, datetime.now(UTC))
    if args.out == "-":
        print(page, end="")
    else:
        Path(args.out).write_text(page)
        log(f"wrote {args.out}")
    log(f"bench took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
