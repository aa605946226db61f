"""The standard-library normal quantile and chi-square tail used by survival output agree with scipy."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2, norm  # type: ignore[import-untyped,unused-ignore]  # scipy stubs are not a dependency

from mmemd.research.survival._distributions import chi2_upper_tail, normal_quantile


@pytest.mark.parametrize("p", [0.5, 0.9, 0.95, 0.975, 0.995, 0.9995, 1e-8, 0.025])
def test_normal_quantile_matches_scipy(p: float) -> None:
    assert normal_quantile(p) == pytest.approx(norm.ppf(p), rel=1e-13, abs=1e-13)


@given(x=st.floats(min_value=1e-6, max_value=600.0), df=st.integers(min_value=1, max_value=40))
def test_chi2_upper_tail_matches_scipy(x: float, df: int) -> None:
    expected = float(chi2.sf(x, df))
    got = chi2_upper_tail(x, df)
    # Relative agreement where the tail is representable; absolute near underflow.
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-300)


def test_chi2_upper_tail_edges() -> None:
    assert chi2_upper_tail(0.0, 3) == 1.0
    assert chi2_upper_tail(math.inf, 2) == 0.0
    assert math.isnan(chi2_upper_tail(math.nan, 1))
    # Textbook critical values: 3.841 (df 1) and 5.991 (df 2) at 5 %.
    assert chi2_upper_tail(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-12)
    assert chi2_upper_tail(5.991464547107979, 2) == pytest.approx(0.05, rel=1e-12)
    with pytest.raises(ValueError, match="whole number"):
        chi2_upper_tail(1.0, 0)
