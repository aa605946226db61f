"""Reviewed code tables of the FHIR adapter, read from ``fhir/data/*.yaml`` (docs/fhir.md, "Code tables").

Each row carries the page where its code was checked (``source``); a row that could not be checked says
``source: memory`` and is listed in docs/fhir.md. ``systems.yaml`` maps every spelling of a code system an EHR may
send (FHIR URI, ``urn:oid:``, bare OID) to one canonical URI; ``diagnoses.yaml`` holds ICD-10 categories,
Chinese clinical-edition codes, ICD-O-3 morphologies and SNOMED disorders; ``observations.yaml`` the standard
Observation codes and extensions read besides mmemd's own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

import yaml

ICD_O_3: Final = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10_CN: Final = "icd-10-cn"  # the Chinese clinical edition: a table label, not a URI an EHR sends


@dataclass(frozen=True, slots=True)
class Row:
    """One reviewed code: what it is (system, code, display) and what the import makes of it (target, site)."""

    code: str
    system: str
    display: str
    target: str
    source: str
    version: str | None = None
    site: str | None = None
    value: int | None = None
    field: str | None = None  # the record field an Observation code fills (loinc.yaml)
    agent: str | None = None  # the vocabulary therapy id a procedure code names (procedures.yaml)
    parent: str | None = None  # sites.yaml: the ancestor concept whose site a descendant takes


def _load(name: str) -> dict[str, Any]:
    text = resources.files("mmemd.fhir").joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _row(raw: Mapping[str, Any], default_system: str = "") -> Row:
    return Row(
        code=str(raw["code"]),
        system=str(raw.get("system", default_system)),
        display=str(raw["display"]),
        target=str(raw["target"]),
        source=str(raw["source"]),
        version=str(raw["version"]) if raw.get("version") is not None else None,
        site=str(raw["site"]) if raw.get("site") is not None else None,
        value=int(raw["value"]) if raw.get("value") is not None else None,
        field=str(raw["field"]) if raw.get("field") is not None else None,
        agent=str(raw["agent"]) if raw.get("agent") is not None else None,
        parent=str(raw["parent"]) if raw.get("parent") is not None else None,
    )


@lru_cache(maxsize=1)
def all_rows() -> tuple[Row, ...]:
    """Every row of every table (for the hygiene tests and docs/fhir.md's list of unverified rows)."""
    out: list[Row] = []
    for s in _load("systems.yaml")["systems"]:
        out.append(Row(str(s["code"]), "system", str(s["display"]), "system", str(s["source"])))
    out += [_row(r) for r in _load("diagnoses.yaml")["rows"]]
    obs = _load("observations.yaml")
    out += [_row(r) for r in obs["rows"]]
    out += [_row(r) for r in obs["ecog"]]
    out += [_row(r) for r in obs["studied_genes"]]
    out += [_row(r, "extension") for r in obs["extensions"]]
    out += [_row(r) for r in _load("reports.yaml")["rows"]]
    loinc = _load("loinc.yaml")
    out += [_row(r) for key in ("rows", "tumor_size_components", "findings") for r in loinc[key]]
    out += [_row(r) for r in _load("sites.yaml")["rows"]]
    out += [_row(r) for r in _load("procedures.yaml")["rows"]]
    rx = _load("rxnorm.yaml")
    out += [_row(r) for key in ("rows", "products") for r in rx[key]]
    return tuple(out)


def table(name: str, key: str = "rows") -> tuple[Row, ...]:
    """The rows of one table, in file order (``loinc.yaml`` ``tumor_size_components``, ``sites.yaml``, ...)."""
    return tuple(_row(r) for r in _load(name)[key])


def site_of_concept(rows: tuple[Row, ...], code: str) -> str | None:
    """The site of a SNOMED CT body structure in the shipped subset (``sites.yaml``): its own, else its nearest
    ancestor's; None when the concept is not in the subset (or a parent chain is broken or cyclic)."""
    by_code = {r.code: r for r in rows}
    seen: set[str] = set()
    row = by_code.get(code)
    while row is not None and row.code not in seen:
        if row.site is not None:
            return row.site
        seen.add(row.code)
        row = by_code.get(row.parent or "")
    return None


@lru_cache(maxsize=1)
def _therapy_index() -> Mapping[tuple[str, str], Row]:
    rows = (*table("procedures.yaml"), *table("rxnorm.yaml"), *table("rxnorm.yaml", "products"))
    return MappingProxyType({(r.system, r.code): r for r in rows})


def therapy_code(system: str, code: str, target: str) -> str | None:
    """The vocabulary therapy id a coding names: a SNOMED CT procedure (``target="procedure"``,
    ``procedures.yaml``) or an RxNorm ingredient (``target="agent"``, ``rxnorm.yaml``); None when not listed."""
    row = _therapy_index().get((canonical_system(system), code.strip()))
    if row is None:
        return None
    # A product concept (SCD, SBD, brand, dose form) names its agent as an ingredient concept does.
    return row.agent if row.target == target or (target == "agent" and row.target == "product") else None


@lru_cache(maxsize=1)
def _system_aliases() -> Mapping[str, str]:
    out: dict[str, str] = {}
    for s in _load("systems.yaml")["systems"]:
        canonical = str(s["code"])
        out[canonical.lower()] = canonical
        for alias in s.get("aliases") or ():
            out[str(alias).lower()] = canonical
    return MappingProxyType(out)


def canonical_system(system: str) -> str:
    """The canonical URI of ``system`` (``urn:oid:2.16.840.1.113883.6.90`` -> the ICD-10-CM URI); else as given."""
    return _system_aliases().get(system.strip().lower(), system)


_ICD_FAMILY: Final = re.compile(r"icd[-_ ]?10", re.I)


def is_icd10_family(system: str, canonical: str) -> bool:
    """ICD-10 in any national modification: the WHO and CM URIs, or a local system named ICD-10 (Chinese EHRs
    send the clinical edition under their own URIs, e.g. ``http://hospital.example.cn/icd10-cn``)."""
    from mmemd.fhir._codes import ICD10, ICD10_CM

    low = system.lower()  # ICD-O (oncology) and ICD-10-PCS (procedures) are other systems
    return canonical in (ICD10, ICD10_CM) or bool(
        _ICD_FAMILY.search(system) and "icd-o" not in low and "pcs" not in low
    )


def normal_icd(code: str) -> str:
    """``C90.000x027`` -> ``C90000X027``: dots and spaces removed, upper case."""
    return re.sub(r"[\s.]", "", code).upper()


@lru_cache(maxsize=1)
def _diagnosis_index() -> tuple[Mapping[str, Row], Mapping[str, Row], Mapping[tuple[str, str], Row]]:
    icd: dict[str, Row] = {}  # ICD-10 4-character category -> row
    icd_cn: dict[str, Row] = {}  # Chinese clinical-edition full code -> row
    other: dict[tuple[str, str], Row] = {}  # (system, code) -> row
    for raw in _load("diagnoses.yaml")["rows"]:
        row = _row(raw)
        if row.system == ICD10_CN:
            icd_cn[normal_icd(row.code)] = row
        elif row.system.startswith("http://hl7.org/fhir/sid/icd-10"):
            icd[normal_icd(row.code)] = row
        else:
            other[(row.system, row.code)] = row
    return MappingProxyType(icd), MappingProxyType(icd_cn), MappingProxyType(other)


@dataclass(frozen=True, slots=True)
class DiagnosisCode:
    """A recognised diagnosis coding: the table row, and the ICD-10-CM 5th character when there is one."""

    row: Row
    remission_digit: str | None = None
    clinical_edition: bool = False


def diagnosis_code(system: str, code: str) -> DiagnosisCode | None:
    """The reviewed row a diagnosis coding matches, if any.

    ICD-10 codes match their 4-character category (WHO ``C90.0``, ICD-10-CM ``C90.00``, clinical edition
    ``C90.000x027``); only a 5-character code carries the ICD-10-CM remission digit, never a longer clinical-edition
    code (its 5th and 6th characters are a sub-classification).
    """
    from mmemd.fhir._codes import ICD10_CM

    canonical = canonical_system(system)
    icd, icd_cn, other = _diagnosis_index()
    if is_icd10_family(system, canonical):
        c = normal_icd(code)
        if c in icd_cn:
            return DiagnosisCode(icd_cn[c], None, True)
        row = icd.get(c[:4])
        if row is None:
            return None
        if len(c) == 5 and (canonical == ICD10_CM or c[4] in "012"):
            return DiagnosisCode(row, c[4])
        return DiagnosisCode(row, None, len(c) > 5)
    row = other.get((canonical, code.strip()))
    return DiagnosisCode(row) if row is not None else None


@lru_cache(maxsize=1)
def _observation_index() -> tuple[Mapping[tuple[str, str], Row], Mapping[str, Row]]:
    obs = _load("observations.yaml")
    codes = {(r.system, r.code): r for r in map(_row, obs["rows"])}
    exts = {r.code: r for r in (_row(x, "extension") for x in obs["extensions"])}
    return MappingProxyType(codes), MappingProxyType(exts)


@lru_cache(maxsize=1)
def _studied_genes() -> tuple[Mapping[str, str], re.Pattern[str]]:
    rows = _load("observations.yaml")["studied_genes"]
    by_code = {str(r["code"]).upper(): str(r["field"]) for r in rows}
    by_name = {str(n).upper(): str(r["field"]) for r in rows for n in r["names"]}
    names = re.compile(
        r"(?<![A-Za-z0-9])("
        + "|".join(sorted(map(re.escape, by_name), key=len, reverse=True))
        + r")(?![A-Za-z0-9])",
        re.I,
    )
    return MappingProxyType({**by_code, **by_name}), names


def studied_gene_field(code: str | None, text: str | None) -> str | None:
    """The record field a FISH probe's gene tests (``observations.yaml`` ``studied_genes``): by HGNC id, else by the
    gene's symbol or a former name as a whole word in the text ("FGFR3", "NSD2 (WHSC1)")."""
    index, names = _studied_genes()
    if code and code.strip().upper() in index:
        return index[code.strip().upper()]
    m = names.search(_nfkc(text)) if text else None
    return index[m[1].upper()] if m else None


def observation_code(system: str, code: str) -> Row | None:
    return _observation_index()[0].get((canonical_system(system), code.strip()))


def extension_target(url: str) -> str | None:
    row = _observation_index()[1].get(url)
    return row.target if row is not None else None


@lru_cache(maxsize=1)
def _ecog_index() -> Mapping[tuple[str, str], int]:
    return MappingProxyType(
        {(r.system, r.code): int(r.value or 0) for r in map(_row, _load("observations.yaml")["ecog"])}
    )


def ecog_answer(system: str, code: str) -> int | None:
    """The ECOG grade of a LOINC answer code or a SNOMED ECOG grade concept."""
    return _ecog_index().get((canonical_system(system), code.strip()))


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=1)
def cytogenetic_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``(record field, pattern)`` in file order (the first match wins), from ``text_patterns.yaml``."""
    rows = _load("text_patterns.yaml")["cytogenetics"]
    return tuple((str(r["field"]), re.compile(str(r["pattern"]), re.I)) for r in rows)


def cytogenetic_field(text: str) -> str | None:
    t = _nfkc(text)
    return next((fld for fld, p in cytogenetic_patterns() if p.search(t)), None)


@lru_cache(maxsize=1)
def _cytogenetic_report_patterns() -> tuple[
    re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]
]:
    data = _load("text_patterns.yaml")
    return tuple(  # type: ignore[return-value]
        re.compile(str(data[k]["pattern"]), re.I)
        for k in (
            "cytogenetic_report",
            "cytogenetic_not_assessed",
            "cytogenetic_negative",
            "cytogenetic_positive",
        )
    )


def is_cytogenetic_report_name(text: str) -> bool:
    """Whether an Observation's code text names a FISH / karyotype / cytogenetics study (``text_patterns.yaml``)."""
    return _cytogenetic_report_patterns()[0].search(_nfkc(text)) is not None


