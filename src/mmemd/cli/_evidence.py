"""`mmemd evidence …`: search, list, show, export and count the knowledge base's claims."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from mmemd.knowledge import Claim, KnowledgeBase

evidence_app = typer.Typer(
    help="Search and browse the evidence knowledge base (both reviews, Chinese and English).",
    no_args_is_help=True,
)

JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of a table.")


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


class Lang(StrEnum):
    en = "en"
    zh = "zh"


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=False, highlight=False)


def _kb() -> KnowledgeBase:
    from mmemd import knowledge

    return knowledge.load()


def _versions(kb: KnowledgeBase) -> dict[str, str]:
    from mmemd._version import __version__

    return {"mmemd": __version__, "knowledge_base": kb.version}


def _fail(message: str, as_json: bool, code: int = 2, lang: Lang = Lang.en) -> typer.Exit:
    if as_json:
        print(json.dumps({"error": message}, ensure_ascii=False), file=sys.stderr)
    else:
        prefix = "error:" if lang is Lang.en else _term("evidence.error", lang)
        _console(stderr=True).print(f"[bold red]{prefix}[/] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def _emit_json(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _claim_json(claim: Claim) -> dict[str, Any]:
    return claim.model_dump(mode="json", exclude={"file"})


def _value_text(c: Claim) -> str:
    if c.value is None:
        return c.direction.value if c.direction else ""
    unit = "" if c.unit in (None, "patients") else (c.unit if c.unit == "%" else f" {c.unit}")
    text = f"{c.value_qualifier or ''}{c.value}"
    if c.value_max is not None:
        text += f"–{c.value_max}"
    text += unit
    if c.comparator_value is not None:
        text += f" vs {c.comparator_value}{unit}"
    if c.p:
        text += f" (P{c.p})"
    return text


def _highlighted(text: str, spans: list[tuple[int, int]]) -> Text:
    from rich.text import Text

    out = Text(text)
    for s, e in spans:
        out.stylize("bold black on yellow", s, e)
    return out


# ---- Chinese text output (--lang zh) --------------------------------------------------------------------------
# Each English label the tables print, and where its Chinese wording already lives: the report's labels
# (report/_i18n.py LABELS) or the bilingual glossary (knowledge/data/glossary.yaml), so a word has one translation.
_ZH_LABEL_OF: dict[str, tuple[str, str]] = {
    "id": ("glossary", "evidence.column.id"),
    "statement": ("glossary", "evidence.column.statement"),
    "statement (zh)": ("glossary", "evidence.column.statement"),
    "quote": ("report", "quote"),
    "result": ("glossary", "explain.column.result"),
    "grade": ("report", "grade"),
    "endpoint": ("report", "endpoint"),
    "EMD": ("report", "emd_specific"),
    "EMD-specific": ("report", "emd_specific"),
    "not EMD-specific": ("report", "general_mm"),
    "yes": ("report", "yes"),
    "no": ("report", "no"),
    "category": ("glossary", "evidence.field.category"),
    "agent": ("glossary", "evidence.field.agent"),
    "arms": ("glossary", "evidence.field.arms"),
    "interventions": ("glossary", "evidence.field.interventions"),
    "comparator": ("glossary", "evidence.field.comparator"),
    "population": ("report", "population"),
    "n": ("report", "n"),
    "study": ("report", "study"),
    "design": ("report", "design"),
    "flags": ("glossary", "evidence.field.flags"),
    "conflicts with": ("glossary", "evidence.field.conflicts_with"),
    "source": ("report", "source"),
    "references": ("report", "other_sources"),
    "claims": ("glossary", "evidence.column.claims"),
    "emd_specific": ("report", "emd_specific"),
}


def _label(lang: Lang, en: str) -> str:
    """An English label as the command prints it, or its Chinese wording."""
    if lang is Lang.en:
        return en
    where, key = _ZH_LABEL_OF[en]
    if where == "report":
        from mmemd.report._i18n import label

        return label("zh", key)
    return _term(key, lang)


def _term(key: str, lang: Lang) -> str:
    from mmemd.knowledge import load_glossary

    return load_glossary().term(key, lang.value)


def _render(template: str, lang: Lang, **facts: Any) -> str:
    from mmemd.knowledge import load_glossary

    return load_glossary().render(template, lang.value, **facts)


def _value_text_zh(c: Claim) -> str:
    """The claim's figure in Chinese: its number with a Chinese unit (advice's rendering), or its direction word."""
    from mmemd.advice._engine import claim_value_text

    text = claim_value_text(c)[1]
    if c.value is not None and c.p:
        text += f"（P{c.p}）"
    return text


def _result(c: Claim, lang: Lang) -> str:
    return _value_text_zh(c) if lang is Lang.zh else _value_text(c)


def _vocab_label(kb: KnowledgeBase, term_id: str, lang: Lang) -> str:
    """An agent, regimen or endpoint id in the reader's language (ids as they are in English)."""
    return kb.vocabulary.label(term_id, "zh") if lang is Lang.zh else term_id


