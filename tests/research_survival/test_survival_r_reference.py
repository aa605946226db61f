"""mmemd survival against R survival (3.5), computed on the same rows in this test run (see conftest.py).

Agreement is required to 1e-4; the comparisons below use 1e-8, which is what the arithmetic gives.
R reports NA for log-log limits where S = 1 at an observed time; mmemd reports the degenerate interval [1, 1] there
(R itself reports 1 at time 0), so a NA at S = 1 is compared as 1. Where S = 0 both give no limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmemd.research.survival import cox_model, kaplan_meier, logrank_test
from mmemd.research.survival._models import KaplanMeierGroup

TOL = 1e-8

DATASETS = {
    # name: (time, event, entry, group, times asked for)
    "aml": ("time", "status", None, "x", [0, 5, 9, 10, 50, 161]),
    "mgus2": ("futime", "death", None, "sex", [12, 60, 120, 240, 400]),
    "lung": ("time", "status", None, "ph.ecog", [100, 365, 730]),
    "myeloma": ("futime", "death", "entry", "era", [30, 365, 1000, 3650]),
    "ties0": ("t", "e", None, "g", [0, 1, 2, 5.5, 6]),
}


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def _close(ours: float | None, theirs: float | None, surv: float | None = None) -> bool:
    if theirs is None and surv == 1:
        theirs = 1.0
    if ours is None or theirs is None:
        return ours is None and theirs is None
    return abs(ours - theirs) <= TOL * max(1.0, abs(theirs))


def _assert_curve(g: KaplanMeierGroup, r: dict[str, Any]) -> None:
    s = g.steps
    assert s.times == pytest.approx(_list(r["time"]))
    assert s.at_risk == _list(r["n_risk"])
    assert s.survival == pytest.approx(_list(r["surv"]), abs=TOL)
    for i, sv in enumerate(s.survival):
        assert _close(s.lower[i], _list(r["lower"])[i], sv), (i, s.times[i], s.lower[i], r["lower"][i])
        assert _close(s.upper[i], _list(r["upper"])[i], sv), (i, s.times[i], s.upper[i], r["upper"][i])


@pytest.mark.parametrize("name", list(DATASETS))
def test_overall_curve_median_and_times_match_r(name: str, r_reference: tuple[Path, dict[str, Any]]) -> None:
    folder, ref = r_reference
    time, event, entry, _, at = DATASETS[name]
    r = ref[name]["km"]
    km = kaplan_meier(folder / f"{name}.csv", time=time, event=event, entry=entry, at=at)
    g = km.groups[0]
    _assert_curve(g, r["curve"])
    n_events = sum(_list(r["curve"]["n_event"]))
    assert g.events == n_events
    assert _close(g.median, r["median"]["median"])
    assert _close(g.median_ci[0], r["median"]["lower"])
    assert _close(g.median_ci[1], r["median"]["upper"])
    # summary(fit, times=...) without extend: R drops times past the last follow-up.
    ra = r["at"]
    asked = [s for s in g.survival_at if s.time <= g.steps.times[-1]]
    assert [s.time for s in asked] == pytest.approx(_list(ra["time"]))
    for s, sv, lo, hi, n in zip(
        asked, _list(ra["surv"]), _list(ra["lower"]), _list(ra["upper"]), _list(ra["n_risk"]), strict=True
    ):
        assert _close(s.survival, sv)
        assert _close(s.lower, lo, sv)
        assert _close(s.upper, hi, sv)
        assert s.at_risk == n


@pytest.mark.parametrize("name", list(DATASETS))
def test_group_curves_and_medians_match_r(name: str, r_reference: tuple[Path, dict[str, Any]]) -> None:
    folder, ref = r_reference
    time, event, entry, group, _ = DATASETS[name]
    r = ref[name]["groups"]
    km = kaplan_meier(folder / f"{name}.csv", time=time, event=event, entry=entry, group=group)
    names = [str(s) for s in _list(r["strata"])]
    assert [g.name if name != "lung" else str(int(float(g.name or "nan"))) for g in km.groups] == names
    start = 0
    for i, g in enumerate(km.groups):
        size = _list(r["size"])[i]
        part = {
            "time": _list(r["time"])[start : start + size],
            "n_risk": _list(r["n_risk"])[start : start + size],
            "surv": _list(r["surv"])[start : start + size],
            "lower": _list(r["lo"])[start : start + size],
            "upper": _list(r["up"])[start : start + size],
        }
        start += size
        _assert_curve(g, part)
        assert _close(
            g.median, _list(r["median"])[i][0] if isinstance(r["median"][i], list) else r["median"][i]
        )
        lo = _list(r["lower"])[i]
        hi = _list(r["upper"])[i]
        assert _close(g.median_ci[0], lo[0] if isinstance(lo, list) else lo)
        assert _close(g.median_ci[1], hi[0] if isinstance(hi, list) else hi)


@pytest.mark.parametrize("name", ["aml", "mgus2", "lung", "ties0"])
def test_logrank_matches_survdiff(name: str, r_reference: tuple[Path, dict[str, Any]]) -> None:
    folder, ref = r_reference
    time, event, _, group, _ = DATASETS[name]
    r = ref[name]["logrank"]
    assert group is not None
    lr = logrank_test(folder / f"{name}.csv", time=time, event=event, group=group)
    assert lr["chi2"] == pytest.approx(r["chi2"], rel=TOL)
    assert lr["df"] == r["df"]
    assert [g.observed for g in lr.groups] == _list(r["obs"])
    assert [g.expected for g in lr.groups] == pytest.approx(_list(r["exp"]), rel=TOL)


def test_logrank_with_delayed_entry_is_the_cox_score_test(r_reference: tuple[Path, dict[str, Any]]) -> None:
    # survdiff refuses (entry, time] data; with no tied event times the log-rank statistic is the score test of a
    # Cox model on the group, which coxph computes for counting-process data.
    folder, ref = r_reference
    lr = logrank_test(folder / "myeloma.csv", time="futime_u", event="death", entry="entry_u", group="era")
    assert lr.df == 1
    assert lr.chi2 == pytest.approx(ref["myeloma"]["score"], rel=TOL)


def _r_term(term: str) -> str:
    """lifelines/formulaic ``sex[T.M]`` is R's ``sexM``."""
    return term.replace("[T.", "").replace("]", "")


