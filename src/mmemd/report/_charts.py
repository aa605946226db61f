"""The report's two charts as SVG: response over time and reported response rates by option.

matplotlib's object API (``Figure`` + the SVG canvas, no pyplot state) so rendering is thread-safe for the service.
Text is drawn as glyph paths (``svg.fonttype = "path"``), so the SVG needs no font wherever it is shown, and Chinese
labels use a CJK font found through matplotlib's font manager; without one, the chart falls back to English labels
with a :class:`ChartFontWarning` rather than drawing empty boxes ("tofu"). Output is deterministic: a fixed
``svg.hashsalt`` and no date in the metadata, so golden files and caches can compare bytes.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from mmemd.report._i18n import Lang, label, value
from mmemd.report._model import Report
from mmemd.report._series import num

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: CJK-capable families, in order of preference (Debian's fonts-noto-cjk ships the Noto Sans CJK ones).
CJK_FAMILIES: Final = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
LATIN_FAMILIES: Final = ("DejaVu Sans",)
_HASHSALT: Final = "mmemd-report"
_CJK_TEXT = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_EMD_COLOUR: Final = "#1b6f6a"
_GENERAL_COLOUR: Final = "#a9c1d9"


#: rc_context swaps matplotlib's process-global rcParams: charts drawn from several threads (the service renders in a
#: thread pool) must not interleave, or an English chart's font list could leak into a Chinese one (tofu).
_RC_LOCK = threading.Lock()


class ChartFontWarning(UserWarning):
    """No CJK-capable font was found: Chinese chart labels fall back to English."""


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed CJK-capable family of :data:`CJK_FAMILIES`, or None.

    matplotlib caches its font list on first use (``~/.cache/matplotlib/fontlist-*.json``) and never rescans: a CJK
    font installed after that (apt-get install fonts-noto-cjk, as the warning says) stays invisible. So when the
    cached list has none, the system font directories are scanned once for files the cache lacks, which are added and
    the cache file rewritten.
    """
    from matplotlib import font_manager

    found = _first_cjk(font_manager.fontManager)
    if found is None and _add_uncached_fonts(font_manager.fontManager):
        found = _first_cjk(font_manager.fontManager)
    return found


def _first_cjk(manager: Any) -> str | None:
    installed = {f.name for f in manager.ttflist}
    return next((name for name in CJK_FAMILIES if name in installed), None)


