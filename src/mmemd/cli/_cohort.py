"""`mmemd cohort analyze|synth|schema` (docs/cohort.md).

Importing this module stays cheap: ibis, numpy, matplotlib and rich are imported inside the commands. Invalid
input (a missing table, a bad column, a bad option) exits with code 2 and every problem on stderr.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.progress import Progress

    from mmemd.registry import Principal

EXIT_INVALID = 2


class BackendName(enum.StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class SynthFormat(enum.StrEnum):
    parquet = "parquet"
    csv = "csv"


def _progress() -> Progress:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # On stderr, so stdout stays clean for --json; rich hides it when stderr is not a terminal.
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(EXIT_INVALID)


def analyze(
    data: Annotated[
        str | None,
        typer.Argument(
            help="Cohort: a directory of <table>.parquet/.csv files, a DuckDB file, a postgresql:// URL, or "
            "registry+<database URL> (the patient registry's database).",
            show_default=False,
        ),
    ] = None,
    registry: Annotated[
        bool,
        typer.Option(
            "--registry", help="Read the patient registry's database named by --config (as `mmemd registry`)."
        ),
    ] = False,
    config_file: Annotated[
        Path | None,
        typer.Option("--config", help="Service config (TOML) naming database_url, with --registry."),
    ] = None,
    date_shift_key_file: Annotated[
        Path | None,
        typer.Option(
            "--date-shift-key-file",
            help="With a registry: shift each patient's dates as `mmemd registry export` does with this key.",
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            "--api-key-file",
            help="With a registry: act as the holder of this registry API key (researcher or admin role), "
            "named in the audit log.",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the self-contained HTML report here.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON on stdout.")] = False,
    backend: Annotated[BackendName, typer.Option("--backend", help="Query engine.")] = BackendName.duckdb,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Processes for the response step (default: all CPUs)."),
    ] = None,
    conf_level: Annotated[
        float, typer.Option("--conf-level", help="Confidence level of every interval.")
    ] = 0.95,
) -> None:
    """EMD incidence, response by line and EMD status, PFS/OS by EMD status, Cox models; optional HTML report."""
    from mmemd.research.cohort import CohortError
    from mmemd.research.cohort._analyze import STEPS, analyze_cohort

    if not 0 < conf_level < 1:
        raise _fail(f"--conf-level: must be between 0 and 1 (got {conf_level})")
    data, key = _registry_source(data, registry, config_file, date_shift_key_file)
    who = _registry_principal(data, api_key_file)
    tasks: dict[str, Any] = {}
    with _progress() as bar:
        for s in STEPS:
            tasks[s] = bar.add_task(s, total=1, start=False)

        def on_progress(step: str, done: int, total: int) -> None:
            task = tasks[step]
            bar.start_task(task)
            bar.update(task, completed=done, total=max(total, 1))

        try:
            result = analyze_cohort(
                data,
                backend.value,
                conf_level=conf_level,
                workers=workers,
                progress=on_progress,
                date_shift_key=key,
            )
        except CohortError as exc:
            bar.stop()
            sys.stderr.write(f"{data}: {exc.report_text()}\n")
            raise typer.Exit(EXIT_INVALID) from None
    if data.startswith("registry+"):
        _audit_registry_read(data.removeprefix("registry+"), who)
    if report is not None:
        from mmemd.research.cohort._report import render_html

        report.write_text(render_html(result), encoding="utf-8")
        sys.stderr.write(f"report written to {report}\n")
    if json_out:
        sys.stdout.write(result.to_json() + "\n")
    elif report is None:
        _print_summary(result)


def _registry_source(
    data: str | None, registry: bool, config_file: Path | None, key_file: Path | None
) -> tuple[str, bytes | None]:
    """The cohort location and the date-shift key; ``--registry`` turns the config's database into
    ``registry+<url>``."""
    if registry == (data is not None):
        raise _fail("give either a cohort location or --registry (with --config), not both or neither")
    if registry:
        from mmemd.cli._registry import _database_url

        data = "registry+" + _database_url(config_file)
    elif config_file is not None:
        raise _fail("--config goes with --registry")
    assert data is not None
    key = None
    if key_file is not None:
        if not data.startswith("registry+"):
            raise _fail("--date-shift-key-file goes with a registry (exported tables are already shifted)")
        try:
            key = key_file.read_bytes().strip()
        except OSError as exc:
            raise _fail(f"--date-shift-key-file: {exc.strerror or exc}") from None
        if len(key) < 16:
            raise _fail("--date-shift-key-file: the key must be at least 16 bytes")
    return data, key


def _registry_principal(data: str, api_key_file: Path | None) -> Principal | None:
    """The holder of ``--api-key-file``, checked before anything is read: cohort analytics on the registry are for
    the researcher role (and admin); a clinician's or an unknown key is refused."""
    if api_key_file is None:
        return None
    if not data.startswith("registry+"):
        raise _fail("--api-key-file goes with a registry")
    from sqlalchemy.exc import SQLAlchemyError

    from mmemd.registry import Registry, resolve_api_key

    try:
        presented = api_key_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"--api-key-file: {getattr(exc, 'strerror', None) or exc}") from None
    url = data.removeprefix("registry+")
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise _fail(f"no registry database at {url}")
    try:
        reg = Registry(url, migrate=False)
        try:
            who = resolve_api_key(reg, presented) if presented else None
        finally:
            reg.close()
    except SQLAlchemyError as exc:
        raise _fail(f"cannot read the registry database {url.split('@')[-1]}: {type(exc).__name__}") from None
    if who is None:
        raise _fail("--api-key-file: not a valid registry API key")
    if who.role not in ("researcher", "admin"):
        raise _fail(
            f"--api-key-file: cohort analytics need the researcher role; this key has the {who.role} role"
        )
    return who