@pytest.mark.parametrize(
    ("name", "formula"), [("mgus2", "age + sex + hgb"), ("lung", "age + sex + ph.ecog"), ("myeloma", "year")]
)
def test_cox_matches_coxph_efron(name: str, formula: str, r_reference: tuple[Path, dict[str, Any]]) -> None:
    folder, ref = r_reference
    time, event, entry, _, _ = DATASETS[name]
    r = ref[name]["cox"]
    terms = cox_model(folder / f"{name}.csv", formula=formula, time=time, event=event, entry=entry)
    assert [_r_term(t.term) for t in terms] == _list(r["term"])
    for t, coef, se, p in zip(terms, _list(r["coef"]), _list(r["se"]), _list(r["p"]), strict=True):
        assert t.coef == pytest.approx(coef, rel=1e-4, abs=1e-6)
        assert t.se == pytest.approx(se, rel=1e-4)
        assert t.p == pytest.approx(p, rel=1e-3, abs=1e-12)
        assert t.hr == pytest.approx(2.718281828459045**coef, rel=1e-4)


COX_MODELS = {
    # name: (time, event, entry, formula) — fitted by R in survival_reference.R with ties = "efron" and "breslow"
    "lung": ("time", "status", None, "age + sex + ph.ecog"),
    "mgus2": ("futime", "death", None, "age + sex + hgb"),
    "myeloma": ("futime", "death", "entry", "year"),
    "ovarian": ("futime", "fustat", None, "age + resid.ds + rx + ecog.ps"),
    "veteran": ("time", "status", None, "trt + celltype + karno + diagtime + age + prior"),
}
COX_TOL = 1e-6


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", list(COX_MODELS))
def test_cox_fit_matches_coxph_to_1e6(name: str, ties: str, r_reference: tuple[Path, dict[str, Any]]) -> None:
    """Coefficients, model-based and robust standard errors against R coxph to a relative 1e-6 (measured: 5e-8 on
    coefficients — R stops at a 1e-9 relative change of the likelihood, mmemd at the maximum — and 1e-10 on SEs)."""
    folder, ref = r_reference
    time, event, entry, formula = COX_MODELS[name]
    r = ref["cox_full"][name][ties]
    terms = cox_model(
        folder / f"{name}.csv", formula=formula, time=time, event=event, entry=entry, ties=ties, robust=True
    )
    assert [_r_term(t.term) for t in terms] == _list(r["term"])
    for t, coef, se, rse in zip(terms, _list(r["coef"]), _list(r["se"]), _list(r["robust_se"]), strict=True):
        assert t.coef == pytest.approx(coef, rel=COX_TOL, abs=1e-12)
        assert t.se == pytest.approx(se, rel=COX_TOL)
        assert t.robust_se == pytest.approx(rse, rel=COX_TOL)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", list(COX_MODELS))
def test_cox_log_likelihoods_match_coxph(
    name: str, ties: str, r_reference: tuple[Path, dict[str, Any]]
) -> None:
    import numpy as np
    import pandas as pd

    from mmemd.research.survival._cox import _design
    from mmemd.research.survival._cox_fit import cox_fit

    folder, ref = r_reference
    time, event, entry, formula = COX_MODELS[name]
    r = ref["cox_full"][name][ties]
    frame = pd.read_csv(folder / f"{name}.csv").dropna(subset=[time, event, *([entry] if entry else [])])
    x = _design(frame, formula)
    frame = frame.loc[x.index]
    fit = cox_fit(
        frame[time].to_numpy(dtype=np.float64),
        frame[event].to_numpy() == 1,
        x.to_numpy(dtype=np.float64),
        entry=None if entry is None else frame[entry].to_numpy(dtype=np.float64),
        ties=ties,  # type: ignore[arg-type]
    )
    assert fit.converged
    assert (fit.n, fit.n_events) == (r["n"], r["nevent"])
    assert [fit.loglik_null, fit.loglik] == pytest.approx(_list(r["loglik"]), rel=1e-10)
