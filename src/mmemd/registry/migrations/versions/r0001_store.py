"""The clinical store: patients, identities apart, changes, and the versioned fact tables.

Fact tables and changes are append-only: a trigger refuses UPDATE and DELETE, so no code path can overwrite or
erase a version.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mmemd.registry.migrations._append_only import allow_changes, forbid_changes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

FACT_TABLES = ("patient_facts", "diagnosis_facts", "therapy_lines", "lesions", "visits", "events")


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
    )
    op.create_table(
        "patient_identities",
        sa.Column("patient_id", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=True),
        sa.Column("mrn", sa.String(200), nullable=True),
        sa.Column("name", sa.String(400), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_patient_identities_patient_id_patients"
        ),
        sa.PrimaryKeyConstraint("patient_id", name="pk_patient_identities"),
    )
    op.create_index("ix_patient_identities_mrn", "patient_identities", ["mrn"])
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name="fk_changes_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.UniqueConstraint("patient_id", "version", name="uq_changes_patient_id_version"),
    )
    for table in FACT_TABLES:
        extra = [sa.Column("position", sa.Integer(), nullable=False)] if table == "lesions" else []
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("key", sa.String(64), nullable=False),
            sa.Column("tombstone", sa.Boolean(), nullable=False),
            sa.Column("data", sa.JSON(), nullable=True),
            sa.Column("patient_id", sa.String(32), nullable=False),
            sa.Column("change_id", sa.Integer(), nullable=False),
            *extra,
            sa.ForeignKeyConstraint(["change_id"], ["changes.id"], name=f"fk_{table}_change_id_changes"),
            sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=f"fk_{table}_patient_id_patients"),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_patient_id_change_id", table, ["patient_id", "change_id"])
    for table in ("changes", *FACT_TABLES):
        forbid_changes(table)


def downgrade() -> None:
    for table in ("changes", *FACT_TABLES):
        allow_changes(table)
    for table in reversed(FACT_TABLES):
        op.drop_table(table)
    op.drop_table("changes")
    op.drop_index("ix_patient_identities_mrn", "patient_identities")
    op.drop_table("patient_identities")
    op.drop_table("patients")
