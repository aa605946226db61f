"""Reading a meta-analysis table (CSV) into effect sizes.

Three layouts, told apart by the header: ``study,events,n`` (single proportions), ``study,ai,n1,ci,n2``
(two groups) or ``study,yi,vi`` (precomputed). Other columns are kept (for ``--by``). Every problem names the
column and the row.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mmemd.research.meta._effect import (
    SINGLE_GROUP,
    TWO_GROUP,
    EffectSizes,
    Measure,
    generic,
    proportions,
    two_groups,
)
from mmemd.research.meta._errors import MetaInputError

LAYOUTS: dict[str, tuple[str, ...]] = {
    "proportion": ("events", "n"),
    "two_group": ("ai", "n1", "ci", "n2"),
    "generic": ("yi", "vi"),
}


@dataclass(frozen=True)
class Table:
    layout: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]

    def column(self, name: str) -> list[str]:
        if name not in self.columns:
            raise MetaInputError(name, f"no such column; columns: {', '.join(self.columns)}")
        return [r[name] for r in self.rows]

    def numbers(self, name: str) -> list[float]:
        out = []
        for i, raw in enumerate(self.column(name), start=1):
            try:
                v = float(raw)
            except ValueError:
                raise MetaInputError(name, f"row {i}: {raw!r} is not a number") from None
            if not math.isfinite(v):
                raise MetaInputError(name, f"row {i}: {raw!r} is not a finite number")
            out.append(v)
        return out

    def subset(self, keep: Sequence[int]) -> Table:
        return Table(self.layout, self.columns, tuple(self.rows[i] for i in keep))


def parse_table(text: str) -> Table:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None:
        raise MetaInputError("header", "empty file: expected a CSV header")
    columns = tuple(c.strip() for c in reader.fieldnames)
    if "study" not in columns:
        raise MetaInputError("study", "missing column (header must start study,... )")
    layout = next((name for name, cols in LAYOUTS.items() if all(c in columns for c in cols)), None)
    if layout is None:
        raise MetaInputError(
            "header",
            "expected columns study,events,n or study,ai,n1,ci,n2 or study,yi,vi; got " + ",".join(columns),
        )
    rows = []
    for lineno, raw in enumerate(reader, start=2):
        if None in raw:
            # csv.DictReader files surplus fields under None; dropping them would hide a shifted row
            raise MetaInputError("header", f"line {lineno}: more fields than the header's {len(columns)}")
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        for col in (*LAYOUTS[layout], "study"):
            if not row.get(col):
                raise MetaInputError(col, f"line {lineno}: empty")
        rows.append(row)
    if not rows:
        raise MetaInputError("study", "no data rows")
    return Table(layout, columns, tuple(rows))


def read_table(path: str | Path) -> Table:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MetaInputError("FILE", f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise MetaInputError("FILE", f"{path} is not UTF-8 text") from None
    return parse_table(text)


def default_measure(table: Table) -> Measure:
    return {"proportion": Measure.PLO, "two_group": Measure.RR, "generic": Measure.GEN}[table.layout]


def effect_sizes(table: Table, measure: Measure | str | None = None) -> EffectSizes:
    """The table's effect sizes on ``measure`` (default: PLO, RR or GEN by layout)."""
    m = default_measure(table) if measure is None else Measure(measure)
    study = table.column("study")
    if table.layout == "proportion":
        if m not in SINGLE_GROUP:
            raise MetaInputError("measure", f"{m} does not apply to study,events,n (use PR, PLO, PFT or PAS)")
        return proportions(m, table.numbers("events"), table.numbers("n"), study)
    if table.layout == "two_group":
        if m not in TWO_GROUP:
            raise MetaInputError("measure", f"{m} does not apply to study,ai,n1,ci,n2 (use RR, OR or RD)")
        return two_groups(
            m, table.numbers("ai"), table.numbers("n1"), table.numbers("ci"), table.numbers("n2"), study
        )
    ni = table.numbers("n") if "n" in table.columns else None
    return generic(table.numbers("yi"), table.numbers("vi"), study, measure=m, ni=ni)
