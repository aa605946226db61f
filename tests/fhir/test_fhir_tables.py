"""Hygiene of the reviewed code tables (fhir/data/*.yaml) and of the reason codes against docs/fhir.md."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from mmemd.fhir._reasons import MESSAGES
from mmemd.fhir._tables import all_rows, canonical_system, diagnosis_code
from mmemd.knowledge import vocabulary

DOC = (Path(__file__).resolve().parents[2] / "docs" / "fhir.md").read_text(encoding="utf-8")
_TARGETS = {
    "genomic_variant",
    "transplant_unspecified",
    "product",
    "variant_gene",
    "studied_gene",
    "variant_location",
    "variant_change",
    "quantity",
    "lab",
    "percent",
    "ecog",
    "tumor_size",
    "tumor_size_component",
    "derived",
    "other_method",
    "finding_positive",
    "finding_negative",
    "body_site",
    "procedure",
    "agent",
    "imaging_category",
    "imaging_report",
    "system",
    "myeloma",
    "pcl",
    "extramedullary_plasmacytoma",
    "solitary_plasmacytoma",
    "bone_plasmacytoma",
    "secondary_neoplasm",
    "histology",
    "disease_status",
    "status_worsened",
}


def test_spec_rows_are_listed_in_the_docs() -> None:
    section = DOC.split("Rows marked `source: spec`")[1].split("\n\n")[0]
    assert {r.code for r in all_rows() if r.source == "spec"} == set(re.findall(r"`([^`]+)`", section))


def test_moved_tables_keep_their_mapping() -> None:
    # Reference values: the record fields each code filled before the tables became data (docs/fhir.md "Mapping").
    from mmemd.fhir import _codes as C

    assert (C.LOINC_CODES["33358-3"].kind, C.LOINC_CODES["33358-3"].field) == ("quantity", "serum_m_protein")
    assert C.LOINC_CODES["718-7"].field == "hemoglobin" and C.LOINC_CODES["48378-4"].kind == "derived"
    assert (C.LOINC_LONGEST, C.LOINC_PERPENDICULAR) == ("33728-7", "33729-5")
    assert C.SNOMED_SITES["10200004"] == "liver" and C.SITE_SNOMED["cns"] == "21483005"
    assert ("http://loinc.org", "LA6577-6") in C.NEGATIVE_CODES
    assert ("http://snomed.info/sct", "10828004") in C.POSITIVE_CODES


def test_procedure_and_rxnorm_rows_name_vocabulary_therapies() -> None:
    v = vocabulary()
    assert {r.agent for r in all_rows() if r.target in ("procedure", "transplant_unspecified")} <= set(
        v.procedures
    )
    rx = [r for r in all_rows() if r.target == "agent"]
    assert rx and {r.agent for r in rx} <= set(v.agents)
    # an ingredient concept's display is the agent's own name (RxNorm IN term type)
    assert all(r.display == v.agents[str(r.agent)].en for r in rx)
    # a product concept names its agent in its display (generic or brand name)
    products = [r for r in all_rows() if r.target == "product"]
    assert products and {r.agent for r in products} <= set(v.agents)


def test_rxnorm_product_codes_read_as_their_agent() -> None:
    from mmemd.fhir import _tables as T

    rx = "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert (
        T.therapy_code(rx, "2375141", "agent") == "daratumumab"
    )  # Darzalex Faspro (daratumumab / hyaluronidase)
    assert T.therapy_code(rx, "1723770", "agent") == "ixazomib"  # ixazomib 4 MG Oral Capsule
    assert T.therapy_code(rx, "1723770", "procedure") is None


def test_codes_are_unique_per_system() -> None:
    counts = Counter((r.system, r.code) for r in all_rows())
    assert [k for k, n in counts.items() if n > 1] == []


def test_every_row_names_where_it_was_checked() -> None:
    for r in all_rows():
        assert r.source in ("memory", "spec") or r.source.startswith("https://"), r
        assert r.target in _TARGETS, r
        assert r.display.strip(), r


def test_sites_are_knowledge_base_sites() -> None:
    sites = vocabulary().site_ids
    assert {r.site for r in all_rows() if r.site} <= sites


def test_memory_rows_are_listed_in_the_docs() -> None:
    block = DOC.split("<!-- memory-rows -->")[1].split("<!-- /memory-rows -->")[0]
    listed = set(re.findall(r"`([^`]+)`", block))
    memory = {r.code for r in all_rows() if r.source == "memory"}
    # A system row is listed by its URI; the list names exactly the unchecked rows, no more and no fewer.
    assert listed == memory


def test_reason_codes_equal_the_docs() -> None:
    section = DOC.split("## Reasons")[1].split("\n## ")[0]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    assert documented == set(MESSAGES)


def test_zh_messages_have_no_english_prose() -> None:
    # Latin tokens allowed in Chinese text: standard names, FHIR element names and record values quoted as codes.
    allowed = {"mmemd", "FHIR", "Bundle", "Patient", "clinicalStatus", "dataAbsentReason", "newly_diagnosed"}
    allowed |= {"relapsed_refractory", "relapse", "recurrence", "female", "male", "YYYY", "SNOMED", "LOINC"}
    for code, (_, zh) in MESSAGES.items():
        words = re.findall(r"[A-Za-z_]{4,}", re.sub(r"\{[^}]*\}", "", zh))
        assert [w for w in words if w not in allowed] == [], code


def test_system_aliases() -> None:
    assert canonical_system("urn:oid:2.16.840.1.113883.6.90") == "http://hl7.org/fhir/sid/icd-10-cm"
    assert canonical_system("URN:OID:2.16.840.1.113883.6.3") == "http://hl7.org/fhir/sid/icd-10"
    assert canonical_system("http://example.org/local") == "http://example.org/local"


def test_diagnosis_code_lookup() -> None:
    cm = diagnosis_code("http://hl7.org/fhir/sid/icd-10-cm", "C90.02")
    assert cm is not None and cm.row.target == "myeloma" and cm.remission_digit == "2"
    cn = diagnosis_code("http://example.cn/icd10", "C90.000x027")
    assert cn is not None and cn.row.target == "myeloma" and cn.remission_digit is None
    assert diagnosis_code("http://hl7.org/fhir/sid/icd-10", "C91.0") is None
    assert diagnosis_code("http://terminology.hl7.org/CodeSystem/icd-o-3", "9734/3") is not None


def test_every_site_row_names_a_site_or_a_parent_that_leads_to_one() -> None:
    from mmemd.fhir._tables import site_of_concept, table

    rows = table("sites.yaml")
    codes = {r.code for r in rows}
    for r in rows:
        assert (r.site is None) != (r.parent is None), r  # exactly one of the two
        if r.parent is not None:
            assert r.parent in codes, r  # the ancestor is shipped too
        assert site_of_concept(rows, r.code) is not None, r  # no broken or cyclic chain


def test_a_cyclic_parent_chain_gives_no_site() -> None:
    from mmemd.fhir._tables import Row, site_of_concept

    a = Row("1", "s", "a", "body_site", "memory", parent="2")
    b = Row("2", "s", "b", "body_site", "memory", parent="1")
    assert site_of_concept((a, b), "1") is None


def test_every_studied_gene_names_a_cytogenetic_field_with_its_kind_of_change() -> None:
    from mmemd.fhir._import.observation import _FIELD_CHANGE

    genes = [r for r in all_rows() if r.target == "studied_gene"]
    assert {r.display for r in genes} >= {"FGFR3", "NSD2", "CCND1", "MAF", "MAFB", "TP53", "CKS1B", "CDKN2C"}
    for r in genes:
        assert r.code.startswith("HGNC:") and r.field in _FIELD_CHANGE, r
