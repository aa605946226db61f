"""Code tables of the FHIR adapter: LOINC, ICD-10, SNOMED CT, ATC, UCUM and the mmemd code system (docs/fhir.md).

Provenance: the LOINC Observation codes, finding values and SNOMED CT body sites are reviewed data in ``data/``
(``loinc.yaml``, ``sites.yaml``), each row naming the page it was checked on or marked ``memory`` and listed in
docs/fhir.md; ATC codes come through the knowledge-base vocabulary; the NCIt staging codes are those of HL7 mCODE
(Myeloma ISS/RISS Stage profiles). A body site is also matched by its text, so a wrong code fails safe (no site,
with a reason) rather than mapping to a wrong site.
What no standard code covers (IFE result, MRD, lesion attributes, therapy lines, cytogenetics by FISH) uses the
mmemd code system below, each code named exactly as the ``mmemd.patient/1`` field it fills.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from mmemd.fhir import _tables as T

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
ATC: Final = "http://www.whocc.no/atc"
NCIT: Final = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DATA_ABSENT: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# The mmemd code system and extensions: URNs, so nothing suggests a resolvable web address mmemd does not own.
MMEMD: Final = "urn:mmemd:fhir:CodeSystem:mmemd"
EXT_LESION: Final = "urn:mmemd:fhir:StructureDefinition:lesion"
EXT_THERAPY_LINE: Final = "urn:mmemd:fhir:StructureDefinition:therapy-line"
# meta.tag of the Observations mmemd exports (assessment results): read back as derived values.
RESULT_TAG: Final = "assessment-result"

# A staging lab or cytogenetic finding counts as "at diagnosis" (docs/record.md: labs and cytogenetics are the
# values at diagnosis) when measured within this many days of the diagnosis date, before or after; the one closest to
# the date wins. [I] — the spec gives no window; 30 days covers a diagnostic work-up. Same window as a value's
# "diagnosis" side of the record (clonal marrow plasma cells, circulating plasma cells).
DIAGNOSIS_WINDOW_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class Target:
    """What an Observation code fills: ``kind`` selects the mapping rule, ``field`` the record field."""

    kind: str
    field: str


def _t(kind: str, field: str) -> Target:
    return Target(kind, field)


# --- Observation codes ------------------------------------------------------------------------------------------

# LOINC Observation codes, the tumour-size components (mCODE Tumor Size: longest and additional dimension): reviewed
# data in ``data/loinc.yaml``, each row with the page it was checked on.
LOINC_CODES: Final[Mapping[str, Target]] = MappingProxyType(
    {r.code: Target(r.target, str(r.field)) for r in T.table("loinc.yaml")}
)
_COMPONENTS: Final = {str(r.field): r.code for r in T.table("loinc.yaml", "tumor_size_components")}
LOINC_LONGEST: Final = _COMPONENTS["longest_cm"]
LOINC_PERPENDICULAR: Final = _COMPONENTS["perpendicular_cm"]

# Codes the spec says must not be accepted (docs/criteria.md §4.2).
REJECTED_LOINC: Final[Mapping[str, str]] = MappingProxyType(
    {
        "32730-5": "urine M-protein code found in one repository only, unverified (docs/criteria.md §4.2)",
        "33944-8": "not a LOINC code (seeded demo concept), never a free light chain (docs/criteria.md §4.2)",
        "33945-5": "not a LOINC code (seeded demo concept), never a free light chain (docs/criteria.md §4.2)",
    }
)

CYTOGENETIC_FIELDS: Final = ("del_17p", "tp53_mutation", "t_4_14", "t_14_16", "t_14_20", "t_11_14", "gain_1q")

MMEMD_CODES: Final[Mapping[str, Target]] = MappingProxyType(
    {
        "serum_ife": _t("ife", "serum_ife"),
        "urine_ife": _t("ife", "urine_ife"),
        "flc_involved_chain": _t("involved", "involved"),
        "bone_marrow_clonal_by_ihc": _t("bool", "bone_marrow_clonal_by_ihc"),
        "bone_marrow_kappa_lambda_ratio_ihc": _t("ratio", "bone_marrow_kappa_lambda_ratio_ihc"),
        "bone_marrow_plasma_cells_counted": _t("count", "bone_marrow_plasma_cells_counted"),
        "circulating_plasma_cells_per_ul": _t("quantity", "circulating_plasma_cells_per_ul"),
        "circulating_plasma_cells_pct": _t("percent", "circulating_plasma_cells_pct"),
        "new_lesion": _t("bool", "new_lesion"),
        "pet_negative": _t("bool", "pet_negative"),
        "response_baseline": _t("bool", "baseline"),
        "mrd": _t("mrd", "mrd"),
        "plasmacytoma_size": _t("tumor_size", "plasmacytomas"),
        "no_plasmacytoma": _t("no_plasmacytoma", "lesions"),
        "transplant_eligible": _t("patient_bool", "transplant_eligible"),
        "myeloma_defining_events": _t("mde", "myeloma_defining_events"),
        "del_17p_clonal_fraction_pct": _t("cyto_fraction", "del_17p_clonal_fraction_pct"),
        "del_1p32": _t("del_1p32", "del_1p32"),
        "cytogenetics": _t("cyto_panel", "cytogenetics"),
        **{f: _t("cyto", f) for f in CYTOGENETIC_FIELDS},
    }
)
MRD_SENSITIVITY: Final = "mrd_sensitivity"

# Finding values: detected / positive and not detected / negative (``data/loinc.yaml`` ``findings``).
_FINDINGS: Final = T.table("loinc.yaml", "findings")
POSITIVE_CODES: Final = frozenset((r.system, r.code) for r in _FINDINGS if r.target == "finding_positive")
NEGATIVE_CODES: Final = frozenset((r.system, r.code) for r in _FINDINGS if r.target == "finding_negative")
POSITIVE_TEXT: Final = frozenset({"detected", "positive", "present", "yes", "阳性", "pos"})
NEGATIVE_TEXT: Final = frozenset({"not detected", "negative", "absent", "no", "阴性", "neg", "none detected"})

# --- Conditions ---------------------------------------------------------------------------------------------------

SNOMED_MULTIPLE_MYELOMA: Final = "109989006"  # docs/criteria.md §4.3
PLASMACYTOMA_CODE: Final = (
    "plasmacytoma"  # mmemd code of a lesion Condition (a structured finding, §4.1 note)
)


def icd10_kind(code: str) -> tuple[str, str | None] | None:
    """``(kind, remission digit)`` of an ICD-10(-CM) C90 code: kind myeloma | pcl | extramedullary_plasmacytoma |
    solitary_plasmacytoma; the ICD-10-CM 5th character (0 not in remission, 1 in remission, 2 in relapse)."""
    c = code.replace(".", "").strip().upper()
    kinds = {
        "C900": "myeloma",
        "C901": "pcl",
        "C902": "extramedullary_plasmacytoma",
        "C903": "solitary_plasmacytoma",
    }
    kind = kinds.get(c[:4])
    if kind is None or len(c) > 5:
        return None
    return kind, (c[4] if len(c) == 5 else None)


# --- body sites (SNOMED CT) -> knowledge-base site ids: reviewed data in ``data/sites.yaml`` ------------------------

_SITE_ROWS: Final = T.table("sites.yaml")
# Every concept of the shipped subset -> its site (its own or its nearest ancestor's): matched by concept or ancestor.
SNOMED_SITES: Final[Mapping[str, str]] = MappingProxyType(
    {r.code: site for r in _SITE_ROWS if (site := T.site_of_concept(_SITE_ROWS, r.code)) is not None}
)
# The code the export writes for a site: the first row that names the site itself.
SITE_SNOMED: Final[Mapping[str, str]] = MappingProxyType(
    {str(r.site): r.code for r in reversed(_SITE_ROWS) if r.site is not None}
)


def _norm(text: str) -> str:
    t = text.strip().lower()
    t = re.sub(r"\s*\((body structure|disorder|procedure|substance|product)\)$", "", t)
    t = re.sub(r"^(structure of|entire)\s+|\s+structure$", "", t)
    return re.sub(r"[\s_-]+", " ", t).strip()


@lru_cache(maxsize=1)
def site_names() -> Mapping[str, str]:
    """Normalised site names (id, English, Chinese, aliases) -> site id, from the knowledge-base vocabulary."""
    from mmemd.knowledge import vocabulary

    out: dict[str, str] = {}
    for s in vocabulary().sites.values():
        for name in s.names():
            out.setdefault(_norm(name), s.id)
    return MappingProxyType(out)


# Laterality says which side, not which site: "right pleura", "左侧乳腺", "右侧胸膜" name the pleura / breast.
_LATERALITY: Final = re.compile(r"^(left|right|bilateral|both)\s+|^(左侧|右侧|双侧|左|右|双)")


def site_from_text(text: str) -> str | None:
    """The site a body site's whole name names: a vocabulary name, or the display of a SNOMED CT body structure of the
    shipped subset ("Stomach structure", "Entire esophagus": the site of its nearest listed ancestor)."""
    n = _norm(text)
    names = _all_site_names()
    found = names.get(n)
    if found is None and (m := _LATERALITY.match(n)) is not None:
        found = names.get(n[m.end() :].strip())
    return found


@lru_cache(maxsize=1)
def _all_site_names() -> Mapping[str, str]:
    out = dict(site_names())
    for site, names in T.site_aliases().items():
        for name in names:
            out.setdefault(_norm(name), site)
    for r in _SITE_ROWS:
        of_row = SNOMED_SITES.get(r.code)
        if of_row is not None:
            out.setdefault(_norm(r.display), of_row)
    return MappingProxyType(out)


# Names too general to find inside a longer text: "bone" / 骨 (骨髓瘤 is myeloma, not a bone lesion), "sinus".
_NOT_IN_TEXT: Final = frozenset({"bone", "骨", "bone (intraosseous)", "sinus"})


@lru_cache(maxsize=1)
def _site_scan() -> re.Pattern[str]:
    names = [n for n in _all_site_names() if n not in _NOT_IN_TEXT]
    latin = sorted(
        (n for n in names if not re.search(r"[\u4e00-\u9fff]", n) and len(n) >= 4), key=len, reverse=True
    )
    cjk = sorted((n for n in names if re.search(r"[\u4e00-\u9fff]", n)), key=len, reverse=True)
    alternatives = [r"(?<![a-z])" + re.escape(n) + r"(?![a-z])" for n in latin] + [re.escape(n) for n in cjk]
    return re.compile("|".join(alternatives), re.I)


def site_in_text(text: str) -> str | None:
    """The one site named inside a longer text ("Extramedullary plasmacytoma of the pleura", "胸膜髓外浆细胞瘤",
    "右侧乳腺肿物"), longest names first; None when none or more than one site is named."""
    t = re.sub(r"[\s_-]+", " ", text.lower())
    found = {_all_site_names()[m.group(0).lower()] for m in _site_scan().finditer(t)}
    return found.pop() if len(found) == 1 else None


# --- agents and procedures ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def atc_agents() -> tuple[Mapping[str, str], Mapping[str, str]]:
    """(current ATC -> agent id, pre-2022 ATC -> agent id) from the vocabulary (docs/criteria.md §4.4)."""
    from mmemd.knowledge import vocabulary

    cur: dict[str, str] = {}
    legacy: dict[str, str] = {}
    for a in vocabulary().agents.values():
        if a.atc:
            cur[a.atc] = a.id
        if a.atc_legacy:
            legacy[a.atc_legacy] = a.id
    return MappingProxyType(cur), MappingProxyType(legacy)


@lru_cache(maxsize=1)
def therapy_names() -> Mapping[str, str]:
    """Normalised names of agents and procedures -> therapy id. Aliases shorter than 3 characters (regimen letters
    such as ``d``, ``R``, ``P``) are left out: as a medication's whole name they would be guesses."""
    from mmemd.knowledge import vocabulary

    v = vocabulary()
    out: dict[str, str] = {}
    for table in (v.agents, v.procedures):
        for t in table.values():
            for name in t.names():
                if len(name) >= 3 or name == t.id:
                    out.setdefault(_norm(name), t.id)
    return MappingProxyType(out)


