"""Cox proportional-hazards model on the columns the formula needs.

Only the time, event, entry and covariate columns are collected from the engine (rows with any of them missing are
left out, as R's ``na.omit``). The formula becomes a design matrix with formulaic (categorical covariates dummy-coded
against their first level: term names like ``sex[T.M]``; R prints ``sexM``), and the partial likelihood is maximised
by :func:`mmemd.research.survival._cox_fit.cox_fit` — Efron ties by default (R ``coxph``'s default) or Breslow, with
the robust sandwich variance on request. p-values are Wald tests, as in R's ``summary(coxph)``; with ``robust`` the
z, p and interval use the robust standard error, as R does.
"""

from __future__ import annotations

import math
import re
from typing import Any

from mmemd.research.survival._backend import SurvivalInputError
from mmemd.research.survival._models import CoxTerm

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
# Names the formula language reserves: never columns, even when a table happens to have one.
_FORMULA_WORDS = frozenset(
    {"C", "I", "Q", "np", "log", "exp", "center", "scale", "standardize", "bs", "poly"}
)
TIES = ("efron", "breslow")


def formula_columns(formula: str, columns: list[str]) -> list[str]:
    """Table columns named in ``formula`` ("age + sex + hgb"), in order of appearance."""
    seen: list[str] = []
    for name in _IDENT.findall(formula):
        if name in columns and name not in seen and name not in _FORMULA_WORDS:
            seen.append(name)
    return seen


def cox_model(
    source: Any,
    *,
    formula: str,
    time: str,
    event: str,
    entry: str | None = None,
    backend: str = "duckdb",
    conf_level: float = 0.95,
    ties: str = "efron",
    robust: bool = False,
) -> list[CoxTerm]:
    """Fit ``Surv(entry, time, event) ~ formula`` by partial likelihood; one :class:`CoxTerm` a term."""
    import numpy as np

    from mmemd.research.survival._backend import open_table
    from mmemd.research.survival._cox_fit import CoxFitError, cox_fit
    from mmemd.research.survival._distributions import normal_quantile

    if ties not in TIES:
        raise SurvivalInputError("--ties", f"must be one of {', '.join(TIES)} (got {ties!r})")
    table = open_table(source, backend=backend)
    for name, option in ((time, "--time"), (event, "--event"), (entry, "--entry")):
        if name is not None and name not in table.columns:
            raise SurvivalInputError(
                option, f"column {name!r} not found (columns: {', '.join(table.columns)})"
            )
    covariates = formula_columns(formula, list(table.columns))
    if not covariates:
        raise SurvivalInputError(
            "--cox", f"formula {formula!r} names no column of the table (columns: {', '.join(table.columns)})"
        )
    needed = [c for c in dict.fromkeys([time, event, *([entry] if entry else []), *covariates])]
    frame = table.select(*needed).to_pandas().dropna()
    if frame.empty:
        raise SurvivalInputError("--cox", "no row has every column the model needs")
    frame[event] = frame[event].astype(int)
    if not frame[event].isin([0, 1]).all():
        raise SurvivalInputError("--event", f"column {event!r} must be 0 (censored) or 1 (event)")

    design = _design(frame, formula)
    terms = [str(c) for c in design.columns]
    try:
        fit = cox_fit(
            frame[time].to_numpy(dtype=np.float64),
            frame[event].to_numpy() == 1,
            design.to_numpy(dtype=np.float64),
            entry=None if entry is None else frame[entry].to_numpy(dtype=np.float64),
            ties=ties,  # type: ignore[arg-type]  # checked against TIES above
            robust=robust,
        )
    except CoxFitError as exc:
        raise SurvivalInputError("--cox", f"cannot fit {formula!r}: {exc}") from None
    se = np.sqrt(np.diag(fit.var))
    robust_se = None if fit.robust_var is None else np.sqrt(np.diag(fit.robust_var))
    crit = normal_quantile(1 - (1 - conf_level) / 2)
    out = []
    for i, term in enumerate(terms):
        coef = float(fit.coef[i])
        used = float(se[i] if robust_se is None else robust_se[i])
        warning = _term_warning(coef, float(se[i]), fit.converged)
        z = coef / used if math.isfinite(coef) and math.isfinite(used) and used > 0 else math.nan
        out.append(
            CoxTerm(
                term=term,
                coef=_finite(coef),
                hr=_finite(_exp(coef)),
                se=_finite(float(se[i])),
                robust_se=None if robust_se is None else _finite(float(robust_se[i])),
                z=_finite(z),
                p=_finite(math.erfc(abs(z) / math.sqrt(2))),
                hr_lower=_finite(_exp(coef - crit * used)),
                hr_upper=_finite(_exp(coef + crit * used)),
                warning=warning,
            )
        )
    return out


def _design(frame: Any, formula: str) -> Any:
    """Model matrix of the formula's right-hand side, without the intercept (absorbed in the baseline hazard)."""
    from formulaic import Formula  # type: ignore[import-untyped,unused-ignore]

    try:
        matrix = Formula(formula).get_model_matrix(frame)
    except Exception as exc:  # formulaic's errors for unknown terms and bad syntax have no common base class
        raise SurvivalInputError("--cox", f"cannot fit {formula!r}: {exc}") from None
    matrix = matrix.drop(columns=[c for c in matrix.columns if c == "Intercept"])
    if matrix.shape[1] == 0:
        raise SurvivalInputError("--cox", f"formula {formula!r} has no covariate term")
    return matrix


# R's coxph warns "Loglik converged before variable …; coefficient may be infinite" when one group has every event
# (or none): the likelihood keeps rising as the coefficient grows. The fit then stops at a large |coef| with a huge
# standard error (e.g. coef -16, se 3087). These bounds flag that pattern: exp(10) is an HR of 22,026.
_SEPARATION_COEF = 10.0
_SEPARATION_SE = 100.0


def _exp(x: float) -> float:
    """exp that gives inf instead of raising OverflowError (a diverging coefficient under separation)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _term_warning(coef: float, se: float, converged: bool) -> str | None:
    if not (math.isfinite(coef) and math.isfinite(se)) or abs(coef) > _SEPARATION_COEF or se > _SEPARATION_SE:
        return (
            "possible separation: one level has all (or none) of the events, the coefficient may be infinite; "
            "HR, CI and p are not interpretable"
        )
    if not converged:
        return "the model did not converge; estimates may be unreliable"
    return None
