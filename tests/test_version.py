"""The version every surface reports is the one pyproject.toml declares."""

import tomllib
from pathlib import Path

from core.version import version


def test_version_is_the_one_pyproject_declares() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert version() == pyproject["project"]["version"]
