"""Golden files for the text and Markdown reports, both languages, three example patients (EMD at relapse with a
partial response; new skin lesion with progression and open work-up; indeterminate single lesion, no options)."""

from __future__ import annotations

import pytest
from _report_helpers import check_golden, example

from mmemd._version import __version__
from mmemd.report import render_report

PATIENTS = (
    "emd-liver-rrmm-pr",
    "emd-skin-new-lesion-progression",
    "single-lesion-unknown-marrow-indeterminate",
)


@pytest.mark.parametrize("fmt", ["text", "md"])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("patient", PATIENTS)
def test_report_matches_golden(patient: str, lang: str, fmt: str, kb, generated) -> None:  # type: ignore[no-untyped-def]
    out = render_report(example(patient), lang=lang, fmt=fmt, kb=kb, generated=generated)
    assert isinstance(out, str)
    ext = "txt" if fmt == "text" else "md"
    check_golden(
        f"{patient}.{lang}.{ext}",
        out,
        {kb.version: "<knowledge-base-version>", f"mmemd {__version__}": "mmemd <version>"},
    )


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_same_input_same_bytes(fmt: str, kb, generated) -> None:  # type: ignore[no-untyped-def]
    rec = example("emd-skin-new-lesion-progression")
    a = render_report(rec, lang="zh", fmt=fmt, kb=kb, generated=generated)
    b = render_report(rec, lang="zh", fmt=fmt, kb=kb, generated=generated)
    assert a == b
