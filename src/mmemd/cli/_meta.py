"""`mmemd meta` and `mmemd synthesize`: meta-analysis of a CSV, and of the knowledge base's claims.

numpy, scipy and matplotlib are imported inside the commands so that building the app stays cheap. Bad input exits
with code 2 and a message naming the field on stderr.
"""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mmemd.research.meta import MetaResult
    from mmemd.research.meta._synthesize import Synthesis

EXIT_INVALID = 2
#: The reference implementation whose conventions `mmemd meta` reproduces (docs/meta-analysis.md).
REFERENCE = "metafor 3.8-1"


class MeasureOpt(StrEnum):
    PR = "PR"
    PLO = "PLO"
    PFT = "PFT"
    PAS = "PAS"
    RR = "RR"
    OR = "OR"
    RD = "RD"
    GEN = "GEN"


class ProportionMeasureOpt(StrEnum):
    PR = "PR"
    PLO = "PLO"
    PFT = "PFT"
    PAS = "PAS"


class MethodOpt(StrEnum):
    FE = "FE"
    DL = "DL"
    REML = "REML"
    PM = "PM"


class GroupByOpt(StrEnum):
    agent_class = "agent_class"
    agent = "agent"
    design = "design"
    source = "source"


def _versions() -> dict[str, str]:
    from mmemd.clinical.assessment import current_versions

    return {**current_versions().model_dump(), "meta_conventions": REFERENCE}


def _fail(field: str, message: str) -> typer.Exit:
    sys.stderr.write(f"error: {field}: {message}\n")
    return typer.Exit(EXIT_INVALID)


def _num(v: float | None, digits: int = 4) -> str:
    if v is None or not math.isfinite(v):
        return "NA"
    return f"{v:.{digits}f}"


def _result_lines(r: MetaResult, indent: str = "") -> list[str]:
    model = "fixed-effect" if r.method.value == "FE" else f"random-effects, tau2 by {r.method.value}"
    test = f"t (df = {r.df}, Knapp-Hartung)" if r.knha else "z"
    lines = [
        f"{indent}{r.measure.value}, {model}; k = {r.k}; {test} intervals at {r.level:g}%",
        f"{indent}estimate {_num(r.estimate)}  se {_num(r.se)}  CI [{_num(r.ci_lower)}, {_num(r.ci_upper)}]  "
        f"p {_num(r.p, 4) if r.p >= 1e-4 else f'{r.p:.2e}'}",
        f"{indent}prediction interval [{_num(r.pred_lower)}, {_num(r.pred_upper)}]",
        f"{indent}tau2 {_num(r.tau2)}  I2 {_num(r.i2, 2)}%  H2 {_num(r.h2)}  "
        f"Q {_num(r.q)} (df = {r.q_df}, p = {r.q_p:.4g})",
    ]
    if r.pooled is not None and r.measure.value not in ("PR", "RD"):
        lines.append(
            f"{indent}back-transformed {_num(r.pooled)}  CI [{_num(r.pooled_ci_lower)}, {_num(r.pooled_ci_upper)}]"
            f"  PI [{_num(r.pooled_pred_lower)}, {_num(r.pooled_pred_upper)}]"
        )
    lines.extend(f"{indent}note: {n}" for n in r.notes)
    return lines


def _meta_payload(result: MetaResult, extra: dict[str, Any], source: str) -> dict[str, Any]:
    return {"schema": "mmemd.meta/1", "input": source, "versions": _versions(), **result.to_dict(), **extra}


