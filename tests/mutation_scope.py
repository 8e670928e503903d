"""A pytest plugin for ``make mutate``: each mutant meets only its own module's tests.

mutmut runs, for every mutant, the tests that called the mutated function. Many
functions are also called on the way by broader tests (every approval test sends
requests through the HTTP client and plans through the planner), which would make
each mutant wait for them and would credit a module with kills its own tests never
made. While mutmut tests a mutant (``MUTANT_UNDER_TEST`` names it), this plugin
deselects every test outside the mutated module's list in
``[tool.entra-sync.mutate-tests]`` of pyproject.toml. A mutant left with no test is
reported by mutmut as "no tests".

Loaded with ``-p tests.mutation_scope`` from ``[tool.mutmut] pytest_add_cli_args``;
the ordinary test run never loads it.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

# A mutant is named <module>.x_<function>__mutmut_<n> or <module>.xǁ<Class>ǁ<method>__...
_MUTANT_MODULE = re.compile(r"^(?P<module>[\w.]+?)\.x[_ǁ]")


def module_path(mutant: str) -> str | None:
    """``core/sync/guard.py`` for ``core.sync.guard.x_hold_reasons__mutmut_3``."""
    found = _MUTANT_MODULE.match(mutant)
    return found["module"].replace(".", "/") + ".py" if found else None


def scopes(rootpath: Path) -> dict[str, tuple[str, ...]]:
    config = tomllib.loads((rootpath / "pyproject.toml").read_text(encoding="utf-8"))
    table = config["tool"]["entra-sync"]["mutate-tests"]
    return {module: tuple(paths) for module, paths in table.items()}


def in_scope(nodeid: str, paths: tuple[str, ...]) -> bool:
    """Whether a test id lies in one of ``paths`` (files, or folders ending in ``/``)."""
    file = nodeid.split("::", 1)[0]
    return any(file == path or (path.endswith("/") and file.startswith(path)) for path in paths)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if "__mutmut_" not in mutant:
        return  # mutmut's own runs: stats, listing tests, the clean run, the forced failure
    module = module_path(mutant)
    table = scopes(config.rootpath)
    if module is None or module not in table:
        raise pytest.UsageError(f"no mutate-tests entry in pyproject.toml for mutant {mutant}")
    paths = table[module]
    kept = [item for item in items if in_scope(item.nodeid, paths)]
    dropped = [item for item in items if not in_scope(item.nodeid, paths)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
