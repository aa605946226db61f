"""Synthetic cohorts: deterministic per seed, valid against the schema, calibrated to knowledge-base figures."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mmemd.research.cohort import CALIBRATION, TABLES, open_cohort, synth_cohort, validate_cohort


def _read(d: Path) -> dict[str, object]:
    return {t.name: pq.read_table(d / f"{t.name}.parquet") for t in TABLES}


def test_same_seed_same_cohort_other_seed_other_cohort(tmp_path: Path, small_cohort: Path) -> None:
    again = synth_cohort(400, tmp_path / "again", seed=11)
    other = synth_cohort(400, tmp_path / "other", seed=12)
    a, b, c = _read(small_cohort), _read(Path(again.out)), _read(Path(other.out))
    for name in a:
        assert a[name].equals(b[name]), name  # type: ignore[attr-defined]
    assert not a["assessments"].equals(c["assessments"])  # type: ignore[attr-defined]
    assert other.rows["patients"] == 400


def test_synthetic_cohort_is_schema_valid(small_cohort: Path) -> None:
    tables = validate_cohort(open_cohort(small_cohort))
    assert set(tables) == {t.name for t in TABLES}
    assert int(tables["patients"].count().to_pyarrow().as_py()) == 400


def test_csv_format_is_schema_valid_and_equal_to_parquet(tmp_path: Path, small_cohort: Path) -> None:
    synth_cohort(400, tmp_path / "csv", seed=11, fmt="csv")
    tables = validate_cohort(open_cohort(tmp_path / "csv"))
    parquet = validate_cohort(open_cohort(small_cohort))
    for name in ("patients", "events"):
        got = tables[name].order_by(tables[name].columns).to_pyarrow().to_pylist()
        want = parquet[name].order_by(parquet[name].columns).to_pyarrow().to_pylist()
        assert got == want, name


def test_manifest_cites_existing_claims(kb, small_cohort: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((small_cohort / "cohort.json").read_text())
    assert manifest["seed"] == 11 and manifest["synthetic"] is True
    assert manifest["versions"]["knowledge_base"].startswith("kb-")
    ids = {c for target in CALIBRATION.values() for c in target["claims"]}
    known = {c.id for c in kb.claims()}
    assert ids <= known, ids - known
    # The calibration values are the claims' own figures.
    by_id = {c.id: c for c in kb.claims()}
    for claim, attr, key in (
        ("emdrev-3-01", "value", "emd_at_diagnosis_any"),
        ("emdrev-3-02", "value", "emd_at_relapse_any"),
        ("emdrev-5-03", "value", "os_3y_emd"),
        ("emdrev-5-03", "comparator_value", "os_3y_no_emd"),
    ):
        assert float(getattr(by_id[claim], attr)) / 100 == pytest.approx(CALIBRATION[key]["value"]), claim
    lo, hi = float(by_id["emdtx-intro-06"].value), float(by_id["emdtx-intro-06"].value_max)
    assert CALIBRATION["emd_at_diagnosis_extraosseous"]["value"] == pytest.approx((lo + hi) / 200)
    assert float(by_id["emdrev-5-11"].value) == CALIBRATION["median_os_after_emd_relapse_months"]["value"]


def test_bad_n_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n must be"):
        synth_cohort(0, tmp_path / "x")


def test_incidence_and_three_year_os_are_calibrated(tmp_path: Path) -> None:
    """20,000 patients: EMD incidence and 3-year OS by EMD status land on the knowledge-base figures."""
    import ibis

    from mmemd.research.cohort._incidence import emd_incidence
    from mmemd.research.cohort._outcomes import survival_table
    from mmemd.research.survival import kaplan_meier

    synth_cohort(20_000, tmp_path / "big", seed=5)
    tables = validate_cohort(open_cohort(tmp_path / "big"))
    inc = emd_incidence(tables)
    for key, target in (
        ("any", 0.15),
        ("extraosseous", CALIBRATION["emd_at_diagnosis_extraosseous"]["value"]),
    ):
        p = inc["at_diagnosis"][key]
        assert p.lower is not None and p.upper is not None
        assert p.lower <= target <= p.upper, (key, p)
    p = inc["at_relapse"]["any"]
    assert p.lower is not None and p.upper is not None and p.lower <= 0.28 <= p.upper
    t = survival_table(tables)
    t = t.mutate(any_emd=ibis.ifelse(t.emd == "none", "none", "emd"))
    km = kaplan_meier(t, time="os_months", event="os_event", group="any_emd", at=(36.0,))
    for name, target in (("none", 0.801), ("emd", 0.58)):
        at = km.group_named(name).survival_at[0]
        assert at.survival == pytest.approx(target, abs=0.03), name