def _design(value: str, lang: Lang) -> str:
    if lang is Lang.en:
        return value
    from mmemd.report._i18n import value as report_value

    return report_value("zh", value)


@evidence_app.command("search")
def search(
    query: list[str] = typer.Argument(
        ..., help="Words or Chinese terms, e.g. 泊马度胺, pomalidomide, 'CAR-T ORR'."
    ),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=500, help="Most results to show."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the statements shown."),
    as_json: bool = JSON_OPT,
) -> None:
    """Full-text search in Chinese or English, ranked by relevance, matches highlighted."""
    kb = _kb()
    text = " ".join(query)
    try:
        result = kb.search(text, limit=limit)
    except ValueError as exc:
        raise _fail(str(exc), as_json) from None
    if as_json:
        _emit_json(
            {
                "query": text,
                "matched": result.matched,
                "versions": _versions(kb),
                "hits": [
                    {"score": round(h.score, 4), "spans": h.spans, "claim": _claim_json(h.claim)}
                    for h in result.hits
                ],
            }
        )
        return
    from rich.table import Table

    console = _console()
    shown = repr(text) if lang is Lang.en else text
    if not result.hits:
        console.print(_render("evidence.search.none", lang, query=shown))
        raise typer.Exit(0)
    note = "" if result.matched == "all" else _render("evidence.search.any_term", lang)
    title = _render("evidence.search.title", lang, n=len(result.hits), query=shown, note=note)
    table = Table(title=title, show_lines=True)
    table.add_column(_label(lang, "id"), no_wrap=True)
    table.add_column(f"{_label(lang, 'statement')} / {_label(lang, 'quote')}", overflow="fold", ratio=3)
    table.add_column(_label(lang, "result"), overflow="fold", ratio=1)
    table.add_column(_label(lang, "grade"), justify="center")
    field = "statement_zh" if lang is Lang.zh else "statement_en"
    for h in result.hits:
        c = h.claim
        cell = _highlighted(getattr(c, field), h.spans[field])
        cell.append("\n")
        # Line breaks inside the OCR quote become spaces (same length, so the highlight spans still fit).
        cell.append_text(_highlighted(c.quote.replace("\n", " "), h.spans["quote"]))
        cell.stylize("dim", len(cell) - len(c.quote), len(cell))
        table.add_row(c.id, cell, _result(c, lang), c.grade)
    console.print(table)
    console.print(f"[dim]{kb.version}[/]")


