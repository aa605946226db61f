"""The cohort report: one self-contained HTML file (inline CSS, plots as inline PNG data URIs; nothing fetched).

Sections: cohort and versions; EMD incidence at diagnosis and at relapse (exact CIs); best response by line and EMD
status (table and stacked bars); PFS and OS Kaplan–Meier curves with numbers at risk and the log-rank test; Cox
models adjusted for stage and age; notes and timings; a decision-support disclaimer.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from mmemd.research.cohort._models import CohortAnalysis

__all__ = ["render_html"]

_COLORS = {"none": "#4c72b0", "paraskeletal": "#dd8452", "extraosseous": "#c44e52"}
_CAT_COLORS = {
    "sCR": "#1a9850",
    "CR": "#66bd63",
    "VGPR": "#a6d96a",
    "PR": "#d9ef8b",
    "MR": "#fee08b",
    "SD": "#fdae61",
    "PD": "#d73027",
    "not_evaluable": "#bdbdbd",
}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mmemd cohort analysis</title>
<style>
body { font-family: "Noto Sans", "Noto Sans CJK SC", Arial, sans-serif; margin: 2em auto; max-width: 64em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th:first-child, td:first-child, th.l, td.l { text-align: left; }
caption { text-align: left; font-weight: bold; margin-bottom: 0.3em; }
img { max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.85em; }
footer { margin-top: 3em; font-size: 0.8em; color: #555; border-top: 1px solid #ccc; padding-top: 0.5em; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
</style>
</head>
<body>
<h1>Cohort analysis: multiple myeloma with extramedullary disease</h1>
<p>Source: <code>{{ a.source }}</code>. {{ a.rows.patients }} patients, {{ a.rows.assessments }} assessments,
{{ a.rows.lesions }} lesions, {{ a.rows.events }} events.</p>

<h2 id="incidence">EMD incidence</h2>
<table>
<caption>Patients with EMD (exact Clopper–Pearson {{ pct(conf) }} CI)</caption>
<thead><tr><th>when</th><th>EMD</th><th>patients</th><th>of</th><th>incidence</th><th>CI</th></tr></thead>
<tbody>
{% for when, parts in a.incidence.items() %}{% for kind, p in parts.items() %}
<tr><td>{{ when.replace('_', ' ') }}</td><td class="l">{{ kind }}</td><td>{{ p.events }}</td><td>{{ p.n }}</td>
<td>{{ pct(p.estimate) }}</td><td>{{ pct(p.lower) }}–{{ pct(p.upper) }}</td></tr>
{% endfor %}{% endfor %}
</tbody></table>
<p class="note">At diagnosis: lesions found at diagnosis, among all patients. At relapse: lesions found at relapse,
among patients who relapsed. Extraosseous = true EMD, no contact with bone; paraskeletal = arising from bone
(docs/criteria.md §3.1).</p>

<h2 id="response">Best response by line and EMD status</h2>
<figure><img alt="Stacked bars of best response by line of therapy and EMD status" src="data:image/png;base64,{{ response_png }}"></figure>
<table>
<caption>Best confirmed IMWG 2016 response (lines of therapy)</caption>
<thead><tr><th>line</th><th class="l">EMD</th><th>lines</th>{% for c in cats %}<th>{{ c }}</th>{% endfor %}
<th>ORR (CI)</th><th>≥VGPR (CI)</th></tr></thead>
<tbody>
{% for r in a.response %}<tr><td>{{ r.line }}</td><td class="l">{{ r.emd }}</td><td>{{ r.lines }}</td>
{% for c in cats %}<td>{{ r.categories[c] }}</td>{% endfor %}
<td>{{ pct(r.orr.estimate) }} ({{ pct(r.orr.lower) }}–{{ pct(r.orr.upper) }})</td>
<td>{{ pct(r.vgpr_or_better.estimate) }} ({{ pct(r.vgpr_or_better.lower) }}–{{ pct(r.vgpr_or_better.upper) }})</td></tr>
{% endfor %}</tbody></table>
{% for n in a.response_notes %}<p class="note">{{ n }}</p>{% endfor %}

{% for s in a.survival %}
<h2 id="{{ s.endpoint|lower }}">{{ names[s.endpoint] }} by EMD status at diagnosis</h2>
<figure><img alt="Kaplan–Meier curves of {{ names[s.endpoint] }} by EMD status" src="data:image/png;base64,{{ km_png[s.endpoint] }}"></figure>
<table>
<caption>Number at risk ({{ s.time_unit }})</caption>
<thead><tr><th class="l">EMD</th>{% for t in at %}<th>{{ t|int }}</th>{% endfor %}</tr></thead>
<tbody>{% for g in s.groups %}<tr><td>{{ g.name }}</td>{% for x in g.survival_at %}<td>{{ x.at_risk }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<table>
<caption>Summary</caption>
<thead><tr><th class="l">EMD</th><th>n</th><th>events</th><th>median ({{ s.time_unit }})</th><th>median CI</th>
<th>at 36 months (CI)</th></tr></thead>
<tbody>{% for g in s.groups %}<tr><td>{{ g.name }}</td><td>{{ g.n }}</td><td>{{ g.events }}</td>
<td>{{ num(g.median) }}</td><td>{{ num(g.median_ci[0]) }}–{{ num(g.median_ci[1]) }}</td>
<td>{{ at36(g) }}</td></tr>{% endfor %}</tbody></table>
{% if s.logrank %}<p>Log-rank test: χ² = {{ num(s.logrank.chi2, 2) }}, df = {{ s.logrank.df|int }},
p {{ pval(s.logrank.p) }}.</p>{% endif %}
<p class="note">Confidence intervals: {{ s.conf_type }}. Median not reached: "–".</p>
{% endfor %}

<h2 id="cox">Cox proportional-hazards models</h2>
{% for c in a.cox %}
<table>
<caption>{{ names[c.endpoint] }}: {{ c.formula }} (n = {{ c.n }}, events = {{ c.events }})</caption>
<thead><tr><th class="l">term</th><th>HR</th><th>CI</th><th>p</th></tr></thead>
<tbody>{% for t in c.terms %}<tr><td>{{ t.label }}</td><td>{{ num(t.hr, 2) }}</td>
<td>{{ num(t.hr_lower, 2) }}–{{ num(t.hr_upper, 2) }}</td><td>{{ pval(t.p) }}</td></tr>{% endfor %}</tbody></table>
{% endfor %}
{% for n in a.notes %}<p class="note">{{ n }}</p>{% endfor %}

<footer>
<p>mmemd {{ a.versions.mmemd }} · knowledge base {{ a.versions.knowledge_base }} · response criteria
{{ a.versions.response_criteria }} · high-risk definition {{ a.versions.high_risk_definition }} · cohort schema
{{ a.versions.cohort_schema }} · ibis {{ a.versions.ibis }} on {{ a.versions.backend }}.</p>
<p>Timings (s): {% for k, v in a.timings_s.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}.</p>
<p>Research and decision-support software: it describes a cohort, it does not prescribe. 仅供研究与决策参考，不构成医疗建议。</p>
</footer>
</body>
</html>
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _km_plot(endpoint: str, groups: list[Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for g in groups:
        st = g.steps
        times = [0.0, *st.times]
        surv = [1.0, *st.survival]
        color = _COLORS.get(str(g.name))
        ax.step(times, surv, where="post", label=f"{g.name} (n={g.n})", color=color, linewidth=1.4)
        lo = [1.0, *[x if x is not None else float("nan") for x in st.lower]]
        hi = [1.0, *[x if x is not None else float("nan") for x in st.upper]]
        ax.fill_between(times, lo, hi, step="post", alpha=0.15, color=color, linewidth=0)
    ax.set_xlim(0, 120)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(range(0, 121, 12))
    ax.set_xlabel("months from diagnosis")
    ax.set_ylabel(f"{endpoint} probability")
    ax.grid(alpha=0.3)
    ax.legend(title="EMD at diagnosis", loc="upper right", frameon=False)
    out = _png(fig)
    plt.close(fig)
    return out


def _response_plot(a: CohortAnalysis) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mmemd.research.cohort._response import CATEGORIES

    rows = a.response
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.32 * len(rows) + 1.2)))
    labels = [f"line {r.line} · {r.emd}" for r in rows]
    left = [0.0] * len(rows)
    for c in CATEGORIES:
        widths = [r.categories[c] / r.lines if r.lines else 0.0 for r in rows]
        ax.barh(labels, widths, left=left, color=_CAT_COLORS[c], label=c, edgecolor="white", linewidth=0.5)
        left = [x + w for x, w in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of lines")
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    out = _png(fig)
    plt.close(fig)
    return out


def render_html(a: CohortAnalysis) -> str:
    """The report as one HTML string."""
    import jinja2

    from mmemd.research.cohort._outcomes import AT_MONTHS
    from mmemd.research.cohort._response import CATEGORIES

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f}%"

    def num(x: float | None, digits: int = 1) -> str:
        return "–" if x is None else f"{x:.{digits}f}"

    def pval(p: float) -> str:
        return "< 0.0001" if p < 1e-4 else f"= {p:.4f}"

    def at36(g: Any) -> str:
        for s in g.survival_at:
            if s["time"] == 36.0 and s["survival"] is not None:
                return f"{pct(s['survival'])} ({pct(s['lower'])}–{pct(s['upper'])})"
        return "–"

    km_png = {s.endpoint: _km_plot(s.endpoint, a.curves.get(s.endpoint, [])) for s in a.survival}
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    first = next(iter(a.incidence.values()), {})
    conf = next(iter(first.values())).conf_level if first else 0.95
    return env.from_string(_TEMPLATE).render(
        a=a,
        cats=CATEGORIES,
        at=AT_MONTHS,
        conf=conf,
        pct=pct,
        num=num,
        pval=pval,
        at36=at36,
        names={"PFS": "Progression-free survival", "OS": "Overall survival"},
        km_png=km_png,
        response_png=_response_plot(a),
    )
