"""EMD incidence at diagnosis and at relapse, with exact (Clopper–Pearson) binomial confidence intervals.

Definitions (docs/cohort.md, "Incidence"), from the lesions table and docs/criteria.md §3.1:

- *At diagnosis* (primary EMD): patients with a lesion ``detected_at = diagnosis`` among all patients.
- *At relapse* (secondary EMD): patients with a lesion ``detected_at = relapse`` among patients who relapsed (at
  least one ``progression`` event, or a lesion found at relapse).
- Each is split by the lesion's relation to bone: *extraosseous* (``none``: true EMD), *paraskeletal*
  (``arising_from_bone``) and *any* (either; a patient with both counts once, as extraosseous). Intraosseous (bone)
  plasmacytomas are not EMD and a lesion without a known relation counts in neither split, only in the count of
  lesions of unknown relation. CNS involvement at relapse is reported on its own.

The counts are computed in the engine; only the numbers come back to Python.
"""

from __future__ import annotations

from typing import Any

from mmemd.research.cohort._models import Proportion

__all__ = ["clopper_pearson", "emd_incidence", "proportion"]


def clopper_pearson(x: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval: the beta quantiles of Clopper & Pearson (1934); 0 and 1 at the boundaries."""
    from scipy.stats import beta  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    if n <= 0 or not 0 <= x <= n:
        raise ValueError(f"need 0 <= x <= n and n > 0 (got x={x}, n={n})")
    a = 1.0 - conf_level
    lower = 0.0 if x == 0 else float(beta.ppf(a / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(beta.ppf(1 - a / 2, x + 1, n - x))
    return lower, upper


def proportion(x: int, n: int, conf_level: float = 0.95) -> Proportion:
    if n == 0:
        return Proportion(events=0, n=0, estimate=None, lower=None, upper=None, conf_level=conf_level)
    lo, hi = clopper_pearson(x, n, conf_level)
    return Proportion(events=x, n=n, estimate=x / n, lower=lo, upper=hi, conf_level=conf_level)


def emd_incidence(tables: dict[str, Any], conf_level: float = 0.95) -> dict[str, dict[str, Proportion]]:
    """``{"at_diagnosis": {any, extraosseous, paraskeletal}, "at_relapse": {any, extraosseous, paraskeletal,
    cns}}``, each a :class:`Proportion` with its Clopper–Pearson interval."""
    patients = tables["patients"]
    lesions = tables["lesions"]
    events = tables["events"]
    soft = lesions.filter(
        lesions.relation_to_bone.isin(["none", "arising_from_bone"]) | lesions.cns.fill_null(False)
    )
    per = soft.group_by(["patient_id", "detected_at"]).aggregate(
        extra=((soft.relation_to_bone == "none") | soft.cns.fill_null(False)).any(),
        para=(soft.relation_to_bone == "arising_from_bone").any(),
        cns=soft.cns.fill_null(False).any(),
    )
    relapsed = (
        events.filter(events.event == "progression")
        .select("patient_id")
        .union(lesions.filter(lesions.detected_at == "relapse").select("patient_id"))
        .distinct()
    )

    def _counts(where: str) -> dict[str, int]:
        p = per.filter(per.detected_at == where)
        row = p.aggregate(
            any=p.count(),
            extra=p.extra.ifelse(1, 0).sum(),
            para=(p.para & ~p.extra).ifelse(1, 0).sum(),
            cns=p.cns.ifelse(1, 0).sum(),
        )
        got = row.to_pyarrow().to_pylist()[0]
        return {k: int(v or 0) for k, v in got.items()}

    n_all = int(patients.count().to_pyarrow().as_py())
    n_rel = int(relapsed.count().to_pyarrow().as_py())
    dx = _counts("diagnosis")
    rl = _counts("relapse")
    out = {
        "at_diagnosis": {
            "any": proportion(dx["any"], n_all, conf_level),
            "extraosseous": proportion(dx["extra"], n_all, conf_level),
            "paraskeletal": proportion(dx["para"], n_all, conf_level),
        },
        "at_relapse": {
            "any": proportion(rl["any"], n_rel, conf_level),
            "extraosseous": proportion(rl["extra"], n_rel, conf_level),
            "paraskeletal": proportion(rl["para"], n_rel, conf_level),
            "cns": proportion(rl["cns"], n_rel, conf_level),
        },
    }
    return out
