"""Every table the models declare, and the developer's migration commands.

Above the store and the job kinds (whose tables live beside their code), so it may import
both; start-up itself only runs `app.runs.store.migrate.upgrade`.

    python -m app.runs.service.schema revision "add runs.note"   # new file from the models
    python -m app.runs.service.schema upgrade                   # what start-up does
"""

from __future__ import annotations

import sys
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine

from app.runs.kinds.comparison import store as comparison_store
from app.runs.store import blobs
from app.runs.store import runs as store
from app.runs.store.migrate import config, upgrade
from app.settings import get_settings


def models_metadata() -> MetaData:
    """Every table the models declare, in one MetaData (for autogenerate and the tests)."""
    assert "artifacts" in store.Base.metadata.tables, blobs  # blobs' tables live there
    combined = MetaData()
    for metadata in (store.Base.metadata, comparison_store.Base.metadata):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


def differences(engine: Engine) -> list[Any]:
    """What the database lacks or has beyond the models: empty when they agree."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, models_metadata()))


def main(argv: list[str]) -> int:
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
