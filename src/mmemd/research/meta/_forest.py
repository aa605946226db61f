"""Forest plots (PNG or SVG) with matplotlib: one row per study, the pooled diamond, the prediction interval.

Values are drawn on the natural scale (proportion, risk or odds ratio) when the measure has a back-transformation,
with a log axis for RR and OR; GEN stays on its own scale. Squares are sized by the random-effects weight. Labels
may be Chinese: the font list falls back to Noto Sans CJK (Debian ``fonts-noto-cjk``) when it is installed, so a
claim's Chinese study name renders instead of as empty boxes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmemd.research.meta._effect import Measure
from mmemd.research.meta._errors import MetaInputError
from mmemd.research.meta._pool import MetaResult, StudyRow

#: figure-fraction x of the estimate and weight columns (the axes span 0.30-0.68)
_EST_X = 0.70
_WEIGHT_X = 0.985

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Tried in order; matplotlib (>= 3.6) falls back glyph by glyph along the list.
FONT_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "WenQuanYi Zen Hei",
)

_AXIS_LABEL = {
    Measure.PR: "Proportion",
    Measure.PLO: "Proportion",
    Measure.PFT: "Proportion",
    Measure.PAS: "Proportion",
    Measure.RR: "Risk ratio (log scale)",
    Measure.OR: "Odds ratio (log scale)",
    Measure.RD: "Risk difference",
    Measure.GEN: "Effect size",
}


@dataclass(frozen=True)
class ForestBlock:
    """A block of rows: an optional header (a subgroup's name) and the model whose studies and diamond it draws."""

    result: MetaResult
    title: str | None = None
    labels: tuple[str, ...] | None = None  # replaces the study names (e.g. "study · claim id")


#: Longest study label drawn (characters); longer ones are cut with an ellipsis so they stay left of the axes.
MAX_LABEL = 46


def _short(label: str) -> str:
    """Cut a long label; a trailing " · <claim id>" is always kept whole (the plot must name the claim)."""
    if len(label) <= MAX_LABEL:
        return label
    head, sep, tail = label.rpartition(" · ")
    if not sep:
        head, tail = label, ""
    room = max(8, MAX_LABEL - len(sep) - len(tail) - 1)
    return head[:room] + "…" + sep + tail


def _available_fonts() -> list[str]:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in FONT_FAMILIES if f in names] or ["sans-serif"]


def _natural(result: MetaResult) -> bool:
    return result.pooled is not None


def _fmt(v: float | None, measure: Measure) -> str:
    if v is None or not math.isfinite(v):
        return "NA"
    if measure in (Measure.PR, Measure.PLO, Measure.PFT, Measure.PAS):
        return f"{100 * v:.1f}%"
    return f"{v:.2f}"


def _model_line(r: MetaResult) -> str:
    model = "Fixed-effect" if r.method.value == "FE" else f"Random-effects ({r.method.value}"
    if r.method.value != "FE":
        model += ", Knapp-Hartung)" if r.knha else ")"
    if r.k == 1:
        return f"{model}; k = 1: heterogeneity not estimable"
    return f"{model}; tau² = {r.tau2:.4f}, I² = {r.i2:.1f}%, Q = {r.q:.2f} (df = {r.q_df}, p = {r.q_p:.3g})"


#: Ever coarser tick sets for a log axis: 1-2-5 per decade, then decades, then every other decade.
_LOG_TICK_STEPS = (
    (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100),
    (0.01, 0.1, 1, 10, 100),
    (0.01, 1, 100),
)


def tick_labels_overlap(fig: Any, ax: Any) -> bool:
    """Whether any two visible x tick labels of ``ax`` overlap once drawn (2 px of air required)."""
    renderer = fig.canvas.get_renderer()
    boxes = sorted(
        (t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_visible() and t.get_text()),
        key=lambda b: b.x0,
    )
    return any(a.x1 + 2 > b.x0 for a, b in itertools.pairwise(boxes))


