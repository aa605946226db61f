"""What the engine decided, beside the assessment, as the report and the other clinician outputs read it: the
record's serial measurements with the category of each date, and the record fields the engine could not decide
without. A light module (no advice, no knowledge base): the Chinese text summary imports it on its own path."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmemd.clinical.assessment import Assessment
    from mmemd.clinical.record import PatientRecord

_MISSING_FIELD = re.compile(
    r"\b((?:cytogenetics|labs|diagnosis)\.[a-z0-9_]+|transplant_eligible|therapy_history)\b"
)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One response assessment in canonical units (docs/criteria.md §1.1)."""

    date: _dt.date
    category: str | None
    serum_m_g_dl: Decimal | None
    urine_m_mg_24h: Decimal | None
    flc_involved_mg_dl: Decimal | None
    spd_cm2: Decimal | None


def num(d: Decimal) -> str:
    """A Decimal without exponent or trailing zeros (85.2, 47, 0.5)."""
    s = format(d.normalize(), "f")
    return s


def series_of(record: PatientRecord, a: Assessment) -> tuple[SeriesPoint, ...]:
    """The record's serial measurements, each with the response category the engine gave its date."""
    cats = {t.date: t.category for t in a.response.timeline}
    out: list[SeriesPoint] = []
    for x in sorted(record.assessments or (), key=lambda x: x.date):
        flc: Decimal | None = None
        f = x.free_light_chains
        if f is not None and f.involved is not None:
            q = f.kappa if f.involved == "kappa" else f.lambda_
            flc = q.canonical() if q is not None else None
        spd: Decimal | None = None
        if x.plasmacytomas is not None:
            # SPD: sum of the products of the two diameters (docs/criteria.md §1.1).
            spd = sum((p.longest_cm * p.perpendicular_cm for p in x.plasmacytomas), Decimal(0))
        out.append(
            SeriesPoint(
                date=x.date,
                category=cats.get(x.date),
                serum_m_g_dl=x.serum_m_protein.canonical() if x.serum_m_protein else None,
                urine_m_mg_24h=x.urine_m_protein.canonical() if x.urine_m_protein else None,
                flc_involved_mg_dl=flc,
                spd_cm2=spd,
            )
        )
    return tuple(out)


def missing_fields(a: Assessment) -> tuple[str, ...]:
    """Record fields the engine could not decide without (named in its reasons), in order of first mention."""
    seen: dict[str, None] = {}
    for line in (*a.emd.reasons, *a.staging.reasons):
        if "missing" in line or "unknown" in line or "not recorded" in line or "undecided" in line:
            for m in _MISSING_FIELD.finditer(line):
                seen.setdefault(m.group(1), None)
    return tuple(seen)
