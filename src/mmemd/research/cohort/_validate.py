"""Validate the cohort tables against ``mmemd.cohort/1`` and cast them to the schema's types.

Every check runs in the engine: one aggregate per table counts the rows breaking each rule (required value missing,
value not convertible to the column's type, value outside its set or range), then one query per broken rule fetches
an example row's key, so a 2-million-row table is scanned a handful of times, never loaded. All problems are
reported together (like ``mmemd validate``): a registry export is fixed in one pass, not one error at a time.
"""

from __future__ import annotations

from typing import Any, Final

from mmemd.research.cohort._errors import CohortError, CohortProblem
from mmemd.research.cohort._io import CohortSource
from mmemd.research.cohort._schema import BY_NAME, Column, ColumnType, Table

__all__ = ["validate_cohort"]

_IBIS_TYPE: dict[ColumnType, str] = {
    "string": "string",
    "int": "int64",
    "float": "float64",
    "date": "date",
    "bool": "boolean",
}


def _matches(dtype: Any, kind: ColumnType) -> bool:
    if kind == "string":
        return bool(dtype.is_string())
    if kind == "int":
        return bool(dtype.is_integer())
    if kind == "float":
        return bool(dtype.is_floating() or dtype.is_integer() or dtype.is_decimal())
    if kind == "date":
        return bool(dtype.is_date() or dtype.is_timestamp())
    return bool(dtype.is_boolean())


def _example(t: Any, table: Table, pred: Any, column: str | None) -> str | None:
    cols = list(table.key)
    if column is not None and column not in cols:
        cols.append(column)
    rows = t.filter(pred).select(*cols).order_by(list(table.key)).limit(1).to_pyarrow().to_pylist()
    if not rows:
        return None
    return _key_text(rows[0])


def _key_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in row.items())


_RAW = "__raw_"


def _coerce(raw: Any, table: Table) -> tuple[Any, list[tuple[Column, str, str]], list[CohortProblem]]:
    """Cast columns to their schema types and add absent optional columns as nulls. The result also carries
    ``__raw_<name>`` for every cast from text, so that a value that failed its cast can be found. Returns that wide
    table, the cast checks as (column, raw column name, message), and the problems found from the schema alone."""
    import ibis  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    schema = raw.schema()
    exprs: dict[str, Any] = {}
    casts: list[tuple[Column, str, str]] = []
    problems: list[CohortProblem] = []
    for c in table.columns:
        target = _IBIS_TYPE[c.type]
        if c.name not in schema:
            if c.required:
                problems.append(CohortProblem(table.name, c.name, "required column is missing"))
            exprs[c.name] = ibis.null().cast(target)
            continue
        col = raw[c.name]
        dtype = schema[c.name]
        if _matches(dtype, c.type):
            exprs[c.name] = col if str(dtype) == target or dtype.is_string() else col.cast(target)
        elif c.type == "string":
            exprs[c.name] = col.cast("string")
        elif dtype.is_string() or dtype.is_null():
            exprs[c.name] = col.try_cast(target)
            exprs[_RAW + c.name] = col
            casts.append((c, _RAW + c.name, f"value is not a {c.type}"))
        else:
            problems.append(CohortProblem(table.name, c.name, f"has type {dtype}, expected {c.type}"))
            exprs[c.name] = ibis.null().cast(target)
    return raw.select(**exprs), casts, problems


def _rules(w: Any, table: Table, casts: list[tuple[Column, str, str]]) -> list[tuple[Column, Any, str]]:
    raw_of = {c.name: r for c, r, _ in casts}
    rules: list[tuple[Column, Any, str]] = [(c, w[c.name].isnull() & w[r].notnull(), m) for c, r, m in casts]
    for c in table.columns:
        col = w[c.name]
        if c.required:
            # Read on the raw text when the column was cast: a failed cast is reported once, as not convertible.
            rules.append((c, w[raw_of.get(c.name, c.name)].isnull(), "required value is missing"))
        if c.values is not None:
            rules.append(
                (c, col.notnull() & ~col.isin(list(c.values)), f"value not in {{{', '.join(c.values)}}}")
            )
        if c.minimum is not None:
            rules.append((c, col < c.minimum, f"value below {c.minimum:g}"))
        if c.maximum is not None:
            rules.append((c, col > c.maximum, f"value above {c.maximum:g}"))
    return rules


def _count_all(t: Any, preds: list[Any]) -> list[int]:
    if not preds:
        return []
    agg = t.aggregate(**{f"r{i}": p.ifelse(1, 0).sum() for i, p in enumerate(preds)})
    row = agg.to_pyarrow().to_pylist()[0]
    return [int(row[f"r{i}"] or 0) for i in range(len(preds))]


def _check_table(raw: Any, table: Table) -> tuple[Any, list[CohortProblem]]:
    w, casts, problems = _coerce(raw, table)
    t = w.select(*table.names)
    if any(p.column in table.key for p in problems):
        return t, problems
    rules = _rules(w, table, casts)
    for (c, pred, msg), n in zip(rules, _count_all(w, [p for _, p, _ in rules]), strict=True):
        if n:
            problems.append(CohortProblem(table.name, c.name, msg, n, _example(w, table, pred, c.name)))
    dup = t.group_by(list(table.key)).aggregate(n=t.count()).filter(lambda d: d.n > 1)
    n_dup = int(dup.count().to_pyarrow().as_py())
    if n_dup:
        row = dup.order_by(list(table.key)).limit(1).to_pyarrow().to_pylist()[0]
        ex = _key_text({k: row[k] for k in table.key})
        problems.append(
            CohortProblem(table.name, ", ".join(table.key), "duplicate key (must be unique)", n_dup, ex)
        )
    return t, problems


