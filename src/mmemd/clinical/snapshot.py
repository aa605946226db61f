"""One assessment in canonical units — the input of the IMWG response engine.

`assessment.py` builds one :class:`Snapshot` per record assessment; the response engine
(`response.py`) reads nothing else. Units are the canonical units of docs/criteria.md §1.1, every
quantity is a :class:`~decimal.Decimal` (exact threshold comparisons, §1.5 "Floating point"), and
``None`` means "not known" — never normal or negative (docs/record.md, Rules).

Both are named tuples: immutable like a frozen dataclass and read by field name, but built as one tuple — a frozen
dataclass sets each of its 21 fields through ``object.__setattr__`` (about 4 µs a snapshot against 0.6 µs, and the
engine builds one per assessment of every record).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, NamedTuple

__all__ = ["PlasmacytomaMeasure", "Snapshot"]


class PlasmacytomaMeasure(NamedTuple):
    """Bidimensional measurement of one soft-tissue plasmacytoma at one date (docs/criteria.md §1.3, rule 5)."""

    lesion: str  # lesion id from record.lesions
    longest_cm: Decimal
    perpendicular_cm: (
        Decimal  # used as the lesion's short axis (docs/criteria.md §1.3 PD (b)); 0 x 0 = disappeared
    )


class Snapshot(NamedTuple):  # one assessment, canonical units (docs/criteria.md §1.1), Decimal everywhere
    """One response assessment. A lesion absent from ``plasmacytomas`` was not imaged at that date."""

    date: date
    baseline: bool  # True for the record's baseline assessment (explicit "baseline": true, else the first)
    serum_m_protein_g_dl: Decimal | None
    urine_m_protein_mg_24h: Decimal | None
    serum_ife_positive: bool | None
    urine_ife_positive: bool | None
    flc_kappa_mg_dl: Decimal | None
    flc_lambda_mg_dl: Decimal | None
    flc_involved: Literal["kappa", "lambda"] | None
    bone_marrow_plasma_cells_pct: Decimal | None
    bone_marrow_clonal_by_ihc: bool | None
    bone_marrow_kappa_lambda_ratio_ihc: Decimal | None
    bone_marrow_plasma_cells_counted: int | None
    circulating_plasma_cells_per_ul: Decimal | None
    circulating_plasma_cells_pct: Decimal | None
    plasmacytomas: tuple[PlasmacytomaMeasure, ...]
    new_lesion: bool | None
    mrd_method: Literal["NGF", "NGS"] | None
    mrd_negative: bool | None
    mrd_sensitivity: Decimal | None
    pet_negative: bool | None
