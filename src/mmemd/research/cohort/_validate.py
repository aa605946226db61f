"""Validate the cohort tables against ``mmemd.cohort/1`` and cast them to the schema's types.

Every check runs in the engine: a check counts the rows breaking its rule (required value missing, value not
convertible to the column's type, value outside its set or range, duplicate key, row without its patient...), and all
counts are computed in one query, so a 2-million-row table is never loaded and each table is scanned a handful of
times; a query fetching an example row's key runs only for a rule that is broken. All problems are reported together
(like ``mmemd validate``): a registry export is fixed in one pass, not one error at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

from mmemd.research.cohort._errors import CohortError, CohortProblem
from mmemd.research.cohort._io import CohortSource
from mmemd.research.cohort._schema import BY_NAME, Column, ColumnType, Table

__all__ = ["validate_and_count", "validate_cohort"]

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


class _Counts:
    """Counts gathered from every check, then computed together in one query: each check adds a one-row aggregate,
    and the aggregates are cross joined. On Spark every query is a job with its own planning and task start-up
    (about a second even on a small cohort), so one query for all checks costs far less than one per check; DuckDB
    is indifferent. A check reads its count back by the name :meth:`add` returned once :meth:`run` has run."""

    def __init__(self) -> None:
        self._parts: list[Any] = []
        self._n = 0
        self._values: dict[str, int] = {}

    def add(self, t: Any, *counts: Any) -> list[str]:
        names = [f"c{self._n + i}" for i in range(len(counts))]
        self._n += len(counts)
        if counts:
            self._parts.append(t.aggregate(**dict(zip(names, counts, strict=True))))
        return names

    def rows_where(self, t: Any, *preds: Any) -> list[str]:
        """Count the rows of ``t`` matching each predicate (one scan of ``t`` for them all)."""
        return self.add(t, *(p.ifelse(1, 0).sum() for p in preds))

    def run(self) -> None:
        if not self._parts:
            return
        joined = functools.reduce(lambda a, b: a.cross_join(b), self._parts)
        row = joined.to_pyarrow().to_pylist()[0]
        self._values = {k: int(v or 0) for k, v in row.items()}

    def __getitem__(self, name: str) -> int:
        return self._values[name]


#: Turns the computed counts into problems (querying an example row only for a check that failed).
_Report = Callable[[_Counts], list[CohortProblem]]


def _check_table(raw: Any, table: Table, counts: _Counts) -> tuple[Any, list[CohortProblem], _Report, str]:
    """The typed table, the problems found from its schema alone, the report of its row checks, and the name of
    its row count."""
    w, casts, problems = _coerce(raw, table)
    t = w.select(*table.names)
    (n_rows,) = counts.add(w, w.count())
    if any(p.column in table.key for p in problems):
        return t, problems, lambda _: [], n_rows
    rules = _rules(w, table, casts)
    names = counts.rows_where(w, *(p for _, p, _ in rules))
    dup = t.group_by(list(table.key)).aggregate(n=t.count()).filter(lambda d: d.n > 1)
    (n_dup,) = counts.add(dup, dup.count())

    def report(c: _Counts) -> list[CohortProblem]:
        out: list[CohortProblem] = []
        for (col, pred, msg), name in zip(rules, names, strict=True):
            if c[name]:
                out.append(
                    CohortProblem(table.name, col.name, msg, c[name], _example(w, table, pred, col.name))
                )
        if c[n_dup]:
            row = dup.order_by(list(table.key)).limit(1).to_pyarrow().to_pylist()[0]
            ex = _key_text({k: row[k] for k in table.key})
            out.append(
                CohortProblem(
                    table.name, ", ".join(table.key), "duplicate key (must be unique)", c[n_dup], ex
                )
            )
        return out

    return t, problems, report, n_rows


def validate_cohort(source: CohortSource) -> dict[str, Any]:
    """Check every table; return them cast to the schema's types (absent optional columns added as nulls).

    Raises :class:`CohortError` with every problem found: per column, per key, and across tables (``patient_id``
    must exist in ``patients``; events lie between diagnosis and last contact; a lesion measurement names a
    lesion of the same patient)."""
    return validate_and_count(source)[0]


def validate_and_count(source: CohortSource) -> tuple[dict[str, Any], dict[str, int]]:
    """:func:`validate_cohort`, also returning each table's row count. Every count of every check is computed in
    one query (two when a column is missing or of the wrong type: the checks across tables need every column);
    further queries run only to find an example row for a check that failed."""
    counts = _Counts()
    out: dict[str, Any] = {}
    schema_problems: list[list[CohortProblem]] = []
    reports: list[_Report] = []
    row_names: dict[str, str] = {}
    for name, raw in source.tables.items():
        t, probs, report, n_rows = _check_table(raw, BY_NAME[name], counts)
        out[name] = t
        schema_problems.append(probs)
        reports.append(report)
        row_names[name] = n_rows
    # Cross-table checks need every column present with its type (problems without rows are about the schema).
    cross = not any(schema_problems)
    if cross:
        (n_patients,) = counts.add(out["patients"], out["patients"].count())
        cross_report = _cross_table(out, counts)
    counts.run()
    problems: list[CohortProblem] = []
    for probs, report in zip(schema_problems, reports, strict=True):
        problems += probs
        problems += report(counts)
    if not cross:
        raise CohortError(problems)
    if counts[n_patients] == 0:
        # Nothing to analyse (an empty registry export, say): one clear problem instead of failing later in the
        # survival step, which needs at least one patient with a time and an event status.
        raise CohortError([CohortProblem("patients", None, "no patients: the cohort is empty")])
    problems += cross_report(counts)
    if problems:
        raise CohortError(problems)
    return out, {name: counts[n] for name, n in row_names.items()}


def _cross_table(out: dict[str, Any], counts: _Counts) -> _Report:
    """Add the checks across tables to ``counts``; return their report."""
    patients = out["patients"]
    bad_follow_up = patients.last_contact_date < patients.diagnosis_date
    (n_follow_up,) = counts.rows_where(patients, bad_follow_up)
    orphans: list[tuple[str, Any, str]] = []
    for name, t in out.items():
        if BY_NAME[name].references_patients:
            o = t.anti_join(patients, "patient_id")
            orphans.append((name, o, *counts.add(o, o.count())))
    ev = out["events"]
    j = ev.join(patients.select("patient_id", "diagnosis_date", "last_contact_date"), "patient_id")
    outside = (j.date < j.diagnosis_date) | (j.date > j.last_contact_date)
    (n_outside,) = counts.rows_where(j, outside)
    event_order = _event_order(ev, counts)
    dated_rows = _dated_rows(out, patients, counts)
    lesion_orphans: tuple[Any, str] | None = None
    if "plasmacytoma_measurements" in out:
        m = out["plasmacytoma_measurements"]
        o = m.anti_join(out["lesions"], ["patient_id", "lesion_id"])
        lesion_orphans = (o, *counts.add(o, o.count()))

    def report(c: _Counts) -> list[CohortProblem]:
        problems: list[CohortProblem] = []
        if n := c[n_follow_up]:
            ex = _example(patients, BY_NAME["patients"], bad_follow_up, "last_contact_date")
            problems.append(CohortProblem("patients", "last_contact_date", "before diagnosis_date", n, ex))
        for name, o, n_orphans in orphans:
            if n := c[n_orphans]:
                ex = _example(o, BY_NAME[name], o.patient_id.notnull(), None)
                problems.append(CohortProblem(name, "patient_id", "patient not in the patients table", n, ex))
        if n := c[n_outside]:
            ex = _example(j, BY_NAME["events"], outside, "date")
            problems.append(
                CohortProblem(
                    "events", "date", "outside [patients.diagnosis_date, patients.last_contact_date]", n, ex
                )
            )
        problems += event_order(c)
        problems += dated_rows(c)
        if lesion_orphans is not None and (n := c[lesion_orphans[1]]):
            o = lesion_orphans[0]
            ex = _example(o, BY_NAME["plasmacytoma_measurements"], o.patient_id.notnull(), None)
            problems.append(
                CohortProblem(
                    "plasmacytoma_measurements", "lesion_id", "lesion not in the lesions table", n, ex
                )
            )
        return problems

    return report


#: A work-up may precede the diagnosis date by weeks; a date further back than this is a typo, not a work-up.
MAX_DAYS_BEFORE_DIAGNOSIS: Final = 365


def _event_order(ev: Any, counts: _Counts) -> _Report:
    """A patient dies once, and nothing progresses after death."""
    deaths = ev.filter(ev.event == "death")
    twice = deaths.group_by("patient_id").aggregate(n=deaths.count()).filter(lambda d: d.n > 1)
    first_death = deaths.group_by("patient_id").aggregate(death_date=deaths.date.min())
    prog = ev.filter(ev.event == "progression")
    late = prog.join(first_death, "patient_id").filter(lambda j: j.date > j.death_date)
    (n_twice,) = counts.add(twice, twice.count())
    (n_late,) = counts.add(late, late.count())

    def report(c: _Counts) -> list[CohortProblem]:
        out: list[CohortProblem] = []
        if n := c[n_twice]:
            ex = twice.order_by("patient_id").limit(1).to_pyarrow().to_pylist()[0]["patient_id"]
            out.append(
                CohortProblem("events", "event", "more than one death for a patient", n, f"patient_id={ex}")
            )
        if n := c[n_late]:
            row = late.order_by(["patient_id", "date"]).limit(1).to_pyarrow().to_pylist()[0]
            out.append(
                CohortProblem(
                    "events",
                    "date",
                    "progression after the patient's death",
                    n,
                    f"patient_id={row['patient_id']}",
                )
            )
        return out

    return report


def _dated_rows(tables: dict[str, Any], patients: Any, counts: _Counts) -> _Report:
    """Assessment and measurement dates lie within follow-up (a work-up up to a year before diagnosis allowed)."""
    import datetime as dt

    import ibis

    checks: list[tuple[str, Any, Any, str, str]] = []
    span = patients.select("patient_id", "diagnosis_date", "last_contact_date")
    for name in ("assessments", "plasmacytoma_measurements"):
        if name not in tables:
            continue
        j = tables[name].join(span, "patient_id")
        earliest = j.diagnosis_date - ibis.interval(days=MAX_DAYS_BEFORE_DIAGNOSIS)
        rules = (
            (j.date < earliest, f"more than {MAX_DAYS_BEFORE_DIAGNOSIS} days before patients.diagnosis_date"),
            (j.date > j.last_contact_date, "after patients.last_contact_date"),
        )
        names = counts.rows_where(j, *(pred for pred, _ in rules))
        checks += [(name, j, pred, msg, n) for (pred, msg), n in zip(rules, names, strict=True)]

    def report(c: _Counts) -> list[CohortProblem]:
        out: list[CohortProblem] = []
        for name, j, pred, msg, count in checks:
            if n := c[count]:
                ex = j.filter(pred).order_by(["patient_id", "date"]).limit(1).to_pyarrow().to_pylist()[0]
                when = ex["date"].isoformat() if isinstance(ex["date"], dt.date) else str(ex["date"])
                out.append(CohortProblem(name, "date", msg, n, f"patient_id={ex['patient_id']}, date={when}"))
        return out

    return report
