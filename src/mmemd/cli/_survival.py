"""`mmemd survival`: Kaplan–Meier, log-rank and Cox on a CSV/Parquet file or a database table.

Ibis, DuckDB and lifelines are imported inside the command so that building the app stays cheap. Bad input (a
missing column, an event outside 0/1, an entry not before the time) exits with code 2 and names the field.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

EXIT_INVALID = 2
SCHEMA = "mmemd.survival/1"


def _parse_times(text: str | None) -> list[float]:
    if not text:
        return []
    out: list[float] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(float(part))
        except ValueError:
            raise ValueError(f"--at: {part!r} is not a number (give times like 12,24,36)") from None
    return out


def _fmt(v: float | None, digits: int = 4) -> str:
    return "NA" if v is None else f"{v:.{digits}f}"


def _fmt_time(v: float | None) -> str:
    return "NA" if v is None else f"{v:g}"


def _render_text(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    console.print(
        f"[bold]Kaplan–Meier[/bold] time={doc['time']} event={doc['event']}"
        + (f" entry={doc['entry']}" if doc["entry"] else "")
        + (f" group={doc['group']}" if doc["group"] else "")
        + f"  ({doc['conf_level']:.0%} CI, {doc['conf_type']})"
    )
    rows = [("all", doc), *((str(g["name"]), g) for g in doc["groups"])]
    t = Table(show_header=True, header_style="bold")
    for col in ("group", "n", "events", "median", "median CI"):
        t.add_column(col, justify="right" if col != "group" else "left")
    for name, g in rows:
        lo, hi = g["median_ci"]
        t.add_row(
            name, str(g["n"]), str(g["events"]), _fmt_time(g["median"]), f"{_fmt_time(lo)} – {_fmt_time(hi)}"
        )
    console.print(t)
    if doc["survival_at"]:
        t = Table(show_header=True, header_style="bold", title="Survival at times")
        for col in ("group", "time", "survival", "lower", "upper", "at risk"):
            t.add_column(col, justify="right" if col != "group" else "left")
        for name, g in rows:
            for s in g["survival_at"]:
                t.add_row(
                    name,
                    _fmt_time(s["time"]),
                    _fmt(s["survival"]),
                    _fmt(s["lower"]),
                    _fmt(s["upper"]),
                    str(s["at_risk"]),
                )
        console.print(t)
    if doc.get("logrank"):
        lr = doc["logrank"]
        console.print(f"Log-rank: chi² = {lr['chi2']:.4f} on {lr['df']} df, p = {lr['p']:.4g}")
    if doc.get("cox"):
        t = Table(
            show_header=True,
            header_style="bold",
            title=f"Cox model ({doc['cox_formula']}, {doc['cox_ties'].capitalize()} ties)",
        )
        for col in ("term", "coef", "HR", "HR CI", "se", "p"):
            t.add_column(col, justify="right" if col != "term" else "left")
        for c in doc["cox"]:
            t.add_row(
                c["term"],
                _fmt(c["coef"]),
                _fmt(c["hr"]),
                f"{_fmt(c['hr_lower'], 3)} – {_fmt(c['hr_upper'], 3)}",
                _fmt(c["se"]) if c.get("robust_se") is None else f"{_fmt(c['robust_se'])} (robust)",
                "NA" if c["p"] is None else f"{c['p']:.4g}",
            )
        console.print(t)
        for c in doc["cox"]:
            if c.get("warning"):
                console.print(f"[yellow]warning: {c['term']}: {c['warning']}[/yellow]")
    if doc["excluded"]:
        console.print(f"[dim]{doc['excluded']} row(s) left out: a needed value was missing[/dim]")
    v = doc["versions"]
    console.print(
        f"[dim]Versions: mmemd {v['mmemd']}; {v['knowledge_base']}; ibis {v['ibis']} on {v['backend']}"
        + (f"; lifelines {v['lifelines']}" if v.get("lifelines") else "")
        + "[/dim]"
    )
    console.print(f"[dim]CI transform: {doc['conf_type_text']}[/dim]")


def survival_command(
    file: Annotated[
        str, typer.Argument(help="CSV or Parquet file, a DuckDB file, or a database URL (with --table).")
    ],
    time: Annotated[str, typer.Option("--time", help="Follow-up time column (exit time).")],
    event: Annotated[str, typer.Option("--event", help="Event column: 1 = event, 0 = censored.")],
    entry: Annotated[
        str | None, typer.Option("--entry", help="Delayed-entry (left truncation) time column.")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="One curve per value; adds the log-rank test.")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="T,T,...", help="Report survival at these times.")
    ] = None,
    cox: Annotated[
        str | None, typer.Option("--cox", metavar="FORMULA", help='Fit a Cox model, e.g. "age + sex + hgb".')
    ] = None,
    ties: Annotated[
        str, typer.Option("--ties", help="Cox tied-event method: efron (default, as R coxph) or breslow.")
    ] = "efron",
    robust: Annotated[
        bool,
        typer.Option("--robust", help="Cox: robust (sandwich) standard errors, as R coxph(robust = TRUE)."),
    ] = False,
    backend: Annotated[
        str, typer.Option("--backend", help="duckdb (default), spark or postgres.")
    ] = "duckdb",
    table: Annotated[
        str | None, typer.Option("--table", help="Table name in a database file or URL.")
    ] = None,
    conf_level: Annotated[
        float, typer.Option("--conf-level", help="Confidence level of the intervals.")
    ] = 0.95,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (schema mmemd.survival/1).")] = False,
    steps: Annotated[bool, typer.Option("--steps", help="Include the full curves in the JSON.")] = False,
) -> None:
    """Kaplan–Meier (log-log CI), median, survival at times, log-rank across groups, optional Cox model."""
    import json
    import logging
    import time as clock

    from mmemd.research.survival._backend import SurvivalInputError, open_source, open_table
    from mmemd.research.survival._kaplan_meier import km_group, km_summary
    from mmemd.research.survival._logrank import logrank_from_tables
    from mmemd.research.survival._models import CONF_TYPE, CONF_TYPE_TEXT
    from mmemd.research.survival._risk_sets import pool, risk_tables
    from mmemd.research.survival._versions import versions

    log = logging.getLogger("mmemd.survival")
    started = clock.perf_counter()
    try:
        times = _parse_times(at)
        if not 0 < conf_level < 1:
            raise SurvivalInputError("--conf-level", f"must be between 0 and 1 (got {conf_level})")
        # Cox builds its design matrix through Ibis; Kaplan–Meier and log-rank on a file need only DuckDB.
        opener = open_table if cox else open_source
        tbl = opener(file, backend=backend, table=table)
        tables, excluded = risk_tables(tbl, time=time, event=event, entry=entry, group=group)
        if not cox and hasattr(tbl, "close"):  # a local file: give DuckDB's memory back before the numpy part
            tbl.close()
        pooled = pool(tables) if group else tables[0]
        overall = km_group(pooled, times, conf_level, None) if steps else None
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "time": time,
            "event": event,
            "entry": entry,
            "group": group,
            "conf_level": conf_level,
            "conf_type": CONF_TYPE,
            "conf_type_text": CONF_TYPE_TEXT,
            "excluded": excluded,
            **(overall.summary() if overall else km_summary(pooled, times, conf_level, None)),
            "groups": [],
            "logrank": None,
            "cox": None,
        }
        doc.pop("name")
        if overall:
            doc["steps"] = overall.steps.model_dump()
        if group:
            for rt in tables:
                name = str(rt.name)
                doc["groups"].append(
                    km_group(rt, times, conf_level, name).model_dump()
                    if steps
                    else km_summary(rt, times, conf_level, name)
                )
            if len(tables) >= 2:
                doc["logrank"] = logrank_from_tables(tables, pooled).summary()
        if cox:
            from mmemd.research.survival._cox import cox_model

            doc["cox_formula"] = cox
            doc["cox_ties"] = ties
            doc["cox"] = [
                c.model_dump()
                for c in cox_model(
                    tbl,
                    formula=cox,
                    time=time,
                    event=event,
                    entry=entry,
                    conf_level=conf_level,
                    ties=ties,
                    robust=robust,
                )
            ]
        doc["versions"] = versions(tbl, with_cox=bool(cox)).model_dump()
    except (SurvivalInputError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(EXIT_INVALID) from None
    log.info("survival: %d group(s) in %.2f s", max(1, len(doc["groups"])), clock.perf_counter() - started)
    if as_json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n")
    else:
        _render_text(doc)


def register(app: typer.Typer) -> None:
    """Add ``mmemd survival`` to the app."""
    app.command("survival")(survival_command)
