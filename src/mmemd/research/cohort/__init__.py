"""Cohort analytics on registry data: schema, synthetic cohorts, the cohort analysis and its report.

>>> from mmemd.research import cohort
>>> cohort.synth_cohort(500, "demo", seed=1)  # doctest: +SKIP
>>> result = cohort.analyze_cohort("demo")  # doctest: +SKIP
>>> result.incidence["at_diagnosis"]["any"].estimate  # doctest: +SKIP

Tables, columns and units: docs/cohort.md (generated from :mod:`._schema`).
"""

from __future__ import annotations

from mmemd.research.cohort._analyze import analyze_cohort
from mmemd.research.cohort._errors import CohortError, CohortProblem
from mmemd.research.cohort._io import CohortSource, open_cohort
from mmemd.research.cohort._models import CohortAnalysis, Proportion
from mmemd.research.cohort._schema import COHORT_SCHEMA, TABLES, Column, Table, schema_markdown
from mmemd.research.cohort._synth import CALIBRATION, SynthSummary, calibration_scales, synth_cohort
from mmemd.research.cohort._validate import validate_cohort

__all__ = [
    "CALIBRATION",
    "COHORT_SCHEMA",
    "TABLES",
    "CohortAnalysis",
    "CohortError",
    "CohortProblem",
    "CohortSource",
    "Column",
    "Proportion",
    "SynthSummary",
    "Table",
    "analyze_cohort",
    "calibration_scales",
    "open_cohort",
    "schema_markdown",
    "synth_cohort",
    "validate_cohort",
]
