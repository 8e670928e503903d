"""The database: connection and team settings, runs, previews, audit, the run lease,
and the local copy of the directory that Graph's delta query continues.

SQLModel tables stay private to this package; callers get frozen views
(:class:`RunView`, :class:`PreviewView`, ...) and the :class:`Store` methods.
"""

from core.store.database import Store, database_schema, is_memory_database, upgrade_database
from core.store.directory import DirectoryCopy, DirectoryCopySave
from core.store.health import ping
from core.store.lease import HeldLease, LeaseBusy, LeaseInfo, RunLease
from core.store.person_history import PersonWrite
from core.store.read_cache import AssetsIds
from core.store.schema import DatabaseNewer, SchemaState, SchemaUpgrade
from core.store.secrets import load_cipher
from core.store.tables import (
    CLOSED_PREVIEW_STATUSES,
    ConnectionView,
    PreviewStatus,
    PreviewView,
    RunKind,
    RunStatus,
    RunView,
)

__all__ = [
    "CLOSED_PREVIEW_STATUSES",
    "AssetsIds",
    "ConnectionView",
    "DatabaseNewer",
    "DirectoryCopy",
    "DirectoryCopySave",
    "HeldLease",
    "LeaseBusy",
    "LeaseInfo",
    "PersonWrite",
    "PreviewStatus",
    "PreviewView",
    "RunKind",
    "RunLease",
    "RunStatus",
    "RunView",
    "SchemaState",
    "SchemaUpgrade",
    "Store",
    "database_schema",
    "is_memory_database",
    "load_cipher",
    "ping",
    "upgrade_database",
]
