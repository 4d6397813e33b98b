"""Alembic's environment: runs on the connection app.runs.store.migrate hands over.

No model is imported here, so a start-up needs only the scripts in versions/; the
models' metadata comes in through `config.attributes["metadata"]` when comparing
(autogenerate, the tests).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config
connection = config.attributes.get("connection")
metadata = config.attributes.get("metadata")


def run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=metadata,
        # SQLite alters a table by copying it ("batch"); PostgreSQL alters in place.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:  # the alembic command line: sqlalchemy.url from the config
    with create_engine(config.get_main_option("sqlalchemy.url") or "").begin() as conn:
        run(conn)
