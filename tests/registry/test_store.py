"""The store on SQLite and PostgreSQL: versions, tombstones, history, conflicts, refusal of bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from _registry_support import example

from mmemd.clinical.errors import RecordError
from mmemd.registry import (
    Identity,
    PatientNotFound,
    Registry,
    RegistryEvent,
    VersionConflict,
)
from mmemd.registry._store import canonical

VISIT = {
    "date": "2025-10-01",
    "serum_m_protein": {"value": 0.9, "unit": "g/dL"},
    "serum_ife": "positive",
    "plasmacytomas": [{"lesion": "L1", "longest_cm": 2.0, "perpendicular_cm": 1.5}],
    "new_lesion": False,
}


def _count(reg: Registry, table: str) -> int:
    with reg.engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_record_round_trips_with_the_registry_id(registry: Registry) -> None:
    rec = example("emd-liver-rrmm-pr")
    p = registry.create(rec, author="dr.a", identity=Identity(mrn="H123", name="Wang Fang"))
    assert p.id.startswith("MM-") and p.id != rec["id"]
    assert p.version == 1
    assert p.record == canonical({**rec, "id": p.id})
    assert registry.get(p.id).record == p.record
    # identifying fields live apart: not in the record
    text = repr(p.record)
    assert "H123" not in text and "Wang" not in text and rec["id"] not in text
    assert registry.identity(p.id) == {"source_id": rec["id"], "mrn": "H123", "name": "Wang Fang"}


def test_each_change_is_a_new_version_and_history_is_readable(registry: Registry) -> None:
    p1 = registry.create(example("emd-liver-rrmm-pr"), author="dr.a", reason="first visit")
    p2 = registry.add_visit(p1.id, VISIT, author="dr.b", reason="follow-up", expected_version=1)
    assert p2.version == 2
    assert [a["date"] for a in p2.record["assessments"]][-1] == "2025-10-01"
    p3 = registry.patch(p1.id, {"ecog": 2}, author="dr.a", reason="worse", expected_version=2)
    assert p3.version == 3 and p3.record["ecog"] == 2
    hist = registry.history(p1.id)
    assert [(h.version, h.action, h.author, h.reason) for h in hist] == [
        (1, "create", "dr.a", "first visit"),
        (2, "add_visit", "dr.b", "follow-up"),
        (3, "update", "dr.a", "worse"),
    ]
    assert hist[1].changed == [{"table": "visits", "key": "2025-10-01", "deleted": False}]
    assert hist[2].changed == [{"table": "patient_facts", "key": "patient", "deleted": False}]
    assert all(h.at.tzinfo is not None for h in hist)
    # every past version can be read back exactly
    assert registry.get(p1.id, version=1).record == p1.record
    assert registry.get(p1.id, version=2).record == p2.record
    assert registry.get(p1.id, version=2).record["ecog"] == 1


def test_removing_a_lesion_writes_a_tombstone_and_keeps_the_old_row(registry: Registry) -> None:
    rec = example("emd-liver-rrmm-pr")
    p = registry.create(rec, author="dr.a")
    rows_before = _count(registry, "lesions")
    # remove the lesion and its measurements (the record refuses measurements of an unknown lesion)
    visits = [{k: v for k, v in a.items() if k != "plasmacytomas"} for a in p.record["assessments"]]
    p2 = registry.patch(p.id, {"lesions": [], "assessments": visits}, author="dr.a", reason="misread")
    assert p2.record["lesions"] == []
    assert _count(registry, "lesions") == rows_before + 1
    assert {"table": "lesions", "key": "L1", "deleted": True} in registry.history(p.id)[1].changed
    assert registry.get(p.id, version=1).record["lesions"] == rec["lesions"]


def test_deleting_a_patient_is_a_tombstone(registry: Registry) -> None:
    p = registry.create(example("ndmm-mrd-negative-cr"), author="dr.a")
    registry.delete(p.id, author="admin", reason="duplicate entry", expected_version=1)
    with pytest.raises(PatientNotFound):
        registry.get(p.id)
    assert p.id not in registry.patient_ids()
    assert [h.action for h in registry.history(p.id)] == ["create", "delete"]
    assert registry.get(p.id, version=1).record == p.record


def test_a_stale_version_is_refused_and_nothing_is_written(registry: Registry) -> None:
    p = registry.create(example("emd-liver-rrmm-pr"), author="dr.a")
    registry.patch(p.id, {"ecog": 2}, author="dr.a", expected_version=1)
    n = _count(registry, "changes")
    with pytest.raises(VersionConflict) as exc:
        registry.patch(p.id, {"ecog": 3}, author="dr.b", expected_version=1)
    assert (exc.value.expected, exc.value.current) == (1, 2)
    assert registry.get(p.id).record["ecog"] == 2
    assert _count(registry, "changes") == n


def test_an_invalid_visit_is_refused_with_paths_and_nothing_is_stored(registry: Registry) -> None:
    p = registry.create(example("emd-liver-rrmm-pr"), author="dr.a")
    before = {t: _count(registry, t) for t in ("changes", "visits", "therapy_lines", "lesions")}
    bad = {**VISIT, "serum_m_protein": {"value": 0.9, "unit": "mg"}}
    bad_line = {"line": 3, "agents": ["not-a-drug"]}
    with pytest.raises(RecordError) as exc:
        registry.add_visit(p.id, bad, therapy_lines=[bad_line], author="dr.a")
    paths = {e.path for e in exc.value.problems}
    assert "$.visit.serum_m_protein.unit" in paths
    assert any(path.startswith("$.therapy_lines[0].agents") for path in paths)
    assert {t: _count(registry, t) for t in before} == before
    assert registry.get(p.id).version == 1


def test_a_second_visit_on_the_same_date_is_refused(registry: Registry) -> None:
    p = registry.create(example("emd-liver-rrmm-pr"), author="dr.a")
    with pytest.raises(RecordError) as exc:
        registry.add_visit(p.id, {"date": "2025-08-01"}, author="dr.a")
    assert [e.path for e in exc.value.problems] == ["$.visit.date"]


def test_visits_out_of_order_are_kept_in_date_order(registry: Registry) -> None:
    p = registry.create(example("emd-liver-rrmm-pr"), author="dr.a")
    p = registry.add_visit(p.id, {"date": "2025-07-01", "serum_ife": "positive"}, author="dr.a")
    dates = [a["date"] for a in p.record["assessments"]]
    assert dates == sorted(dates) and "2025-07-01" in dates


def test_visit_with_new_lesion_line_and_events(registry: Registry) -> None:
    p = registry.create(example("emd-liver-rrmm-pr"), author="dr.a")
    lesion = {"id": "L2", "site": "skin", "relation_to_bone": "none", "detected_at": "relapse"}
    line = {"line": 3, "agents": ["carfilzomib", "dexamethasone"], "start": "2025-10-02"}
    ev = RegistryEvent(event="progression", date=dt.date(2025, 10, 1), line=2)
    out = registry.add_visit(
        p.id,
        {**VISIT, "new_lesion": True},
        lesions=[lesion],
        therapy_lines=[line],
        events=[ev],
        author="dr.a",
    )
    assert [ls["id"] for ls in out.record["lesions"]] == ["L1", "L2"]
    assert out.record["therapy_history"][-1]["line"] == 3
    assert out.events == [{"event": "progression", "date": "2025-10-01", "line": 2}]


def test_an_unchanged_patch_makes_no_version(registry: Registry) -> None:
    p = registry.create(example("emd-liver-rrmm-pr"), author="dr.a")
    assert registry.patch(p.id, {"ecog": p.record["ecog"]}, author="dr.a").version == 1
    assert len(registry.history(p.id)) == 1


@pytest.mark.parametrize("table", ["visits", "changes", "lesions"])
def test_fact_tables_refuse_update_and_delete(registry: Registry, table: str) -> None:
    registry.create(example("emd-liver-rrmm-pr"), author="dr.a")
    for stmt in (f"UPDATE {table} SET patient_id = patient_id", f"DELETE FROM {table}"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), registry.engine.begin() as c:
            c.execute(sa.text(stmt))
    assert _count(registry, table) > 0


def test_list_search_and_cursor(registry: Registry) -> None:
    ids = []
    for i in range(5):
        rec: dict[str, Any] = {"schema": "mmemd.patient/1", "id": f"src-{i}", "phase": "newly_diagnosed"}
        ids.append(registry.create(rec, author="a", identity=Identity(mrn=f"MRN{i:03d}")).id)
    page1, cur = registry.list_patients(limit=3)
    page2, cur2 = registry.list_patients(limit=3, cursor=cur)
    assert [p["id"] for p in page1 + page2] == sorted(ids) and cur2 is None
    found, _ = registry.list_patients(q="mrn003")
    assert [p["mrn"] for p in found] == ["MRN003"]


def test_unknown_patient(registry: Registry) -> None:
    with pytest.raises(PatientNotFound):
        registry.get("MM-NOPE")
    with pytest.raises(PatientNotFound):
        registry.add_visit("MM-NOPE", VISIT, author="a")
