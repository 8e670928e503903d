"""``entra-sync healthcheck``: the container's probe, for HTTP and Socket Mode alike.

``serve`` answers ``/healthz`` and ``/readyz`` on ``PORT`` in both modes, so one exec
probe works for both: it asks loopback, exits 0 on a 200 and 1 otherwise, with one
line saying why. It never opens the database or reads a secret, and ignores proxy
settings: a corporate ``HTTP_PROXY`` must not carry a loopback probe away.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import httpx
from dotenv import dotenv_values

PORT_VARIABLE = "PORT"
DEFAULT_PORT = "3000"
TIMEOUT_SECONDS = 3.0
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"


def probe_port(environ: Mapping[str, str], env_file: Path | None) -> str:
    """``PORT`` from the environment, else from the settings file, else 3000 (blank is unset)."""
    value = environ.get(PORT_VARIABLE, "").strip()
    if not value and env_file is not None and env_file.is_file():
        value = (dotenv_values(env_file).get(PORT_VARIABLE) or "").strip()
    return value or DEFAULT_PORT


def run_healthcheck(
    *,
    ready: bool,
    env_file: Path | None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    """0 when the local ``serve`` answers 200 on ``/healthz`` (``/readyz`` with ``ready``)."""
    port = probe_port(os.environ if environ is None else environ, env_file)
    stream = out or sys.stderr
    if not port.isdigit():
        print(f"unhealthy: PORT must be a whole number, got {port[:20]!r}", file=stream)
        return 1
    url = f"http://127.0.0.1:{int(port)}{READY_PATH if ready else HEALTH_PATH}"
    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS, trust_env=False)
    except httpx.HTTPError as exc:
        print(f"unhealthy: {url} did not answer ({type(exc).__name__})", file=stream)
        return 1
    if response.status_code != 200:
        print(f"unhealthy: {url} answered {response.status_code}", file=stream)
        return 1
    return 0
