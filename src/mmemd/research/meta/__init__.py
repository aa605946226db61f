"""Meta-analysis matching R metafor 3.8-1: effect sizes, τ² estimators, pooling, subgroups, leave-one-out, forest
plots, and the synthesis of the knowledge base's claims.

>>> from mmemd.research import meta
>>> es = meta.proportions("PLO", events=[11, 21, 6], n=[18, 31, 15], study=["A", "B", "C"])
>>> res = meta.rma(es, "REML")
>>> round(res.pooled, 3)  # doctest: +SKIP

See docs/meta-analysis.md for the conventions (continuity correction, I², prediction interval, back-transforms).
"""

from __future__ import annotations

from mmemd.research.meta._effect import (
    CONTINUITY_CORRECTION,
    EffectSizes,
    Measure,
    generic,
    proportions,
    two_groups,
)
from mmemd.research.meta._errors import ConvergenceError, MetaInputError
from mmemd.research.meta._leave_one_out import leave_one_out, leave_one_out_rows
from mmemd.research.meta._pool import SUMMARY_KEYS, MetaResult, StudyRow, rma
from mmemd.research.meta._subgroup import SubgroupResult, subgroups
from mmemd.research.meta._table import Table, effect_sizes, parse_table, read_table
from mmemd.research.meta._tau2 import Method, estimate_tau2
from mmemd.research.meta._transform import back_transform, ipft, pft

__all__ = [
    "CONTINUITY_CORRECTION",
    "SUMMARY_KEYS",
    "ConvergenceError",
    "EffectSizes",
    "Measure",
    "MetaInputError",
    "MetaResult",
    "Method",
    "StudyRow",
    "SubgroupResult",
    "Table",
    "back_transform",
    "effect_sizes",
    "estimate_tau2",
    "generic",
    "ipft",
    "leave_one_out",
    "leave_one_out_rows",
    "parse_table",
    "pft",
    "proportions",
    "read_table",
    "rma",
    "subgroups",
    "two_groups",
]
