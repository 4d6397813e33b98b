"""Persistence of runs, specs, status history, decimated metrics and the final snapshot.

SQLAlchemy 2 (SQLite by default, any URL works). Events are stored as the exact JSON
bytes clients received, so a replay after a restart is byte-identical for what was
kept. All database work happens on one dedicated thread: it never blocks the event
loop and needs no locking, and writes stay in the order they were submitted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.runs.events.stream import ACTIVE, Event, make_event, status_fields
from app.runs.store import migrate

log = logging.getLogger(__name__)
T = TypeVar("T")


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    started_at: Mapped[float | None] = mapped_column(Float, default=None)
    finished_at: Mapped[float | None] = mapped_column(Float, default=None)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class EventRow(Base):
    __tablename__ = "events"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)


RUN_FIELDS = [c.name for c in RunRow.__table__.columns]


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _row_dict(row: RunRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in RUN_FIELDS}


def _event_rows(run_id: str, events: Iterable[Event]) -> list[EventRow]:
    return [EventRow(run_id=run_id, seq=e.seq, type=e.type, data=e.data) for e in events]


class Store:
    """Async facade: reads are awaited, writes are queued in order (fire and forget)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="playground-db")
        self._engine: Engine | None = None

    # ---- plumbing -------------------------------------------------------------------
    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self._pool.submit(fn, *args))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future = self._pool.submit(fn, *args)
        future.add_done_callback(_log_failure)
        return future

    def _session(self) -> Session:
        assert self._engine is not None
        return Session(self._engine, expire_on_commit=False)

    async def open(self) -> None:
        await self.call(self._open)

    def _open(self) -> None:
        self._engine = _engine(self.url)
        migrate.upgrade(self._engine)  # the schema comes from migrations, never create_all

    async def close(self) -> None:
        await self.call(self._close)
        self._pool.shutdown(wait=True)

    def _close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # ---- writes (run on the db thread) -----------------------------------------------
    def insert_run(self, row: dict[str, Any], events: list[Event]) -> None:
        with self._session() as s, s.begin():
            s.add(RunRow(**row))
            s.flush()
            s.add_all(_event_rows(row["id"], events))

    def append(self, run_id: str, events: list[Event], updates: dict[str, Any]) -> None:
        with self._session() as s, s.begin():
            run = s.get(RunRow, run_id)
            if run is None:
                return  # deleted meanwhile
            for key, value in updates.items():
                setattr(run, key, value)
            s.add_all(_event_rows(run_id, events))

    def replace_events(self, run_id: str, events: list[Event], updates: dict[str, Any]) -> None:
        """The run's persisted history becomes exactly `events` (used at the end)."""
        with self._session() as s, s.begin():
            run = s.get(RunRow, run_id)
            if run is None:
                return
            for key, value in updates.items():
                setattr(run, key, value)
            s.execute(delete(EventRow).where(EventRow.run_id == run_id))
            s.add_all(_event_rows(run_id, events))

    def checkpoint(
        self, run_id: str, new: list[Event], snapshot: Event | None, updates: dict[str, Any]
    ) -> None:
        """Add a training run's new frames and swap its latest picture (cheap, periodic);
        the end of the run rewrites its history exactly (replace_events)."""
        with self._session() as s, s.begin():
            run = s.get(RunRow, run_id)
            if run is None:
                return
            for key, value in updates.items():
                setattr(run, key, value)
            s.add_all(_event_rows(run_id, new))
            if snapshot is not None:
                s.execute(
                    delete(EventRow).where(EventRow.run_id == run_id, EventRow.type == "snapshot")
                )
                s.add_all(_event_rows(run_id, [snapshot]))

    def delete_run(self, run_id: str) -> None:
        with self._session() as s, s.begin():
            s.execute(delete(EventRow).where(EventRow.run_id == run_id))
            s.execute(delete(RunRow).where(RunRow.id == run_id))

    def interrupt_unfinished(
        self, keep: Collection[str] = (), only: Collection[str] | None = None
    ) -> list[str]:
        """At startup: runs the previous server left queued or training are interrupted
        (except `keep`: runs other servers sharing a job queue still hold; with `only`,
        just those: the runs of a server that died)."""
        now = time.time()
        ids = []
        with self._session() as s, s.begin():
            for run in s.scalars(select(RunRow).where(RunRow.status.in_(sorted(ACTIVE)))):
                if run.id in keep or (only is not None and run.id not in only):
                    continue
                was_training = run.status != "queued"
                reason = (
                    "the server stopped while this run was training"
                    if was_training
                    else "the server stopped before this run started"
                )
                summary = {"status": "interrupted", "reason": reason, "step": run.step}
                summary.update(epoch=None, best_epoch=None, final=None, seconds=None)
                stored = s.scalar(select(func.max(EventRow.seq)).where(EventRow.run_id == run.id))
                seq = max(run.last_seq, stored or 0) + 1
                ev = make_event(
                    run.id, seq, "status", status_fields("interrupted", reason, None, summary)
                )
                s.add(EventRow(run_id=run.id, seq=seq, type="status", data=ev.data))
                run.status, run.reason, run.summary = "interrupted", reason, summary
                run.last_seq, run.finished_at = seq, now
                ids.append(run.id)
        return ids

    # ---- reads --------------------------------------------------------------------------
    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._session() as s:
            run = s.get(RunRow, run_id)
            return _row_dict(run) if run is not None else None

    def list_runs(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        with self._session() as s:
            rows = s.scalars(
                select(RunRow)
                .order_by(RunRow.created_at.desc(), RunRow.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            total = s.query(RunRow).count()
            return [_row_dict(r) for r in rows], total

    def get_events(self, run_id: str, after: int) -> list[Event]:
        with self._session() as s:
            rows = s.execute(
                select(EventRow.seq, EventRow.type, EventRow.data)
                .where(EventRow.run_id == run_id, EventRow.seq > after)
                .order_by(EventRow.seq)
            ).all()
            return [Event(seq, type_, bytes(data)) for seq, type_, data in rows]

    def status_history(self, run_id: str) -> list[Event]:
        with self._session() as s:
            rows = s.execute(
                select(EventRow.seq, EventRow.data)
                .where(EventRow.run_id == run_id, EventRow.type == "status")
                .order_by(EventRow.seq)
            ).all()
            return [Event(seq, "status", bytes(data)) for seq, data in rows]


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("database write failed: %r", exc, exc_info=exc)
