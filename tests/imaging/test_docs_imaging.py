"""docs/imaging.md cannot drift: its Python example runs, and its metrics table equals the corpus scores."""

from __future__ import annotations

import re
from pathlib import Path

from imaging_scoring import ATTRIBUTES, score

from mmemd.imaging._fhir import MESSAGES

SPLITS = {
    "dev": "dev",
    "dev B": "dev_b",
    "held-out A": "heldout",
    "held-out B": "heldout_b",
    "held-out C": "heldout_c",
}
DOC = Path(__file__).resolve().parents[2] / "docs" / "imaging.md"


def test_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})  # our own documentation's example


def test_metrics_table_matches_the_corpus() -> None:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] in SPLITS:
            rows[cells[0]] = cells
    assert set(rows) == set(SPLITS)
    for name, split in SPLITS.items():
        s = score(split)
        expected = [
            name,
            str(s.reports),
            str(s.tp + s.fn),
            str(s.tp),
            str(s.fp),
            str(s.fn),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
            *(f"{s.accuracy(a):.3f}" for a in ATTRIBUTES),
            f"{s.explicit_negatives_ok}/{s.explicit_negatives}",
            str(s.fp_in_lesion_free_reports),
        ]
        assert rows[name] == expected


def test_reason_codes_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("| code | when |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert documented == set(MESSAGES)
