"""One record file on the command line: reading and checking it (shared with ``validate`` and ``fhir``), assessing it
and writing the document — and ``mmemd assess FILE`` run without typer when its command line is plain.

This module imports no typer: building typer's command (its parameter machinery, its vendored click and the pydantic it
imports) is about a tenth of a one-record ``assess``. Errors end with :class:`SystemExit` (code 2), which typer
passes through unchanged, so both paths exit alike. Any other command line — ``--batch``, ``--workers``, ``--help``,
an unknown option or value, no file or two — is left to typer and its messages.
"""

from __future__ import annotations

import enum
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmemd.clinical.assessment import Assessment
    from mmemd.clinical.errors import RecordError

EXIT_INVALID = 2


class OutputFormat(enum.StrEnum):
    json = "json"
    text = "text"


class Lang(enum.StrEnum):
    en = "en"
    zh = "zh"


# --- helpers ---------------------------------------------------------------------------------------------------


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def _fail_io(path: str, exc: OSError, fmt: OutputFormat) -> SystemExit:
    msg = f"cannot read {path}: {exc.strerror or exc}"
    if fmt is OutputFormat.json:
        import json

        err = {"schema": "mmemd.errors/1", "valid": False, "problem_count": 1}
        err["problems"] = [{"path": "$", "code": "io_error", "message": msg}]
        sys.stderr.write(json.dumps(err, ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(f"error: {msg}\n")
    return SystemExit(EXIT_INVALID)


def _report_invalid(exc: RecordError, fmt: OutputFormat, source: str) -> SystemExit:
    import json

    if fmt is OutputFormat.json:
        report = exc.report()
        report["source"] = source
        sys.stderr.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stderr.write(f"{source}: {exc.report_text()}\n")
    return SystemExit(EXIT_INVALID)


def _load_record(path: str, fmt: OutputFormat) -> Any:
    from mmemd.clinical.errors import RecordError
    from mmemd.clinical.record import parse_record_json

    try:
        data = _read_input(path)
    except OSError as exc:
        raise _fail_io(path, exc, fmt) from None
    try:
        return parse_record_json(data)
    except RecordError as exc:
        raise _report_invalid(exc, fmt, "<stdin>" if path == "-" else path) from None


# One knowledge base per process (the batch workers and the in-process path): opening it per record cost a SQLite
# connection and threw away the claim cache every time. Keyed by pid because a SQLite connection must not be used
# across a fork.
_PROCESS_KB: tuple[int, Any] | None = None


def _process_kb() -> Any:
    """This process's knowledge base, opened on first use."""
    global _PROCESS_KB
    pid = os.getpid()
    if _PROCESS_KB is None or _PROCESS_KB[0] != pid:
        from mmemd.knowledge import load

        _PROCESS_KB = (pid, load())
    return _PROCESS_KB[1]


def _assess_one(record: Any, advice: bool) -> Any:
    """The assessment document: with the decision-support sections unless ``advice`` is off."""
    if not advice:
        from mmemd.clinical.assessment import assess

        return assess(record)
    from mmemd.advice import assess_with_advice

    return assess_with_advice(record, _process_kb())[0]


# --- text rendering ----------------------------------------------------------------------------------------------

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "mmemd assessment",
        "patient": "Patient",
        "emd": "Extramedullary disease",
        "category": "Category",
        "timing": "Timing",
        "cns": "CNS involvement",
        "sites": "Sites",
        "also_paraskeletal": "Also paraskeletal",
        "minimal_marrow": "Minimal marrow involvement",
        "staging": "Staging and risk",
        "iss": "ISS",
        "r_iss": "R-ISS",
        "r2_iss": "R2-ISS",
        "high_risk": "High risk (IMS/IMWG 2025)",
        "features": "High-risk features",
        "response": "Response (IMWG 2016)",
        "current": "Current",
        "confirmed": "Confirmed",
        "best": "Best",
        "pd": "Progressive disease",
        "relapse_cr": "Relapse from CR",
        "mrd": "MRD",
        "timeline": "Timeline",
        "reasons": "Reasons",
        "unknown": "unknown",
        "yes": "yes",
        "no": "no",
        "possible": "possible",
        "points": "points",
        "group": "group",
        "versions": "Versions",
        "disclaimer": "Decision support, not a prescription: verify against the source criteria.",
    },
    "zh": {
        "title": "mmemd 评估",
        "patient": "患者",
        "emd": "髓外病变",
        "category": "分类",
        "timing": "时间",
        "cns": "中枢神经系统受累",
        "sites": "部位",
        "also_paraskeletal": "同时存在骨旁病变",
        "minimal_marrow": "骨髓微量受累",
        "staging": "分期与风险",
        "iss": "ISS",
        "r_iss": "R-ISS",
        "r2_iss": "R2-ISS",
        "high_risk": "高危（IMS/IMWG 2025）",
        "features": "高危特征",
        "response": "疗效（IMWG 2016）",
        "current": "当前",
        "confirmed": "已确认",
        "best": "最佳",
        "pd": "疾病进展",
        "relapse_cr": "CR后复发",
        "mrd": "MRD",
        "timeline": "时间线",
        "reasons": "依据",
        "unknown": "未知",
        "yes": "是",
        "no": "否",
        "possible": "可能",
        "points": "分",
        "group": "组",
        "versions": "版本",
        "disclaimer": "仅为决策支持，不构成处方：请对照原始标准核实。",
    },
}