def _add_uncached_fonts(manager: Any) -> bool:
    """Add the system fonts missing from matplotlib's cached list; persist the list. True if any was added."""
    from matplotlib import font_manager, get_cachedir

    known = {str(Path(f.fname).resolve()) for f in manager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        if str(Path(path).resolve()) in known:
            continue
        # An unreadable or unsupported font file is not ours to fix: skip it, as matplotlib's own scan does.
        try:
            manager.addfont(path)
        except Exception:
            continue
        added = True
    if added:
        cache = Path(get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
        with suppress(OSError):  # a read-only cache directory: the list is rebuilt in memory next time too
            font_manager.json_dump(manager, str(cache))
    return added


ChartFormat = Literal["svg", "jpeg"]
#: Raster resolution for the PDF: sharp in print. WeasyPrint draws a raster far faster than a path-text SVG, and a
#: JPEG goes into the PDF as it is (DCTDecode) where a PNG would be decoded and re-compressed.
RASTER_DPI: Final = 150
JPEG_QUALITY: Final = 92


@dataclass(frozen=True, slots=True)
class ChartOutput:
    data: bytes
    mime: str
    #: size in CSS px (96 per inch)
    width: int
    height: int
    alt: str
    #: the language the chart's labels are in (en when a zh chart fell back for want of a CJK font)
    lang: Lang


def _chart_lang(lang: Lang) -> Lang:
    if lang == "zh" and cjk_font() is None:
        warnings.warn(
            "no CJK-capable font found by matplotlib (tried: "
            + ", ".join(CJK_FAMILIES)
            + "); chart labels are drawn in English. Install fonts-noto-cjk.",
            ChartFontWarning,
            stacklevel=3,
        )
        return "en"
    return lang


def _rc(lang: Lang) -> Any:  # matplotlib types rc_context's argument as a dict of literal keys
    # English charts never need the CJK font, and laying text out with a 20 MB CJK face is the slow part.
    cjk = cjk_font() if lang == "zh" else None
    fonts = [*([cjk] if cjk else []), *LATIN_FAMILIES]
    return {
        "svg.hashsalt": _HASHSALT,
        "svg.fonttype": "path",
        "font.family": "sans-serif",
        "font.sans-serif": fonts,
        "font.size": 8.5,
        "axes.unicode_minus": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        # Unhinted glyphs: FreeType's hinting is a large part of drawing the ~1,000 glyphs of a chart (about a sixth
        # of an English chart's time) and adds nothing at print resolution; the SVG's path text is unhinted too, so
        # the Agg measurements of fit_labels now match it more closely.
        "text.hinting": "no_hinting",
    }


def _figure(width_in: float, height_in: float, fmt: ChartFormat) -> Any:
    """A figure at the dpi it is saved at: the labels measured to fit it (:func:`fit_labels`) are laid out at that
    dpi once, and drawing reuses the measurements (matplotlib caches text metrics per renderer and dpi)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=RASTER_DPI if fmt == "jpeg" else 100)


def _save(fig: Any, fmt: ChartFormat) -> tuple[bytes, str, int, int]:
    w_in, h_in = fig.get_size_inches()
    size = round(w_in * 96), round(h_in * 96)
    if fmt == "jpeg":
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        # Keep the canvas fit_labels measured with: a new one would lay every text out again.
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        from PIL import Image

        # Drawn and encoded directly, not through savefig: the figure is opaque white (its patch is white, alpha
        # 1), so dropping the alpha channel gives the very pixels savefig's compositing over a white background did,
        # without building that background and pasting the figure onto it (~4 ms a chart).
        fig.patch.set_facecolor("white")
        fig.canvas.draw()
        rgba = fig.canvas.buffer_rgba()
        image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
        raw = io.BytesIO()
        image.convert("RGB").save(raw, format="jpeg", quality=JPEG_QUALITY, dpi=(fig.dpi, fig.dpi))
        return raw.getvalue(), "image/jpeg", *size
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buf = io.StringIO()
    FigureCanvasSVG(fig)
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "mmemd"})
    text = buf.getvalue()
    # Drop the XML declaration and the DOCTYPE (it names an external DTD): the SVG is embedded, never fetched from.
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    # ... and the RDF metadata block (Dublin Core / Creative Commons namespaces): it says nothing a reader needs.
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    return text.encode("utf-8"), "image/svg+xml", *size


_ABBREV = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,11}$")
_FIRST_BREAK = re.compile(r"[（(,，]")


def short_title(title: str, limit: int = 30) -> str:
    """A short name for an option: the regimen abbreviation its title gives in parentheses ("... (Isa-Kd)",
    "...（如卡非佐米+地塞米松，Kd）"), else the title up to its first parenthesis or comma, cut at ``limit`` columns."""
    for inner in re.findall(r"[（(]([^（()）]*)[)）]", title):
        last = re.split(r"[,，]\s*", inner)[-1].strip()
        if _ABBREV.match(last) and any(ch.isupper() for ch in last[1:] + last[:1]):
            return last
    head = _FIRST_BREAK.split(title, maxsplit=1)[0].strip()
    return head if _width(head) <= limit else _cut(head, limit)


def _width(text: str) -> int:
    return sum(2 if _CJK_TEXT.match(ch) else 1 for ch in text)


def _cut(text: str, limit: int) -> str:
    out, w = "", 0
    for ch in text:
        w += 2 if _CJK_TEXT.match(ch) else 1
        if w > limit - 1:
            return out + "…"
        out += ch
    return out


_ENDPOINT_SHORT: Final = {
    "MRD_negativity": ("MRD−", "MRD阴性"),
    "EMD_resolution": ("EMD resolution", "EMD消失"),
    "VGPR_or_better": ("≥VGPR", "≥VGPR"),
}


def endpoint_short(endpoint: str, lang: Lang) -> str:
    pair = _ENDPOINT_SHORT.get(endpoint)
    if pair is None:
        return endpoint
    return pair[1] if lang == "zh" else pair[0]


def _fmt_date_axis(ax: Axes, dates: Sequence[Any]) -> None:
    from matplotlib.dates import DateFormatter

    ax.set_xticks(list(dates))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]  # untyped in matplotlib
    for t in ax.get_xticklabels():
        t.set_rotation(0)


def response_chart(report: Report, lang: Lang, fmt: ChartFormat = "svg") -> ChartOutput | None:
    """M-protein (or involved FLC) and plasmacytoma SPD over time, with the IMWG category at each assessment.

    None when neither panel has data (the document states why)."""
    pts = report.series
    serum = [p for p in pts if p.serum_m_g_dl is not None]
    flc = [p for p in pts if p.flc_involved_mg_dl is not None]
    spd = [p for p in pts if p.spd_cm2 is not None]
    if not (serum or flc or spd):
        return None
    lang = _chart_lang(lang)
    from matplotlib import rc_context

    panels: list[str] = []
    if serum or flc:
        panels.append("marker")
    if spd:
        panels.append("spd")
    with _RC_LOCK, rc_context(_rc(lang)):
        height = 2.2 * len(panels) + 0.6
        fig = _figure(7.2, height, fmt)
        # Fixed margins, not a layout engine: constrained layout costs an extra draw pass (the chart budget is tight).
        fig.subplots_adjust(left=0.11, right=0.98, top=1 - 0.45 / height, bottom=0.35 / height, hspace=0.15)
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        all_dates = [p.date for p in pts]
        for ax, kind in zip(axes, panels, strict=True):
            if kind == "marker":
                use = serum if serum else flc
                ys = [float((p.serum_m_g_dl if serum else p.flc_involved_mg_dl) or 0) for p in use]
                ax.plot([p.date for p in use], ys, marker="o", color="#23395d", linewidth=1.6)
                ax.set_ylabel(label(lang, "serum_m" if serum else "flc"))
                ax.set_ylim(bottom=0, top=max(ys) * 1.3 if ys and max(ys) > 0 else 1)
                for p, y in zip(use, ys, strict=True):
                    if p.category:
                        ax.annotate(
                            value(lang, p.category).split("（")[0],
                            (p.date, y),
                            textcoords="offset points",
                            xytext=(0, 7),
                            ha="center",
                            fontsize=8,
                            color="#444444",
                        )
            else:
                ys = [float(p.spd_cm2 or 0) for p in spd]
                ax.bar([p.date for p in spd], ys, width=6, color="#b5651d")
                ax.set_ylabel(label(lang, "spd"))
                ax.set_ylim(bottom=0, top=max(ys) * 1.25 if ys and max(ys) > 0 else 1)
                for p, y in zip(spd, ys, strict=True):
                    ax.annotate(
                        f"{y:g}",
                        (p.date, y),
                        textcoords="offset points",
                        xytext=(0, 3),
                        ha="center",
                        fontsize=7.5,
                    )
            ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        _fmt_date_axis(axes[-1], all_dates)
        fig.suptitle(label(lang, "response_chart"), fontsize=10, x=0.01, ha="left")
        data, mime, w, h = _save(fig, fmt)
    kinds = [label(lang, "serum_m" if serum else "flc")] if "marker" in panels else []
    if spd:
        kinds.append(label(lang, "spd"))
    alt = f"{label(lang, 'response_chart')}: " + "; ".join(kinds)
    return ChartOutput(data=data, mime=mime, width=w, height=h, alt=alt, lang=lang)


def fit_labels(fig: Any, ax: Any, end_texts: Sequence[Any]) -> None:
    """Measure the drawn labels and make room: the bar-end labels inside the axes (the x range grows), the category
    labels inside the figure (the left margin grows). Estimating widths from character counts cut English labels.

    A label's width in pixels does not depend on the x range, so the range that fits every bar-end label is solved
    from one measurement (left-aligned at its value: value + width <= axes width); the loop then only confirms it,
    instead of widening step by step with every label measured again at each step."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    px = fig.dpi / 100  # the margins below are in pixels at 100 dpi
    fig_w = fig.bbox.width
    for _ in range(8):  # widening one side changes the other's scale: repeat until both fit
        changed = False
        left_px = min(
            (t.get_window_extent(renderer).x0 for t in ax.get_yticklabels() if t.get_text()), default=0
        )
        if left_px < 4 * px:
            fig.subplots_adjust(left=min(fig.subplotpars.left + (6 * px - left_px) / fig_w, 0.7))
            changed = True
        box = ax.get_window_extent(renderer)
        x0, x1 = ax.get_xlim()
        need, right_px = x1, 0.0
        for t in end_texts:
            ext = t.get_window_extent(renderer)
            right_px = max(right_px, ext.x1)
            room = box.width - ext.width - 10 * px
            if room > 0:
                need = max(need, x0 + (t.get_position()[0] - x0) * box.width / room)
        if need > x1 or right_px > box.x1 - 4 * px:
            ax.set_xlim(x0, max(need, x1 + (right_px - box.x1 + 10 * px) * (x1 - x0) / box.width))
            changed = True
        if not changed:
            break


def rates_chart(
    report: Report, lang: Lang, fmt: ChartFormat = "svg", numbers: Mapping[str, int] | None = None
) -> ChartOutput | None:
    """Reported response rates of each option's claims, one bar per claim, labelled with study and n, and with the
    claim's citation number when ``numbers`` (claim id to number, as the report numbers them) gives one."""
    bars = report.rates
    if not bars:
        return None
    lang = _chart_lang(lang)
    from matplotlib import rc_context
    from matplotlib.patches import Patch

    names = [
        f"{short_title(b.option_zh if lang == 'zh' else b.option_en)} · {endpoint_short(b.endpoint, lang)}"
        for b in bars
    ]
    nr = label(lang, "not_reported")
    ends = [
        f"{num(b.value)}%  {b.study or value(lang, b.design)}, n={b.n if b.n is not None else nr}"
        + (f" [{numbers[b.claim]}]" if numbers and b.claim in numbers else "")
        for b in bars
    ]
    with _RC_LOCK, rc_context(_rc(lang)):
        height = 0.3 * len(bars) + 1.2
        fig = _figure(7.2, height, fmt)
        # Left margin from the longest label (about 0.55 em per Latin column at 8.5 pt, 1 em per CJK character).
        label_in = max(_width(n) for n in names) * 8.5 * 0.55 / 72 + 0.2
        fig.subplots_adjust(
            left=min(0.5, label_in / 7.2), right=0.98, top=1 - 0.45 / height, bottom=0.7 / height
        )
        ax = fig.subplots()
        ypos = list(range(len(bars)))[::-1]
        colours = [_EMD_COLOUR if b.emd_specific else _GENERAL_COLOUR for b in bars]
        hatches = ["" if b.emd_specific else "///" for b in bars]
        rects = ax.barh(
            ypos, [float(b.value) for b in bars], color=colours, edgecolor="#555555", linewidth=0.4
        )
        for rect, hatch in zip(rects, hatches, strict=True):
            rect.set_hatch(hatch)
        end_texts = [
            ax.text(float(b.value) + 1, y, text, va="center", fontsize=7)
            for y, b, text in zip(ypos, bars, ends, strict=True)
        ]
        ax.set_yticks(ypos)
        ax.set_yticklabels(names)
        ax.set_xlim(0, 160)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("%")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.legend(
            handles=[
                Patch(facecolor=_EMD_COLOUR, label=label(lang, "emd_specific")),
                Patch(facecolor=_GENERAL_COLOUR, hatch="///", label=label(lang, "general_mm")),
            ],
            loc="lower right",
            fontsize=7.5,
            frameon=False,
        )
        fig.suptitle(label(lang, "evidence_chart"), fontsize=10, x=0.01, ha="left")
        fig.text(0.01, 0.08 / height, label(lang, "evidence_chart_note"), fontsize=7, color="#444444")
        fit_labels(fig, ax, end_texts)
        data, mime, w, h = _save(fig, fmt)
    alt = f"{label(lang, 'evidence_chart')}: " + "; ".join(
        f"{n} {num(b.value)}%" for n, b in zip(names, bars, strict=True)
    )
    return ChartOutput(data=data, mime=mime, width=w, height=h, alt=alt, lang=lang)


def has_cjk(text: str) -> bool:
    return bool(_CJK_TEXT.search(text))
