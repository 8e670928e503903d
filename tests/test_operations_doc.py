"""docs/operations.md names every error the configuration, the keys and the command line
can print, so its table from message to fix cannot fall behind the code."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

import bot.config
import core.cli.commands
import core.config.settings
import core.config.team
import core.config.validation
import core.runs.service
import core.store.database
import core.store.secrets

DOC = (Path(__file__).parents[1] / "docs" / "operations.md").read_text(encoding="utf-8")
MODULES: tuple[ModuleType, ...] = (
    core.config.settings,
    core.config.validation,
    core.config.team,
    core.store.secrets,
    core.store.database,
    core.runs.service,
    importlib.import_module("core.cli.main"),  # core.cli.main is also the function
    core.cli.commands,
    bot.config,
)
PREFIX = 60  # long rules are quoted in the table up to a "..." where they run on


def rules() -> list[tuple[str, str]]:
    found = {
        f"{module.__name__}.{name}": value
        for module in MODULES
        for name, value in vars(module).items()
        if (name.startswith("RULE_") or name == "ROTATED_MEANWHILE") and isinstance(value, str)
    }
    return sorted(found.items())


@pytest.mark.parametrize(("name", "rule"), rules())
def test_every_rule_is_in_the_error_table(name: str, rule: str) -> None:
    quoted = rule.split("{", maxsplit=1)[0][:PREFIX]
    assert quoted in DOC, f"{name} is missing from docs/operations.md: {quoted!r}"


def test_the_table_sees_the_rules_at_all() -> None:
    assert len(rules()) > 30
