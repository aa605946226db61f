"""Published reference values: these run without R, so the suite still checks something exact when R is absent.

Sources, cited per test:
* dat.bcg (Colditz et al. 1994) log risk ratios — Viechtbauer W. (2010) "Conducting meta-analyses in R with the
  metafor package", J Stat Softw 36(3), section 3 (REML fit: estimate -0.7145, se 0.1798, tau² 0.3132, I² 92.22%,
  H² 12.86, Q 152.2330, CI [-1.0669, -0.3622], PI [-1.8667, 0.4376]), and metafor's rma.uni help (DL fit).
* Kacker (2004) interlaboratory data — statsmodels' test suite (statsmodels/stats/tests/results/results_meta.py:
  ``exk1_metafor``, ``exk1_dl``, ``exk1_dl_hksj``, ``exk1_fe``, ``exk1_fe_hksj``), values printed by R metafor.
* dat.fine1993 escalc — the same statsmodels file (``y_rr, v_rr, y_or, v_or, y_rd, v_rd``), from metafor's escalc.
* Miller J. J. (1978) "The inverse of the Freeman-Tukey double arcsine transformation", Am Stat 32(4):138 — the
  inversion is exact at the study's own n.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmemd.research import meta

DATA = Path(__file__).parent / "data"


def bcg(measure: str = "RR") -> meta.EffectSizes:
    return meta.effect_sizes(meta.read_table(DATA / "dat_bcg.csv"), measure)


def test_bcg_reml_viechtbauer_2010() -> None:
    r = meta.rma(bcg(), "REML")
    printed = {
        "estimate": -0.7145,
        "se": 0.1798,
        "ci_lower": -1.0669,
        "ci_upper": -0.3622,
        "tau2": 0.3132,
        "i2": 92.22,
        "h2": 12.86,
        "q": 152.2330,
        "pred_lower": -1.8667,
        "pred_upper": 0.4376,
    }
    for key, value in printed.items():
        decimals = len(str(value).split(".")[1])
        assert round(getattr(r, key), decimals) == pytest.approx(value, abs=1e-12), key
    assert r.q_p < 1e-4
    # back-transformed: exp(-0.7145) = 0.4894 risk ratio
    assert r.pooled == pytest.approx(math.exp(r.estimate))
    assert round(r.pooled, 4) == 0.4894


def test_bcg_dl_metafor_docs() -> None:
    r = meta.rma(bcg(), "DL")
    assert round(r.estimate, 4) == -0.7141
    assert round(r.se, 4) == 0.1787
    assert round(r.tau2, 4) == 0.3088
    assert round(r.i2, 2) == 92.12
    assert round(r.ci_lower, 4) == -1.0644
    assert round(r.ci_upper, 4) == -0.3638


KACKER_Y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
KACKER_V = [0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]
# (method, knha) -> (estimate, se, ci_lb, ci_ub, tau2, QE, I2, H2) as statsmodels stores metafor's output
KACKER = {
    ("PM", False): (
        62.4076199113286,
        0.338030602684471,
        61.7450921043947,
        63.0701477182625,
        0.705395309224248,
        24.801897741835,
        83.7218626490482,
        6.14320900751909,
    ),
    ("DL", False): (
        62.3901386044504,
        0.245749668040304,
        61.9084781058787,
        62.8717991030221,
        0.288049246973751,
        24.801897741835,
        67.744403741711,
        3.10023721772938,
    ),
    ("DL", True): (
        62.3901386044504,
        0.29477605699879,
        61.710383798052,
        63.0698934108488,
        0.288049246973751,
        24.801897741835,
        67.744403741711,
        3.10023721772938,
    ),
    ("FE", False): (
        62.5833970939982,
        0.107845705498231,
        62.3720233953344,
        62.7947707926621,
        0.0,
        24.801897741835,
        67.744403741711,
        3.10023721772938,
    ),
    ("FE", True): (
        62.5833970939982,
        0.189889223522271,
        62.1455117593252,
        63.0212824286713,
        0.0,
        24.801897741835,
        67.744403741711,
        3.10023721772938,
    ),
}


@pytest.mark.parametrize(("method", "knha"), list(KACKER))
def test_kacker_2004_statsmodels_reference(method: str, knha: bool) -> None:
    es = meta.generic(KACKER_Y, KACKER_V)
    r = meta.rma(es, method, knha=knha)
    got = (r.estimate, r.se, r.ci_lower, r.ci_upper, r.tau2, r.q, r.i2, r.h2)
    # statsmodels' PM value came from uniroot with tol 1e-9; ours is solved tighter.
    for name, ours, ref in zip(
        ("b", "se", "ci_lb", "ci_ub", "tau2", "QE", "I2", "H2"), got, KACKER[method, knha], strict=True
    ):
        assert ours == pytest.approx(ref, rel=1e-7, abs=1e-9), name


def test_knha_factor_at_pm_solution_is_one() -> None:
    # At the Paule-Mandel solution the generalised Q equals k - 1, so the Knapp-Hartung factor s² is exactly 1.
    es = meta.generic(KACKER_Y, KACKER_V)
    pm, pm_z = meta.rma(es, "PM", knha=True), meta.rma(es, "PM")
    assert pm.se == pytest.approx(pm_z.se, rel=1e-9)
    assert pm.df == 8


def test_knha_factor_is_not_floored_at_one() -> None:
    # metafor test="knha" (not "adhoc"): with less spread than expected, s² < 1 shrinks the standard error.
    es = meta.effect_sizes(meta.read_table(DATA / "homogeneous.csv"))
    z, t = meta.rma(es, "DL"), meta.rma(es, "DL", knha=True)
    wi = 1 / es.vi
    s2 = float(np.sum(wi * (es.yi - z.estimate) ** 2) / (es.k - 1))
    assert s2 < 1
    assert t.se == pytest.approx(z.se * math.sqrt(s2), rel=1e-12)


FINE_Y_RR = [
    0.0595920972022457,
    0.434452644981417,
    0.279313822781264,
    0.934309237376833,
    0.389960921572199,
    0.219327702635984,
    0.328504066972036,
    0.106179852041229,
    0.28594445255324,
    0.0540672212702757,
    0.164912297594691,
    0.300079561474504,
    0.0813456394539525,
    0.693147180559945,
    0.177206456127184,
    -0.131336002061087,
    0.0622131845015728,
]
FINE_V_RR = [
    0.0761562998405104,
    0.080905695611578,
    0.0856909430438842,
    0.175974025974026,
    0.0551968864468864,
    0.0267002515563729,
    0.074017094017094,
    0.0257850995555914,
    0.0590338164251208,
    0.073266499582289,
    0.0137191240428942,
    0.0179386112192693,
    0.0400361415752742,
    0.3,
    0.0213675213675214,
    0.0922402159244264,
    0.021962676962677,
]
FINE_Y_OR = [
    0.13613217432458,
    0.768370601797533,
    0.374938517449009,
    1.65822807660353,
    0.784954729813068,
    0.361663949151077,
    0.575364144903562,
    0.250542525502324,
    0.650587566141149,
    0.0918075492531228,
    0.273865253802803,
    0.485755524477543,
    0.182321556793955,
    0.980829253011726,
    1.31218638896617,
    -0.259511195485084,
    0.138402322859119,
]
FINE_Y_RD = [
    0.0334928229665072,
    0.186554621848739,
    0.071078431372549,
    0.386363636363636,
    0.19375,
    0.0860946401581211,
    0.14,
    0.0611028315946349,
    0.158888888888889,
    0.0222222222222222,
    0.0655096935584741,
    0.114173373020248,
    0.045021186440678,
    0.2,
    0.150793650793651,
    -0.0647773279352226,
    0.0342342342342342,
]


def test_fine1993_escalc_statsmodels_reference() -> None:
    t = meta.read_table(DATA / "dat_fine1993.csv")
    rr = meta.effect_sizes(t, "RR")
    np.testing.assert_allclose(rr.yi, FINE_Y_RR, rtol=1e-12)
    np.testing.assert_allclose(rr.vi, FINE_V_RR, rtol=1e-12)
    np.testing.assert_allclose(meta.effect_sizes(t, "OR").yi, FINE_Y_OR, rtol=1e-12)
    np.testing.assert_allclose(meta.effect_sizes(t, "RD").yi, FINE_Y_RD, rtol=1e-12)


@given(st.integers(min_value=1, max_value=2000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_miller_1978_inverse_is_exact_at_own_n(nx: tuple[int, int]) -> None:
    n, x = nx
    p = x / n
    assert meta.ipft(meta.pft(p, n), n) == pytest.approx(p, abs=1e-9)


def test_pft_single_study_pools_back_to_its_proportion() -> None:
    # k = 1: the harmonic mean of n is n itself, so the back-transformed pooled value is exactly x/n (Miller 1978).
    r = meta.rma(meta.proportions("PFT", [7], [23]), "REML")
    assert r.pooled == pytest.approx(7 / 23, abs=1e-12)


def test_pft_uses_harmonic_mean_of_n() -> None:
    es = meta.effect_sizes(meta.read_table(DATA / "dat_pritz1997.csv"), "PFT")
    r = meta.rma(es, "FE")
    assert es.ni is not None
    nhm = len(es.ni) / sum(1 / es.ni)
    assert r.pooled == pytest.approx(meta.ipft(r.estimate, nhm), abs=1e-15)
    arith = float(np.mean(es.ni))
    assert abs(meta.ipft(r.estimate, arith) - r.pooled) > 1e-6  # the choice of mean matters; we use metafor's
