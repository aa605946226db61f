"""The survival queries, defined once in Ibis: the per-row conversion to numbers, the validation counts and the
counts per distinct (group, time).

Every engine runs these definitions. Spark, PostgreSQL and in-memory tables run them through Ibis; for a file on
the default local DuckDB engine, the same expressions compiled to DuckDB SQL (``_compiled``, written by
``python -m mmemd.research.survival._queries``) run on DuckDB directly, which spares a command-line run importing
Ibis, sqlglot and pandas (about 0.5 s of a 1-second process). A test recompiles the expressions and checks the
stored SQL is what they compile to today.

The canonical table the aggregation reads has columns ``t`` (exit time), ``e`` (event), ``n`` (entry time, with
delayed entry) as float64 and ``g`` (group, any type). Dates and timestamps count days since 1970-01-01, as R's
``Surv()`` reads a Date (its numeric value); booleans are 0/1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped,unused-ignore]  # ibis ships no py.typed marker

#: The column kinds the conversion distinguishes (each compiles to its own DuckDB SQL).
KINDS = ("boolean", "integer", "floating", "float32", "decimal", "date", "timestamp", "timestamptz")

_KIND_DTYPES = {
    "boolean": "boolean",
    "integer": "int64",
    "floating": "float64",
    "float32": "float32",
    "decimal": "decimal(18, 6)",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp('UTC')",
}

#: The table name the compiled aggregation reads (a view over the converted columns).
CANONICAL = "mmemd_survival_rows"


def kind_of(dtype: Any) -> str | None:
    """The conversion kind of an Ibis data type, or None when it is not a number, date or timestamp."""
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_date():
        return "date"
    if dtype.is_timestamp():
        return "timestamptz" if dtype.timezone else "timestamp"
    if dtype.is_integer():
        return "integer"
    if dtype.is_floating():
        return "floating" if dtype.nbytes == 8 else "float32"
    if dtype.is_decimal():
        return "decimal"
    return None


def as_number(col: ir.Column) -> ir.FloatingColumn:
    """``col`` as float64: dates and timestamps as days since 1970-01-01, booleans as 0/1."""
    dt = col.type()
    if dt.is_boolean():
        col = col.cast("int64")
    elif dt.is_date():
        col = col.epoch_days()
    elif dt.is_timestamp():
        return col.epoch_seconds().cast("float64") / 86400.0
    return col.cast("float64")


def missing(t: ir.Table) -> ir.BooleanValue:
    """A row R's ``na.omit`` would drop: a missing time, event, entry or group (NaN counts as missing)."""
    miss: ir.BooleanValue = t.t.isnull() | t.t.isnan() | t.e.isnull() | t.e.isnan()
    if "n" in t.columns:
        miss = miss | t.n.isnull() | t.n.isnan()
    if "g" in t.columns:
        miss = miss | t.g.isnull()
    return miss


def checks(t: ir.Table) -> ir.Table:
    """One row: rows, missing (left out), the counts of each kind of bad value among the rest and, with a group,
    the distinct group values."""
    miss = missing(t)
    out: dict[str, Any] = {
        "rows": t.count(),
        "missing": miss.sum(),
        "bad_event": (~miss & ~t.e.isin([0, 1])).sum(),
        # a follow-up time cannot be negative (a date typo, or an event before the time origin)
        "bad_time": (~miss & (t.t < 0)).sum(),
    }
    if "n" in t.columns:
        out["bad_entry"] = (~miss & (t.n >= t.t)).sum()
    if "g" in t.columns:
        # the group values, so that the counts can come back with a small integer code per row instead of the value
        out["groups"] = t.g.collect(distinct=True, where=~miss)
    return t.aggregate(**out)


