"""PFS and OS by EMD status at diagnosis: Kaplan–Meier with numbers at risk, log-rank, and Cox models adjusted
for stage and age — through :mod:`mmemd.research.survival` (risk sets in the engine, product in numpy, Cox by its
vectorised Efron fit).

End points (docs/cohort.md "Survival"), time zero the diagnosis date, months of 30.4375 days:

- OS: death (``events``), censored at ``patients.last_contact_date``.
- PFS: the first progression or death, whichever comes first; censored at the last contact.
- EMD status at diagnosis: ``extraosseous`` if a lesion found at diagnosis has no contact with bone,
  ``paraskeletal`` if one arises from bone, else ``none`` (docs/criteria.md §3.1).
"""

from __future__ import annotations

from typing import Any, Final

from mmemd.research.cohort._models import CoxSummary, SurvivalGroup, SurvivalSummary

__all__ = ["AT_MONTHS", "COX_TERMS", "survival_by_emd", "survival_table"]

DAYS_PER_MONTH: Final = 30.4375
AT_MONTHS: Final = (0.0, 12.0, 24.0, 36.0, 48.0, 60.0, 72.0, 84.0, 96.0, 108.0, 120.0)
GROUP_ORDER: Final = ("none", "paraskeletal", "extraosseous")
COX_TERMS: Final = {
    "emd_paraskeletal": "EMD paraskeletal vs none",
    "emd_extraosseous": "EMD extraosseous vs none",
    "age_per_10y": "age (per 10 years)",
    "iss_II": "ISS II vs I",
    "iss_III": "ISS III vs I",
}


def survival_table(tables: dict[str, Any]) -> Any:
    """One row per patient: emd, os_months, os_event, pfs_months, pfs_event and the Cox covariates (Ibis)."""
    import ibis  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    p = tables["patients"]
    les = tables["lesions"]
    ev = tables["events"]
    dx = les.filter(les.detected_at == "diagnosis")
    emd = dx.group_by("patient_id").aggregate(
        extra=((dx.relation_to_bone == "none") | dx.cns.fill_null(False)).any(),
        para=(dx.relation_to_bone == "arising_from_bone").any(),
    )
    death = ev.filter(ev.event == "death").group_by("patient_id").aggregate(death_date=ev.date.min())
    prog = ev.filter(ev.event == "progression").group_by("patient_id").aggregate(prog_date=ev.date.min())
    j = p.left_join(emd, "patient_id").left_join(death, "patient_id").left_join(prog, "patient_id")
    status = ibis.ifelse(
        j.extra.fill_null(False), "extraosseous", ibis.ifelse(j.para.fill_null(False), "paraskeletal", "none")
    )
    os_end = j.death_date.fill_null(j.last_contact_date)
    pfs_end = ibis.least(
        j.prog_date.fill_null(j.last_contact_date), j.death_date.fill_null(j.last_contact_date)
    )
    months = DAYS_PER_MONTH

    def _delta(end: Any) -> Any:
        return end.delta(j.diagnosis_date, unit="day").cast("float64") / months

    def _dummy(cond: Any) -> Any:
        return ibis.ifelse(cond, 1, 0)

    return j.select(
        patient_id=j.patient_id,
        emd=status,
        os_months=_delta(os_end),
        os_event=_dummy(j.death_date.notnull()),
        pfs_months=_delta(pfs_end),
        pfs_event=_dummy(j.prog_date.notnull() | j.death_date.notnull()),
        emd_paraskeletal=_dummy(status == "paraskeletal"),
        emd_extraosseous=_dummy(status == "extraosseous"),
        age_per_10y=j.age_at_diagnosis.cast("float64") / 10.0,
        iss_II=ibis.ifelse(j.iss.isnull(), ibis.null("int64"), _dummy(j.iss == "II")),
        iss_III=ibis.ifelse(j.iss.isnull(), ibis.null("int64"), _dummy(j.iss == "III")),
    )


def survival_by_emd(
    tables: dict[str, Any], conf_level: float = 0.95
) -> tuple[list[SurvivalSummary], list[CoxSummary], dict[str, Any], list[str]]:
    """(KM summaries, Cox summaries, curves for plotting, notes) for PFS and OS."""
    # On DuckDB an expression, not a cached table: the per-patient joins are cheap for the engine, and ibis 12's
    # cache finaliser fails on DuckDB 2.0 ("DROP TABLE IF EXISTS" without a name). On Spark every query below (about
    # ten: Kaplan–Meier, log-rank, counts, the Cox rows) would run the joins again as a job of its own, so the table
    # is cached in the executors' memory once and released at the end.
    t = survival_table(tables)
    if getattr(t._find_backend(use_default=True), "name", "") != "pyspark":
        return _survival_by_emd(t, conf_level)
    cached = t.cache()
    try:
        return _survival_by_emd(cached, conf_level)
    finally:
        cached.release()


def _survival_by_emd(
    t: Any, conf_level: float
) -> tuple[list[SurvivalSummary], list[CoxSummary], dict[str, Any], list[str]]:
    from mmemd.research.survival import cox_model, kaplan_meier, logrank_test

    present = [
        g for g in GROUP_ORDER if g in set(t.select("emd").distinct().to_pyarrow().column(0).to_pylist())
    ]
    summaries: list[SurvivalSummary] = []
    coxes: list[CoxSummary] = []
    curves: dict[str, Any] = {}
    notes: list[str] = []
    for endpoint, time, event in (("PFS", "pfs_months", "pfs_event"), ("OS", "os_months", "os_event")):
        km = kaplan_meier(t, time=time, event=event, group="emd", at=AT_MONTHS, conf_level=conf_level)
        by_name = {g.name: g for g in km.groups}
        groups = [by_name[g] for g in present if g in by_name]
        lr = logrank_test(t, time=time, event=event, group="emd") if len(groups) > 1 else None
        summaries.append(
            SurvivalSummary(
                endpoint=endpoint,
                conf_type=km.conf_type_text,
                groups=[
                    SurvivalGroup(
                        name=str(g.name),
                        n=g.n,
                        events=g.events,
                        median=g.median,
                        median_ci=g.median_ci,
                        survival_at=[s.model_dump() for s in g.survival_at],
                    )
                    for g in groups
                ],
                logrank=None if lr is None else {"chi2": lr.chi2, "df": float(lr.df), "p": lr.p},
            )
        )
        curves[endpoint] = groups
        terms = [k for k in COX_TERMS if not k.startswith("emd_") or k.removeprefix("emd_") in present]
        formula = " + ".join(terms)
        needed = t.select(time, event, *terms).drop_null()
        counts = needed.aggregate(n=needed.count(), events=needed[event].sum()).to_pyarrow().to_pylist()[0]
        try:
            fitted = cox_model(t, formula=formula, time=time, event=event, conf_level=conf_level)
        except ValueError as exc:  # a singular design (e.g. one ISS stage only) is reported, not fatal
            notes.append(f"Cox model for {endpoint} not fitted: {exc}")
            continue
        coxes.append(
            CoxSummary(
                endpoint=endpoint,
                formula=formula,
                n=int(counts["n"] or 0),
                events=int(counts["events"] or 0),
                terms=[{**c.model_dump(), "label": COX_TERMS.get(c.term, c.term)} for c in fitted],
            )
        )
    return summaries, coxes, curves, notes