def _render_text(a: Assessment, lang: Lang, record: Any = None) -> None:
    """The assessment as a clinician reads it, in ``lang``. In Chinese the high-risk features and the reasons are
    the report's Chinese lines, rendered from ``record`` (the record assessed): the engine's reasons are English."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    from mmemd.knowledge import vocabulary
    from mmemd.report._i18n import VALUES

    lab = _LABELS[lang.value]
    vocab = vocabulary()
    zh = lang is Lang.zh
    zh_values = VALUES["zh"]  # the clinician report's wording, so the two say the same

    def val(v: object) -> str:
        if v is None:
            return f"[dim]{lab['unknown']}[/dim]"
        if v is True:
            return lab["yes"]
        if v is False:
            return lab["no"]
        s = str(v)
        return zh_values.get(s, s) if zh else s.replace("_", " ")

    def two_columns() -> Table:
        # label, value: one panel per section
        t = Table(show_header=False, box=None, pad_edge=False)
        t.add_column(style="bold")
        t.add_column()
        return t

    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    console.print(f"[bold]{lab['title']}[/bold] — {lab['patient']} {a.patient_id}")

    e = a.emd
    t = two_columns()
    t.add_row(lab["category"], val(e.category))
    t.add_row(lab["timing"], val(e.timing))
    t.add_row(lab["cns"], val(e.cns))
    t.add_row(lab["sites"], ", ".join(vocab.label(s, lang.value) for s in e.sites) or "—")
    t.add_row(lab["also_paraskeletal"], val(e.also_paraskeletal))
    if e.minimal_marrow_involvement is not None:
        t.add_row(lab["minimal_marrow"], val(e.minimal_marrow_involvement))
    console.print(Panel(t, title=lab["emd"], title_align="left"))

    s = a.staging
    t = two_columns()

    def stage_text(v: str | None, possible: list[str]) -> str:
        return v if v is not None else f"{val(None)} ({lab['possible']}: {', '.join(possible)})"

    t.add_row(lab["iss"], stage_text(s.iss, list(s.iss_possible)))
    t.add_row(lab["r_iss"], stage_text(s.r_iss, list(s.r_iss_possible)))
    r2 = s.r2_iss
    if r2.group is not None:
        pts = f"{r2.points:g}" if r2.points is not None else f"{r2.points_min:g}-{r2.points_max:g}"
        r2_text = f"{r2.group} ({pts} {lab['points']})"
    else:
        r2_text = f"{val(None)} ({r2.points_min:g}-{r2.points_max:g} {lab['points']})"
    t.add_row(lab["r2_iss"], r2_text)
    t.add_row(lab["high_risk"], val(s.high_risk))
    if zh and s.high_risk_features:
        from mmemd.report._basis import high_risk_texts

        features = high_risk_texts(record, s.high_risk_features, "zh")
    else:
        features = list(s.high_risk_features)
    for f in features:
        t.add_row("", f"• {f}")
    console.print(Panel(t, title=lab["staging"], title_align="left"))

    r = a.response
    t = two_columns()
    t.add_row(lab["current"], val(r.current))
    t.add_row(lab["confirmed"], val(r.confirmed))
    t.add_row(lab["best"], val(r.best))
    t.add_row(lab["pd"], val(r.progressive_disease))
    t.add_row(lab["relapse_cr"], val(r.relapse_from_cr))
    t.add_row(lab["mrd"], val(r.mrd) if r.mrd is not None else "—")
    if r.timeline:
        t.add_row(lab["timeline"], " → ".join(f"{p.date.isoformat()} {val(p.category)}" for p in r.timeline))
    console.print(Panel(t, title=lab["response"], title_align="left"))

    _render_advice_text(console, a, lang)

    reasons = [*e.reasons, *s.reasons, *r.reasons]
    if reasons:
        from mmemd.report._i18n import plain_keys

        if zh:
            from mmemd.report._basis import clinician_reasons

            reasons = clinician_reasons(record, a, "zh")
        console.print(f"[bold]{lab['reasons']}[/bold]")
        for line in reasons:
            # The engine's reasons (English) quote record fields and vocabulary ids: in plain English words.
            console.print(f"  • {line if zh else plain_keys(line, 'en')}", markup=False)
    v = a.versions
    console.print(
        f"[dim]{lab['versions']}: mmemd {v.mmemd}; {v.knowledge_base}; {v.response_criteria}; "
        f"{v.high_risk_definition}[/dim]"
    )
    console.print(f"[dim]{lab['disclaimer']}[/dim]")


def _render_advice_text(console: Any, a: Assessment, lang: Lang) -> None:
    """Work-up and options in brief; the full evidence is in ``mmemd report``."""
    from rich.table import Table

    workup = getattr(a, "workup", None)
    options = getattr(a, "options", None)
    if workup is None or options is None:
        return
    zh = lang is Lang.zh
    from mmemd.report._numbers import Numbering, collapse

    # Claims cited by number, their publications listed below (a clinician cannot look up a knowledge-base id).
    cites = Numbering()
    if workup:
        console.print(f"[bold]{'待完善检查' if zh else 'Open work-up'}[/bold]")
        for w in workup:
            nums = f"  [dim]\\[{collapse(cites.number(c) for c in w.claims)}][/dim]" if w.claims else ""
            console.print(f"  • {w.title_zh if zh else w.title_en}{nums}", markup=True)
    if options:
        t = Table(title="治疗选项（证据支持，非处方）" if zh else "Options (evidence, not a prescription)")
        for col in (
            "#",
            "选项" if zh else "option",
            "证据" if zh else "grade",
            "EMD",
            "分" if zh else "score",
        ):
            t.add_column(col)
        for n, o in enumerate(options, start=1):
            t.add_row(
                str(n),
                o.title_zh if zh else o.title_en,
                o.grade,
                o.emd_evidence_grade or "—",
                str(o.score),
            )
        console.print(t)
    if cites.claims:
        from mmemd.knowledge import load
        from mmemd.report._document import publications

        pubs = publications(cites.claims, load(), lang.value)
        console.print(f"[bold]{'出处' if zh else 'Sources'}[/bold]")
        for n, pub in enumerate(pubs, 1):
            head = f"[{n}] " if n <= len(cites.claims) else ""
            console.print(f"  {head}{pub}", markup=False)


# --- one record ------------------------------------------------------------------------------------------------


def assess_file(path: str, fmt: OutputFormat, lang: Lang, advice: bool) -> None:
    """``mmemd assess FILE``: the assessment of one record on stdout, or its problems on stderr and exit code 2."""
    record = _load_record(path, fmt)
    result = _assess_one(record, advice)
    if fmt is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(by_alias=True, indent=2) + "\n")
    else:
        _render_text(result, lang, record)


# --- the plain command line, without typer ----------------------------------------------------------------------

_FLAGS = {"--advice": True, "--no-advice": False}
_CHOICES = {"--format": ("json", "text"), "--lang": ("en", "zh")}


def plain_arguments(args: list[str]) -> tuple[str, OutputFormat, Lang, bool] | None:
    """(file, format, language, advice) when ``args`` (those after ``assess``) are one record file and the options
    ``--format``, ``--lang``, ``--advice``/``--no-advice`` with valid values, read as click reads them (``--opt value``
    or ``--opt=value``, options before or after the file, the last of a repeated option wins); None otherwise."""
    if any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None  # a shell-completion request: click answers it
    file: str | None = None
    chosen = {"--format": "json", "--lang": "en"}
    advice = True
    rest = iter(args)
    for arg in rest:
        if arg in _FLAGS:
            advice = _FLAGS[arg]
            continue
        name, eq, value = arg.partition("=")
        if name in _CHOICES:
            if not eq:
                value = next(rest, "")
            if value not in _CHOICES[name]:
                return None
            chosen[name] = value
        elif (arg.startswith("-") and arg != "-") or file is not None:
            return None
        else:
            file = arg
    if file is None:
        return None
    return file, OutputFormat(chosen["--format"]), Lang(chosen["--lang"]), advice


def run_plain(args: list[str]) -> bool:
    """Run ``mmemd assess`` on ``args`` (those after ``assess``) if they are plain; False leaves them to typer."""
    parsed = plain_arguments(args)
    if parsed is None:
        return False
    # A one-record process ends after one document and leaves no reference cycles worth collecting; the cyclic
    # collector would only re-scan the objects the imports create, several times over. Batch and the service never
    # come this way.
    import gc

    gc.disable()
    _skip_the_pydantic_plugin_scan()
    try:
        assess_file(*parsed)
    except KeyboardInterrupt:
        raise SystemExit(130) from None  # as typer ends an interrupted command
    return True


def _skip_the_pydantic_plugin_scan() -> None:
    """When no installed distribution declares a pydantic plugin, answer pydantic's plugin lookup with "none" before
    its first model is built.

    pydantic looks for plugins (entry points in the ``pydantic`` group) when it builds its first validator, through
    ``importlib.metadata`` and every installed distribution's metadata: about 15 ms of a one-record ``assess``
    (``importlib.metadata`` imports the ``email`` package). Reading the ``entry_points.txt`` files directly tells the
    same in about 2 ms. Whenever a plugin is declared, or the answer cannot be read that simply (a zip or an egg on
    the path, another distribution finder), pydantic's own loader runs as usual.
    """
    name = "pydantic.plugin._loader"
    if name in sys.modules or not _no_pydantic_plugin_declared():
        return
    import types

    loader = types.ModuleType(name, "No pydantic plugin is installed (mmemd.cli._assess_file).")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]

    def real(attr: str) -> Any:
        # Anything but get_plugins (a later pydantic asking this private module for more): the real module, loaded
        # now in place of this one, answers — so a pydantic upgrade costs the saving, never the command. Dunder
        # names are the import system probing (``__path__``, ``__file__``): a plain module has none.
        if attr.startswith("__"):
            raise AttributeError(attr)
        if sys.modules.get(name) is loader:
            del sys.modules[name]
        import importlib

        return getattr(importlib.import_module(name), attr)

    setattr(loader, "__getattr__", real)  # noqa: B010  # PEP 562: asked for names the module lacks
    sys.modules[name] = loader


def _no_plugins(*_args: Any, **_kwargs: Any) -> tuple[()]:
    return ()


def _no_pydantic_plugin_declared() -> bool:
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return False
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                found = [d.path for d in it if d.name.endswith((".dist-info", ".egg-info", ".egg"))]
        except NotADirectoryError:
            return False  # a zip file on the path
        except OSError:
            continue  # a directory that does not exist holds no distribution
        for path in found:
            if path.endswith(".egg"):
                return False
            try:
                with open(os.path.join(path, "entry_points.txt"), "rb") as fh:
                    if b"[pydantic]" in fh.read():
                        return False
            except FileNotFoundError:
                continue
            except OSError:
                return False  # e.g. an .egg-info file rather than a directory
    return True
