"""Chart labels are never cut: every text of the rendered rates chart lies inside the figure, and the bar-end labels
inside the axes (bounding boxes measured on the drawn figure, in both languages, as the HTML's SVG and as the PDF's
JPEG, which is laid out at its own resolution)."""

from __future__ import annotations

from typing import Any

import pytest
from _report_helpers import GENERATED, example

from _system import cjk_font_installed, require_system
from mmemd.report import _charts, build_report


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", ["emd-liver-rrmm-pr", "emd-skin-new-lesion-progression"])
@pytest.mark.parametrize("fmt", ["svg", "jpeg"])
def test_rates_chart_labels_fit(
    kb: Any, name: str, lang: str, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if lang == "zh":
        require_system("fonts-noto-cjk", cjk_font_installed, "Chinese chart labels")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figures: list[Any] = []
    real_save = _charts._save
    monkeypatch.setattr(_charts, "_save", lambda fig, fmt: (figures.append(fig), real_save(fig, fmt))[1])
    rep = build_report(example(name), kb, GENERATED)
    out = _charts.rates_chart(rep, lang, fmt)  # type: ignore[arg-type]
    assert out is not None
    (fig,) = figures
    from matplotlib import rc_context

    # Measure with the chart's own fonts (a generic family resolves through rcParams when drawn).
    with rc_context(_charts._rc(out.lang)):
        renderer = FigureCanvasAgg(fig).get_renderer()
        ax = fig.axes[0]
        fig_box, ax_box = fig.bbox, ax.get_window_extent(renderer)
        texts = [t for t in [*ax.texts, *ax.get_yticklabels(), *fig.texts] if t.get_text()]
        assert len(texts) > 5
        for t in texts:
            b = t.get_window_extent(renderer)
            assert b.x0 >= fig_box.x0 - 0.5, f"cut at the figure's left edge: {t.get_text()!r}"
            assert b.x1 <= fig_box.x1 + 0.5, f"cut at the figure's right edge: {t.get_text()!r}"
        for t in ax.texts:
            assert t.get_window_extent(renderer).x1 <= ax_box.x1 + 0.5, f"outside the axes: {t.get_text()!r}"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("chart", ["rates_chart", "response_chart"])
def test_jpeg_chart_is_what_savefig_writes(
    kb: Any, chart: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF's JPEG is drawn and encoded without savefig's compositing over white (the figure is opaque white):
    the bytes must be those savefig writes for the same figure."""
    import io

    from matplotlib import rc_context

    if lang == "zh":
        require_system("fonts-noto-cjk", cjk_font_installed, "Chinese chart labels")
    figures: list[Any] = []
    real_save = _charts._save
    monkeypatch.setattr(_charts, "_save", lambda fig, fmt: (figures.append(fig), real_save(fig, fmt))[1])
    out = getattr(_charts, chart)(build_report(example("emd-liver-rrmm-pr"), kb, GENERATED), lang, "jpeg")
    assert out is not None and out.mime == "image/jpeg"
    (fig,) = figures
    raw = io.BytesIO()
    with rc_context(_charts._rc(out.lang)):
        fig.savefig(
            raw, format="jpeg", dpi=fig.dpi, facecolor="white", pil_kwargs={"quality": _charts.JPEG_QUALITY}
        )
    assert out.data == raw.getvalue()