_CLAUSE_END: Final = frozenset(";,\n")


def _clauses(text: str) -> list[str]:
    """The report split at ";", ",", a sentence end or a line end outside parentheses and brackets."""
    out: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and (
            ch in _CLAUSE_END or ch == "。" or (ch == "." and (i + 1 == len(text) or text[i + 1].isspace()))
        ):
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [c.strip() for c in out if c.strip()]


# What may stand beside a finding's name in a clause that only lists it ("FISH: t(4;14)(p16;q32)",
# "45,X,-Y,t(14;16)(q32;q23)[8]", "IGH/FGFR3 fusion"): a "label:" prefix, parenthesised or bracketed detail, ISCN
# bands and cell counts, the kind of abnormality.
_LISTED_ONLY: Final = re.compile(
    r"^[^:]*:|\([^()]*\)|\[[^\[\]]*\]|\b[pq]\d+(\.\d+)*\b|\b(fusion|rearrangement|translocation|deletion|gain|"
    r"amplification|loss|abnormality|of|chromosome)\b|融合|易位|缺失|扩增|重排|异常",
    re.I,
)


def _only_names(clause: str, name: re.Pattern[str]) -> bool:
    """Whether the clause says nothing but the finding's name (a list of the abnormalities found)."""
    rest = _LISTED_ONLY.sub(" ", name.sub(" ", clause))
    return not any(ch.isalpha() for ch in rest)


