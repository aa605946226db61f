"""Behaviour of the imaging-report extractor, one rule per test, on short reports written for each rule."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import mmemd.imaging as imaging
from mmemd.imaging import ImagingInputError, extract
from mmemd.knowledge import vocabulary


def _one(text: str) -> imaging.ImagingLesion:
    result = extract(text)
    assert len(result.lesions) == 1, result.lesions
    return result.lesions[0]


def test_public_surface_is_unique_and_resolves() -> None:
    assert len(set(imaging.__all__)) == len(imaging.__all__)
    for name in imaging.__all__:
        assert getattr(imaging, name) is not None


def test_lexicon_sites_are_knowledge_base_sites() -> None:
    data = yaml.safe_load(resources.files("mmemd.imaging").joinpath("data", "sites.yaml").read_text("utf-8"))
    assert set(data["sites"]) <= vocabulary().site_ids
    for site in ("nasopharynx", "paranasal_sinus", "orbit", "thyroid", "adrenal", "ovary", "peritoneum"):
        assert vocabulary().sites[site].zh and vocabulary().sites[site].en
    assert "epidural" not in vocabulary().cns_site_ids


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：肝内未见明确占位。脾脏未见结节。",
        "检查所见：双侧肾上腺未见结节及肿块，纵隔未见肿大淋巴结。",
        "FINDINGS: No adrenal mass. No hypermetabolic lymphadenopathy. The liver is without focal lesion.",
        "FINDINGS: Negative for pleural nodules or masses.",
    ],
)
def test_negated_findings_are_not_lesions(text: str) -> None:
    assert extract(text).lesions == []


def test_negation_scope_ends_at_the_clause_in_chinese() -> None:
    les = _one("检查所见：左侧胸壁见软组织肿块，未见钙化，大小约3.0cm×2.0cm。")
    assert (les.site, les.side, les.size_cm) == ("chest_wall", "left", [Decimal("3.0"), Decimal("2.0")])


def test_without_soft_tissue_makes_the_bone_lesion_intraosseous() -> None:
    les = _one(
        "FINDINGS: Lytic lesion of the right femur measuring 2.5 x 2.0 cm without soft tissue component."
    )
    assert (les.site, les.side, les.relation_to_bone) == ("bone", "right", "intraosseous")


def test_bone_destruction_with_soft_tissue_mass_arises_from_bone() -> None:
    les = _one("检查所见：L1椎体骨质破坏并椎旁软组织肿块形成，大小约3.3cm×2.5cm。")
    assert (les.site, les.relation_to_bone) == ("paravertebral", "arising_from_bone")
    les = _one(
        "FINDINGS: Lytic lesion of the left 4th rib with an associated soft tissue mass measuring 3.1 x 2.2 cm."
    )
    assert (les.site, les.side, les.relation_to_bone) == ("soft_tissue", "left", "arising_from_bone")


def test_diffuse_bone_disease_is_not_a_lesion() -> None:
    assert extract("检查所见：全身多发骨质破坏。").lesions == []
    assert extract("FINDINGS: Multiple lytic lesions throughout the spine and pelvis.").lesions == []


def test_millimetres_become_exact_centimetres_long_then_short() -> None:
    les = _one("检查所见：右上臂皮下见低回声团块，大小约12mm×25mm。")
    assert les.size_cm == [Decimal("2.5"), Decimal("1.2")]
    assert all(isinstance(d, Decimal) for d in les.size_cm)
    les = _one("FINDINGS: Left adrenal mass measuring 3.4 x 1.8 x 2.0 cm.")
    assert les.size_cm == [Decimal("3.4"), Decimal("2.0")]


def test_prior_sizes_are_not_the_current_size() -> None:
    les = _one("检查所见：肝S6段结节，较前（前片约2.8cm×2.0cm）增大，现约3.5cm×2.4cm。")
    assert les.size_cm == [Decimal("3.5"), Decimal("2.4")]
    assert les.change == "increased"
    les = _one("FINDINGS: Left psoas mass, previously 4.0 x 3.0 cm, now 2.0 x 1.5 cm.")
    assert les.size_cm == [Decimal("2.0"), Decimal("1.5")]


def test_suvmax_is_exact() -> None:
    les = _one("检查所见：左侧腋窝见肿大淋巴结，SUVmax约10.25。")
    assert les.suv_max == Decimal("10.25")


def test_full_width_and_ocr_spacing_read_like_clean_text() -> None:
    clean = _one("检查所见：鼻咽顶后壁见软组织肿块，大小约3.2cm×2.5cm，考虑浆细胞瘤。")
    noisy = _one(
        "检 查 所 见 ： 鼻 咽 顶 后 壁 见 软 组 织 肿 块 ， 大 小 约 ３．２ｃｍ × ２．５ｃｍ ， 考 虑 浆 细 胞 瘤 。"
    )
    assert (clean.site, clean.size_cm, clean.certainty) == (noisy.site, noisy.size_cm, noisy.certainty)
    assert noisy.size_cm == [Decimal("3.2"), Decimal("2.5")]


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("检查所见：脾脏新发低密度结节，约1.0cm×0.8cm。", "new"),
        ("检查所见：脾脏低密度结节较前缩小，约1.0cm×0.8cm。", "decreased"),
        ("检查所见：脾脏低密度结节，约1.0cm×0.8cm，较前无明显变化。", "stable"),
        ("检查所见：原脾脏低密度结节已消失。", "resolved"),
        ("FINDINGS: Enlarging splenic lesion, now 1.0 x 0.8 cm.", "increased"),
        ("FINDINGS: The splenic lesion is no longer seen.", "resolved"),
        ("FINDINGS: Splenic lesion with increased uptake, 1.0 x 0.8 cm.", None),
    ],
)
def test_change_relative_to_prior(text: str, change: str | None) -> None:
    assert _one(text).change == change


@pytest.mark.parametrize(
    ("text", "certainty"),
    [
        ("诊断意见：左侧眼眶内占位，符合浆细胞瘤。", "definite"),
        ("诊断意见：左侧眼眶内占位，考虑浆细胞瘤。", "possible"),
        ("诊断意见：左侧眼眶内占位，不除外浆细胞瘤。", "possible"),
        ("IMPRESSION: Left orbital mass, consistent with plasmacytoma.", "definite"),
        ("IMPRESSION: Left orbital mass, suspicious for plasmacytoma.", "possible"),
        ("IMPRESSION: Left orbital mass; plasmacytoma cannot be excluded.", "possible"),
    ],
)
def test_certainty_from_hedges(text: str, certainty: str) -> None:
    assert _one(text).certainty == certainty


def test_impression_certainty_overrides_findings_and_one_lesion_from_two_mentions() -> None:
    les = _one("检查所见：左肾上腺见结节，大小约1.6cm×1.3cm。\n诊断意见：左肾上腺结节，考虑浆细胞瘤。")
    assert les.sections == ["findings", "impression"]
    assert les.certainty == "possible"
    assert {e.section for e in les.evidence} == {"findings", "impression"}


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：肝右叶见类圆形低密度影，边界清。\n诊断意见：肝囊肿。",
        "检查所见：肝S7段见结节，增强呈渐进性强化。\n诊断意见：肝血管瘤。",
        "检查所见：双侧腹股沟见小淋巴结，考虑反应性增生。",
        "FINDINGS: Left adrenal nodule measuring 1.5 cm, consistent with adenoma.",
        "FINDINGS: Spiculated right upper lobe mass. Biopsy-proven lung adenocarcinoma.",
    ],
)
def test_non_myeloma_findings_are_not_lesions(text: str) -> None:
    assert extract(text).lesions == []


def test_a_myeloma_word_keeps_a_hedged_differential() -> None:
    les = _one("诊断意见：左肾上腺结节，考虑浆细胞瘤可能，不除外腺瘤。")
    assert (les.site, les.certainty) == ("adrenal", "possible")


def test_history_and_indication_are_not_findings() -> None:
    text = "INDICATION: History of left orbital plasmacytoma.\nFINDINGS: The orbits are normal.\n"
    assert extract(text).lesions == []
    text = "临床诊断：多发性骨髓瘤，左侧眼眶浆细胞瘤。\n检查所见：双侧眼眶未见异常。"
    assert extract(text).lesions == []


def test_explicit_no_extramedullary_lesion() -> None:
    r = extract("诊断意见：全身多发骨质破坏，符合骨髓瘤；未见髓外病灶。")
    assert r.no_extramedullary_lesion is True
    assert [e.field for e in r.evidence] == ["no_extramedullary_lesion"]
    assert extract("IMPRESSION: No evidence of extramedullary disease.").no_extramedullary_lesion is True
    assert extract("FINDINGS: Liver normal.").no_extramedullary_lesion is None
    assert extract("FINDINGS: New left adrenal mass, 2.0 x 1.5 cm.").no_extramedullary_lesion is False


def test_no_new_lesion_and_new_lesion() -> None:
    assert extract("检查所见：原胸壁肿块较前缩小，约2.0cm×1.0cm。未见新发病灶。").new_lesion is False
    assert extract("检查所见：脾脏新发结节，约1.0cm×0.8cm。").new_lesion is True
    assert extract("检查所见：脾脏结节，约1.0cm×0.8cm。").new_lesion is None


def test_modality_and_study_date() -> None:
    r = extract("检查项目：腰椎MRI平扫\n检查日期：2024年3月5日\n检查所见：未见异常。")
    assert (r.modality, r.study_date) == ("MRI", "2024-03-05")
    r = extract("EXAM: US ABDOMEN\nEXAM DATE: 05/02/2024\nFINDINGS: Normal.")
    assert (r.modality, r.study_date) == ("ultrasound", "2024-05-02")
    assert extract("检查日期：2024-02-30\n检查所见：未见异常。").study_date is None


def test_language_detection_and_override() -> None:
    assert extract("FINDINGS: Normal.").language == "en"
    assert extract("检查所见：PET-CT 未见异常。").language == "zh"
    assert extract("FINDINGS: Normal.", lang="zh").language == "zh"


def test_a_report_with_no_finding_is_not_an_error() -> None:
    r = extract("")
    assert (r.lesions, r.no_extramedullary_lesion, r.modality) == ([], None, None)
    assert r.record_patch["lesions"] == [] and r.record_patch["assessment"] is None


@pytest.mark.parametrize("bad", [None, b"bytes", 3])
def test_non_text_input_is_a_clear_error(bad: object) -> None:
    with pytest.raises(ImagingInputError, match="must be text"):
        extract(bad)  # type: ignore[arg-type]


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ImagingInputError, match="unknown language"):
        extract("x", lang="fr")  # type: ignore[arg-type]


def test_json_schema_and_versions() -> None:
    r = extract("FINDINGS: New left adrenal mass, 2.0 x 1.5 cm, SUVmax 7.4.")
    doc = r.model_dump(mode="json")
    assert doc["schema"] == "mmemd.imaging/1"
    assert doc["lesions"][0]["size_cm"] == [2.0, 1.5] and doc["lesions"][0]["suv_max"] == 7.4
    assert set(doc["versions"]) >= {"mmemd", "knowledge_base"}


_ALPHABET = st.sampled_from(
    list("肝脾肾左右侧见未无结节肿块骨质破坏软组织椎旁约cm×x.0123456789，。；：\n FINDINGSnoleftmass")
)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=120))
def test_any_text_extracts_and_every_span_quotes_it(text: str) -> None:
    r = extract(text)
    for les in r.lesions:
        for ev in les.evidence:
            assert text[ev.start : ev.end] == ev.quote
        if les.size_cm:
            assert les.size_cm == sorted(les.size_cm, reverse=True)
            assert all(d > 0 for d in les.size_cm)


def test_text_far_longer_than_a_report_is_a_clear_error() -> None:
    extract("未见异常。" * (imaging.MAX_REPORT_CHARS // 5))  # at the limit: read
    with pytest.raises(ImagingInputError, match="characters"):
        extract("x" * (imaging.MAX_REPORT_CHARS + 1))


def test_package_docstring_example_runs() -> None:
    import doctest

    result = doctest.testmod(imaging)
    assert result.attempted >= 3 and result.failed == 0


def test_english_plurals_in_s_and_es() -> None:
    les = _one("FINDINGS: Multiple new masses in the liver, the largest 2.0 x 1.5 cm.")
    assert (les.site, les.change, les.size_cm) == ("liver", "new", [Decimal("2.0"), Decimal("1.5")])
    les = _one("FINDINGS: Enlarged FDG-avid left axillary lymph nodes, SUVmax 6.0.")
    assert (les.site, les.side, les.suv_max) == ("lymph_node", "left", Decimal("6.0"))


def test_a_site_named_before_the_lesion_word_is_its_site() -> None:
    les = _one("FINDINGS:\nLIVER: 2.1 x 1.8 cm hypodense lesion in segment 6, new.")
    assert (les.site, les.change) == ("liver", "new")
    assert _one("检查所见：脾脏不大，内见低密度结节，约1.0cm×0.8cm。").site == "spleen"
    assert extract("检查所见：肝脏大小约15cm，形态正常。").lesions == []


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("检查所见：右乳内上象限见低回声结节，大小约15mm×9mm。", "right"),
        ("检查所见：双乳外上象限见多发肿块，较大者约2.0cm×1.5cm。", "bilateral"),
    ],
)
def test_breast_named_by_its_side_alone(text: str, side: str) -> None:
    les = _one(text)
    assert (les.site, les.side) == ("breast", side)


def test_breast_character_inside_another_word_is_not_the_breast() -> None:
    # 乳 in 甲状腺乳头状癌 (papillary thyroid carcinoma) names no breast: the finding is a distractor.
    assert extract("诊断意见：甲状腺右叶结节，考虑甲状腺乳头状癌。").lesions == []


@pytest.mark.parametrize(
    "text",
    [
        "IMPRESSION: Right thigh intramuscular mass. Plasmacytoma is the leading consideration.",
        "IMPRESSION: Left pleural nodule, most likely myelomatous involvement.",
        "IMPRESSION: Right renal mass; plasmacytoma favoured over renal cell tumour.",
        "诊断意见：左侧肾上腺结节，首先考虑浆细胞瘤。",
        "诊断意见：右侧胸壁肿块，倾向于髓外浸润。",
    ],
)
def test_hedge_phrases_make_the_lesion_possible(text: str) -> None:
    assert _one(text).certainty == "possible"


@pytest.mark.parametrize(
    "text",
    [
        "IMPRESSION: No evidence of extramedullary plasmacytoma.",
        "IMPRESSION: Osseous disease only; no evidence of extramedullary myeloma.",
        "诊断意见：全身多发骨质破坏；未见髓外病变。",
        "诊断意见：未见明确髓外浸润征象。",
        "诊断意见：腹盆腔未见明确髓外浆细胞瘤征象。",
    ],
)
def test_explicit_negative_wordings(text: str) -> None:
    r = extract(text)
    assert r.lesions == [] and r.no_extramedullary_lesion is True
    assert any(e.field == "no_extramedullary_lesion" for e in r.evidence)


def test_an_extramedullary_word_that_is_not_negated_is_no_negative_statement() -> None:
    r = extract("诊断意见：右侧腰大肌肿块，考虑髓外浆细胞瘤。")
    assert r.no_extramedullary_lesion is False


@pytest.mark.parametrize(
    ("text", "change"),
    [
        (
            "FINDINGS: The previously seen right inguinal lymph node has decreased in size, now 1.2 x 0.9 cm.",
            "decreased",
        ),
        ("FINDINGS: The right axillary node seen on the prior study has resolved.", "resolved"),
        ("检查所见：右侧腋窝淋巴结较前缩小，现约1.0cm×0.6cm。", "decreased"),
        ("检查所见：原左侧腹股沟淋巴结已消失。", "resolved"),
    ],
)
def test_a_node_followed_from_the_prior_study_is_a_lesion(text: str, change: str) -> None:
    les = _one(text)
    assert (les.site, les.change) == ("lymph_node", change)


def test_a_small_stable_node_is_not_a_lesion() -> None:
    assert extract("检查所见：右侧颈部见数个小淋巴结，较大者约0.6cm×0.3cm，同前。").lesions == []


@pytest.mark.parametrize("morphology", ["淋巴门消失", "淋巴门结构消失", "皮髓质分界消失"])
def test_loss_of_nodal_hilum_is_a_descriptor_not_a_change(morphology: str) -> None:
    les = _one(f"检查所见：左侧腋窝见肿大淋巴结，大小约2.1cm×1.4cm，{morphology}。")
    assert (les.site, les.change) == ("lymph_node", None)


@pytest.mark.parametrize(
    "text",
    [
        "诊断意见：胸椎骨髓浸润。",
        "诊断意见：骨盆弥漫性骨髓受累。",
        "检查所见：腰椎骨髓代谢增高，SUVmax约3.0。",
        "IMPRESSION: Diffuse marrow infiltration of the lumbar spine.",
    ],
)
def test_marrow_infiltration_is_not_a_focal_lesion(text: str) -> None:
    assert extract(text).lesions == []


def test_a_focal_lesion_in_a_bone_with_marrow_words_is_still_read() -> None:
    les = _one("检查所见：L3椎体骨髓腔内见结节状异常信号，大小约1.4cm×1.1cm。")
    assert (les.site, les.relation_to_bone) == ("bone", "intraosseous")
