"""The database schema by Alembic migrations (app/runs/store/migrations), applied at start-up.

`upgrade(engine)` brings any database to the newest revision: a new one, one made
before migrations existed (by create_all; revision 0001 adopts it, rows kept), or one
some revisions behind. Several web servers starting together on one PostgreSQL
database take turns (an advisory lock), as do processes on one SQLite file (a lock
file beside it), so a migration never runs twice at once.

`python -m app.runs.service.schema` writes a new revision from the models (all tables,
the job kinds' included, which this module must not import).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
PG_LOCK = 0x62705F6D  # pg_advisory_xact_lock key: "bp_m"


def config(connection: Connection | None = None, metadata: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["metadata"] = metadata
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision (a no-op when it is there)."""
    with _file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK})
        if current(conn) != head():
            command.upgrade(config(conn), "head")
