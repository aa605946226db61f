"""The Cox fit's own contract beyond R parity: errors it names, and invariances it must keep."""

from __future__ import annotations

import numpy as np
import pytest

from mmemd.research.survival._cox_fit import CoxFitError, cox_fit


def _data(n: int = 200, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)]).astype(float)
    t = np.ceil(rng.exponential(10, n) * np.exp(-0.5 * x[:, 0] + 0.3 * x[:, 1]))  # whole days: ties
    e = rng.random(n) < 0.7
    return t, e, x


def test_collinear_covariates_are_an_error() -> None:
    t, e, x = _data()
    with pytest.raises(CoxFitError, match="collinear"):
        cox_fit(t, e, np.column_stack([x, 2 * x[:, 0]]))


def test_no_events_is_an_error() -> None:
    t, _, x = _data()
    with pytest.raises(CoxFitError, match="no events"):
        cox_fit(t, np.zeros(len(t), dtype=bool), x)


def test_row_order_and_covariate_shift_do_not_change_the_fit() -> None:
    t, e, x = _data()
    ref = cox_fit(t, e, x)
    perm = np.random.default_rng(9).permutation(len(t))
    shuffled = cox_fit(t[perm], e[perm], x[perm] + np.array([100.0, -5.0]))
    assert ref.converged and shuffled.converged
    np.testing.assert_allclose(shuffled.coef, ref.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(shuffled.var, ref.var, rtol=1e-8)


def test_entry_before_every_time_equals_no_entry() -> None:
    """Delayed entry at a time before every exit leaves every risk set whole."""
    t, e, x = _data()
    plain = cox_fit(t, e, x, ties="breslow")
    entered = cox_fit(t, e, x, entry=np.full(len(t), -1.0), ties="breslow")
    np.testing.assert_allclose(entered.coef, plain.coef, rtol=1e-10)
    assert entered.loglik == pytest.approx(plain.loglik, rel=1e-12)


def test_without_ties_efron_and_breslow_agree() -> None:
    t, e, x = _data()
    t = t + np.arange(len(t)) * 1e-6  # distinct times
    a, b = cox_fit(t, e, x, ties="efron"), cox_fit(t, e, x, ties="breslow")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
