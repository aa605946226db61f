"""Migrations: a database made at the previous revision is upgraded with its data; models and migrations agree."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from _registry_support import example

from mmemd.registry import Registry, current_revision, make_engine, upgrade
from mmemd.registry._models import Base


@pytest.mark.parametrize("previous", ["0001", "0002"])
def test_upgrade_from_a_previous_revision_keeps_the_data(database_url: str, previous: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, previous)
    assert current_revision(engine) == previous
    rec = example("ndmm-mrd-negative-cr")
    visit = rec["assessments"][0]
    facts = {k: rec[k] for k in ("age", "sex", "phase") if k in rec}
    with engine.begin() as c:
        # what the previous release wrote: a patient with one change, patient facts and one visit
        c.execute(
            sa.text("INSERT INTO patients (id, version, deleted, created_at) VALUES (:id, 1, :f, :t)"),
            {"id": "MM-OLD0000001", "f": False, "t": "2026-01-01T00:00:00+00:00"},
        )
        c.execute(sa.text("INSERT INTO patient_identities (patient_id, mrn) VALUES ('MM-OLD0000001', 'X9')"))
        change_id = c.execute(
            sa.text(
                "INSERT INTO changes (patient_id, version, action, author, at) "
                "VALUES ('MM-OLD0000001', 1, 'create', 'dr.old', :t) RETURNING id"
            ),
            {"t": "2026-01-01T00:00:00+00:00"},
        ).scalar_one()
        for table, key, data in (
            ("patient_facts", "patient", {**facts, "_lists": ["assessments"]}),
            ("visits", visit["date"], visit),
        ):
            c.execute(
                sa.text(
                    f"INSERT INTO {table} (key, tombstone, data, patient_id, change_id) "
                    "VALUES (:k, :f, :d, 'MM-OLD0000001', :c)"
                ),
                {"k": key, "f": False, "d": json.dumps(data), "c": change_id},
            )
    engine.dispose()

    reg = Registry(database_url)  # opening migrates to the newest revision
    try:
        assert current_revision(reg.engine) == "0003"
        p = reg.get("MM-OLD0000001")
        assert p.record["assessments"] == [visit]
        assert p.record["phase"] == rec["phase"]
        p2 = reg.add_visit(p.id, {"date": "2099-01-01", "serum_ife": "negative"}, author="dr.new")
        assert p2.version == 2
        assert [h.author for h in reg.history(p.id)] == ["dr.old", "dr.new"]
    finally:
        reg.close()


def test_models_and_migrations_agree(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    reg = Registry(database_url)
    try:
        with reg.engine.connect() as c:
            diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
        assert diff == []
    finally:
        reg.close()