def cytogenetic_findings(text: str) -> list[tuple[str, bool]]:
    """``(record field, detected)`` for each clause of a cytogenetics report that names a finding, in order.

    A clause saying the test was not done gives nothing; a negative wording gives false and wins over a positive
    word in the same clause ("No deletion of 17p detected", "1q21扩增未检出"); a positive wording gives true; a
    clause that only names the finding (a list of abnormalities, an ISCN karyotype) gives true; anything else
    ("t(4;14) pending", "del(17p) equivocal") gives nothing."""
    _, not_assessed, negative, positive = _cytogenetic_report_patterns()
    found: list[tuple[str, bool]] = []
    for clause in _clauses(_nfkc(text)):
        row = next(((f, p) for f, p in cytogenetic_patterns() if p.search(clause)), None)
        if (
            row is None
            or row[0] in ("del_1p32", "del_17p_clonal_fraction_pct")
            or not_assessed.search(clause)
        ):
            continue  # del(1p32) needs its allele count, the clonal fraction a number: not read from prose
        fld, name = row
        if negative.search(clause):
            found.append((fld, False))
        elif positive.search(clause) or _only_names(clause, name):
            found.append((fld, True))
    return found


@lru_cache(maxsize=1)
def _local_lab_names() -> Mapping[str, str]:
    names = _load("text_patterns.yaml")["local_lab_names"]
    return MappingProxyType({_nfkc(n).strip().lower(): str(code) for code, ns in names.items() for n in ns})


