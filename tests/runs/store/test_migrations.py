"""Alembic migrations: a new database gets exactly the models' tables, and a database
made by the schema before migrations (create_all at c4e0771) is upgraded at start-up
with every run, event, artifact, dataset and comparison kept (SQLite and PostgreSQL).

fixtures/legacy_*.sql and legacy_rows.json were made at c4e0771 (the commit before
migrations): the app trained a finished run (with its weights), a stopped run, a run
on an uploaded CSV and a two-member comparison, then the tables were dumped: DDL as
that commit's create_all emits it for each dialect, rows as JSON (bytes in base64).
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import Engine

from app.runs.service import schema
from app.runs.store import migrate
from tests.web.service import app_client, events, make_settings

FIXTURES = Path(__file__).parent / "fixtures"
ROWS: dict[str, list[dict[str, Any]]] = json.loads((FIXTURES / "legacy_rows.json").read_text())
ADMIN = "postgresql://root@127.0.0.1:5432/postgres"


def decode(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: base64.b64decode(v["b64"]) if isinstance(v, dict) and set(v) == {"b64"} else v
        for k, v in row.items()
    }


def fill(engine: Engine, ddl: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """The old schema and its rows, as that version of the app left them."""
    with engine.begin() as conn:
        for statement in ddl.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as conn:
        for table in tables.sorted_tables:  # runs before the rows that refer to them
            if rows.get(table.name):
                conn.execute(table.insert(), [decode(r) for r in rows[table.name]])


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    tables = MetaData()
    tables.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in tables.tables.items():
            if name != "alembic_version":
                key = list(table.primary_key.columns)
                out[name] = [dict(r) for r in conn.execute(select(table).order_by(*key)).mappings()]
    return out


def check_kept(before: dict[str, list[dict[str, Any]]], engine: Engine) -> None:
    after = dump(engine)
    for name, rows in before.items():
        assert rows, name
        for row in rows:
            assert row in after[name], f"{name} lost {str(row)[:200]}"


def test_a_new_database_gets_exactly_the_models_tables(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate.upgrade(engine)
    migrate.upgrade(engine)  # again: nothing to do
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    # A model change without a migration (or the reverse) shows up here.
    assert schema.differences(engine) == []


def test_sqlite_from_the_previous_schema_keeps_every_run(tmp_path: Path) -> None:
    db = tmp_path / "playground.db"
    engine = create_engine(f"sqlite:///{db}")
    fill(engine, (FIXTURES / "legacy_sqlite.sql").read_text(), ROWS)
    before = dump(engine)
    assert "ix_comparisons_status" not in {
        i["name"] for i in inspect(engine).get_indexes("comparisons")
    }
    with app_client(make_settings(tmp_path)) as client:  # start-up migrates
        listed = client.get("/api/runs", params={"limit": 50}).json()
        assert {r["id"] for r in listed["runs"]} >= {r["id"] for r in ROWS["runs"]}
        for row in ROWS["runs"]:
            run = client.get(f"/api/runs/{row['id']}").json()
            assert run["status"] == row["status"] and run["summary"] == row["summary"]
            stored = [e for e in ROWS["events"] if e["run_id"] == row["id"]]
            assert len(events(client, row["id"])) >= len(stored) > 0
        comparison = ROWS["comparisons"][0]
        assert client.get(f"/api/comparisons/{comparison['id']}").json()["status"] == "finished"
        finished = next(r for r in ROWS["runs"] if r["status"] == "finished")
        assert client.get(f"/api/runs/{finished['id']}/weights.pt").status_code == 200
    engine.dispose()
    check_kept(before, engine)
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    assert schema.differences(engine) == []


def test_an_older_database_gains_what_create_all_never_added(tmp_path: Path) -> None:
    # Before visitor ownership (no runs.client) and before comparisons (no such tables).
    ddl = (FIXTURES / "legacy_sqlite.sql").read_text()
    kept = [s for s in ddl.split(";") if "comparison" not in s]
    old = ";".join(kept).replace("\tclient VARCHAR(200) NOT NULL, \n", "")
    assert "client" not in old
    rows = {k: v for k, v in ROWS.items() if "comparison" not in k}
    rows["runs"] = [{k: v for k, v in r.items() if k != "client"} for r in ROWS["runs"]]
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(old)
    engine = create_engine(f"sqlite:///{db}")
    fill(engine, "", rows)
    migrate.upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("runs")}
    assert "client" in columns and "comparisons" in inspect(engine).get_table_names()
    after = dump(engine)
    assert [{k: v for k, v in r.items() if k != "client"} for r in after["runs"]] == [
        decode(r) for r in sorted(rows["runs"], key=lambda r: r["id"])
    ]
    # All that differs from today's models: the added column allows NULL (old rows).
    assert [d[0][0] for d in schema.differences(engine)] == ["modify_nullable"]


@pytest.fixture
def postgres() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg", reason="the queue extra is not installed")
    try:
        admin = psycopg.connect(ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}")
    name = f"playground_migrate_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://root@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_postgres_from_the_previous_schema_keeps_every_run(tmp_path: Path, postgres: str) -> None:
    engine = create_engine(postgres)
    fill(engine, (FIXTURES / "legacy_postgres.sql").read_text(), ROWS)
    before = dump(engine)
    with app_client(make_settings(tmp_path, database_url=postgres)) as client:
        for row in ROWS["runs"]:
            assert client.get(f"/api/runs/{row['id']}").json()["status"] == row["status"]
    check_kept(before, engine)
    assert schema.differences(engine) == []
    engine.dispose()


def test_postgres_servers_starting_together_migrate_once(postgres: str) -> None:
    engines = [create_engine(postgres) for _ in range(3)]
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        try:
            migrate.upgrade(engine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert schema.differences(engines[0]) == []
    for engine in engines:
        engine.dispose()
