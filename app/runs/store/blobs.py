"""Stored bytes beside the runs: a run's artifacts (trained weights, weight trajectory) and
content-addressed custom datasets (uploaded or drawn points, referenced from page URLs).

New tables on the store's metadata (made by the migrations `Store.open()` applies); an
artifact row goes when its run row goes (ON DELETE CASCADE). The functions run on the
store's database thread: `store.call(get_artifact, store, ...)`, `store.submit(...)`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.runs.store.runs import Base, RunRow, Store

POINTS_KEY_CHARS = 16  # hex digits of sha256: 64 bits, short enough for a URL


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # weights | trajectory
    step: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float)


class PointsRow(Base):
    __tablename__ = "datasets"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    points: Mapped[list[list[float]]] = mapped_column(JSON)
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Artifact:
    name: str
    step: int
    data: bytes


def points_key(points: list[list[float]]) -> str:
    """The content address of a list of [x1, x2, label] rows (same points, same key)."""
    canonical = json.dumps(points, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:POINTS_KEY_CHARS]


# ---- on the database thread ---------------------------------------------------------------
def put_artifact(store: Store, run_id: str, name: str, step: int, data: bytes) -> None:
    with store._session() as s, s.begin():
        if s.get(RunRow, run_id) is None:
            return  # deleted meanwhile
        s.execute(delete(ArtifactRow).where(ArtifactRow.run_id == run_id, ArtifactRow.name == name))
        s.add(ArtifactRow(run_id=run_id, name=name, step=step, data=data, created_at=time.time()))


def get_artifact(store: Store, run_id: str, name: str) -> Artifact | None:
    with store._session() as s:
        row = s.execute(
            select(ArtifactRow.step, ArtifactRow.data).where(
                ArtifactRow.run_id == run_id, ArtifactRow.name == name
            )
        ).first()
        return Artifact(name, int(row[0]), bytes(row[1])) if row is not None else None


def put_points(store: Store, key: str, points: list[list[float]], max_points: int) -> list[str]:
    """Store a dataset; the oldest ones go while all of them hold over `max_points` points
    (every click of a drawing stores a dataset). Returns the keys it dropped."""
    with store._session() as s, s.begin():
        if s.get(PointsRow, key) is None:
            s.add(PointsRow(key=key, points=points, count=len(points), created_at=time.time()))
            s.flush()
        excess = int(s.scalar(select(func.sum(PointsRow.count))) or 0) - max_points
        dropped: list[str] = []
        if excess > 0:
            rows = s.execute(
                select(PointsRow.key, PointsRow.count)
                .where(PointsRow.key != key)
                .order_by(PointsRow.created_at, PointsRow.key)
            )
            for old, count in rows:
                if excess <= 0:
                    break
                dropped.append(old)
                excess -= count
            s.execute(delete(PointsRow).where(PointsRow.key.in_(dropped)))
        return dropped


def get_points(store: Store, key: str) -> list[list[float]] | None:
    with store._session() as s:
        row = s.get(PointsRow, key)
        value: Any = row.points if row is not None else None
        return value
