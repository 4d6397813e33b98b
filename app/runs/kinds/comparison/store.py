"""Persistence of comparisons: their own tables beside the runs table, same database.

`comparisons` holds the request, the member run ids and labels, the status and the final
table; `comparison_events` the comparison's persisted event log (status, starts, member
ends, decimated metrics, each member's last picture, the last table), written when it ends;
`comparison_members` links a member run to its comparison. The member runs themselves are
ordinary rows of `runs`. Every function here runs on the Store's database thread
(`store.call` / `store.submit`), like the Store's own methods.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Float, Integer, LargeBinary, String, Text, delete, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.runs.events.stream import ACTIVE, Event, make_event, status_fields
from app.runs.store.runs import Store


class Base(DeclarativeBase):
    pass


class ComparisonRow(Base):
    __tablename__ = "comparisons"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)  # migration 0002
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"run_id", "label"}]
    mode: Mapped[str] = mapped_column(String(16))
    mode_reason: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    started_at: Mapped[float | None] = mapped_column(Float, default=None)
    finished_at: Mapped[float | None] = mapped_column(Float, default=None)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class ComparisonEventRow(Base):
    __tablename__ = "comparison_events"
    comparison_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MemberRow(Base):
    __tablename__ = "comparison_members"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    comparison_id: Mapped[str] = mapped_column(String(32), index=True)
    member: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(80))


FIELDS = [c.name for c in ComparisonRow.__table__.columns]
LATEST = ("snapshot", "summary")  # only the latest of each is kept (per member: pictures)


def _session(store: Store) -> Session:
    return store._session()  # the Store's engine, on the Store's thread


def create_tables(store: Store) -> None:
    """Nothing to do: Store.open() migrated the database (app.runs.store.migrate)."""
    assert store._engine is not None


def insert(store: Store, row: dict[str, Any], events: list[Event]) -> None:
    with _session(store) as s, s.begin():
        s.add(ComparisonRow(**row))
        for i, m in enumerate(row["members"]):
            s.add(
                MemberRow(run_id=m["run_id"], comparison_id=row["id"], member=i, label=m["label"])
            )
        s.add_all(_rows(row["id"], events))


def update(store: Store, comparison_id: str, updates: dict[str, Any]) -> None:
    with _session(store) as s, s.begin():
        row = s.get(ComparisonRow, comparison_id)
        if row is not None:
            for key, value in updates.items():
                setattr(row, key, value)


def replace_events(
    store: Store, comparison_id: str, events: list[Event], updates: dict[str, Any]
) -> None:
    with _session(store) as s, s.begin():
        row = s.get(ComparisonRow, comparison_id)
        if row is None:
            return
        for key, value in updates.items():
            setattr(row, key, value)
        s.execute(delete(ComparisonEventRow).where(ComparisonEventRow.comparison_id == row.id))
        s.add_all(_rows(comparison_id, events))


def checkpoint(
    store: Store, comparison_id: str, new: list[Event], latest: list[Event], updates: dict[str, Any]
) -> None:
    """Add the events new since the last write; the latest pictures and table replace
    the stored ones (the end of the comparison rewrites its log exactly)."""
    with _session(store) as s, s.begin():
        row = s.get(ComparisonRow, comparison_id)
        if row is None:
            return
        for key, value in updates.items():
            setattr(row, key, value)
        s.execute(
            delete(ComparisonEventRow).where(
                ComparisonEventRow.comparison_id == comparison_id,
                ComparisonEventRow.type.in_(LATEST),
            )
        )
        s.add_all(_rows(comparison_id, [*new, *latest]))


def get(store: Store, comparison_id: str) -> dict[str, Any] | None:
    with _session(store) as s:
        row = s.get(ComparisonRow, comparison_id)
        return {name: getattr(row, name) for name in FIELDS} if row is not None else None


def get_events(store: Store, comparison_id: str, after: int) -> list[Event]:
    with _session(store) as s:
        rows = s.execute(
            select(ComparisonEventRow.seq, ComparisonEventRow.type, ComparisonEventRow.data)
            .where(
                ComparisonEventRow.comparison_id == comparison_id, ComparisonEventRow.seq > after
            )
            .order_by(ComparisonEventRow.seq)
        ).all()
        return [Event(seq, type_, bytes(data)) for seq, type_, data in rows]


def links(store: Store, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """run id -> {"id": comparison id, "member", "label"} for the member runs among run_ids."""
    if not run_ids:
        return {}
    with _session(store) as s:
        rows = s.scalars(select(MemberRow).where(MemberRow.run_id.in_(run_ids))).all()
        return {
            r.run_id: {"id": r.comparison_id, "member": r.member, "label": r.label} for r in rows
        }


def interrupt_unfinished(store: Store) -> None:
    """At startup: comparisons the previous server left active are interrupted (their
    member runs are interrupted by the Store with every other run)."""
    reason = "the server stopped while this comparison was active"
    with _session(store) as s, s.begin():
        for row in s.scalars(select(ComparisonRow).where(ComparisonRow.status.in_(sorted(ACTIVE)))):
            stored = s.scalar(
                select(func.max(ComparisonEventRow.seq)).where(
                    ComparisonEventRow.comparison_id == row.id
                )
            )
            seq = max(row.last_seq, stored or 0) + 1
            summary = {"status": "interrupted", "reason": reason, "members": None}
            event = make_event(
                row.id, seq, "status", status_fields("interrupted", reason, None, summary)
            )
            s.add(ComparisonEventRow(comparison_id=row.id, seq=seq, type="status", data=event.data))
            row.status, row.reason, row.summary = "interrupted", reason, summary
            row.last_seq, row.finished_at = seq, time.time()


def _rows(comparison_id: str, events: list[Event]) -> list[ComparisonEventRow]:
    return [
        ComparisonEventRow(comparison_id=comparison_id, seq=e.seq, type=e.type, data=e.data)
        for e in events
    ]
