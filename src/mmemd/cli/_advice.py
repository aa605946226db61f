"""`mmemd explain`: the derived patient context, which decision-support rules fired for a patient and why the others
did not, and how each offered option scored and ranked.

The tables are in the reader's language: in Chinese the rules are named by their titles, drugs and classes by their
Chinese names, and every label comes from the glossary (``explain.*`` terms); the JSON output keeps the stable ids.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

EXIT_INVALID = 2


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)


def explain(
    file: str = typer.Argument(..., help="Patient record (mmemd.patient/1 JSON), or - for standard input."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    lang: str = typer.Option("en", "--lang", help="en or zh."),
) -> None:
    """Every rule (work-up, prognosis, option): fired, not fired or undecided, with each condition's reason."""
    if lang not in ("en", "zh"):
        sys.stderr.write(f"--lang must be en or zh, not {lang!r}\n")
        raise typer.Exit(EXIT_INVALID)

    from mmemd.advice import assess_with_advice
    from mmemd.clinical import RecordError
    from mmemd.clinical.errors import loads, not_utf8

    raw = sys.stdin.buffer.read() if file == "-" else _read(file)
    why = not_utf8(raw)
    if why:
        sys.stderr.write(f"{file}: {why}\n")
        raise typer.Exit(EXIT_INVALID)
    try:
        doc = loads(raw)
        assessment, result = assess_with_advice(doc)
    except RecordError as exc:
        sys.stderr.write(f"{file}: {exc.report_text()}\n")
        raise typer.Exit(EXIT_INVALID) from None
    rows: list[dict[str, Any]] = [
        {
            "kind": f.kind,
            "id": f.id,
            "outcome": {
                "met": "fired",
                "not_met": "not fired",
                "undecided": "undecided",
                "not suitable": "not suitable",
            }[f.outcome],
            "conditions": [
                {"condition": c.condition, "outcome": c.outcome, "reason": c.zh if lang == "zh" else c.en}
                for c in f.checks
            ],
        }
        for f in result.trace
    ]
    ctx = assessment.patient_context
    facts = [
        {"name": f.name, "value": f.value, "reason": f.zh if lang == "zh" else f.en}
        for f in (ctx.facts if ctx else [])
    ]
    ranking = [
        {
            "rank": o.rank,
            "id": o.id,
            "tier": o.tier,
            "role": o.role,
            "score": o.score,
            "score_parts": {
                "evidence": o.score_breakdown.evidence,
                "applicability": o.score_breakdown.applicability,
                "penalties": o.score_breakdown.penalties,
            },
            "why": (o.rank_reason.zh if lang == "zh" else o.rank_reason.en) if o.rank_reason else "",
        }
        for o in assessment.options
    ]
    not_suitable = [
        {"id": n.id, "reasons": [r.zh if lang == "zh" else r.en for r in n.reasons]}
        for n in assessment.considered_not_suitable
    ]
    if as_json:
        payload = {
            "patient_id": assessment.patient_id,
            "versions": assessment.versions.model_dump(),
            "context": {
                "pathway": ctx.pathway if ctx else None,
                "egfr_ckd_epi_2021": ctx.egfr_ckd_epi_2021 if ctx else None,
                "facts": facts,
                "lines": [ln.model_dump() for ln in (ctx.lines if ctx else [])],
                "exposed_classes": ctx.exposed_classes if ctx else [],
                "refractory_classes": ctx.refractory_classes if ctx else [],
            },
            "rules": rows,
            "ranking": ranking,
            "considered_not_suitable": not_suitable,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from mmemd.advice._context import term_label
    from mmemd.knowledge import load_glossary, vocabulary

    g = load_glossary()
    vocab = vocabulary()

    def term(key: str) -> str:
        return g.term(f"explain.{key}", "zh" if lang == "zh" else "en")

    def label(i: str) -> str:
        return term_label(vocab, i, "zh") if lang == "zh" else i

    def names(ids: list[str] | tuple[str, ...]) -> str:
        sep = "、" if lang == "zh" else ", "
        return sep.join(label(i) for i in ids) or "—"

    console = Console()
    t = _TEXT["zh" if lang == "zh" else "en"]
    facts_table = Table(title=t["context"].format(id=assessment.patient_id))
    for col in t["context_cols"]:
        facts_table.add_column(col, overflow="fold")
    if ctx is not None:
        egfr = f"{ctx.egfr_ckd_epi_2021} mL/min/1.73 m²" if ctx.egfr_ckd_epi_2021 else t["unknown"]
        facts_table.add_row(t["egfr"], egfr, t["egfr_basis"])
        facts_table.add_row(t["classes"], names(ctx.exposed_classes), names(ctx.refractory_classes))
        for ln in ctx.lines:
            ref = t["refractory"][ln.refractory]
            source = t["source"].get(ln.refractory_source or "", "")
            facts_table.add_row(
                t["line"].format(n=ln.line) + (t["current"] if ln.current else ""),
                names(ln.agents),
                ref + source,
            )
    for f in facts:
        name = str(f["name"])
        facts_table.add_row(t["facts"].get(name, name), t["yes_no"][f["value"]], str(f["reason"]))
    console.print(facts_table)
    titles = _rule_titles(lang)
    table = Table(title=term("title").format(patient=assessment.patient_id), show_lines=False)
    for col in ("kind", "rule", "result", "because"):
        table.add_column(term(f"column.{col}"), overflow="fold")
    style = {"fired": "green", "not fired": "dim", "undecided": "yellow", "not suitable": "red"}
    sep = "；" if lang == "zh" else "; "
    for r in rows:
        reasons = sep.join(
            ("✓ " if c["outcome"] == "met" else "✗ " if c["outcome"] == "not_met" else "? ") + c["reason"]
            for c in r["conditions"]
        )
        outcome = (
            t["not_suitable"]
            if r["outcome"] == "not suitable"
            else term(f"outcome.{r['outcome'].replace(' ', '_')}")
        )
        table.add_row(
            term(f"kind.{r['kind']}"),
            titles.get((r["kind"], r["id"]), r["id"]),
            f"[{style[r['outcome']]}]{outcome}[/]",
            reasons or term("no_conditions"),
        )
    console.print(table)
    rank_table = Table(title=t["ranking"])
    for col in t["ranking_cols"]:
        rank_table.add_column(col, overflow="fold")
    for r in ranking:
        parts = r["score_parts"]
        assert isinstance(parts, dict)
        rank_table.add_row(
            str(r["rank"]),
            titles.get(("option", str(r["id"])), str(r["id"])),
            str(r["tier"]),
            str(parts["evidence"]),
            str(parts["applicability"]),
            str(parts["penalties"]),
            str(r["score"]),
            str(r["why"]),
        )
    console.print(rank_table)
    for n in not_suitable:
        title = titles.get(("option", str(n["id"])), str(n["id"]))
        console.print(f"[red]{t['not_suitable']}[/] {title}{t['colon']}" + sep.join(map(str, n["reasons"])))
    v = assessment.versions
    console.print(
        f"[dim]mmemd {v.mmemd} · {v.knowledge_base} · {v.response_criteria} · {v.high_risk_definition}[/]"
    )


#: Labels of the context and ranking tables (the rule table keeps its ids, which are the rule files' keys).
_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "context": "Patient context for {id}",
        "context_cols": ("fact", "value", "reason"),
        "line": "line {n}",
        "current": " (current)",
        "refractory": {True: "refractory", False: "not refractory", None: "?"},
        "source": {
            "recorded": " (recorded)",
            "derived": " (derived)",
            "recorded and derived": " (recorded, derived)",
        },
        "yes_no": {True: "yes", False: "no", None: "unknown"},
        "ranking": "Ranking (tier, then score, then clinical order)",
        "ranking_cols": ("#", "option", "tier", "evidence", "applicability", "penalties", "score", "why"),
        "not_suitable": "considered, not suitable",
        "colon": ": ",
        "unknown": "?",
        "egfr": "eGFR",
        "egfr_basis": "CKD-EPI 2021 creatinine equation",
        "classes": "classes: exposed | refractory",
        "facts": {},
    },
    "zh": {
        "context": "患者情况：{id}",
        "context_cols": ("项目", "取值", "依据"),
        "line": "第{n}线",
        "current": "（当前）",
        "refractory": {True: "难治", False: "非难治", None: "未知"},
        "source": {
            "recorded": "（病历记录）",
            "derived": "（推导）",
            "recorded and derived": "（记录及推导）",
        },
        "yes_no": {True: "是", False: "否", None: "未知"},
        "ranking": "排序（先分层，再评分，再按临床顺序）",
        "ranking_cols": ("#", "治疗选择", "分层", "证据", "适用性", "扣分", "评分", "依据"),
        "not_suitable": "已考虑但不适合",
        "colon": "：",
        "unknown": "未知",
        "egfr": "估算肾小球滤过率（eGFR）",
        "egfr_basis": "CKD-EPI 2021肌酐公式",
        "classes": "药物类别：既往使用｜难治",
        "facts": {
            "pathway": "疾病类型",
            "cns": "中枢神经系统受累",
            "double_class_exposed": "双类药物暴露",
            "double_class_refractory": "双类药物难治",
            "triple_class_exposed": "三类药物暴露",
            "triple_class_refractory": "三类药物难治",
            "prior_asct": "既往自体移植",
            "prior_allogeneic_sct": "既往异基因移植",
            "prior_bcma_car_t": "既往BCMA CAR-T",
            "transplant_eligible": "适合移植",
            "renal_insufficiency": "肾功能不全",
            "reduced_kidney_function": "肾功能减退",
            "frail": "体弱",
            "transplant_unsuitable": "不适合移植",
        },
    },
}


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        sys.stderr.write(f"cannot read {path}: {exc.strerror or exc}\n")
        raise typer.Exit(EXIT_INVALID) from None


def _rule_titles(lang: str) -> dict[tuple[str, str], str]:
    """Rules by their titles in the reader's language (Chinese readers never see the rule ids)."""
    if lang != "zh":
        return {}
    from mmemd.advice import load_rules

    rules = load_rules()
    out: dict[tuple[str, str], str] = {}
    for o in rules.options:
        out[("option", o.id)] = o.title_zh
    for w in rules.workup:
        out[("workup", w.id)] = w.title_zh
    for p in rules.prognosis:
        out[("prognosis", p.id)] = p.zh.split("：")[0].rstrip("。")
    for s in rules.statements:
        # the statement's first clause: what it is about (the whole text is in the report)
        out[("statement", s.id)] = s.zh.split("；")[0].rstrip("。")
    return out