def therapy_from_text(text: str) -> str | None:
    return therapy_names().get(_norm(text))


@lru_cache(maxsize=1)
def _agent_name_pattern() -> tuple[re.Pattern[str], Mapping[str, str]]:
    """One pattern over every agent's English and Chinese names and aliases (at least 4 Latin letters or 2 Chinese
    characters, so regimen letters never match): Latin names as whole words, Chinese names anywhere (Chinese has no
    word spaces: 注射用硼替佐米, 来那度胺胶囊)."""
    from mmemd.knowledge import vocabulary

    names: dict[str, str] = {}
    for a in vocabulary().agents.values():
        for name in (a.en, a.zh, *a.aliases):
            n = name.strip().lower()
            chinese = bool(re.search(r"[\u4e00-\u9fff]", n))
            if (chinese and len(n) >= 2) or (not chinese and len(n) >= 4):
                names.setdefault(n, a.id)
    alternatives = sorted(names, key=len, reverse=True)
    latin = [re.escape(n) for n in alternatives if not re.search(r"[\u4e00-\u9fff]", n)]
    cjk = [re.escape(n) for n in alternatives if re.search(r"[\u4e00-\u9fff]", n)]
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(latin) + r")(?![a-z0-9])|" + "|".join(cjk), re.I)
    return pattern, MappingProxyType(names)


