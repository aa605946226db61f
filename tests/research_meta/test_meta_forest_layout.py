"""Forest-plot tick labels never overlap: a wide range of ratios on the log axis is drawn, and the drawn labels'
bounding boxes are checked (the figure is the one saved to PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmemd.research.meta import _forest


def _wide_result() -> Any:
    from mmemd.research import meta

    # Risk ratios from about 0.01 to 100: thirteen 1-2-5 ticks cannot fit on the plot's narrow axis.
    es = meta.two_groups(
        "RR",
        ai=[1, 40, 5, 30],
        n1=[400, 41, 50, 31],
        ci=[60, 1, 5, 1],
        n2=[61, 500, 50, 600],
        study=list("ABCD"),
    )
    return meta.rma(es, "REML")


def test_log_axis_tick_labels_do_not_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    drawn: list[Any] = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig=None: drawn.append(fig))
    out = _forest.forest_plot(_wide_result(), tmp_path / "forest.png")
    assert out.exists() and out.stat().st_size > 0
    (fig,) = drawn
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(labels) >= 2
    assert not _forest.tick_labels_overlap(fig, ax)
    real_close(fig)
