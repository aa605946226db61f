"""Survival analysis on registry data through Ibis.

Risk sets and events per distinct time are computed in the query engine (DuckDB by default; PySpark and PostgreSQL
through the same Ibis code); numpy finishes the Kaplan–Meier product and the log-rank statistic; lifelines fits Cox
models. Conventions and reference values are R survival 3.5's (``conf.type = "log-log"``, Efron ties).

>>> from mmemd.research.survival import kaplan_meier, logrank_test, cox_model, open_table
>>> km = kaplan_meier("cohort.parquet", time="os_months", event="death", group="emd", at=(12, 24))  # doctest: +SKIP
"""

from mmemd.research.survival._backend import BACKENDS, SurvivalInputError, open_table, spark_session
from mmemd.research.survival._cox import cox_model
from mmemd.research.survival._kaplan_meier import kaplan_meier
from mmemd.research.survival._logrank import logrank_test
from mmemd.research.survival._models import (
    CONF_TYPE,
    CONF_TYPE_TEXT,
    CoxTerm,
    KaplanMeierGroup,
    KaplanMeierResult,
    KaplanMeierSteps,
    LogRankGroup,
    LogRankResult,
    SurvivalAt,
    SurvivalVersions,
)

__all__ = [
    "BACKENDS",
    "CONF_TYPE",
    "CONF_TYPE_TEXT",
    "CoxTerm",
    "KaplanMeierGroup",
    "KaplanMeierResult",
    "KaplanMeierSteps",
    "LogRankGroup",
    "LogRankResult",
    "SurvivalAt",
    "SurvivalInputError",
    "SurvivalVersions",
    "cox_model",
    "kaplan_meier",
    "logrank_test",
    "open_table",
    "spark_session",
]
