"""The tables as they were before migrations (create_all at c4e0771).

Revision ID: 0001
Revises:
Create Date: 2026-12-04

Also brings any database made before migrations up to this point: a table that is
missing is created, a column or index an older create_all did not make is added
(columns nullable: rows written before them have no value), and what exists is
left alone, rows included.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the models at c4e0771: later model changes go in later revisions.
baseline = sa.MetaData()
sa.Table(
    "runs",
    baseline,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("client", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("reason", sa.Text()),
    sa.Column("spec", sa.JSON(), nullable=False),
    sa.Column("summary", sa.JSON()),
    sa.Column("created_at", sa.Float(), nullable=False, index=True),
    sa.Column("started_at", sa.Float()),
    sa.Column("finished_at", sa.Float()),
    sa.Column("total_steps", sa.Integer(), nullable=False),
    sa.Column("step", sa.Integer(), nullable=False),
    sa.Column("last_seq", sa.Integer(), nullable=False),
)
sa.Table(
    "events",
    baseline,
    sa.Column(
        "run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("seq", sa.Integer(), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
)
sa.Table(
    "artifacts",
    baseline,
    sa.Column(
        "run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("step", sa.Integer(), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
)
sa.Table(
    "datasets",
    baseline,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("points", sa.JSON(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
)
sa.Table(
    "comparisons",
    baseline,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("client", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text()),
    sa.Column("spec", sa.JSON(), nullable=False),
    sa.Column("members", sa.JSON(), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("mode_reason", sa.Text(), nullable=False),
    sa.Column("summary", sa.JSON()),
    sa.Column("created_at", sa.Float(), nullable=False, index=True),
    sa.Column("started_at", sa.Float()),
    sa.Column("finished_at", sa.Float()),
    sa.Column("last_seq", sa.Integer(), nullable=False),
)
sa.Table(
    "comparison_events",
    baseline,
    sa.Column("comparison_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
)
sa.Table(
    "comparison_members",
    baseline,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("comparison_id", sa.String(32), nullable=False, index=True),
    sa.Column("member", sa.Integer(), nullable=False),
    sa.Column("label", sa.String(80), nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    for table in baseline.sorted_tables:  # runs before the tables that refer to it
        if table.name not in present:
            table.create(bind)
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in have]
        if missing:
            with op.batch_alter_table(table.name) as batch:
                for column in missing:
                    batch.add_column(sa.Column(column.name, column.type, nullable=True))
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                op.create_index(str(index.name), table.name, [c.name for c in index.columns])


def downgrade() -> None:
    baseline.drop_all(op.get_bind())
