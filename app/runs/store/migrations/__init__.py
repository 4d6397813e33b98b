"""Alembic migrations of the run store (runs, events, artifacts, datasets, comparisons).

Applied at start-up by `app.runs.store.migrate.upgrade` (Store.open), on SQLite and PostgreSQL.
A change to the tables is a new file in versions/: `python -m app.runs.service.schema revision
"what changed"` writes one from the difference between the models and the database, and
tests/runs/test_migrations.py fails while the models and the migrations disagree.
"""