def _audit_registry_read(url: str, who: Principal | None) -> None:
    """A cohort read from the registry is an export of its patients' data: it goes to the audit log, under the
    key's holder or, without a key, the operator running the command (as `mmemd registry export`)."""
    from mmemd.cli._registry import _operator
    from mmemd.registry import Registry, audit

    reg = Registry(url, migrate=False)
    try:
        audit(reg, who or _operator(), "export")
    finally:
        reg.close()


def _print_summary(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f}%"

    t = Table(title="EMD incidence (exact 95% CI)")
    for c in ("when", "EMD", "n/N", "incidence", "CI"):
        t.add_column(c)
    for when, parts in result.incidence.items():
        for kind, p in parts.items():
            t.add_row(
                when.replace("_", " "),
                kind,
                f"{p.events}/{p.n}",
                pct(p.estimate),
                f"{pct(p.lower)}–{pct(p.upper)}",
            )
    console.print(t)
    r = Table(title="Best response by line and EMD status")
    for c in ("line", "EMD", "lines", "ORR", "≥VGPR"):
        r.add_column(c)
    for row in result.response:
        r.add_row(row.line, row.emd, str(row.lines), pct(row.orr.estimate), pct(row.vgpr_or_better.estimate))
    console.print(r)
    s = Table(title="Survival by EMD status at diagnosis (months)")
    for c in ("end point", "EMD", "n", "events", "median", "log-rank p"):
        s.add_column(c)
    for summ in result.survival:
        p = "" if summ.logrank is None else f"{summ.logrank['p']:.3g}"
        for g in summ.groups:
            med = "not reached" if g.median is None else f"{g.median:.1f}"
            s.add_row(summ.endpoint, g.name, str(g.n), str(g.events), med, p)
    console.print(s)
    console.print(f"[dim]{result.versions.mmemd} · {result.versions.knowledge_base}[/dim]")


def synth(
    n: Annotated[int, typer.Option("--n", min=1, help="Number of patients.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (created).")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed: same seed, same cohort.")] = 0,
    fmt: Annotated[
        SynthFormat, typer.Option("--format", help="File format of the tables.")
    ] = SynthFormat.parquet,
) -> None:
    """Write a synthetic cohort calibrated to knowledge-base figures (EMD incidence, survival by EMD status)."""
    from mmemd.research.cohort import synth_cohort

    if out.exists() and not out.is_dir():
        raise _fail(f"--out: {out} exists and is not a directory")
    with _progress() as bar:
        task = bar.add_task("synth", total=n)
        summary = synth_cohort(
            n, out, seed=seed, fmt=fmt.value, progress=lambda done: bar.update(task, completed=done)
        )
    rows = ", ".join(f"{k} {v}" for k, v in summary.rows.items())
    sys.stderr.write(f"wrote {summary.out} ({fmt.value}): {rows}\n")


def schema() -> None:
    """Print the cohort schema (tables, columns, types, units, keys) as Markdown."""
    from mmemd.research.cohort import schema_markdown

    sys.stdout.write(schema_markdown())


def register(app: typer.Typer) -> None:
    cohort = typer.Typer(
        name="cohort",
        help="Cohort analytics on registry data: EMD incidence, response by line, survival by EMD status.",
        no_args_is_help=True,
    )
    cohort.command("analyze")(analyze)
    cohort.command("synth")(synth)
    cohort.command("schema")(schema)
    app.add_typer(cohort, name="cohort")