def _thin_log_ticks(fig: Any, ax: Any, ticks: list[float]) -> None:
    """Drop log-axis ticks until their labels no longer overlap (a wide CI range on a narrow axis)."""
    from matplotlib.ticker import FixedLocator

    lo, hi = (min(ticks), max(ticks)) if ticks else (0.0, 0.0)
    for step in _LOG_TICK_STEPS:
        if not tick_labels_overlap(fig, ax):
            return
        ax.xaxis.set_major_locator(FixedLocator([t for t in step if lo <= t <= hi] or [1]))
    if tick_labels_overlap(fig, ax):
        ax.xaxis.set_major_locator(FixedLocator([1]))


def forest_plot(
    blocks: Sequence[ForestBlock] | MetaResult,
    path: str | Path,
    *,
    title: str | None = None,
    overall: MetaResult | None = None,
    footnotes: Sequence[str] = (),
) -> Path:
    """Draw a forest plot to ``path`` (format from the suffix: .png or .svg) and return the path."""
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise MetaInputError("plot", f"unsupported format {out.suffix!r}: use .png or .svg")
    if isinstance(blocks, MetaResult):
        blocks = [ForestBlock(blocks)]
    if not blocks:
        raise MetaInputError("plot", "nothing to plot")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    measure = blocks[0].result.measure
    natural = all(_natural(b.result) for b in blocks)
    log_axis = natural and measure in (Measure.RR, Measure.OR)

    # Lay out rows top-down: (kind, label, payload).
    rows: list[tuple[str, str, object]] = []
    for b in blocks:
        if b.title:
            rows.append(("header", b.title, None))
        labels = b.labels or tuple(s.study for s in b.result.studies)
        for s, lab in zip(b.result.studies, labels, strict=True):
            rows.append(("study", _short(lab), s))
        rows.append(("pooled", "Pooled", b.result))
        rows.append(("gap", "", None))
    if overall is not None:
        rows.append(("pooled", "Overall", overall))

    with plt.rc_context({"font.family": _available_fonts(), "svg.fonttype": "none", "font.size": 9}):
        height = 1.2 + 0.28 * len(rows) + 0.22 * (len(blocks) + len(footnotes) + (overall is not None))
        height += 0.4 if title else 0.0
        fig = plt.figure(figsize=(11, height))
        bottom = (0.75 + 0.22 * len(footnotes)) / height
        top_margin = (0.75 if title else 0.3) / height
        ax: Axes = fig.add_axes((0.30, bottom, 0.38, 1 - bottom - top_margin))
        n = len(rows)

        lows: list[float] = []
        highs: list[float] = []
        for i, (kind, label, payload) in enumerate(rows):
            y = n - i
            if kind == "header":
                ax.annotate(
                    label,
                    (0, y),
                    xycoords=("figure fraction", "data"),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontweight="bold",
                )
                continue
            if kind == "study":
                assert isinstance(payload, StudyRow)
                s = payload
                vals = (
                    (s.value, s.value_ci_lower, s.value_ci_upper)
                    if natural
                    else (s.yi, s.ci_lower, s.ci_upper)
                )
                fmt_m = measure if natural else Measure.GEN
                right = f"{_fmt(vals[0], fmt_m)} [{_fmt(vals[1], fmt_m)}, {_fmt(vals[2], fmt_m)}]"
                weight = f"{s.weight:.1f}%"
                if all(v is not None and math.isfinite(v) for v in vals):
                    est, lo, hi = (float(v) for v in vals if v is not None)
                    size = 4 + 10 * math.sqrt(max(s.weight, 0.0) / 100)
                    ax.plot([lo, hi], [y, y], color="black", lw=1)
                    ax.plot([est], [y], marker="s", markersize=size, color="#1f4e79")
                    lows.append(lo)
                    highs.append(hi)
            elif kind == "pooled":
                assert isinstance(payload, MetaResult)
                r = payload
                pv: tuple[float | None, ...] = (
                    (r.pooled, r.pooled_ci_lower, r.pooled_ci_upper, r.pooled_pred_lower, r.pooled_pred_upper)
                    if natural
                    else (r.estimate, r.ci_lower, r.ci_upper, r.pred_lower, r.pred_upper)
                )
                if not all(v is not None and math.isfinite(v) for v in pv[:3]):
                    continue
                est, lo, hi = (float(v) for v in pv[:3] if v is not None)
                plo, phi = pv[3], pv[4]
                if r.method.value != "FE" and r.k > 1 and plo is not None and phi is not None:
                    ax.plot([plo, phi], [y, y], color="#c00000", lw=1, ls="--")
                    lows.append(plo)
                    highs.append(phi)
                ax.add_patch(
                    Polygon([(lo, y), (est, y + 0.3), (hi, y), (est, y - 0.3)], closed=True, color="#c00000")
                )
                lows.append(lo)
                highs.append(hi)
                fmt_m = measure if natural else Measure.GEN
                right = f"{_fmt(est, fmt_m)} [{_fmt(lo, fmt_m)}, {_fmt(hi, fmt_m)}]"
                weight = "100%" if kind == "pooled" and r is not overall else ""
                ax.annotate(
                    _model_line(r),
                    (0, y - 0.45),
                    xycoords=("figure fraction", "data"),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                    color="#444444",
                )
            else:
                continue
            ax.annotate(
                label,
                (0, y),
                xycoords=("figure fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontweight="bold" if kind == "pooled" else "normal",
            )
            ax.annotate(right, (_EST_X, y), xycoords=("figure fraction", "data"), va="center")
            ax.annotate(weight, (_WEIGHT_X, y), xycoords=("figure fraction", "data"), va="center", ha="right")

        finite = [
            v for v in (*lows, *highs) if v is not None and math.isfinite(v) and (v > 0 or not log_axis)
        ]
        ax.set_ylim(0.3, n + 0.7)
        ax.set_yticks([])
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        if log_axis:
            from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

            ax.set_xscale("log")
            ticks = [
                t
                for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
                if finite and min(finite) / 1.5 <= t <= max(finite) * 1.5
            ]
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.axvline(1.0, color="grey", lw=0.8)
            _thin_log_ticks(fig, ax, ticks)
        elif measure in (Measure.RD, Measure.GEN) or not natural:
            ax.axvline(0.0, color="grey", lw=0.8)
        if finite and not log_axis:
            lo_all, hi_all = min(finite), max(finite)
            pad = 0.05 * (hi_all - lo_all or 1.0)
            if natural and measure in (Measure.PR, Measure.PLO, Measure.PFT, Measure.PAS):
                ax.set_xlim(max(-0.02, lo_all - pad), min(1.02, hi_all + pad))
            else:
                ax.set_xlim(lo_all - pad, hi_all + pad)
        ax.set_xlabel(_AXIS_LABEL[measure] if natural else _AXIS_LABEL[Measure.GEN])
        top = n + 0.5
        ax.annotate(
            "Study",
            (0, top),
            xycoords=("figure fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            va="bottom",
            fontweight="bold",
        )
        ax.annotate(
            f"Estimate [{blocks[0].result.level:g}% CI]",
            (_EST_X, top),
            xycoords=("figure fraction", "data"),
            va="bottom",
            fontweight="bold",
        )
        ax.annotate(
            "Weight",
            (_WEIGHT_X, top),
            xycoords=("figure fraction", "data"),
            va="bottom",
            ha="right",
            fontweight="bold",
        )
        if title:
            fig.suptitle(title, fontweight="bold")
        for j, note in enumerate(footnotes):
            fig.text(0.01, 0.02 + 0.22 * (len(footnotes) - 1 - j) / height, note, fontsize=7, color="#444444")
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format=fmt, dpi=150, bbox_inches="tight")
        plt.close(fig)
    return out