_TRAILING_ABBREVIATION: Final = re.compile(r"\s*\(([^()]*)\)\s*$")


def loinc_from_local_name(text: str) -> str | None:
    """The LOINC test a laboratory item's whole local name names (``text_patterns.yaml`` ``local_lab_names``): the
    name as written, else without a trailing parenthesised abbreviation ("血清白蛋白(ALB)", "肌酐（Cr）"), else that
    abbreviation."""
    names = _local_lab_names()
    t = _nfkc(text).strip().lower()
    if t in names:
        return names[t]
    m = _TRAILING_ABBREVIATION.search(t)
    if m is None:
        return None
    return names.get(t[: m.start()].strip()) or names.get(m[1].strip())


@lru_cache(maxsize=1)
def _loinc_name_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (str(code), re.compile(str(p), re.I))
        for code, p in _load("text_patterns.yaml")["loinc_names"].items()
    )


def loinc_from_loinc_name(text: str) -> str | None:
    """The listed LOINC test whose analyte, property and specimen a LOINC name (long common name or short name) of
    an unlisted code states (``text_patterns.yaml`` ``loinc_names``)."""
    t = " ".join(_nfkc(text).split())
    return next((code for code, p in _loinc_name_patterns() if p.match(t)), None)


@lru_cache(maxsize=1)
def _ife_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (str(r["value"]), re.compile(str(r["pattern"]), re.I)) for r in _load("text_patterns.yaml")["ife"]
    )


def ife_from_text(text: str) -> str | None:
    """``positive`` / ``negative`` from an immunofixation result written as text; None when it says neither."""
    t = _nfkc(text)
    return next((v for v, p in _ife_patterns() if p.search(t)), None)


@lru_cache(maxsize=1)
def _report_index() -> tuple[Mapping[tuple[str, str], Row], re.Pattern[str], tuple[str, ...]]:
    data = _load("reports.yaml")
    rows = {(r.system, r.code.upper()): r for r in map(_row, data["rows"])}
    prefixes = "|".join(re.escape(str(p)) for p in data["text_prefixes"])
    return (
        MappingProxyType(rows),
        re.compile(rf"^\s*(?:{prefixes})(?![A-Za-z])", re.I),
        tuple(data["text_words_zh"]),
    )


def is_imaging_report(report_codings: list[tuple[str, str, str]], report_texts: list[str]) -> bool:
    """Whether a DiagnosticReport is an imaging report: a ``category`` or ``code`` coding in ``reports.yaml``, or a
    category / code text (or display) naming the modality first (LOINC's imaging document names: "CT Chest", "PET
    whole body") or, in a Chinese text, anywhere ("胸部CT平扫", "腹部彩超", "PET-CT检查报告")."""
    rows, prefix, words_zh = _report_index()
    for system, code, _ in report_codings:
        if (canonical_system(system), code.strip().upper()) in rows:
            return True
    for text in report_texts:
        t = _nfkc(text)
        if prefix.search(t) or (_CJK.search(t) and any(w in t for w in words_zh)):
            return True
    return False


