"""Subgroup analysis: a separate model per subgroup, then a test of the difference between subgroups.

Each subgroup gets its own τ² (as ``rma(..., subset = group == g)`` per level in metafor). The test of subgroup
differences is the Q statistic of a fixed-effect model across the subgroup estimates with their standard errors —
``rma(estimates, sei = ses, method = "FE")$QE``, equal to the ``QM`` of ``rma(estimates, sei = ses,
mods = ~ group, method = "FE")`` — χ² with (number of subgroups - 1) df. (The alternative, a mixed-effects
meta-regression with one common τ², is not what this computes.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import chdtrc  # type: ignore[import-untyped,unused-ignore]  # the chi-square upper tail

from mmemd.research.meta._effect import EffectSizes
from mmemd.research.meta._errors import MetaInputError
from mmemd.research.meta._pool import MetaResult, rma
from mmemd.research.meta._tau2 import Method, q_statistic


@dataclass(frozen=True)
class SubgroupResult:
    by: str
    groups: tuple[tuple[str, MetaResult], ...]
    q_between: float | None
    df_between: int
    p_between: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "groups": [{"group": g, **r.to_dict()} for g, r in self.groups],
            "test_between": {"q": self.q_between, "df": self.df_between, "p": self.p_between},
        }


def subgroups(
    es: EffectSizes,
    labels: list[str],
    method: Method | str = Method.REML,
    *,
    by: str = "group",
    knha: bool = False,
    level: float = 95.0,
) -> SubgroupResult:
    """Pool within each subgroup (in order of first appearance) and test the difference between them."""
    if len(labels) != es.k:
        raise MetaInputError(by, f"{len(labels)} labels for {es.k} studies")
    order: dict[str, list[int]] = {}
    for i, g in enumerate(labels):
        order.setdefault(g, []).append(i)
    groups = tuple((g, rma(es.subset(idx), method, knha=knha, level=level)) for g, idx in order.items())
    ests = np.array([r.estimate for _, r in groups])
    ses = np.array([r.se for _, r in groups])
    q: float | None = None
    p: float | None = None
    if len(groups) > 1 and np.all(ses > 0):
        q = q_statistic(ests, 1 / ses**2)
        p = float(chdtrc(len(groups) - 1, q))
    return SubgroupResult(by=by, groups=groups, q_between=q, df_between=len(groups) - 1, p_between=p)
