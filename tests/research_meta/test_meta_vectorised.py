"""The vectorised pieces of the meta-analysis give what the scalar definitions give."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.research import meta
from mmemd.research.meta._effect import Measure
from mmemd.research.meta._tau2 import _pm_newton, tau2_pm
from mmemd.research.meta._transform import back_transform, back_transform_array, ipft

studies = st.integers(min_value=2, max_value=60).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(min_value=-3, max_value=3), min_size=k, max_size=k),
        st.lists(st.floats(min_value=0.005, max_value=2.0), min_size=k, max_size=k),
    )
)


@settings(max_examples=150, deadline=None)
@given(studies)
def test_paule_mandel_newton_equals_brent(data: tuple[list[float], list[float]]) -> None:
    yi, vi = np.array(data[0]), np.array(data[1])
    k = len(yi)
    newton = _pm_newton(yi, vi, k - 1, 1e-14)
    wi = 1 / vi
    mu = float(np.sum(wi * yi) / np.sum(wi))
    if float(np.sum(wi * (yi - mu) ** 2)) < k - 1:
        assert tau2_pm(yi, vi).tau2 == 0.0
        return
    assert newton is not None  # Q is convex and decreasing: Newton from 0 never needs the fallback
    # Brent's root on the same equation, found independently of the Newton path.
    from scipy import optimize  # type: ignore[import-untyped,unused-ignore]

    def excess(t2: float) -> float:
        w = 1 / (vi + t2)
        m = float(np.sum(w * yi) / np.sum(w))
        return float(np.sum(w * (yi - m) ** 2)) - (k - 1)

    upper = 1.0
    while excess(upper) > 0:
        upper *= 10
    root = optimize.brentq(excess, 0.0, upper, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    assert newton.tau2 == pytest.approx(root, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "measure", [Measure.PR, Measure.RD, Measure.PLO, Measure.RR, Measure.OR, Measure.PAS]
)
def test_back_transform_array_equals_scalar(measure: Measure) -> None:
    x = np.array([-40.0, -3.0, -0.5, 0.0, 0.3, 1.2, 1.6, 2.0, 35.0])
    f = back_transform(measure, None)
    assert f is not None
    got = back_transform_array(measure, x, None)
    assert got is not None
    for xi, gi in zip(x, got, strict=True):
        assert gi == pytest.approx(f(float(xi)), rel=1e-15, abs=1e-300)


def test_back_transform_array_pft_uses_each_studys_own_n() -> None:
    x = np.array([-0.1, 0.0, 0.2, 0.6, 0.9, 1.5, 1.7])
    n = np.array([10.0, 25.0, 50.0, 80.0, 120.0, 30.0, 400.0])
    got = back_transform_array(Measure.PFT, x, n)
    assert got is not None
    for xi, ni, gi in zip(x, n, got, strict=True):
        want = ipft(float(xi), float(ni))
        assert (math.isnan(gi) and math.isnan(want)) or gi == pytest.approx(want, rel=1e-14, abs=1e-15)


def test_study_rows_are_built_lazily_and_match_the_fit() -> None:
    es = meta.proportions("PLO", [3, 10, 25, 40], [20, 40, 60, 90])
    r = meta.rma(es, "REML")
    assert "studies" not in r.__dict__  # nothing per study computed until asked for
    rows = r.studies
    assert sum(s.weight for s in rows) == pytest.approx(100.0)
    assert [s.value for s in rows] == pytest.approx([3 / 20, 10 / 40, 25 / 60, 40 / 90], rel=1e-12)