def validate_cohort(source: CohortSource) -> dict[str, Any]:
    """Check every table; return them cast to the schema's types (absent optional columns added as nulls).

    Raises :class:`CohortError` with every problem found: per column, per key, and across tables (``patient_id``
    must exist in ``patients``; events lie between diagnosis and last contact; a lesion measurement names a
    lesion of the same patient)."""
    problems: list[CohortProblem] = []
    out: dict[str, Any] = {}
    for name, raw in source.tables.items():
        t, probs = _check_table(raw, BY_NAME[name])
        out[name] = t
        problems.extend(probs)
    # Cross-table checks need every column present with its type (problems without rows are about the schema).
    if any(p.rows == 0 for p in problems):
        raise CohortError(problems)
    patients = out["patients"]
    if int(patients.count().to_pyarrow().as_py()) == 0:
        # Nothing to analyse (an empty registry export, say): one clear problem instead of failing later in the
        # survival step, which needs at least one patient with a time and an event status.
        raise CohortError([CohortProblem("patients", None, "no patients: the cohort is empty")])
    bad_follow_up = patients.last_contact_date < patients.diagnosis_date
    n = _count_all(patients, [bad_follow_up])[0]
    if n:
        ex = _example(patients, BY_NAME["patients"], bad_follow_up, "last_contact_date")
        problems.append(CohortProblem("patients", "last_contact_date", "before diagnosis_date", n, ex))
    for name, t in out.items():
        table = BY_NAME[name]
        if not table.references_patients:
            continue
        orphans = t.anti_join(patients, "patient_id")
        n = int(orphans.count().to_pyarrow().as_py())
        if n:
            ex = _example(orphans, table, orphans.patient_id.notnull(), None)
            problems.append(CohortProblem(name, "patient_id", "patient not in the patients table", n, ex))
    ev = out["events"]
    j = ev.join(patients.select("patient_id", "diagnosis_date", "last_contact_date"), "patient_id")
    outside = (j.date < j.diagnosis_date) | (j.date > j.last_contact_date)
    n = _count_all(j, [outside])[0]
    if n:
        ex = _example(j, BY_NAME["events"], outside, "date")
        problems.append(
            CohortProblem(
                "events", "date", "outside [patients.diagnosis_date, patients.last_contact_date]", n, ex
            )
        )
    problems += _event_order(ev)
    problems += _dated_rows(out, patients)
    if "plasmacytoma_measurements" in out:
        m = out["plasmacytoma_measurements"]
        orphans = m.anti_join(out["lesions"], ["patient_id", "lesion_id"])
        n = int(orphans.count().to_pyarrow().as_py())
        if n:
            ex = _example(orphans, BY_NAME["plasmacytoma_measurements"], orphans.patient_id.notnull(), None)
            problems.append(
                CohortProblem(
                    "plasmacytoma_measurements", "lesion_id", "lesion not in the lesions table", n, ex
                )
            )
    if problems:
        raise CohortError(problems)
    return out


#: A work-up may precede the diagnosis date by weeks; a date further back than this is a typo, not a work-up.
MAX_DAYS_BEFORE_DIAGNOSIS: Final = 365


def _event_order(ev: Any) -> list[CohortProblem]:
    """A patient dies once, and nothing progresses after death."""
    out: list[CohortProblem] = []
    deaths = ev.filter(ev.event == "death")
    twice = deaths.group_by("patient_id").aggregate(n=deaths.count()).filter(lambda d: d.n > 1)
    n = int(twice.count().to_pyarrow().as_py())
    if n:
        ex = twice.order_by("patient_id").limit(1).to_pyarrow().to_pylist()[0]["patient_id"]
        out.append(
            CohortProblem("events", "event", "more than one death for a patient", n, f"patient_id={ex}")
        )
    first_death = deaths.group_by("patient_id").aggregate(death_date=deaths.date.min())
    prog = ev.filter(ev.event == "progression")
    late = prog.join(first_death, "patient_id").filter(lambda j: j.date > j.death_date)
    n = int(late.count().to_pyarrow().as_py())
    if n:
        ex = late.order_by(["patient_id", "date"]).limit(1).to_pyarrow().to_pylist()[0]
        out.append(
            CohortProblem(
                "events", "date", "progression after the patient's death", n, f"patient_id={ex['patient_id']}"
            )
        )
    return out


def _dated_rows(tables: dict[str, Any], patients: Any) -> list[CohortProblem]:
    """Assessment and measurement dates lie within follow-up (a work-up up to a year before diagnosis allowed)."""
    import datetime as dt

    import ibis

    out: list[CohortProblem] = []
    span = patients.select("patient_id", "diagnosis_date", "last_contact_date")
    for name in ("assessments", "plasmacytoma_measurements"):
        if name not in tables:
            continue
        j = tables[name].join(span, "patient_id")
        earliest = j.diagnosis_date - ibis.interval(days=MAX_DAYS_BEFORE_DIAGNOSIS)
        for pred, msg in (
            (j.date < earliest, f"more than {MAX_DAYS_BEFORE_DIAGNOSIS} days before patients.diagnosis_date"),
            (j.date > j.last_contact_date, "after patients.last_contact_date"),
        ):
            bad = j.filter(pred)
            n = int(bad.count().to_pyarrow().as_py())
            if n:
                ex = bad.order_by(["patient_id", "date"]).limit(1).to_pyarrow().to_pylist()[0]
                when = ex["date"].isoformat() if isinstance(ex["date"], dt.date) else str(ex["date"])
                out.append(CohortProblem(name, "date", msg, n, f"patient_id={ex['patient_id']}, date={when}"))
    return out
