"""Edge cases: zero events, events = n, k = 1, τ² = 0, REML non-convergence, identical studies, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mmemd.research import meta

DATA = Path(__file__).parent / "data"


def test_zero_events_get_the_continuity_correction_for_plo() -> None:
    es = meta.proportions("PLO", [0, 3], [10, 12], ["zero", "three"])
    # escalc(to="only0", add=1/2): 0.5 of 11 for the zero study only
    assert es.yi[0] == pytest.approx(math.log(0.5 / 10.5))
    assert es.vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5)
    assert es.yi[1] == pytest.approx(math.log(3 / 9))
    assert es.corrected == (True, False)
    r = meta.rma(es, "REML")
    assert any("continuity correction" in n and "zero" in n for n in r.notes)


def test_events_equal_n_corrected_for_pr_not_for_pft_or_pas() -> None:
    pr = meta.proportions("PR", [8], [8])
    assert pr.yi[0] == pytest.approx(8.5 / 9)
    assert pr.vi[0] == pytest.approx((8.5 / 9) * (0.5 / 9) / 9)
    for m in ("PFT", "PAS"):
        es = meta.proportions(m, [8, 0], [8, 5])
        assert es.corrected == (False, False)
    pas = meta.proportions("PAS", [8], [8])
    assert pas.yi[0] == pytest.approx(math.pi / 2)
    assert meta.rma(pas, "FE").pooled == pytest.approx(1.0)


def test_double_zero_two_group_study_is_kept_and_corrected() -> None:
    es = meta.two_groups("OR", [0, 2], [10, 20], [0, 5], [12, 20], ["00", "ok"])
    assert es.k == 2  # drop00 = FALSE, as escalc's default
    assert es.yi[0] == pytest.approx(math.log((0.5 / 10.5) / (0.5 / 12.5)))
    assert es.vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 0.5 + 1 / 12.5)


def test_single_study_has_no_heterogeneity() -> None:
    r = meta.rma(meta.proportions("PLO", [11], [18]), "REML")
    assert (r.k, r.tau2, r.q, r.q_p, r.i2, r.h2) == (1, 0.0, 0.0, 1.0, 0.0, 1.0)
    assert any("k = 1" in n for n in r.notes)
    assert r.pooled == pytest.approx(11 / 18)
    assert r.pred_lower == r.ci_lower  # τ² = 0: the prediction interval is the confidence interval


def test_single_study_knha_interval_is_undefined_not_invented() -> None:
    r = meta.rma(meta.proportions("PLO", [11], [18]), "DL", knha=True)
    s = r.summary()
    assert s["ci_lower"] is None and s["ci_upper"] is None
    assert any("Knapp-Hartung needs k >= 2" in n for n in r.notes)


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_tau2_zero_boundary(method: str) -> None:
    es = meta.effect_sizes(meta.read_table(DATA / "homogeneous.csv"))
    r = meta.rma(es, method)
    assert r.tau2 == 0.0
    assert r.i2 == 0.0 and r.h2 == 1.0
    fe = meta.rma(es, "FE")
    assert r.estimate == pytest.approx(fe.estimate) and r.se == pytest.approx(fe.se)


def test_reml_non_convergence_is_an_error() -> None:
    es = meta.effect_sizes(meta.read_table(DATA / "dat_bcg.csv"), "RR")
    with pytest.raises(meta.ConvergenceError, match="did not converge"):
        meta.rma(es, "REML", max_iter=2)
    assert meta.rma(es, "REML").iterations > 2  # the same data converge when allowed to


def test_identical_studies() -> None:
    es = meta.effect_sizes(meta.read_table(DATA / "identical.csv"))
    for method in ("FE", "DL", "REML", "PM"):
        r = meta.rma(es, method)
        assert r.estimate == pytest.approx(0.25)
        assert r.tau2 == 0.0 and r.q == pytest.approx(0.0, abs=1e-20) and r.i2 == 0.0
    k = meta.rma(es, "REML", knha=True)
    assert k.se == 0.0  # metafor: s² = 0 when the weighted residuals vanish


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("study,events,n\nA,5,4\n", "events"),
        ("study,events,n\nA,x,4\n", "events"),
        ("study,events,n\nA,-1,4\n", "events"),
        ("study,events,n\nA,1,0\n", "n"),
        ("study,ai,n1,ci,n2\nA,3,2,1,5\n", "ai"),
        ("study,yi,vi\nA,0.1,0\nB,0.2,0.1\n", "vi"),
        ("study,foo\nA,1\n", "header"),
        ("events,n\n1,2\n", "study"),
        ("study,events,n\n", "study"),
        ("study,events,n\nA,,4\n", "events"),
    ],
)
def test_bad_input_names_the_field(text: str, field: str) -> None:
    with pytest.raises(meta.MetaInputError) as info:
        es = meta.effect_sizes(meta.parse_table(text))
        meta.rma(es)
    assert info.value.field == field


def test_measure_must_fit_the_layout() -> None:
    t = meta.parse_table("study,events,n\nA,1,4\n")
    with pytest.raises(meta.MetaInputError) as info:
        meta.effect_sizes(t, "RR")
    assert info.value.field == "measure"


def test_generic_with_measure_back_transforms() -> None:
    es = meta.generic([math.log(0.5), math.log(0.5)], [0.1, 0.2], measure="RR")
    assert meta.rma(es, "FE").pooled == pytest.approx(0.5)
    with pytest.raises(meta.MetaInputError):
        meta.generic([0.5], [0.1], measure="PFT")  # needs n for the harmonic mean
    assert meta.rma(meta.generic([0.3], [0.1]), "FE").pooled is None  # GEN: scale unknown


def test_study_weights_sum_to_100() -> None:
    es = meta.effect_sizes(meta.read_table(DATA / "dat_pritz1997.csv"), "PLO")
    r = meta.rma(es, "REML")
    assert sum(s.weight for s in r.studies) == pytest.approx(100.0)
    assert np.all(np.array([s.weight for s in r.studies]) > 0)
