"""Exact binomial intervals and EMD incidence counts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mmemd.research.cohort._incidence import clopper_pearson, emd_incidence, proportion

# R 4.x: binom.test(x, n)$conf.int (Clopper–Pearson), printed with 10 decimals.
R_BINOM_TEST = [
    (7, 20, 0.1539092048, 0.5921885345),
    (0, 10, 0.0, 0.3084971078),
    (10, 10, 0.6915028922, 1.0),
    (15, 100, 0.0864543856, 0.2353075001),
    (28, 100, 0.1947936275, 0.3786670047),
    (3036, 20000, 0.1468528781, 0.1568485649),
]


@pytest.mark.parametrize(("x", "n", "lower", "upper"), R_BINOM_TEST)
def test_clopper_pearson_matches_r_binom_test(x: int, n: int, lower: float, upper: float) -> None:
    lo, hi = clopper_pearson(x, n)
    assert lo == pytest.approx(lower, abs=1e-9)
    assert hi == pytest.approx(upper, abs=1e-9)


@pytest.mark.parametrize(("x", "n"), [(1, 3), (5, 37), (50, 51), (123, 4567)])
def test_clopper_pearson_matches_scipy_exact(x: int, n: int) -> None:
    from scipy.stats import binomtest

    ci = binomtest(x, n).proportion_ci(confidence_level=0.9, method="exact")
    lo, hi = clopper_pearson(x, n, conf_level=0.9)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_proportion_of_zero_is_null_not_nan() -> None:
    p = proportion(0, 0)
    assert p.estimate is None and p.lower is None and p.upper is None
    with pytest.raises(ValueError, match="0 <= x <= n"):
        clopper_pearson(5, 3)


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def hand_cohort(tmp_path: Path) -> Path:
    """Ten patients: at diagnosis P1 extraosseous, P2 paraskeletal, P3 both, P4 intraosseous only (not EMD);
    relapsed P1, P5, P6, P7 (progression events) and P8 (lesion found at relapse, no event recorded):
    relapse lesions P5 extraosseous (CNS), P6 paraskeletal, P8 extraosseous."""
    d = tmp_path / "hand"
    d.mkdir()
    _write(
        d / "patients.csv",
        [
            {
                "patient_id": f"P{i}",
                "sex": "male",
                "age_at_diagnosis": 60 + i,
                "diagnosis_date": "2020-01-01",
                "iss": "II",
                "r_iss": "II",
                "high_risk": "false",
                "last_contact_date": "2024-01-01",
            }
            for i in range(1, 11)
        ],
    )
    _write(
        d / "assessments.csv",
        [
            {
                "patient_id": "P1",
                "line": 1,
                "date": "2020-01-02",
                "serum_m_protein_g_dl": 2.0,
                "serum_ife": "positive",
            }
        ],
    )
    les = [
        ("P1", "a", "none", "diagnosis", "false"),
        ("P2", "a", "arising_from_bone", "diagnosis", "false"),
        ("P3", "a", "none", "diagnosis", "false"),
        ("P3", "b", "arising_from_bone", "diagnosis", "false"),
        ("P4", "a", "intraosseous", "diagnosis", "false"),
        ("P5", "a", "none", "relapse", "true"),
        ("P6", "a", "arising_from_bone", "relapse", "false"),
        ("P8", "a", "none", "relapse", "false"),
    ]
    _write(
        d / "lesions.csv",
        [
            {
                "patient_id": p,
                "lesion_id": lid,
                "site": "skin",
                "relation_to_bone": r,
                "detected_at": w,
                "cns": c,
            }
            for p, lid, r, w, c in les
        ],
    )
    _write(
        d / "events.csv",
        [
            {"patient_id": p, "event": "progression", "date": "2021-01-01", "line": 1}
            for p in ("P1", "P5", "P6", "P7")
        ],
    )
    return d


def test_incidence_counts_on_a_hand_made_cohort(tmp_path: Path) -> None:
    from mmemd.research.cohort import open_cohort, validate_cohort

    inc = emd_incidence(validate_cohort(open_cohort(hand_cohort(tmp_path))))
    dx, rl = inc["at_diagnosis"], inc["at_relapse"]
    assert (dx["any"].events, dx["any"].n) == (3, 10)
    assert dx["extraosseous"].events == 2  # P3 with both counts once, as extraosseous
    assert dx["paraskeletal"].events == 1
    assert (rl["any"].events, rl["any"].n) == (3, 5)  # P5, P6, P8 of P1, P5, P6, P7, P8
    assert rl["extraosseous"].events == 2 and rl["paraskeletal"].events == 1 and rl["cns"].events == 1
    lo, hi = clopper_pearson(3, 10)
    assert (dx["any"].lower, dx["any"].upper) == (lo, hi)
