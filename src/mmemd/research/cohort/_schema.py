"""The cohort schema (``mmemd.cohort/1``): the registry tables ``mmemd cohort analyze`` reads (docs/cohort.md).

Four tables and one optional table, in the field's own words and the units of docs/criteria.md §1.1 — the same
vocabulary as the single-patient record (docs/record.md), flattened to one row per fact so a registry export or a
database view maps onto it directly:

- ``patients``: one row per patient, values at diagnosis, end of follow-up.
- ``assessments``: one row per response assessment, tagged with the line of therapy it evaluates; the first
  assessment of a line is that line's response baseline (docs/record.md "assessments").
- ``lesions``: plasmacytomas (soft-tissue or bone), when and how they were found.
- ``events``: progression and death, the end points of PFS and OS.
- ``plasmacytoma_measurements`` (optional): the two diameters of a lesion at an assessment date, for the IMWG
  plasmacytoma rules (docs/criteria.md §1.3, general rule 5). Without it, response is read from the laboratory
  parameters only, and the report says so.

This module is data only: the column definitions and their value sets. Validation against a table lives in
``_validate.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "COHORT_SCHEMA",
    "OPTIONAL_TABLES",
    "TABLES",
    "Column",
    "ColumnType",
    "Table",
    "schema_markdown",
]

COHORT_SCHEMA: Final = "mmemd.cohort/1"

ColumnType = Literal["string", "int", "float", "date", "bool"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False
    """A null is an error. Otherwise null means "not known" (docs/record.md, Rules), never normal or negative."""
    unit: str | None = None
    values: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Columns that identify a row; unique within the table."""
    references_patients: bool = True
    """``patient_id`` must name a row of ``patients``."""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_PID = Column("patient_id", "string", "Patient identifier (pseudonymous).", required=True)
_IFE = ("positive", "negative")

PATIENTS: Final = Table(
    "patients",
    "One row per patient. Values are those at diagnosis (docs/record.md: labs and cytogenetics at diagnosis).",
    (
        _PID,
        Column("sex", "string", "Sex.", values=("female", "male")),
        Column("age_at_diagnosis", "int", "Age at diagnosis.", unit="years", minimum=0, maximum=120),
        Column(
            "diagnosis_date", "date", "Date of the myeloma diagnosis; time zero of PFS and OS.", required=True
        ),
        Column("iss", "string", "ISS stage at diagnosis (docs/criteria.md §2.1).", values=("I", "II", "III")),
        Column(
            "r_iss",
            "string",
            "R-ISS stage at diagnosis (docs/criteria.md §2.2).",
            values=("I", "II", "III"),
        ),
        Column("high_risk", "bool", "High-risk myeloma at diagnosis, IMS/IMWG 2025 (docs/criteria.md §2.4)."),
        Column(
            "last_contact_date",
            "date",
            "Last date the patient was known alive, or the date of death: end of follow-up (censoring date).",
            required=True,
        ),
    ),
    key=("patient_id",),
    references_patients=False,
)

ASSESSMENTS: Final = Table(
    "assessments",
    "One row per response assessment. Units are the canonical ones of docs/criteria.md §1.1.",
    (
        _PID,
        Column(
            "line",
            "int",
            "Line of therapy the assessment evaluates (1 = first line). The earliest assessment of a line is its "
            "response baseline.",
            required=True,
            minimum=1,
        ),
        Column("date", "date", "Assessment date.", required=True),
        Column("serum_m_protein_g_dl", "float", "Serum M-protein (electrophoresis).", unit="g/dL", minimum=0),
        Column("urine_m_protein_mg_24h", "float", "24-h urine M-protein.", unit="mg/24h", minimum=0),
        Column("serum_ife", "string", "Serum immunofixation.", values=_IFE),
        Column("urine_ife", "string", "Urine immunofixation.", values=_IFE),
        Column("flc_kappa_mg_dl", "float", "Serum free light chain kappa.", unit="mg/dL", minimum=0),
        Column("flc_lambda_mg_dl", "float", "Serum free light chain lambda.", unit="mg/dL", minimum=0),
        Column("flc_involved", "string", "Involved (clonal) light chain.", values=("kappa", "lambda")),
        Column(
            "bone_marrow_plasma_cells_pct",
            "float",
            "Bone-marrow plasma cells.",
            unit="%",
            minimum=0,
            maximum=100,
        ),
        Column("new_lesion", "bool", "A new bone lesion or plasmacytoma was found at this assessment."),
    ),
    key=("patient_id", "line", "date"),
)

