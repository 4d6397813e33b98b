"""The database schema by Alembic migrations (app/runs/migrations), applied at start-up.

`upgrade(engine)` brings any database to the newest revision: a new one, one made
before migrations existed (by create_all; revision 0001 adopts it, rows kept), or one
some revisions behind. Several web servers starting together on one PostgreSQL
database take turns (an advisory lock), as do processes on one SQLite file (a lock
file beside it), so a migration never runs twice at once.

    python -m app.runs.migrate revision "add runs.note"   # new file from the models
    python -m app.runs.migrate upgrade                   # what start-up does
"""

from __future__ import annotations

import contextlib
import fcntl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
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


def models_metadata() -> MetaData:
    """Every table the models declare, in one MetaData (for autogenerate and the tests)."""
    from app.runs import blobs, comparison_store, store

    assert "artifacts" in store.Base.metadata.tables, blobs  # blobs' tables live there
    combined = MetaData()
    for metadata in (store.Base.metadata, comparison_store.Base.metadata):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


def differences(engine: Engine) -> list[Any]:
    """What the database lacks or has beyond the models: empty when they agree."""
    from alembic.autogenerate import compare_metadata

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, models_metadata()))


def main(argv: list[str]) -> int:
    from sqlalchemy import create_engine

    from app.settings import get_settings

    engine = create_engine(get_settings().db_url())
    if argv[:1] == ["upgrade"]:
        upgrade(engine)
        return 0
    if argv[:1] == ["revision"] and len(argv) == 2:
        upgrade(engine)  # autogenerate compares against the newest schema
        with engine.begin() as conn:
            cfg = config(conn, models_metadata())
            command.revision(cfg, message=argv[1], autogenerate=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
