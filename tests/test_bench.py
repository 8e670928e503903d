"""``make bench`` at a tiny size, so the harness cannot rot between its slow full runs."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.bench import Size, main, measure, parse_sizes, render


def test_the_bench_measures_every_step_and_writes_its_page(tmp_path: Path) -> None:
    logged: list[str] = []
    work = tmp_path / "work"
    work.mkdir()

    result = measure(Size("200", 200, 50), 11, work, logged.append)

    sync = result.steps["sync"]
    assert sync.creates == sync.counts["creates"] > 0
    assert sync.updates <= sync.creates * 0.05  # managers are carried by the creates
    assert sync.received["assets"] >= sync.creates
    assert sync.paced_seconds(900) >= sync.received["assets"] * 60 / 900 - 1
    for step in ("preview", "changed"):
        measured = result.steps[step]
        assert measured.received["login"] == 2  # a process of its own signs in afresh
        assert measured.creates == measured.updates == 0  # a preview writes nothing
        assert 0 < measured.peak_mib < 1024
    assert result.steps["changed"].counts["updates"] == 10
    assert len(logged) == 4

    page = render([result], 11, datetime(2026, 1, 2, tzinfo=UTC))
    assert page.startswith("# Performance\n")
    assert "Measured 2026-01-02 on: CPU: " in page
    assert "/work" not in page and str(tmp_path) not in page  # no paths of this machine
    rows = [line for line in page.splitlines() if line.startswith("| 200 / 50 |")]
    assert len(rows) == 3
    assert f"| {sync.creates:,} + {sync.updates:,} (" in rows[0]


def test_sizes_are_labels_or_numbers_of_users_and_anything_else_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parse_sizes("10k, 100k") == [
        Size("10k", 10_000, 2_500),
        Size("100k", 100_000, 25_000),
    ]
    assert parse_sizes("400") == [Size("400", 400, 100)]
    with pytest.raises(argparse.ArgumentTypeError, match="'7m' is neither"):
        parse_sizes("7m")
    with pytest.raises(SystemExit) as exited:
        main(["--sizes", "0"])
    assert exited.value.code == 2
    assert "argument --sizes: '0' is neither" in capsys.readouterr().err