@lru_cache(maxsize=1)
def _regimen_names() -> tuple[Mapping[str, tuple[str, ...]], Mapping[str, tuple[str, ...]]]:
    """(abbreviations as written, full English / Chinese names normalised) -> the regimen's components."""
    from mmemd.knowledge import vocabulary

    short: dict[str, tuple[str, ...]] = {}
    full: dict[str, tuple[str, ...]] = {}
    for r in vocabulary().regimens.values():
        for name in r.aliases:
            short.setdefault(name.strip(), tuple(r.components))
        for name in (r.en, r.zh):
            full.setdefault(_norm(name), tuple(r.components))
    return MappingProxyType(short), MappingProxyType(full)


_REGIMEN_WORD: Final = re.compile(r"\s*(regimen|protocol|chemotherapy|therapy|方案|化疗|治疗)$", re.I)


def regimen_from_text(text: str) -> tuple[str, ...]:
    """The components of the vocabulary regimen a medication's whole text names ("VRd", "DRd regimen",
    "来那度胺-硼替佐米-地塞米松方案"); empty when it names none. Abbreviations match as written or upper-cased only
    when the vocabulary lists that spelling (VRD, DARA-RD), so "Pd" is not "PD"."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = _REGIMEN_WORD.sub("", t)
    short, full = _regimen_names()
    return short.get(t) or full.get(_norm(t), ())


def agents_in_product_name(text: str) -> set[str]:
    """Vocabulary agents named inside a product name ("Pomalidomide 4 MG Oral Capsule", "注射用硼替佐米",
    "Dexamethasone 40 mg"); empty when none is named."""
    pattern, names = _agent_name_pattern()
    return {names[m.group(0).lower()] for m in pattern.finditer(text)}


# --- units (UCUM) -------------------------------------------------------------------------------------------------

# Mass concentration in g/L per unit: conversions between them are exact powers of ten.
_MASS_G_PER_L: Final[Mapping[str, Decimal]] = MappingProxyType(
    {
        "g/L": Decimal(1),
        "g/dL": Decimal(10),
        "mg/mL": Decimal(1),
        "mg/dL": Decimal("0.01"),
        "mg/L": Decimal("0.001"),
        "ug/mL": Decimal("0.001"),
    }
)
# UCUM spellings that are the record's own units under another spelling (docs/record.md units; units.py).
_SPELLING: Final[Mapping[str, str]] = MappingProxyType(
    {"mg/(24.h)": "mg/24h", "mg/24.h": "mg/24h", "mg/d": "mg/24h", "umol/L": "µmol/L"}
)
# Other exact conversions to a record unit: unit -> (record unit, factor).
_EXTRA: Final[Mapping[str, Mapping[str, tuple[str, Decimal]]]] = MappingProxyType(
    {
        # g/24h: the spelling of Chinese laboratory systems (UCUM writes g/(24.h)).
        "urine_m_protein": {
            "g/(24.h)": ("mg/24h", Decimal(1000)),
            "g/d": ("mg/24h", Decimal(1000)),
            "g/24h": ("mg/24h", Decimal(1000)),
        },
        "creatinine": {"mmol/L": ("µmol/L", Decimal(1000))},
        "calcium": {"umol/L": ("mmol/L", Decimal("0.001"))},
    }
)
# Cells per µL: 1 mm3 = 1 µL; 10*9/L = 10*3/uL.
_PER_UL: Final[Mapping[str, Decimal]] = MappingProxyType(
    {
        "/uL": Decimal(1),
        "{cells}/uL": Decimal(1),
        "/mm3": Decimal(1),
        "10*6/L": Decimal(1),
        "10*3/uL": Decimal(1000),
        "10*9/L": Decimal(1000),
    }
)
LENGTH_CM: Final[Mapping[str, Decimal]] = MappingProxyType({"cm": Decimal(1), "mm": Decimal("0.1")})

# Record field -> analyte of mmemd.clinical.units.
FIELD_ANALYTE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "serum_m_protein": "serum_m_protein",
        "urine_m_protein": "urine_m_protein",
        "kappa": "free_light_chain",
        "lambda": "free_light_chain",
        "beta2_microglobulin": "beta2_microglobulin",
        "albumin": "albumin",
        "ldh": "ldh",
        "creatinine": "creatinine",
        "calcium": "calcium",
        "hemoglobin": "hemoglobin",
    }
)


@dataclass(frozen=True, slots=True)
class UnitMapping:
    unit: str  # the record's unit spelling
    factor: Decimal  # record value = FHIR value * factor (exact)


def record_unit(field: str, ucum: str) -> UnitMapping | None:
    """How a FHIR quantity in ``ucum`` becomes a record quantity of ``field``; None when not exactly convertible.

    Units the record accepts are kept as they are (the record converts them itself, units.py); other units are
    converted only by exact powers of ten between units of the same dimension. Nothing else is assumed: molar units
    of mass analytes (need a molar mass), IU/L for LDH, concentrations for a 24-hour urine amount are refused.
    """
    exact = _record_unit(field, ucum)
    if exact is not None:
        return exact
    # The micro prefix written µ (micro sign) or μ (Greek mu, what NFKC makes of it) is UCUM's "u": µg/mL = ug/mL.
    micro = re.sub("[µμ]", "u", ucum)
    if micro != ucum and (m := _record_unit(field, micro)) is not None:
        return m
    # UCUM's case-insensitive form (g/dl = g/dL): tried only when exactly one accepted spelling matches.
    for spelling in dict.fromkeys((ucum, micro)):
        same = {u for u in _known_units(field) if u.lower() == spelling.lower()}
        if len(same) == 1:
            return _record_unit(field, same.pop())
    return None


def _known_units(field: str) -> list[str]:
    from mmemd.clinical.units import ANALYTES

    if field == "circulating_plasma_cells_per_ul":
        return list(_PER_UL)
    spec = ANALYTES[FIELD_ANALYTE[field]]
    return [*spec.conversions, *_SPELLING, *_EXTRA.get(spec.field, {}), *_MASS_G_PER_L]


def _record_unit(field: str, ucum: str) -> UnitMapping | None:
    from mmemd.clinical.units import ANALYTES

    if field == "circulating_plasma_cells_per_ul":
        f = _PER_UL.get(ucum)
        return None if f is None else UnitMapping("/uL", f)
    spec = ANALYTES[FIELD_ANALYTE[field]]
    unit = _SPELLING.get(ucum, ucum)
    if unit in spec.conversions:
        return UnitMapping(unit, Decimal(1))
    extra = _EXTRA.get(spec.field, {}).get(ucum)
    if extra is not None:
        return UnitMapping(extra[0], extra[1])
    if ucum in _MASS_G_PER_L and spec.canonical in _MASS_G_PER_L:
        return UnitMapping(spec.canonical, _MASS_G_PER_L[ucum] / _MASS_G_PER_L[spec.canonical])
    return None


def accepted_units(field: str) -> str:
    from mmemd.clinical.units import ANALYTES

    if field == "circulating_plasma_cells_per_ul":
        return ", ".join(_PER_UL)
    spec = ANALYTES[FIELD_ANALYTE[field]]
    units = [*spec.conversions, *(u for u, r in _SPELLING.items() if r in spec.conversions)]
    units += list(_EXTRA.get(spec.field, {}))
    if spec.canonical in _MASS_G_PER_L:
        units += list(_MASS_G_PER_L)
    return ", ".join(dict.fromkeys(units))


# Record unit -> UCUM (for record_to_bundle and the export).
UCUM_OF: Final[Mapping[str, str]] = MappingProxyType(
    {"mg/24h": "mg/(24.h)", "mg/24 h": "mg/(24.h)", "µmol/L": "umol/L", "μmol/L": "umol/L", "/uL": "/uL"}
)

# --- export ------------------------------------------------------------------------------------------------------

NCIT_ISS: Final = "C139007"  # International Staging System Stage (mCODE Myeloma ISS Stage)
NCIT_RISS: Final = "C141392"  # Revised International Staging System Stage (mCODE Myeloma RISS Stage)
NCIT_ISS_STAGES: Final[Mapping[str, str]] = MappingProxyType({"I": "C70658", "II": "C70659", "III": "C70660"})
NCIT_RISS_STAGES: Final[Mapping[str, str]] = MappingProxyType(
    {"I": "C141394", "II": "C141395", "III": "C141396"}
)
