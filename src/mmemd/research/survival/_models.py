"""Result models of the survival engine (``mmemd.survival/1``).

Missing numbers are ``None`` (JSON ``null``), never NaN: a median that is not reached, a confidence limit where the
log-log transform is undefined (S = 0), a survival probability asked for past the last follow-up time.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

CONF_TYPE = "log-log"
CONF_TYPE_TEXT = "log-log: S(t)^exp(±z·se/log S(t)), se² = Greenwood's Σ d/(n(n−d)) for log S (R survival conf.type='log-log')"


class SurvivalVersions(BaseModel):
    """What produced a result: package, knowledge base, the query engine and (for Cox) formulaic, which builds the
    design matrix. ``lifelines`` stays in the schema for older documents; the fit no longer uses it."""

    model_config = ConfigDict(frozen=True)

    mmemd: str
    knowledge_base: str
    ibis: str
    backend: str
    lifelines: str | None = None
    formulaic: str | None = None


class SurvivalAt(BaseModel):
    """Kaplan–Meier estimate at one requested time, as R's ``summary(fit, times=...)`` reports it."""

    model_config = ConfigDict(frozen=True)

    time: float
    survival: float | None
    lower: float | None
    upper: float | None
    at_risk: int


class KaplanMeierSteps(BaseModel):
    """The curve: one entry per distinct observed exit time (event or censoring), as R's ``survfit`` lists them."""

    model_config = ConfigDict(frozen=True)

    times: list[float]
    survival: list[float]
    lower: list[float | None]
    upper: list[float | None]
    at_risk: list[int]
    events: list[int]
    censored: list[int]


class KaplanMeierGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str | None
    n: int
    events: int
    median: float | None
    median_ci: tuple[float | None, float | None]
    survival_at: list[SurvivalAt]
    steps: KaplanMeierSteps

    def summary(self) -> dict[str, Any]:
        """The JSON keys of the survival output (``n, events, median, median_ci, survival_at``), without the curve."""
        return self.model_dump(exclude={"steps"})


class KaplanMeierResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    time: str
    event: str
    entry: str | None
    group: str | None
    conf_level: float
    conf_type: str = CONF_TYPE
    conf_type_text: str = CONF_TYPE_TEXT
    excluded: int
    """Rows left out because time, event, entry or group was missing (R's default ``na.omit``)."""
    groups: list[KaplanMeierGroup]
    logrank: LogRankResult | None = None
    """With two or more groups: the log-rank test from the same engine pass (no second scan of the data)."""
    versions: SurvivalVersions

    def group_named(self, name: str | None) -> KaplanMeierGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def to_dict(self, steps: bool = True) -> dict[str, Any]:
        return self.model_dump(exclude=None if steps else {"groups": {"__all__": {"steps"}}})

    def to_json(self, steps: bool = True, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(steps=steps), ensure_ascii=False, indent=indent, allow_nan=False)


class LogRankGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    n: int
    observed: int
    expected: float


class LogRankResult(BaseModel):
    """k-group log-rank test (R ``survdiff``, rho = 0). Subscriptable like the dict ``{chi2, df, p}``."""

    model_config = ConfigDict(frozen=True)

    chi2: float
    df: int
    p: float
    groups: list[LogRankGroup]

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def summary(self) -> dict[str, Any]:
        return {"chi2": self.chi2, "df": self.df, "p": self.p}


class CoxTerm(BaseModel):
    """One coefficient of a Cox model (Wald test), as R's ``summary(coxph(...))`` prints it; ``robust_se`` only when
    the robust variance was asked for (z, p and the interval then use it, as in R)."""

    model_config = ConfigDict(frozen=True)

    term: str
    #: None where the estimate is not finite (separation: the coefficient diverges)
    coef: float | None
    hr: float | None
    se: float | None
    z: float | None
    p: float | None
    hr_lower: float | None
    hr_upper: float | None
    #: sandwich (robust) standard error when asked for; z, p and the CI then use it
    robust_se: float | None = None
    #: why this term's estimate should not be trusted (separation, non-convergence), else None
    warning: str | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


KaplanMeierResult.model_rebuild()
