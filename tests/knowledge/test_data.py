"""The curated knowledge base itself: complete, verbatim, resolvable, stable."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from decimal import Decimal

from mmemd.knowledge import Category, Flag, load_curated
from mmemd.knowledge._load import QUOTED_NUMBER_FIELDS, number_in_text


def test_curated_files_validate_without_a_single_problem(curated):
    # load_curated raises CurationError listing every problem; reaching here means there were none.
    assert len(curated.claims) > 200


def test_every_quote_is_a_verbatim_substring_of_the_shared_seed_at_its_offset(curated, seeds_dir):
    seeds = seeds_dir
    for claim in curated.claims:
        text = (seeds / f"{claim.source}.txt").read_text(encoding="utf-8")
        assert text[claim.offset : claim.offset + len(claim.quote)] == claim.quote, claim.id


def test_packaged_sources_are_byte_identical_to_the_shared_seeds(curated, seeds_dir):
    seeds = seeds_dir
    for source in curated.sources.values():
        digest = hashlib.sha256((seeds / f"{source.id}.txt").read_bytes()).hexdigest()
        assert digest == source.sha256, f"{source.id}: the seed changed; re-check every quote"


def test_a_changed_source_text_is_detected(tmp_path):
    from mmemd.knowledge import CurationError
    from mmemd.knowledge._data import CLAIMS_DIR, SOURCE_TEXT_DIR, SOURCES_FILE, VOCAB_DIR

    texts = tmp_path / "sources"
    texts.mkdir()
    for p in SOURCE_TEXT_DIR.glob("*.txt"):
        (texts / p.name).write_text(p.read_text(encoding="utf-8") + "x", encoding="utf-8")
    try:
        load_curated(SOURCES_FILE, texts, VOCAB_DIR, CLAIMS_DIR)
    except CurationError as exc:
        assert any(p.field == "sha256" for p in exc.problems)
    else:  # pragma: no cover - the assertion message is the point
        raise AssertionError("a changed source text was not detected")


def test_every_number_in_a_numeric_field_is_printed_in_the_quote_or_explained(curated):
    for c in curated.claims:
        for field in QUOTED_NUMBER_FIELDS:
            number = getattr(c, field)
            if number is None:
                continue
            assert number_in_text(number, c.quote) or field in c.number_sources, (c.id, field, number)


def test_ids_are_unique_and_follow_the_alias_section_pattern(curated):
    ids = [c.id for c in curated.claims]
    assert len(ids) == len(set(ids))
    for c in curated.claims:
        alias = curated.sources[c.source].alias
        assert c.id.startswith(f"{alias}-{c.section}-"), c.id


def test_both_statements_are_present_and_in_their_language(curated):
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for c in curated.claims:
        assert cjk.search(c.statement_zh), f"{c.id}: statement_zh has no Chinese"
        assert len(cjk.findall(c.statement_en)) == 0, f"{c.id}: statement_en contains Chinese"


def test_every_numbered_section_of_both_reviews_has_claims(curated):
    covered = Counter((c.source, c.section) for c in curated.claims)
    for source in curated.sources.values():
        for sec in source.sections:
            if not sec.numbered:
                continue
            n = sum(
                v
                for (s, num), v in covered.items()
                if s == source.id and (num == sec.number or num.startswith(sec.number + "."))
            )
            assert n > 0, f"{source.alias} §{sec.number} has no claim"


def test_every_category_of_the_issue_is_represented(curated):
    present = {c.category for c in curated.claims}
    assert present == set(Category)


def test_vocabulary_references_resolve(curated):
    v = curated.vocabulary
    for c in curated.claims:
        assert c.endpoint in v.endpoints
        assert set(c.interventions) <= v.intervention_ids, c.id
        assert set(c.comparator) <= v.intervention_ids, c.id
        assert set(c.subjects) <= v.subject_ids, c.id
        for r in (c.regimen, c.comparator_regimen):
            assert r is None or r in v.regimens


def test_flagged_claims_explain_themselves(curated):
    for c in curated.claims:
        if c.flags:
            assert c.notes and len(c.notes) > 15, c.id


def test_documented_source_inconsistencies_are_kept_as_printed_and_flagged(curated):
    by_id = {c.id: c for c in curated.claims}
    flagged = [c for c in curated.claims if Flag.source_inconsistency in c.flags]
    # EMD incidence at diagnosis: 0.5–4.8% in one review, 15% in the other.
    incidence = [c for c in flagged if c.category is Category.incidence]
    assert {c.source for c in incidence} == {"000_0d2965af3712c6b9", "001_6783fd492135ebec"}
    # MYC: "28% (5/19)" keeps the printed 28 although 5/19 is 26.3%.
    myc = [c for c in flagged if "myc" in c.subjects]
    assert myc and all(c.value == 28 for c in myc if c.value is not None)
    assert by_id  # the map is used by the assertions above through the flagged list


def test_ocr_restorations_keep_the_quote_verbatim_and_restore_the_fields(curated):
    # "57.1% 52.9%， ＞ 0.05" (Lakshman) is restored to 57.1% vs 52.9%, P > 0.05 in the fields only.
    (lak,) = [c for c in curated.claims if c.study == "Lakshman" and c.endpoint == "ORR"]
    assert "57.1% 52.9%， ＞ 0.05" in lak.quote
    assert (lak.value, lak.comparator_value, lak.p) == (Decimal("57.1"), Decimal("52.9"), ">0.05")
    assert Flag.ocr_restored in lak.flags


def test_conflicting_findings_point_at_each_other(curated):
    by_id = {c.id: c for c in curated.claims}
    conflicting = [c for c in curated.claims if c.conflicts_with]
    assert conflicting, (
        "the reviews disagree in places (e.g. MALAT1, ASCT in CNS disease); those must be linked"
    )
    for c in conflicting:
        for other in c.conflicts_with:
            assert other in by_id, (c.id, other)


def test_grades_are_computed_not_curated(curated):
    from mmemd.knowledge import grade_claim

    for c in curated.claims:
        assert c.grade == grade_claim(c)