def counts(t: ir.Table) -> ir.Table:
    """Entries, exits and events per distinct (group, time): one row per distinct time per group, so the result is
    as long as the number of distinct times, never the number of rows (unless every time is distinct). Unsorted:
    numpy sorts the result by (group code, time) in a fraction of what an engine sort on the group value costs."""
    import ibis

    keep = t.filter(~missing(t))
    zero = ibis.literal(0, "int64")
    one = ibis.literal(1, "int64")
    cols: dict[str, Any] = {"g": keep.g} if "g" in t.columns else {}
    rows = keep.select(**cols, t=keep.t, n_in=zero, n_out=one, d=keep.e.cast("int64"))
    if "n" in t.columns:
        rows = rows.union(keep.select(**cols, t=keep.n, n_in=one, n_out=zero, d=zero), distinct=False)
    keys = ["g", "t"] if "g" in t.columns else ["t"]
    # Counts only: the cumulative sums are a numpy pass over the sorted result (an engine window over millions of
    # distinct float times costs more memory and time than the aggregation itself).
    return rows.group_by(keys).aggregate(n_in=rows.n_in.sum(), n_out=rows.n_out.sum(), d=rows.d.sum())


def canonical(t: ir.Table, *, time: str, event: str, entry: str | None, group: str | None) -> ir.Table:
    """``t`` with the canonical columns (``t``, ``e``, ``n``, ``g``); the columns are checked by the caller."""
    cols: dict[str, Any] = {"t": as_number(t[time]), "e": as_number(t[event])}
    if entry:
        cols["n"] = as_number(t[entry])
    if group:
        cols["g"] = t[group]
    return t.select(**cols)


def _variants() -> list[tuple[bool, bool]]:
    return [(e, g) for e in (False, True) for g in (False, True)]


def compile_duckdb() -> dict[str, Any]:
    """The DuckDB SQL of every query variant: ``convert[kind]`` (a SQL expression over the placeholder ``{column}``)
    and ``checks`` / ``counts`` keyed ``"entry=<bool>,group=<bool>"`` over the table :data:`CANONICAL`."""
    import ibis

    convert: dict[str, str] = {}
    for kind in KINDS:
        src = ibis.table({"c": _KIND_DTYPES[kind]}, name="src")
        sql = ibis.to_sql(src.select(x=as_number(src.c)), dialect="duckdb")
        head, tail = "SELECT\n  ", ' AS "x"\nFROM "src" AS "t0"'
        if not (sql.startswith(head) and sql.endswith(tail)):
            raise RuntimeError(f"unexpected SQL shape for {kind}: {sql}")
        convert[kind] = sql[len(head) : -len(tail)].replace('"t0"."c"', "{column}")
    out: dict[str, Any] = {"ibis": str(ibis.__version__), "convert": convert, "checks": {}, "counts": {}}
    for entry, group in _variants():
        schema = {"t": "float64", "e": "float64"}
        if entry:
            schema["n"] = "float64"
        if group:
            schema["g"] = "string"
        t = ibis.table(schema, name=CANONICAL)
        key = f"entry={entry},group={group}"
        out["checks"][key] = str(ibis.to_sql(checks(t), dialect="duckdb"))
        out["counts"][key] = str(ibis.to_sql(counts(t), dialect="duckdb"))
    return out


COMPILED_FILE = Path(__file__).with_name("_compiled.py")


def render_compiled(sql: dict[str, Any]) -> str:
    """The text of ``_compiled.py`` for the compiled queries."""
    lines = [
        '"""DuckDB SQL compiled from the Ibis queries in ``_queries`` — generated, do not edit.',
        "",
        "Regenerate with ``python -m mmemd.research.survival._queries`` after changing a query; a test checks the",
        'queries still compile to these strings."""',
        "",
        f"IBIS_VERSION = {sql['ibis']!r}",
        "",
        "CONVERT: dict[str, str] = {",
        *(f"    {k!r}: {v!r}," for k, v in sql["convert"].items()),
        "}",
    ]
    for name in ("checks", "counts"):
        lines += ["", f"{name.upper()}: dict[str, str] = {{"]
        for k, v in sql[name].items():
            lines.append(f"    {k!r}: (")
            lines += [f"        {line!r}" for line in _split(v)]
            lines.append("    ),")
        lines.append("}")
    return "\n".join(lines) + "\n"


def _split(sql: str) -> list[str]:
    parts = sql.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


def main() -> None:
    import subprocess
    import sys

    COMPILED_FILE.write_text(render_compiled(compile_duckdb()), encoding="utf-8")
    # the repository's formatter owns the layout; the test compares the values, not the text
    subprocess.run([sys.executable, "-m", "ruff", "format", str(COMPILED_FILE)], check=False)
    print(f"wrote {COMPILED_FILE}")


if __name__ == "__main__":
    main()