LESIONS: Final = Table(
    "lesions",
    "Plasmacytomas: soft-tissue (extramedullary or paraskeletal) and bone (docs/record.md 'lesions').",
    (
        _PID,
        Column("lesion_id", "string", "Lesion identifier, unique within the patient.", required=True),
        Column("site", "string", "Body site, knowledge-base site id (e.g. skin, liver, cns); open-ended."),
        Column(
            "relation_to_bone",
            "string",
            "none = extraosseous (true EMD); arising_from_bone = paraskeletal; intraosseous = bone plasmacytoma "
            "(docs/criteria.md §3.1).",
            values=("none", "arising_from_bone", "intraosseous"),
        ),
        Column(
            "detected_at",
            "string",
            "diagnosis (primary EMD) or relapse (secondary EMD) (docs/criteria.md §3.1 'Timing').",
            required=True,
            values=("diagnosis", "relapse"),
        ),
        Column("detected_on", "date", "Date the lesion was found."),
        Column("cns", "bool", "Brain, leptomeningeal or CSF involvement."),
        Column("biopsy_proven", "bool", "Histologically confirmed."),
    ),
    key=("patient_id", "lesion_id"),
)

EVENTS: Final = Table(
    "events",
    "Progression (IMWG PD or relapse) and death: the end points of PFS and OS.",
    (
        _PID,
        Column("event", "string", "Event type.", required=True, values=("progression", "death")),
        Column("date", "date", "Event date.", required=True),
        Column("line", "int", "Line of therapy on which a progression occurred.", minimum=1),
    ),
    key=("patient_id", "event", "date"),
)

PLASMACYTOMA_MEASUREMENTS: Final = Table(
    "plasmacytoma_measurements",
    "Optional. Bidimensional measurement of a lesion at an assessment date (docs/criteria.md §1.3 rule 5); "
    "0 x 0 = disappeared.",
    (
        _PID,
        Column("lesion_id", "string", "Lesion measured (lesions.lesion_id).", required=True),
        Column("date", "date", "Measurement date (matched to the assessment of that date).", required=True),
        Column("longest_cm", "float", "Longest diameter.", required=True, unit="cm", minimum=0),
        Column("perpendicular_cm", "float", "Perpendicular diameter.", required=True, unit="cm", minimum=0),
    ),
    key=("patient_id", "lesion_id", "date"),
)

TABLES: Final[tuple[Table, ...]] = (PATIENTS, ASSESSMENTS, LESIONS, EVENTS, PLASMACYTOMA_MEASUREMENTS)
OPTIONAL_TABLES: Final = frozenset({"plasmacytoma_measurements"})
BY_NAME: Final = {t.name: t for t in TABLES}


def schema_markdown() -> str:
    """The schema as Markdown tables (docs/cohort.md is generated from this and checked by a test)."""
    out: list[str] = []
    for t in TABLES:
        opt = " (optional)" if t.name in OPTIONAL_TABLES else ""
        out.append(f"### `{t.name}`{opt}\n\n{t.description} Key: `{', '.join(t.key)}`.\n")
        out.append("| column | type | unit | required | values | description |")
        out.append("|---|---|---|---|---|---|")
        for c in t.columns:
            vals = " \\| ".join(c.values) if c.values else ""
            if c.minimum is not None or c.maximum is not None:
                rng = f"{'' if c.minimum is None else f'{c.minimum:g}'}–{'' if c.maximum is None else f'{c.maximum:g}'}"
                vals = f"{vals} {rng}".strip()
            out.append(
                f"| `{c.name}` | {c.type} | {c.unit or ''} | {'yes' if c.required else ''} | {vals} | "
                f"{c.description} |"
            )
        out.append("")
    return "\n".join(out)
