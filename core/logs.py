"""How the process logs: the level and format the operator chose, and what is never logged.

``ENTRA_SYNC_LOG_LEVEL`` sets the level of this project's own loggers (``core``,
``bot``); ``ENTRA_SYNC_LOG_FORMAT`` writes each record as a line of text for people or
a JSON object for a log collector. Libraries stay at INFO or above whatever the level,
and a few of them always at WARNING, because below that they log what must stay out
of logs: httpx logs every request URL (Graph filters carry people's email addresses),
SQLAlchemy logs SQL with its parameters (the encrypted secret, people's names), and
the Slack and Microsoft libraries log request bodies and proxy URLs at DEBUG.

:func:`process_logging` is a context manager, so a command (or a test) that set logging
up puts everything back when it ends.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

OWN_LOGGERS = ("core", "bot")
LIBRARY_FLOOR = logging.INFO
QUIET_LIBRARIES = {
    "httpx": logging.WARNING,  # request URLs: Graph filters hold email addresses
    "httpcore": logging.WARNING,  # connection traces, response headers
    "sqlalchemy": logging.WARNING,  # SQL and its parameters
    "msal": logging.WARNING,  # token requests and cache events
    "alembic": logging.WARNING,  # its own migration chatter; core.store.schema says what ran
    "urllib3": logging.WARNING,
}
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and extras.

    Fields a caller passes with ``extra={...}`` (a run's id, kind and counts) become
    keys of their own, so a collector can filter on them without parsing the message.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def level_number(level: str | None, default: int) -> int:
    """The ``logging`` level of a validated setting (``None``: ``default``)."""
    return default if level is None else LEVELS[level]


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


@contextmanager
def process_logging(
    level: int, log_format: str, *, stream: TextIO | None = None
) -> Iterator[logging.Handler]:
    """Log at ``level`` in ``log_format`` to ``stream`` (stderr) until the block ends.

    The handler joins the root logger's (a NullHandler that only kept libraries quiet
    is set aside); on the way out the root's handlers and every level changed here are
    put back.
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    levels = {name: logging.getLogger(name).level for name in (*OWN_LOGGERS, *QUIET_LIBRARIES)}
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = [h for h in saved_handlers if not isinstance(h, logging.NullHandler)]
    root.addHandler(handler)
    root.setLevel(max(level, LIBRARY_FLOOR))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name, floor in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(level, floor))
    try:
        yield handler
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
