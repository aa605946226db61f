"""Leave-one-out: the model refitted without each study in turn (metafor ``leave1out``), same method and test.

For PFT the back-transformation uses the harmonic mean n of the studies left in.
"""

from __future__ import annotations

from typing import Any

from mmemd.research.meta._effect import EffectSizes
from mmemd.research.meta._errors import MetaInputError
from mmemd.research.meta._pool import MetaResult, rma
from mmemd.research.meta._tau2 import Method

_KEYS = (
    "estimate",
    "se",
    "statistic",
    "p",
    "ci_lower",
    "ci_upper",
    "q",
    "q_p",
    "tau2",
    "i2",
    "h2",
    "pred_lower",
    "pred_upper",
    "pooled",
    "pooled_ci_lower",
    "pooled_ci_upper",
)


def leave_one_out(
    es: EffectSizes, method: Method | str = Method.REML, *, knha: bool = False, level: float = 95.0
) -> list[tuple[str, MetaResult]]:
    """(omitted study, model without it) for every study; needs k >= 2."""
    if es.k < 2:
        raise MetaInputError("study", "leave-one-out needs at least 2 studies")
    out = []
    for i, name in enumerate(es.study):
        keep = [j for j in range(es.k) if j != i]
        out.append((name, rma(es.subset(keep), method, knha=knha, level=level)))
    return out


def leave_one_out_rows(results: list[tuple[str, MetaResult]]) -> list[dict[str, Any]]:
    rows = []
    for name, r in results:
        d = r.to_dict()
        rows.append({"omitted": name, "k": r.k, **{key: d[key] for key in _KEYS}})
    return rows