@evidence_app.command("list")
def list_claims(
    agent: str | None = typer.Option(None, help="Agent, procedure, class or regimen (id or any name)."),
    endpoint: str | None = typer.Option(None, help="Endpoint id, e.g. ORR, median_PFS."),
    category: str | None = typer.Option(None, help="Category, e.g. treatment_outcome, prognosis."),
    source: str | None = typer.Option(None, help="Source id or alias (emdtx, emdrev)."),
    emd_only: bool = typer.Option(False, "--emd-only", help="Only EMD-specific claims."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the statements shown."),
    as_json: bool = JSON_OPT,
) -> None:
    """List claims by agent, endpoint, category, source and EMD-specificity."""
    from mmemd.knowledge import UnknownTermError

    kb = _kb()
    try:
        claims = kb.claims(
            agent=agent, endpoint=endpoint, category=category, source=source, emd_only=emd_only
        )
    except UnknownTermError as exc:
        raise _fail(str(exc), as_json) from None
    if as_json:
        _emit_json(
            {"versions": _versions(kb), "count": len(claims), "claims": [_claim_json(c) for c in claims]}
        )
        return
    from rich.table import Table

    table = Table(title=_render("evidence.list.title", lang, n=len(claims)))
    for col in ("id", "endpoint", "result", "grade", "EMD", "statement"):
        table.add_column(
            _label(lang, col), no_wrap=col == "id", overflow="fold", ratio=4 if col == "statement" else None
        )
    for c in claims:
        table.add_row(
            c.id,
            _vocab_label(kb, c.endpoint, lang),
            _result(c, lang),
            c.grade,
            _label(lang, "yes" if c.emd_specific else "no"),
            c.statement_zh if lang is Lang.zh else c.statement_en,
        )
    console = _console()
    console.print(table)
    console.print(f"[dim]{kb.version}[/]")


@evidence_app.command("show")
def show(
    claim_id: str = typer.Argument(..., help="Claim id, e.g. emdtx-2.2-01."),
    context: int = typer.Option(80, help="Characters of source text shown around the quote."),
    lang: Lang = typer.Option(
        Lang.en, "--lang", help="Language of the labels (zh: the Chinese statement only)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """One claim in full: its statements, numbers, quote in context, source and references."""
    kb = _kb()
    try:
        claim = kb.get(claim_id)
    except KeyError:
        hits = kb.search(claim_id.replace("-", " "), limit=3).hits if claim_id.strip() else []
        # --json keeps its English message; a Chinese table gets a Chinese one
        said = Lang.en if as_json else lang
        ids = _term("list_sep", said).join(h.claim.id for h in hits)
        hint = _render("evidence.show.did_you_mean", said, ids=ids) if hits else ""
        shown = repr(claim_id) if said is Lang.en else claim_id
        message = _render("evidence.show.unknown_id", said, id=shown, hint=hint)
        raise _fail(message, as_json, lang=said) from None
    source = kb.source(claim.source)
    before, quote, after = kb.context(claim, context)
    refs = [
        {"number": n, "first_author": ref.first_author if (ref := source.reference(n)) else None}
        for n in claim.references
    ]
    section = next(s for s in source.sections if s.number == claim.section)
    if as_json:
        _emit_json(
            {
                "versions": _versions(kb),
                "claim": _claim_json(claim),
                "context": {"before": before, "quote": quote, "after": after},
                "source": {
                    "id": source.id,
                    "alias": source.alias,
                    "title_zh": source.title_zh,
                    "title_en": source.title_en,
                    "section": {
                        "number": section.number,
                        "title_zh": section.title_zh,
                        "title_en": section.title_en,
                    },
                },
                "references": refs,
            }
        )
        return
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = _console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    rows = _show_rows(claim) if lang is Lang.en else _show_rows_zh(kb, claim)
    for k, v in rows:
        if v:
            grid.add_row(k, v)
    console.print(Panel(grid, title=claim.id, expand=False))
    ctx = Text("…" + before.replace("\n", " "), style="dim")
    ctx.append(quote.replace("\n", " "), style="bold black on yellow")
    ctx.append(after.replace("\n", " ") + "…", style="dim")
    quote_at = _render("evidence.show.quote_at", lang, offset=claim.offset)
    console.print(Panel(ctx, title=quote_at, expand=False))
    unprinted = _term("evidence.author_not_printed", lang)
    ref_text = "; ".join(f"[{r['number']}] {r['first_author'] or unprinted}" for r in refs)
    ids = _render("evidence.show.source_ids", lang, id=source.id, alias=source.alias)
    comma = ", " if lang is Lang.en else "，"
    console.print(
        f"[bold]{_label(lang, 'source')}[/] {source.title_zh} / {source.title_en} {ids}{comma}"
        f"§{section.number} {section.title_zh}"
    )
    if ref_text:
        console.print(f"[bold]{_label(lang, 'references')}[/] {ref_text}")
    console.print(f"[dim]{kb.version}[/]")


def _show_rows(claim: Claim) -> list[tuple[str, str]]:
    pop = claim.population
    return [
        ("statement (en)", claim.statement_en),
        ("statement (zh)", claim.statement_zh),
        ("category", claim.category.value),
        ("endpoint", claim.endpoint + (f" at {claim.timepoint}" if claim.timepoint else "")),
        ("result", _value_text(claim)),
        ("arms", " vs ".join(a for a in (claim.arm, claim.comparator_arm) if a)),
        ("interventions", ", ".join(claim.interventions) + (f" ({claim.regimen})" if claim.regimen else "")),
        ("comparator", ", ".join(claim.comparator)),
        ("population", f"{pop.disease}, EMD: {pop.emd}" + (f", {pop.subgroup}" if pop.subgroup else "")),
        (
            "n",
            " / ".join(
                x
                for x in (
                    f"total {claim.n_total}" if claim.n_total else "",
                    f"EMD {claim.n_emd}" if claim.n_emd is not None else "",
                )
                if x
            ),
        ),
        ("study", f"{claim.study or '—'} ({claim.design.value})"),
        ("grade", f"{claim.grade} ({'EMD-specific' if claim.emd_specific else 'not EMD-specific'})"),
        ("flags", ", ".join(f.value for f in claim.flags)),
        ("conflicts with", ", ".join(claim.conflicts_with)),
        ("notes", claim.notes or ""),
    ]


def _show_rows_zh(kb: KnowledgeBase, claim: Claim) -> list[tuple[str, str]]:
    """The fields of `show` in Chinese. Arms and subgroups are the glossary's wording of them (a new one without
    it is left out: the Chinese statement names it too); the curators' notes are English prose and stay in the JSON
    output."""
    from mmemd.knowledge import load_glossary

    g, zh = load_glossary(), Lang.zh
    sep = g.join

    def names(ids: Sequence[str]) -> str:
        return sep([kb.vocabulary.label(i, "zh") for i in ids], "zh")

    pop = claim.population
    endpoint = kb.vocabulary.label(claim.endpoint, "zh")
    if claim.timepoint:
        tp = g.timepoint(claim.timepoint, "zh")
        endpoint = _render("evidence.show.timepoint", zh, endpoint=endpoint, timepoint=tp)
    given = [a for a in (claim.arm, claim.comparator_arm) if a]
    arms = [g.phrase(a, "zh") for a in given]
    arms_worded = all(a.strip() in g.phrases for a in given)
    population = _render(
        "evidence.show.population",
        zh,
        disease=pop.disease,
        emd=_term(f"evidence.population_emd.{pop.emd}", zh),
    )
    if pop.subgroup and pop.subgroup.strip() in g.phrases:
        population += "，" + g.phrase(pop.subgroup, "zh")  # as the advice engine's populations read
    regimen = f"（{kb.vocabulary.label(claim.regimen, 'zh')}）" if claim.regimen else ""
    n = [
        _render("evidence.show.n_total", zh, n=claim.n_total) if claim.n_total else "",
        _render("evidence.show.n_emd", zh, n=claim.n_emd) if claim.n_emd is not None else "",
    ]
    emd = _label(zh, "EMD-specific" if claim.emd_specific else "not EMD-specific")
    return [
        (_label(zh, "statement (zh)"), claim.statement_zh),
        (_label(zh, "category"), _term(f"evidence.category.{claim.category.value}", zh)),
        (_label(zh, "endpoint"), endpoint),
        (_label(zh, "result"), _value_text_zh(claim)),
        (_label(zh, "arms"), " vs ".join(arms) if arms_worded else ""),
        (_label(zh, "interventions"), names(claim.interventions) + regimen),
        (_label(zh, "comparator"), names(claim.comparator)),
        (_label(zh, "population"), population),
        (_label(zh, "n"), " / ".join(x for x in n if x)),
        (_label(zh, "study"), f"{claim.study or '—'}（{_design(claim.design.value, zh)}）"),
        (_label(zh, "grade"), f"{claim.grade}（{emd}）"),
        (_label(zh, "flags"), sep([_term(f"evidence.flag.{f.value}", zh) for f in claim.flags], "zh")),
        (_label(zh, "conflicts with"), sep(list(claim.conflicts_with), "zh")),
    ]


@evidence_app.command("export")
def export(
    fmt: ExportFormat = typer.Option(..., "--format", "-f", help="jsonl or csv."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: standard output)."
    ),
) -> None:
    """Every claim, one record per claim (each record carries the knowledge-base version)."""
    from mmemd.knowledge import EXPORT_FIELDS

    kb = _kb()
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt is ExportFormat.jsonl:
            for rec in kb.export_records():
                rec["kb_version"] = kb.version
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=[*EXPORT_FIELDS, "kb_version"], lineterminator="\n")
            writer.writeheader()
            for rec in kb.export_records():
                flat = {k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in rec.items()}
                flat["kb_version"] = kb.version
                writer.writerow(flat)
    finally:
        if output:
            out.close()


@evidence_app.command("stats")
def stats(
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the labels and names."),
    as_json: bool = JSON_OPT,
) -> None:
    """Counts of claims by source, category, agent, endpoint, grade and design."""
    kb = _kb()
    counts = kb.stats()
    if as_json:
        _emit_json({"versions": _versions(kb), "total": len(kb), "counts": counts})
        return
    from rich.columns import Columns
    from rich.table import Table

    tables = []
    for name, counter in counts.items():
        title = _label(lang, name)
        t = Table(title=title)
        t.add_column(title)
        t.add_column(_label(lang, "claims"), justify="right")
        for k, v in counter.items():
            t.add_row(_stats_key(kb, name, k, lang), str(v))
        tables.append(t)
    console = _console()
    console.print(f"[bold]{_render('evidence.stats.total', lang, n=len(kb))}[/]  {kb.version}")
    console.print(Columns(tables))


def _stats_key(kb: KnowledgeBase, group: str, key: str, lang: Lang) -> str:
    """A counted value in the reader's language (source aliases and grade letters as they are)."""
    if lang is Lang.en or group in ("source", "grade"):
        return key
    if group == "category":
        return _term(f"evidence.category.{key}", lang)
    if group == "design":
        return _design(key, lang)
    if group == "emd_specific":
        return _label(lang, "yes" if key == "true" else "no")
    return kb.vocabulary.label(key, "zh")


@evidence_app.command("check")
def check() -> None:
    """Validate the curated data files; list every problem (file, claim, field, reason) and exit 1 if any."""
    from mmemd.knowledge.check import main

    raise typer.Exit(main())


@evidence_app.command("build")
def build() -> None:
    """Compile the store now (it is otherwise built on first use) and print its path."""
    from mmemd.knowledge._store import open_store, store_path

    open_store().close()
    print(store_path())