_CJK: Final = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _procedure_patterns() -> tuple[re.Pattern[str], tuple[tuple[str, re.Pattern[str]], ...]]:
    data = _load("text_patterns.yaml")
    return re.compile(str(data["procedure_not_therapy"]["pattern"]), re.I), tuple(
        (str(r["agent"]), re.compile(str(r["pattern"]), re.I)) for r in data["procedures"]
    )


def procedure_from_text(text: str) -> str | None:
    """The vocabulary procedure a procedure's text names (``text_patterns.yaml`` ``procedures``); None for text
    that names none, or that names only a preparation or assessment of one (stem cell collection, planning)."""
    t = _nfkc(text)
    exclude, patterns = _procedure_patterns()
    if exclude.search(t):
        return None
    return next((agent for agent, p in patterns if p.search(t)), None)


@lru_cache(maxsize=1)
def _relapse_pattern() -> re.Pattern[str]:
    return re.compile(str(_load("text_patterns.yaml")["relapse"]["pattern"]), re.I)


def says_relapse(text: str) -> bool:
    """Whether a diagnosis text names a relapsed / refractory myeloma (``text_patterns.yaml`` ``relapse``)."""
    return bool(_relapse_pattern().search(_nfkc(text)))


@lru_cache(maxsize=1)
def _worsened_pattern() -> re.Pattern[str]:
    return re.compile(str(_load("text_patterns.yaml")["status_worsened"]["pattern"]), re.I)


def says_worsened(text: str) -> bool:
    """Whether a disease status given only as text says progression (``text_patterns.yaml`` ``status_worsened``)."""
    return bool(_worsened_pattern().search(_nfkc(text)))


@lru_cache(maxsize=1)
def _diagnosis_text_patterns() -> tuple[
    re.Pattern[str], tuple[tuple[str, re.Pattern[str]], ...], re.Pattern[str]
]:
    data = _load("text_patterns.yaml")
    return (
        re.compile(str(data["diagnosis_not_so"]["pattern"]), re.I),
        tuple((str(r["target"]), re.compile(str(r["pattern"]), re.I)) for r in data["diagnoses"]),
        re.compile(str(data["paraskeletal"]["pattern"]), re.I),
    )


def diagnosis_from_text(text: str) -> str | None:
    """The diagnosis table target a diagnosis text names (``text_patterns.yaml`` ``diagnoses``); None for text that
    names none, or names it only as suspected, past, smouldering or MGUS."""
    t = _nfkc(text)
    exclude, patterns, _ = _diagnosis_text_patterns()
    if exclude.search(t):
        return None
    return next((target for target, p in patterns if p.search(t)), None)


def says_paraskeletal(text: str) -> bool:
    """Whether a lesion's text says it arises from bone (``text_patterns.yaml`` ``paraskeletal``)."""
    return bool(_diagnosis_text_patterns()[2].search(_nfkc(text)))


@lru_cache(maxsize=1)
def _ife_test_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    d = _load("text_patterns.yaml")["ife_test"]
    return re.compile(str(d["pattern"]), re.I), re.compile(str(d["urine"]), re.I)


def ife_from_test_name(text: str) -> str | None:
    """``serum_ife`` / ``urine_ife`` when a test's name names an immunofixation (``text_patterns.yaml``)."""
    t = _nfkc(text)
    test, urine = _ife_test_patterns()
    if not test.search(t):
        return None
    return "urine_ife" if urine.search(t) else "serum_ife"


def site_aliases() -> Mapping[str, tuple[str, ...]]:
    """Body site names the site vocabulary does not list -> the site id (``text_patterns.yaml`` ``site_aliases``)."""
    return {str(k): tuple(str(n) for n in v) for k, v in _load("text_patterns.yaml")["site_aliases"].items()}


@lru_cache(maxsize=1)
def _status_test_pattern() -> re.Pattern[str]:
    return re.compile(str(_load("text_patterns.yaml")["disease_status_test"]["pattern"]), re.I)


def names_disease_status(text: str) -> bool:
    """Whether a test's name names a disease status / response assessment (``text_patterns.yaml``)."""
    return bool(_status_test_pattern().search(_nfkc(text)))