def meta_command(
    file: Annotated[str, typer.Argument(help="CSV with study,events,n | study,ai,n1,ci,n2 | study,yi,vi.")],
    measure: Annotated[
        MeasureOpt | None,
        typer.Option("--measure", help="Effect measure (default: PLO, RR or GEN by the CSV's columns)."),
    ] = None,
    method: Annotated[
        MethodOpt, typer.Option("--method", help="tau2 estimator; FE = fixed effect.")
    ] = MethodOpt.REML,
    knha: Annotated[bool, typer.Option("--knha", help="Knapp-Hartung: t intervals, k-1 df.")] = False,
    level: Annotated[float, typer.Option("--level", help="Confidence level in percent.")] = 95.0,
    by: Annotated[str | None, typer.Option("--by", help="Column to form subgroups by.")] = None,
    leave_one_out: Annotated[
        bool, typer.Option("--leave-one-out", help="Refit without each study in turn.")
    ] = False,
    plot: Annotated[str | None, typer.Option("--plot", help="Write a forest plot (.png or .svg).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Meta-analysis of a CSV, matching R metafor 3.8 (see docs/meta-analysis.md)."""
    from mmemd.research import meta
    from mmemd.research.meta._forest import ForestBlock, forest_plot

    try:
        table = meta.read_table(file) if file != "-" else meta.parse_table(sys.stdin.read())
        es = meta.effect_sizes(table, None if measure is None else measure.value)
        result = meta.rma(es, method.value, knha=knha, level=level)
        extra: dict[str, Any] = {}
        sub = None
        if by is not None:
            sub = meta.subgroups(es, table.column(by), method.value, by=by, knha=knha, level=level)
            extra["subgroups"] = sub.to_dict()
        loo = None
        if leave_one_out:
            loo = meta.leave_one_out(es, method.value, knha=knha, level=level)
            extra["leave_one_out"] = meta.leave_one_out_rows(loo)
        if plot is not None:
            if sub is not None:
                q = sub.q_between
                foot = [
                    f"Test for subgroup differences: Q = {_num(q, 2)}, df = {sub.df_between}, "
                    f"p = {'NA' if sub.p_between is None else f'{sub.p_between:.3g}'}"
                ]
                forest_plot([ForestBlock(r, g) for g, r in sub.groups], plot, overall=result, footnotes=foot)
            else:
                forest_plot(result, plot)
            extra["plot"] = plot
    except meta.MetaInputError as exc:
        raise _fail(exc.field, exc.message) from None
    except meta.ConvergenceError as exc:
        raise _fail("method", str(exc)) from None
    if as_json:
        print(json.dumps(_meta_payload(result, extra, file), ensure_ascii=False, indent=2))
        return
    out = _result_lines(result)
    if sub is not None:
        out.append(f"subgroups by {by}:")
        for g, r in sub.groups:
            out.append(f"  [{g}]")
            out.extend(_result_lines(r, "    "))
        p = "NA" if sub.p_between is None else f"{sub.p_between:.4g}"
        out.append(
            f"  test for subgroup differences: Q = {_num(sub.q_between)}, df = {sub.df_between}, p = {p}"
        )
    if loo is not None:
        out.append("leave-one-out (omitted: estimate [CI], tau2, I2):")
        for name, r in loo:
            out.append(
                f"  {name}: {_num(r.estimate)} [{_num(r.ci_lower)}, {_num(r.ci_upper)}], "
                f"tau2 {_num(r.tau2)}, I2 {_num(r.i2, 2)}%"
            )
    if plot is not None:
        out.append(f"forest plot: {plot}")
    v = _versions()
    out.append(f"mmemd {v['mmemd']} · {v['knowledge_base']} · conventions of {REFERENCE}")
    print("\n".join(out))


def _synthesis_text(s: Synthesis) -> str:
    out = [
        f"{s.endpoint}: {s.considered} claim(s) considered, {sum(len(x.included) for x in s.strata)} value(s) "
        f"pooled in {len(s.strata)} stratum/strata ({s.measure.value}, {s.method.value}"
        f"{', Knapp-Hartung' if s.knha else ''}{', EMD-specific claims only' if s.emd_only else ''})"
    ]
    for st in s.strata:
        r = st.result
        out.append("")
        out.append(f"[{st.label}]  k = {r.k}")
        for c in st.included:
            grp = f"  ({c.group})" if c.group else ""
            out.append(f"  {c.label}: {c.events}/{c.n} ({c.value}%){grp}")
        out.append(
            f"  pooled {_num(100 * r.pooled if r.pooled is not None else None, 1)}%  "
            f"CI [{_num(100 * r.pooled_ci_lower if r.pooled_ci_lower is not None else None, 1)}, "
            f"{_num(100 * r.pooled_ci_upper if r.pooled_ci_upper is not None else None, 1)}]%  "
            f"tau2 {_num(r.tau2)}  I2 {_num(r.i2, 1)}%  Q p {r.q_p:.3g}"
        )
        if st.subgroups is not None:
            for g, gr in st.subgroups.groups:
                out.append(
                    f"    {g}: k = {gr.k}, {_num(100 * gr.pooled if gr.pooled is not None else None, 1)}% "
                    f"[{_num(100 * gr.pooled_ci_lower if gr.pooled_ci_lower is not None else None, 1)}, "
                    f"{_num(100 * gr.pooled_ci_upper if gr.pooled_ci_upper is not None else None, 1)}]"
                )
            sg = st.subgroups
            p = "NA" if sg.p_between is None else f"{sg.p_between:.3g}"
            out.append(
                f"    subgroup differences: Q = {_num(sg.q_between, 2)}, df = {sg.df_between}, p = {p}"
            )
        out.extend(f"  warning: {w}" for w in st.warnings)
    if s.excluded:
        out.append("")
        out.append(f"excluded ({len(s.excluded)}):")
        for e in s.excluded:
            arm = f" [{e.arm}]" if e.arm else ""
            out.append(f"  {e.claim_id}{arm}: {e.reason}")
    if not s.strata:
        out.append(f"warning: no claim on {s.endpoint} could be pooled")
    out.append("")
    out.append(f"mmemd {_versions()['mmemd']} · {s.kb_version} · conventions of {REFERENCE}")
    return "\n".join(out)


def synthesize_command(
    endpoint: Annotated[str, typer.Option("--endpoint", help="Endpoint id, e.g. ORR.")],
    group_by: Annotated[
        GroupByOpt | None, typer.Option("--group-by", help="Subgroups within a stratum.")
    ] = None,
    emd_only: Annotated[bool, typer.Option("--emd-only", help="Only EMD-specific claims.")] = False,
    measure: Annotated[ProportionMeasureOpt, typer.Option("--measure")] = ProportionMeasureOpt.PLO,
    method: Annotated[MethodOpt, typer.Option("--method")] = MethodOpt.REML,
    knha: Annotated[bool, typer.Option("--knha")] = False,
    plot: Annotated[str | None, typer.Option("--plot", help="Write a forest plot (.png or .svg).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Pool the knowledge base's claims on one endpoint; list every excluded claim and why."""
    from mmemd import knowledge
    from mmemd.research import meta
    from mmemd.research.meta._forest import ForestBlock, forest_plot
    from mmemd.research.meta._synthesize import synthesize

    kb = knowledge.load()
    try:
        s = synthesize(
            kb,
            endpoint,
            measure=measure.value,
            method=method.value,
            knha=knha,
            emd_only=emd_only,
            group_by=None if group_by is None else group_by.value,
        )
    except knowledge.UnknownTermError as exc:
        raise _fail("endpoint", str(exc)) from None
    except meta.MetaInputError as exc:
        raise _fail(exc.field, exc.message) from None
    except meta.ConvergenceError as exc:
        raise _fail("method", str(exc)) from None
    if plot is not None and s.strata:
        blocks = []
        for st in s.strata:
            labels = {c.label: c for c in st.included}
            if st.subgroups is not None:
                for g, r in st.subgroups.groups:
                    blocks.append(ForestBlock(r, f"{st.label} · {g}"))
            else:
                blocks.append(ForestBlock(st.result, st.label, tuple(labels)))
        foot = [f"{kb.version}; strata are never pooled together (docs/meta-analysis.md)"]
        try:
            overall = s.strata[0].result if len(s.strata) == 1 and s.strata[0].subgroups is not None else None
            forest_plot(
                blocks, plot, title=f"{endpoint} — knowledge-base synthesis", overall=overall, footnotes=foot
            )
        except meta.MetaInputError as exc:
            raise _fail(exc.field, exc.message) from None
    if as_json:
        payload = {**s.to_dict(), "versions": _versions(), "plot": plot if s.strata else None}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    print(_synthesis_text(s))
    if plot is not None and s.strata:
        print(f"forest plot: {plot}")


def register(app: typer.Typer) -> None:
    app.command("meta")(meta_command)
    app.command("synthesize")(synthesize_command)
