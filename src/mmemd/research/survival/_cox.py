"""Cox proportional-hazards model (lifelines ``CoxPHFitter``) on the columns the formula needs.

Only the time, event, entry and covariate columns are collected from the engine (rows with any of them missing are
left out, as R's ``na.omit``). lifelines handles ties with Efron's method, R ``coxph``'s default; p-values are Wald
tests, as in R's ``summary(coxph)``. Categorical covariates are dummy-coded against their first level by the formula
engine (term names like ``sex[T.M]``; R prints ``sexM``).
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
) -> list[CoxTerm]:
    """Fit ``Surv(entry, time, event) ~ formula`` by partial likelihood (Efron ties); one :class:`CoxTerm` a term."""
    import warnings

    from lifelines import CoxPHFitter  # type: ignore[import-untyped,unused-ignore]  # lifelines ships no type information

    from mmemd.research.survival._backend import open_table

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

    cph = CoxPHFitter(alpha=1 - conf_level)
    with warnings.catch_warnings(record=True) as caught:
        # lifelines warns about convergence and low variance through warnings; they are turned into per-term
        # warnings below and must not print patient-level column statistics to the log.
        warnings.simplefilter("always")
        try:
            cph.fit(frame, duration_col=time, event_col=event, entry_col=entry, formula=formula)
        except Exception as exc:  # formula errors (unknown term), singular designs, no convergence at all
            raise SurvivalInputError("--cox", f"cannot fit {formula!r}: {exc}") from None
    converged = not any("converge" in str(w.message).lower() for w in caught)
    s = cph.summary
    lo_col = next(c for c in s.columns if c.startswith("exp(coef) lower"))
    hi_col = next(c for c in s.columns if c.startswith("exp(coef) upper"))
    return [
        CoxTerm(
            term=str(term),
            coef=_finite(row["coef"]),
            hr=_finite(row["exp(coef)"]),
            se=_finite(row["se(coef)"]),
            z=_finite(row["z"]),
            p=_finite(row["p"]),
            hr_lower=_finite(row[lo_col]),
            hr_upper=_finite(row[hi_col]),
            warning=_term_warning(row, converged),
        )
        for term, row in s.iterrows()
    ]


# R's coxph warns "Loglik converged before variable …; coefficient may be infinite" when one group has every event
# (or none): the likelihood keeps rising as the coefficient grows. The fit then stops at a large |coef| with a huge
# standard error (e.g. coef -16, se 3087). These bounds flag that pattern: exp(10) is an HR of 22,026.
_SEPARATION_COEF = 10.0
_SEPARATION_SE = 100.0


def _finite(value: Any) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def _term_warning(row: Any, converged: bool) -> str | None:
    coef, se = float(row["coef"]), float(row["se(coef)"])
    if not (math.isfinite(coef) and math.isfinite(se)) or abs(coef) > _SEPARATION_COEF or se > _SEPARATION_SE:
        return (
            "possible separation: one level has all (or none) of the events, the coefficient may be infinite; "
            "HR, CI and p are not interpretable"
        )
    if not converged:
        return "the model did not converge; estimates may be unreliable"
    return None
