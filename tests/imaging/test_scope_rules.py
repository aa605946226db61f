"""Scope rules of the imaging extractor, each in Chinese and English, on wording written for the rule (not corpus text):
non-myeloma findings, a mass extending into a neighbouring region, change wording, an organ enlarged with uptake,
"without extraosseous extension", size and SUV formats, and bilateral findings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.imaging import ImagingLesion, extract


def _one(text: str) -> ImagingLesion:
    result = extract(text)
    assert len(result.lesions) == 1, result.lesions
    return result.lesions[0]


def _d(*values: str) -> list[Decimal]:
    return [Decimal(v) for v in values]


# --- non-myeloma findings are no lesions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # inflammatory / infective
        "检查所见：双侧筛窦及上颌窦黏膜增厚。\n诊断意见：鼻窦炎。",
        "检查所见：左侧上颌窦黏膜增厚，考虑炎症。",
        "检查所见：右肺中叶斑片影，代谢增高，SUVmax 4.2，考虑感染性病变。",
        "FINDINGS: Mucosal thickening of the left maxillary sinus.\nIMPRESSION: Left maxillary sinusitis.",
        "FINDINGS: Left lower lobe opacity with increased uptake, SUVmax 4.0, likely infectious.",
        # a distractor in a clause commenting on the finding
        "检查所见：T12椎体异常信号，大小约1.5cm×1.2cm，考虑椎体血管瘤。",
        "检查所见：右肺下叶结节，大小约1.2cm×1.0cm，考虑炎性结节。",
        "FINDINGS: Right lower lobe nodule, 1.2 cm, likely inflammatory.",
        # degenerative
        "检查所见：L3/4椎间盘膨出，腰椎骨质增生，L2椎体许莫结节。",
        "FINDINGS: Schmorl's node at L3. Degenerative disc disease at L4-L5 with osteophytes.",
        # benign: graded thyroid and breast nodules, gallstones, calcification, fibrosis
        "检查所见：甲状腺右叶结节，大小约0.8cm×0.6cm，C-TIRADS 3类。",
        "检查所见：左侧乳腺结节，大小约1.0cm×0.7cm，BI-RADS 3类。",
        "检查所见：胆囊内结石。右肺上叶钙化灶。左肺下叶纤维灶。",
        "FINDINGS: A 1.5 cm right thyroid nodule, TI-RADS 2.",
        "FINDINGS: Cholelithiasis. A calcified granuloma in the right upper lobe.",
        # reactive / benign-appearing nodes
        "检查所见：双侧腹股沟见小淋巴结，短径<1cm，淋巴门结构存在。",
        "FINDINGS: Subcentimeter inguinal lymph nodes with preserved fatty hila.",
        # post-treatment change and physiological uptake
        "检查所见：右侧髂骨旁软组织肿块放疗后改变。胃壁生理性摄取增高，SUVmax 3.0。",
        "FINDINGS: Post-radiation change in the right chest wall. Physiologic uptake in the bowel.",
        # an organ nodule the report calls the benign finding (unlike "not typical of an adenoma")
        "检查所见：左肾上腺结节，大小约2.5cm×2.0cm，考虑腺瘤。",
        "FINDINGS: A 2.5 x 2.0 cm left adrenal nodule, typical of an adenoma.",
        # fractures and effusions without a mass
        "检查所见：T12椎体压缩性骨折。双侧胸腔积液。",
        "FINDINGS: Compression fracture of L1. Small right pleural effusion without pleural nodularity.",
        # benign look-alikes with a lesion word inside them (浸润, 结节) and physiological uptake
        "检查所见：肝脏局灶性脂肪浸润。结节性甲状腺肿。右侧卵巢黄体，代谢增高，SUVmax 4.5。",
        "FINDINGS: Bilateral hilar lymphadenopathy, likely sarcoidosis. Focal fatty infiltration of the liver. "
        "Corpus luteum in the right ovary with uptake.",
        # tiny indeterminate nodules
        "检查所见：右肺下叶背段见微小结节，直径约0.3cm。\n诊断意见：右肺下叶微小结节，建议随访。",
        "FINDINGS: A 6 mm nodule in the right middle lobe, too small to characterize.",
        # a named second primary
        "检查所见：右肺上叶肿块，大小约3.0cm×2.5cm，SUVmax 9.0，穿刺证实为肺腺癌。",
        "FINDINGS: Biopsy-proven left breast carcinoma, 2.1 x 1.8 cm, SUVmax 6.0.",
    ],
)
def test_non_myeloma_findings_make_no_lesion(text: str) -> None:
    result = extract(text)
    assert result.lesions == []
    assert result.no_extramedullary_lesion is not False  # nothing extramedullary was read either


@pytest.mark.parametrize(
    ("text", "site", "side", "size", "suv"),
    [
        (
            "检查所见：右侧上颌窦炎，左侧眼眶内见软组织肿块，大小约2.8cm×2.0cm，SUVmax 7.5。",
            "orbit",
            "left",
            _d("2.8", "2.0"),
            Decimal("7.5"),
        ),
        (
            "检查所见：脾内见多发钙化灶及一枚低密度结节，结节大小约1.9cm×1.5cm，SUVmax 6.1。",
            "spleen",
            None,
            _d("1.9", "1.5"),
            Decimal("6.1"),
        ),
        (
            "FINDINGS: A 2.7 x 2.1 cm soft tissue mass in the right breast, SUVmax 6.8, and a simple cyst in the "
            "left kidney.",
            "breast",
            "right",
            _d("2.7", "2.1"),
            Decimal("6.8"),
        ),
        (
            "FINDINGS: Right adrenal mass 4.1 x 3.3 cm, SUVmax 9.0, and left adrenal adenoma 1.0 cm.",
            "adrenal",
            "right",
            _d("4.1", "3.3"),
            Decimal("9.0"),
        ),
        (
            "FINDINGS: Left adrenal nodule measuring 2.4 x 1.9 cm, SUVmax 7.0, and a hepatic hemangioma.",
            "adrenal",
            "left",
            _d("2.4", "1.9"),
            Decimal("7.0"),
        ),
    ],
)
def test_a_distractor_suppresses_only_its_own_finding(
    text: str, site: str, side: str | None, size: list[Decimal], suv: Decimal
) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm, les.suv_max) == (site, side, size, suv)


def test_a_distractor_of_another_site_in_one_sentence_is_vetoed_there_only() -> None:
    result = extract(
        "诊断意见：右肺上叶肿块伴纵隔淋巴结转移，考虑肺癌。左侧腋窝淋巴结肿大，SUVmax 6.0，考虑髓外浸润。"
    )
    assert [(x.site, x.side) for x in result.lesions] == [("lymph_node", "left")]


# --- a mass extending into a neighbouring region is one lesion ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "site", "side", "size"),
    [
        (
            "检查所见：L4椎体骨质破坏，椎旁软组织肿块形成并向椎管内延伸，大小约4.0cm×3.0cm。\n"
            "诊断意见：L4椎体骨质破坏伴椎旁肿块，累及椎管，考虑浆细胞瘤。",
            "paravertebral",
            None,
            _d("4.0", "3.0"),
        ),
        (
            "检查所见：左侧第7肋骨质破坏伴软组织肿块，突入胸腔，侵犯邻近肌肉，大小约3.6cm×2.4cm。",
            "soft_tissue",
            "left",
            _d("3.6", "2.4"),
        ),
        (
            "检查所见：右侧顶骨骨质破坏伴软组织肿块，向颅内外突出，大小约3.0cm×1.5cm。",
            "soft_tissue",
            "right",
            _d("3.0", "1.5"),
        ),
        (
            "FINDINGS: Lytic lesion of L2 with a paraspinal soft tissue mass extending into the spinal canal, "
            "measuring 3.9 x 2.7 cm.\nIMPRESSION: L2 plasmacytoma with epidural extension into the spinal canal.",
            "paravertebral",
            None,
            _d("3.9", "2.7"),
        ),
        (
            "FINDINGS: Destructive lesion of the left 4th rib with a soft tissue mass invading the adjacent "
            "muscles, 3.3 x 2.2 cm.",
            "soft_tissue",
            "left",
            _d("3.3", "2.2"),
        ),
    ],
)
def test_a_mass_extending_into_a_neighbouring_region_is_one_lesion(
    text: str, site: str, side: str | None, size: list[Decimal]
) -> None:
    les = _one(text)
    assert (les.site, les.side, les.relation_to_bone, les.size_cm) == (site, side, "arising_from_bone", size)


def test_a_region_reached_only_by_protruding_into_it_is_the_site() -> None:
    les = _one("检查所见：L1椎体骨质破坏，伴软组织肿块向椎管内突出，大小约2.5cm×1.8cm。")
    assert (les.site, les.relation_to_bone) == ("epidural", "arising_from_bone")


def test_a_vertebral_level_that_only_places_a_mass_is_no_bone_lesion() -> None:
    les = _one(
        "FINDINGS: A 3.0 x 2.0 cm soft tissue mass in the right paravertebral region at T9, SUVmax 6.0."
    )
    assert (les.site, les.side, les.relation_to_bone) == ("paravertebral", "right", "none")


# --- change wording ---------------------------------------------------------------------------------------------


# A mass: a stable adrenal nodule that nothing else marks is incidental (the incidental-nodule cases below)
_ZH_NODULE = "检查所见：左侧肾上腺肿块，大小约2.0cm×1.5cm，{}。"
_EN_NODULE = "FINDINGS: Left adrenal mass measuring 2.0 x 1.5 cm, {}."


@pytest.mark.parametrize(
    ("template", "wording", "change"),
    [
        (_ZH_NODULE, "较前缩小", "decreased"),
        (_ZH_NODULE, "较前减小", "decreased"),
        (_ZH_NODULE, "较前变小", "decreased"),
        (_ZH_NODULE, "范围缩小", "decreased"),
        (_ZH_NODULE, "代谢减低", "decreased"),
        (_ZH_NODULE, "SUV较前下降", "decreased"),
        (_ZH_NODULE, "较前增大", "increased"),
        (_ZH_NODULE, "范围较前扩大", "increased"),
        (_ZH_NODULE, "较前进展", "increased"),
        (_ZH_NODULE, "为新出现", "new"),
        (_ZH_NODULE, "大致同前", "stable"),
        (_ZH_NODULE, "较前无明显变化", "stable"),
        (_ZH_NODULE, "未见进展", "stable"),
        (_EN_NODULE, "decreasing", "decreased"),
        (_EN_NODULE, "with interval decrease in size", "decreased"),
        (_EN_NODULE, "slightly smaller", "decreased"),
        (_EN_NODULE, "less conspicuous", "decreased"),
        (_EN_NODULE, "decreased in size and avidity", "decreased"),
        (_EN_NODULE, "enlarging", "increased"),
        (_EN_NODULE, "increased in size", "increased"),
        (_EN_NODULE, "more prominent", "increased"),
        (_EN_NODULE, "new since the prior study", "new"),
        (_EN_NODULE, "essentially unchanged", "stable"),
        (_EN_NODULE, "with no significant interval change", "stable"),
    ],
)
def test_change_wording(template: str, wording: str, change: str) -> None:
    assert _one(template.format(wording)).change == change


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：前片所示肝S5段结节已基本消失。",
        "检查所见：肝S5段病灶已消失。",
        "FINDINGS: The previously seen hepatic lesion is no longer seen.",
        "FINDINGS: Interval resolution of the hepatic lesion.",
    ],
)
def test_resolved_wording(text: str) -> None:
    les = _one(text)
    assert (les.site, les.change) == ("liver", "resolved")


def test_bare_enlargement_without_a_comparison_is_no_change() -> None:
    assert _one("检查所见：右侧睾丸增大，代谢增高，SUVmax 5.0。").change is None
    assert _one("检查所见：与前片比较，左侧肾上腺结节增大，约2.0cm×1.5cm。").change == "increased"


def test_the_current_suv_of_a_change_written_in_one_phrase() -> None:
    assert _one("检查所见：左侧胸壁肿块，SUVmax由5.1升至11.3。").suv_max == Decimal("11.3")
    assert _one("FINDINGS: Left chest wall mass, SUVmax from 12.0 to 4.5.").suv_max == Decimal("4.5")


# --- an organ enlarged with uptake keeps its SUV and size --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "side", "size", "suv"),
    [
        (
            "检查所见：左侧睾丸增大，FDG摄取增高，SUVmax 6.4，大小约4.1cm×2.9cm。",
            "left",
            _d("4.1", "2.9"),
            "6.4",
        ),
        ("检查所见：双侧睾丸体积增大，代谢弥漫性增高，SUVmax约5.5。", "bilateral", None, "5.5"),
        (
            "FINDINGS: The left testis is enlarged with increased FDG uptake (SUVmax 6.4), measuring 4.1 x 2.9 cm.",
            "left",
            _d("4.1", "2.9"),
            "6.4",
        ),
        ("FINDINGS: Enlarged right testis, SUVmax 6.4.", "right", None, "6.4"),
    ],
)
def test_an_enlarged_organ_with_uptake_keeps_its_suv_and_size(
    text: str, side: str, size: list[Decimal] | None, suv: str
) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm, les.suv_max, les.change) == (
        "testis",
        side,
        size,
        Decimal(suv),
        None,
    )


@pytest.mark.parametrize("text", ["检查所见：脾脏增大，约14cm。", "FINDINGS: The spleen is enlarged, 15 cm."])
def test_an_enlarged_organ_without_uptake_is_no_lesion(text: str) -> None:
    assert extract(text).lesions == []


# --- "without extraosseous extension" is no statement about extramedullary disease ------------------------------


@pytest.mark.parametrize(
    ("text", "no_emd"),
    [
        # a bone lesion said to be intraosseous says nothing about extramedullary disease
        ("检查所见：L2椎体骨质破坏，大小约2.0cm×1.5cm，未见骨外侵犯。", None),
        ("检查所见：右侧股骨溶骨性骨质破坏，未见软组织肿块形成。", None),
        ("检查所见：T8椎体陈旧性压缩性骨折，未见软组织肿块。", None),
        ("FINDINGS: Lytic lesion of the left humerus without extraosseous extension.", None),
        ("FINDINGS: 2.0 x 1.5 cm lytic lesion of T11 without soft tissue component.", None),
        # a statement about soft tissues, organs or extramedullary disease as a whole does
        ("检查所见：L2椎体骨质破坏，未见骨外侵犯。全身软组织及脏器未见异常。", True),
        ("检查所见：全身未见软组织肿块。", True),
        ("检查所见：L2椎体骨质破坏，未见软组织肿块。余所见脏器未见明显异常。", True),
        (
            "FINDINGS: Lytic lesion of the left humerus without extraosseous extension. No extramedullary disease.",
            True,
        ),
    ],
)
def test_no_extramedullary_lesion_needs_a_statement_beyond_the_bone(text: str, no_emd: bool | None) -> None:
    assert extract(text).no_extramedullary_lesion is no_emd


# --- sizes, SUV, sides ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "cm"),
    [
        ("大小约4.2×3.1 cm", _d("4.2", "3.1")),
        ("大小约42mm×31mm", _d("4.2", "3.1")),
        ("约4.2cm×3.1cm×2.0cm", _d("4.2", "3.1")),
        ("约2.0cm×3.5cm×1.1cm", _d("3.5", "2.0")),
        ("最大径约3cm", _d("3")),
        ("约4.2cm x 3.1cm", _d("4.2", "3.1")),
    ],
)
def test_chinese_size_formats(size: str, cm: list[Decimal]) -> None:
    assert _one(f"检查所见：左侧胸壁软组织肿块，{size}。").size_cm == cm


@pytest.mark.parametrize(
    ("size", "cm"),
    [
        ("4.2 x 3.1 cm", _d("4.2", "3.1")),
        ("42 x 31 mm", _d("4.2", "3.1")),
        ("4.2 x 3.1 x 2.0 cm", _d("4.2", "3.1")),
    ],
)
def test_english_size_formats(size: str, cm: list[Decimal]) -> None:
    assert _one(f"FINDINGS: Left chest wall soft tissue mass measuring {size}.").size_cm == cm


@pytest.mark.parametrize(
    "suv", ["SUVmax 约9.8", "SUVmax=9.8", "SUV max 9.8", "SUVmax：9.8", "SUVmax值约为9.8", "SUV最大值约9.8"]
)
def test_chinese_suv_formats(suv: str) -> None:
    assert _one(f"检查所见：左侧胸壁软组织肿块，{suv}。").suv_max == Decimal("9.8")


@pytest.mark.parametrize("suv", ["SUVmax 9.8", "SUVmax=9.8", "SUV max of 9.8", "max SUV 9.8", "SUVmax ~9.8"])
def test_english_suv_formats(suv: str) -> None:
    assert _one(f"FINDINGS: Left chest wall soft tissue mass, {suv}.").suv_max == Decimal("9.8")


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：双侧腋窝淋巴结肿大，代谢增高，左侧较大者约2.5cm×1.8cm；右侧较大者约1.4cm×1.0cm。\n"
        "诊断意见：双侧腋窝淋巴结肿大，考虑骨髓瘤浸润。",
        "FINDINGS: Bilateral axillary lymphadenopathy; the left measures 2.5 x 1.8 cm, the right measures "
        "1.4 x 1.0 cm.\nIMPRESSION: Bilateral axillary lymphadenopathy, possibly myeloma.",
    ],
)
def test_bilateral_findings_measured_apart_are_two_lesions(text: str) -> None:
    result = extract(text)
    got = [(x.site, x.side, x.size_cm, x.certainty) for x in result.lesions]
    assert got == [
        ("lymph_node", "left", _d("2.5", "1.8"), "possible"),
        ("lymph_node", "right", _d("1.4", "1.0"), "possible"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：双侧颈部淋巴结肿大，代谢增高，SUVmax 5.0。",
        "FINDINGS: Bilateral enlarged cervical lymph nodes with increased uptake, SUVmax 5.0.",
    ],
)
def test_bilateral_findings_described_together_are_one_lesion(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.suv_max) == ("lymph_node", "bilateral", Decimal("5.0"))


def test_each_site_of_a_list_takes_its_own_side() -> None:
    result = extract("诊断意见：左侧胸壁、右侧肾上腺及脾脏多发高代谢灶，考虑髓外浸润。")
    assert [(x.site, x.side) for x in result.lesions] == [
        ("chest_wall", "left"),
        ("adrenal", "right"),
        ("spleen", None),
    ]
    result = extract("IMPRESSION: Decreasing left gluteal and right adrenal plasmacytomas.")
    assert [(x.site, x.side, x.change) for x in result.lesions] == [
        ("muscle", "left", "decreased"),
        ("adrenal", "right", "decreased"),
    ]


# --- regions and sites ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("检查所见：左侧腋窝软组织肿块，大小约4.0cm×3.2cm，SUVmax约10.5。", "left"),
        ("FINDINGS: Right axillary soft tissue mass measuring 4.0 x 3.2 cm, SUVmax 10.5.", "right"),
    ],
)
def test_a_soft_tissue_mass_in_a_region_that_is_no_organ_is_soft_tissue(text: str, side: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.relation_to_bone, les.size_cm) == (
        "soft_tissue",
        side,
        "none",
        _d("4.0", "3.2"),
    )


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("检查所见：盆腔内见巨大肿块，大小约8.0cm×6.0cm，SUVmax 10.0。", None),
        ("检查所见：右侧臀部肿物，大小约8.0cm×6.0cm。", "right"),
        ("FINDINGS: Left thigh mass measuring 8.0 x 6.0 cm, SUVmax 7.0.", "left"),
    ],
)
def test_a_mass_in_a_body_region_is_soft_tissue(text: str, side: str | None) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm) == ("soft_tissue", side, _d("8.0", "6.0"))


def test_soft_tissue_named_without_a_mass_is_no_lesion() -> None:
    assert extract("诊断意见：盆腔软组织未见髓外病变。").lesions == []


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("检查所见：右侧腮腺区结节，大小约2.0cm×1.5cm，SUVmax 6.0，考虑浆细胞瘤。", "salivary_gland"),
        (
            "FINDINGS: Left parotid mass, 2.0 x 1.5 cm, SUVmax 6.0, suspicious for plasmacytoma.",
            "salivary_gland",
        ),
        ("检查所见：膀胱壁见软组织肿块，大小约3.0cm×2.0cm，考虑髓外浸润。", "bladder"),
        ("FINDINGS: Mass of the base of tongue, 3.0 x 2.0 cm, concerning for plasmacytoma.", "oropharynx"),
    ],
)
def test_head_neck_and_pelvic_sites(text: str, site: str) -> None:
    assert _one(text).site == site


def test_suv_without_max_is_read_but_not_suvmean() -> None:
    assert _one(
        "FINDINGS: Enlarged left supraclavicular node, 2.1 cm short axis, SUV 8.4."
    ).suv_max == Decimal("8.4")
    assert (
        _one("FINDINGS: Enlarged left supraclavicular node, 2.1 cm short axis, SUVmean 3.0.").suv_max is None
    )


def test_a_negated_sentence_does_not_hedge_the_lesion_before_it() -> None:
    les = _one("FINDINGS: Left chest wall mass, 5.5 x 4.0 cm. No suspicious lymphadenopathy.")
    assert les.certainty == "definite"


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("检查所见：左侧肾上腺结节，现约2.0cm×1.5cm（前片约1.2cm×1.0cm）。", "increased"),
        (
            "FINDINGS: Left gluteal plasmacytoma measuring 3.1 x 2.2 cm (previously 5.0 x 3.8 cm).",
            "decreased",
        ),
        ("FINDINGS: Left adrenal mass, 2.0 x 1.5 cm (previously 2.0 x 1.5 cm).", "stable"),
        (
            "FINDINGS: Left adrenal nodule, 2.0 x 1.4 cm (previously 2.1 x 1.5 cm).\n"
            "IMPRESSION: Stable left adrenal plasmacytoma.",
            "stable",
        ),
    ],
)
def test_change_from_the_current_and_prior_size_when_no_word_says_it(text: str, change: str) -> None:
    assert _one(text).change == change


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧胸壁术后改变，局部见软组织肿块，大小约3.0cm×2.0cm，SUVmax 8.0，考虑复发。",
        "FINDINGS: Postsurgical change of the left chest wall with a 3.0 x 2.0 cm soft tissue mass, SUVmax 8.0, "
        "concerning for recurrence.",
    ],
)
def test_recurrence_is_not_hidden_by_post_treatment_change(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm, les.certainty) == (
        "chest_wall",
        "left",
        _d("3.0", "2.0"),
        "possible",
    )


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：肝内见多发低密度结节，较大者约2.4cm×2.0cm，为新出现。",
        "FINDINGS: Two hypoattenuating liver lesions, the larger measuring 2.4 x 2.0 cm, new since prior.",
    ],
)
def test_the_larger_of_this_studys_lesions_is_no_change(text: str) -> None:
    les = _one(text)
    assert (les.site, les.size_cm, les.change) == ("liver", _d("2.4", "2.0"), "new")


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧腋窝淋巴结肿大，长径约2.6cm，短径约1.8cm，SUVmax 6.0。",
        "FINDINGS: Left axillary node measuring 2.6 cm in long axis and 1.8 cm in short axis, SUVmax 6.0.",
    ],
)
def test_long_and_short_axis_written_apart_are_one_size(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm, les.suv_max) == (
        "lymph_node",
        "left",
        _d("2.6", "1.8"),
        Decimal("6.0"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧胸壁软组织肿块，大小约3.0cm×2.0cm，浆细胞瘤待除外。",
        "检查所见：左侧胸壁软组织肿块，大小约3.0cm×2.0cm，浆细胞瘤可能性较大。",
        "FINDINGS: Left chest wall mass, 3.0 x 2.0 cm; plasmacytoma cannot be ruled out.",
        "FINDINGS: Left chest wall mass, 3.0 x 2.0 cm, worrisome for plasmacytoma.",
        "FINDINGS: Indeterminate 3.0 x 2.0 cm left chest wall mass.",
    ],
)
def test_more_hedges(text: str) -> None:
    les = _one(text)
    assert (les.site, les.certainty) == ("chest_wall", "possible")


@pytest.mark.parametrize(
    "text",
    [
        "FINDINGS: An adrenal mass is not identified.",
        "FINDINGS: Focal hepatic lesions are not seen.",
        "FINDINGS: Hypermetabolic lymphadenopathy is absent.",
        "FINDINGS: None of the previously seen nodes are enlarged.",
    ],
)
def test_english_negation_written_after_the_finding(text: str) -> None:
    assert extract(text).lesions == []


def test_change_phrases_with_a_negation_inside_stay_changes() -> None:
    assert _one("FINDINGS: The previously seen hepatic lesion is no longer seen.").change == "resolved"
    assert _one("FINDINGS: 2.0 cm liver lesion, not seen previously.").change == "new"
    assert _one("FINDINGS: A 2.0 cm liver lesion not seen on the prior study.").change == "new"


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：右侧胸壁软组织肿块，大小约3.0cm×2.0cm，SUVmax 8.0，良性可能性小。",
        "FINDINGS: Right chest wall mass, 3.0 x 2.0 cm, SUVmax 8.0; lymphoma is less likely.",
    ],
)
def test_a_distractor_the_report_sets_aside_does_not_suppress(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.certainty) == ("chest_wall", "right", "definite")


@pytest.mark.parametrize(
    ("text", "date", "quote"),
    [
        ("检查日期：2025.03.05\n检查所见：左侧胸壁软组织肿块。", "2025-03-05", "2025.03.05"),
        (
            "EXAM: CT CHEST\nDATE OF EXAM: March 5, 2025\nFINDINGS: Left chest wall mass.",
            "2025-03-05",
            "March 5, 2025",
        ),
        (
            "EXAM: CT CHEST\nDate: Sept. 15 2025\nFINDINGS: Left chest wall mass.",
            "2025-09-15",
            "Sept. 15 2025",
        ),
    ],
)
def test_study_date_wordings_and_their_span(text: str, date: str, quote: str) -> None:
    result = extract(text)
    assert result.study_date == date
    assert [e.quote for e in result.evidence if e.field == "study_date"] == [quote]


def test_a_cube_sign_after_three_lengths_is_a_size_but_a_volume_is_not() -> None:
    assert _one("检查所见：左侧胸壁软组织肿块，大小约4.2×3.1×2.0cm³。").size_cm == _d("4.2", "3.1")
    assert _one("检查所见：左侧胸壁软组织肿块，体积约12cm³。").size_cm is None


_ZH_DISTRACTORS = [
    "右侧上颌窦黏膜增厚",
    "右肺下叶炎症",
    "肝内多发小囊肿",
    "胆囊结石",
    "L4/5椎间盘膨出",
    "肝S4段血管瘤",
    "右肾错构瘤",
    "双侧腋窝反应性增生淋巴结",
    "胃壁生理性摄取",
    "右肺上叶肺腺癌",
]
_EN_DISTRACTORS = [
    "right maxillary sinusitis",
    "a simple cyst in the right kidney",
    "a right hepatic hemangioma",
    "cholelithiasis",
    "degenerative disc disease at L4-L5",
    "reactive right axillary nodes",
    "physiologic uptake in the bowel",
    "a biopsy-proven right lung adenocarcinoma",
]


# The lesion, and how a distractor is written before it and after it, per language.
_BESIDE = {
    "zh": (
        "检查所见：{}。",
        "左侧胸壁见软组织肿块，大小约3.1cm×2.2cm，SUVmax 8.4",
        "{d}，{les}",
        "{les}，另见{d}",
    ),
    "en": (
        "FINDINGS: {}.",
        "a 3.1 x 2.2 cm left chest wall soft tissue mass, SUVmax 8.4",
        "There is {d}, and {les}",
        "There is {les}, and {d}",
    ),
}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([("zh", d) for d in _ZH_DISTRACTORS] + [("en", d) for d in _EN_DISTRACTORS]),
    st.booleans(),
)
def test_a_distractor_beside_a_lesion_never_suppresses_it(case: tuple[str, str], before: bool) -> None:
    lang, distractor = case
    report, lesion, first, last = _BESIDE[lang]
    les = _one(report.format((first if before else last).format(d=distractor, les=lesion)))
    assert (les.site, les.side, les.size_cm, les.suv_max) == (
        "chest_wall",
        "left",
        _d("3.1", "2.2"),
        Decimal("8.4"),
    )


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(
        ["并向椎管内延伸", "突入椎管内", "累及邻近肌肉", "侵犯邻近胸膜", "向硬膜外间隙生长", "推压邻近腰大肌"]
    ),
    st.booleans(),
)
def test_a_paravertebral_mass_extending_anywhere_is_one_lesion_in_chinese(
    extension: str, early: bool
) -> None:
    body = (
        f"T10椎体骨质破坏伴椎旁软组织肿块，{extension}，大小约4.0cm×3.0cm"
        if early
        else f"T10椎体骨质破坏伴椎旁软组织肿块，大小约4.0cm×3.0cm，{extension}"
    )
    les = _one(f"检查所见：{body}。\n诊断意见：T10椎体骨质破坏伴椎旁软组织肿块，{extension}，考虑浆细胞瘤。")
    assert (les.site, les.relation_to_bone, les.size_cm) == (
        "paravertebral",
        "arising_from_bone",
        _d("4.0", "3.0"),
    )


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(
        [
            "extending into the spinal canal",
            "invading the adjacent psoas muscle",
            "protruding into the epidural space",
            "extending to the adjacent pleura",
        ]
    )
)
def test_a_paravertebral_mass_extending_anywhere_is_one_lesion_in_english(extension: str) -> None:
    les = _one(
        f"FINDINGS: Lytic lesion of T10 with a paravertebral soft tissue mass {extension}, measuring 4.0 x 3.0 cm.\n"
        f"IMPRESSION: T10 plasmacytoma with paravertebral soft tissue mass {extension}."
    )
    assert (les.site, les.relation_to_bone, les.size_cm) == (
        "paravertebral",
        "arising_from_bone",
        _d("4.0", "3.0"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：双侧肾上腺结节，左侧约2.0cm×1.5cm、右侧约1.0cm×0.8cm，代谢增高。",
        "FINDINGS: Bilateral adrenal masses, 2.0 x 1.5 cm on the left and 1.0 x 0.8 cm on the right.",
    ],
)
def test_bilateral_sizes_in_one_clause_are_two_lesions(text: str) -> None:
    got = [(x.site, x.side, x.size_cm) for x in extract(text).lesions]
    assert got == [("adrenal", "left", _d("2.0", "1.5")), ("adrenal", "right", _d("1.0", "0.8"))]


def test_one_size_for_a_bilateral_finding_keeps_one_lesion() -> None:
    les = _one("检查所见：双侧肾上腺结节，大小约2.0cm×1.5cm，代谢增高。")
    assert (les.site, les.side, les.size_cm) == ("adrenal", "bilateral", _d("2.0", "1.5"))


# --- statements about the whole report, places of distractors, more change wording --------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：肝脾大小形态正常。\n诊断意见：肝、脾未见明显异常，盆腔未见髓外浸润病灶。",
        "FINDINGS: Liver and spleen normal in size.\n"
        "IMPRESSION: Liver and spleen unremarkable, no extramedullary involvement by any mass in the abdomen.",
    ],
)
def test_a_no_extramedullary_statement_negates_the_lesion_word_after_it(text: str) -> None:
    result = extract(text)
    assert result.lesions == []
    assert result.no_extramedullary_lesion is True


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：T9椎体骨质破坏伴右侧椎旁软组织肿块，大小约40mm×30mm。颈椎退行性变。",
        "FINDINGS: Left adrenal nodule measuring 2.0 x 1.5 cm, SUVmax 6.0. Post-surgical changes of the right knee.",
    ],
)
def test_a_distractor_sentence_naming_its_own_place_leaves_the_lesion_before_it(text: str) -> None:
    les = _one(text)
    assert les.size_cm is not None and les.size_cm[0] in (Decimal("4.0"), Decimal("2.0"))


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧腋窝肿大淋巴结，大小约2.0cm×1.5cm，与前片比较变化不明显。",
        "检查所见：左侧腋窝肿大淋巴结，大小约2.0cm×1.5cm，较前无明显改变。",
        "检查所见：左侧腋窝肿大淋巴结，大小约2.0cm×1.5cm，较前无著变。",
        "FINDINGS: Enlarged left axillary lymph node, 2.0 x 1.5 cm, with no appreciable change from the prior study.",
        "FINDINGS: Enlarged left axillary lymph node, 2.0 x 1.5 cm, little changed from the prior study.",
    ],
)
def test_change_not_significant_is_stable(text: str) -> None:
    assert _one(text).change == "stable"


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧臀部皮下见一低回声结节，大小约10mm×6mm，边界清。\n诊断意见：左臀部皮下脂肪瘤可能。",
        "FINDINGS: A 1.0 x 0.6 cm subcutaneous nodule in the left buttock, well circumscribed.\n"
        "IMPRESSION: Probable left buttock subcutaneous lipoma.",
        # named by its place alone
        "检查所见：右侧腹壁皮下见一等回声结节，大小约8mm×6mm。\n诊断意见：右腹壁脂肪瘤可能。",
        "FINDINGS: 0.8 x 0.6 cm subcutaneous nodule in the right abdominal wall.\nIMPRESSION: Right abdominal wall lipoma.",
        # incidental nodules of the thyroid, adrenal and lung: nothing marks them as disease
        "检查所见：甲状腺右叶低密度结节，直径约1.1cm，SUVmax约2.0。\n诊断意见：甲状腺右叶结节，建议超声随访。",
        "检查所见：右肾上腺结节，大小约1.5cm×1.2cm，较前相仿。左肺下叶实性小结节，直径约0.5cm。",
        "FINDINGS: Low-grade uptake in a 1.1 cm left thyroid nodule, SUVmax 2.1, unchanged.\n"
        "IMPRESSION: Stable left thyroid nodule.",
        "FINDINGS: 1.5 x 1.2 cm right adrenal nodule, stable. A 5 mm nodule in the right lower lobe.",
        "检查所见：左肺上叶结节，直径约0.8cm，代谢轻度增高。",
        "FINDINGS: Mildly FDG-avid 0.8 cm left upper lobe nodule.",
    ],
)
def test_a_distractor_in_the_impression_or_an_incidental_nodule_is_no_lesion(text: str) -> None:
    assert extract(text).lesions == []


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：胃体胃壁增厚，最厚处约1.5cm，SUVmax约7.0。腹膜多发结节，SUVmax约5.0。直肠生理性摄取。\n"
        "诊断意见：胃壁增厚伴代谢增高，腹膜多发结节，考虑浆细胞瘤累及胃及腹膜。",
        "FINDINGS: Gastric wall thickening measuring up to 1.5 cm, SUVmax 7.0. Omental nodules, SUVmax 5.0. "
        "Physiologic uptake in the colon.\nIMPRESSION: Gastric wall thickening and omental nodules, concerning for "
        "plasmacytoma involving the stomach and peritoneum.",
    ],
)
def test_wall_thickening_with_uptake_is_organ_involvement_named_by_the_conclusion(text: str) -> None:
    # The conclusion's myeloma word names both organs; physiological uptake elsewhere in the bowel does not veto
    got = [(x.site, x.size_cm, x.suv_max, x.certainty) for x in extract(text).lesions]
    assert got == [
        ("gastrointestinal", _d("1.5"), Decimal("7.0"), "possible"),
        ("peritoneum", None, Decimal("5.0"), "possible"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：肝脏：形态大小正常，实质回声均匀，未见明显占位。右侧乳腺：见一新发高代谢结节，大小约1.2cm×1.0cm，"
        "SUVmax约4.8。",
        "FINDINGS: Liver: normal in size, no focal mass. Right breast: new hypermetabolic nodule measuring "
        "1.2 x 1.0 cm, SUVmax 4.8. Post-surgical changes of the left knee.",
    ],
)
def test_an_organ_heading_with_a_colon_names_the_site_of_its_finding(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm, les.suv_max, les.change) == (
        "breast",
        "right",
        _d("1.2", "1.0"),
        Decimal("4.8"),
        "new",
    )


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("检查所见：甲状腺右叶低密度结节，直径约1.1cm，SUVmax约6.2。", "thyroid"),  # SUVmax >= 2.5
        ("检查所见：右肾上腺新发结节，大小约1.5cm×1.2cm。", "adrenal"),  # new
        ("检查所见：左肺下叶结节，直径约1.0cm，代谢增高。", "lung"),  # uptake not called mild
        ("检查所见：左肺下叶结节，略呈分叶状，直径约1.0cm，代谢增高。", "lung"),  # 略 describes the shape
        (
            "检查所见：右肾结节，大小约2.0cm×1.8cm。\n诊断意见：右肾结节，考虑浆细胞瘤。",
            "kidney",
        ),  # myeloma word
        ("FINDINGS: Hypermetabolic 1.1 cm right thyroid nodule, SUVmax 6.2.", "thyroid"),
        ("FINDINGS: 1.5 x 1.2 cm right adrenal nodule, increased from the prior study.", "adrenal"),
        ("FINDINGS: 1.0 cm left lower lobe nodule, suspicious for plasmacytoma.", "lung"),
        ("FINDINGS: 2.0 x 1.8 cm right renal mass.", "kidney"),  # a mass word
    ],
)
def test_a_nodule_of_those_organs_with_a_mark_of_disease_is_a_lesion(text: str, site: str) -> None:
    assert _one(text).site == site


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧腹壁皮下见一低回声结节，大小约20mm×12mm。\n诊断意见：右腹壁脂肪瘤可能。",
        "FINDINGS: 2.0 x 1.2 cm subcutaneous nodule in the left abdominal wall.\nIMPRESSION: Right abdominal wall lipoma.",
    ],
)
def test_a_distractor_named_by_place_spares_the_other_side(text: str) -> None:
    assert (_one(text).site, _one(text).side) == ("skin", "left")


_ORGANS = {"thyroid": ("甲状腺右叶", "right thyroid"), "adrenal": ("右肾上腺", "right adrenal")}
_ORGANS |= {"lung": ("右肺下叶", "right lower lobe"), "kidney": ("右肾", "right renal")}


@settings(max_examples=60, deadline=None)
@given(
    organ=st.sampled_from(sorted(_ORGANS)),
    tenths=st.integers(min_value=5, max_value=150),
    zh=st.booleans(),
)
def test_an_incidental_organ_nodule_is_a_lesion_exactly_from_suv_max_2_5(
    organ: str, tenths: int, zh: bool
) -> None:
    suv = Decimal(tenths) / 10
    zh_place, en_place = _ORGANS[organ]
    text = (
        f"检查所见：{zh_place}结节，直径约1.0cm，SUVmax约{suv}。"
        if zh
        else f"FINDINGS: {en_place} nodule measuring 1.0 cm, SUVmax {suv}."
    )
    lesions = extract(text).lesions
    if suv >= Decimal("2.5"):
        assert [(x.site, x.suv_max) for x in lesions] == [(organ, suv)]
    else:
        assert lesions == []


# --- the exam line names the modality, a tracer before it included ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # Chinese text loses its spaces: "18F-FDG PET/CT" reads "18F-FDGPET/CT", still PET-CT, not CT
        "检查项目：全身 18F-FDG PET/CT 显像\n检查所见：左侧腋窝软组织肿块，大小约3.0cm×2.0cm，SUVmax 6.0。",
        "检查项目：FDG PET-CT（全身）\n检查所见：左侧腋窝软组织肿块，大小约3.0cm×2.0cm，SUVmax 6.0。",
        "EXAM: WHOLE BODY 18F-FDG PET/CT\nFINDINGS: Left axillary soft tissue mass, 3.0 x 2.0 cm, SUVmax 6.0.",
    ],
)
def test_a_tracer_written_before_the_modality_keeps_it_pet_ct(text: str) -> None:
    assert extract(text).modality == "PET-CT"


# --- bone disease in several bones is not a focal lesion --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧股骨及右侧肱骨溶骨性骨质破坏，较前相仿。",
        "检查所见：双侧肩胛骨骨质破坏，大致同前。",
        "检查所见：胸骨、左侧锁骨骨质破坏。",
        "FINDINGS: Lytic lesions in the left humerus and the right femur, stable.",
        "FINDINGS: Lytic lesions of both scapulae, unchanged.",
    ],
)
def test_bone_lesions_in_several_bones_are_bone_disease_not_a_lesion(text: str) -> None:
    assert extract(text).lesions == []


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧股骨骨质破坏，大小约2.0cm×1.5cm，较前相仿。",
        "FINDINGS: Lytic lesion in the left femur, 2.0 x 1.5 cm, stable.",
    ],
)
def test_a_lesion_of_one_bone_stays_a_focal_lesion(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.relation_to_bone) == ("bone", "left", "intraosseous")


# --- a growing organ nodule the report says is not the benign look-alike --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左肾上腺结节较前增大，大小约2.5cm×2.0cm。\n诊断意见：左肾上腺结节较前增大，不符合腺瘤表现；考虑髓外浸润可能。",
        "检查所见：左肾上腺结节较前增大，大小约2.5cm×2.0cm。\n诊断意见：左肾上腺结节增大，不支持腺瘤，疑似浆细胞瘤。",
        "FINDINGS: The left adrenal nodule has enlarged, now 2.5 x 2.0 cm.\n"
        "IMPRESSION: Enlarging left adrenal nodule, not characteristic of an adenoma; plasmacytoma is suspected.",
        "FINDINGS: The left adrenal nodule has grown, now 2.5 x 2.0 cm.\n"
        "IMPRESSION: Growing left adrenal nodule, atypical for an adenoma, suspicious for extramedullary disease.",
    ],
)
def test_a_growing_nodule_not_typical_of_the_benign_finding_is_a_lesion(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm, les.change, les.certainty) == (
        "adrenal",
        "left",
        _d("2.5", "2.0"),
        "increased",
        "possible",
    )


# --- a benign finding in an organ that is no plasmacytoma site names its own place ------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "检查所见：左侧腋窝软组织肿块，大小约3.0cm×2.0cm，较前相仿。胆囊内见结石。",
        "检查所见：左侧腋窝软组织肿块，大小约3.0cm×2.0cm，较前相仿。前列腺增生。",
        "FINDINGS: Left axillary soft tissue mass, 3.0 x 2.0 cm, stable. Stones in the gallbladder.",
        "FINDINGS: Left axillary soft tissue mass, 3.0 x 2.0 cm, stable. Benign prostatic hyperplasia of the prostate.",
    ],
)
def test_a_benign_finding_in_another_organ_leaves_the_lesion_before_it(text: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.size_cm, les.change) == (
        "soft_tissue",
        "left",
        _d("3.0", "2.0"),
        "stable",
    )


# --- resolved extramedullary lesions: the report does not say there is none -------------------------------------


@pytest.mark.parametrize(
    ("text", "no_emd"),
    [
        ("检查所见：原左侧腋窝软组织肿块已消失。\n诊断意见：左腋窝病灶消失，未见新发病灶。", False),
        ("FINDINGS: The previously seen left axillary soft tissue mass has resolved. No new lesions.", False),
        # a statement that none remains still says so
        ("检查所见：原左侧腋窝软组织肿块已消失。\n诊断意见：左腋窝病灶消失，未见髓外病灶。", True),
        (
            "FINDINGS: The left axillary soft tissue mass has resolved. No evidence of extramedullary disease.",
            True,
        ),
    ],
)
def test_only_resolved_lesions_without_a_negative_statement_are_not_no_emd(text: str, no_emd: bool) -> None:
    result = extract(text)
    assert [les.change for les in result.lesions] == ["resolved"]
    assert result.no_extramedullary_lesion is no_emd


# --- named muscles and posterior-fossa regions carry their side --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("检查所见：右侧股外侧肌见软组织肿块，大小约4.0cm×2.5cm。\n诊断意见：右股外侧肌浆细胞瘤。", "muscle"),
        (
            "检查所见：右侧桥小脑角区见强化结节，大小约1.0cm×0.8cm。\n诊断意见：右侧桥小脑角区结节，考虑中枢神经系统受累。",
            "cns",
        ),
        (
            "FINDINGS: Intramuscular mass in the right rectus femoris, 4.0 x 2.5 cm.\n"
            "IMPRESSION: Right rectus femoris plasmacytoma.",
            "muscle",
        ),
        (
            "FINDINGS: Enhancing nodule in the right cerebellopontine angle, 1.0 x 0.8 cm.\n"
            "IMPRESSION: Right CPA nodule, suspicious for CNS myeloma.",
            "cns",
        ),
    ],
)
def test_a_named_muscle_or_posterior_fossa_region_keeps_its_side(text: str, site: str) -> None:
    les = _one(text)
    assert (les.site, les.side, les.sections) == (site, "right", ["findings", "impression"])


# --- a breast finding placed by the nipple; a distance is no size -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        (
            "检查所见：2点钟方向距乳头3cm处见低回声肿块，大小约1.5cm×1.0cm，较前缩小。\n诊断意见：右乳浆细胞瘤，较前缩小。",
            ("1.5", "1.0"),
        ),
        (
            "检查所见：右乳2点钟方向距乳头3cm处见低回声肿块，较前缩小。\n诊断意见：右乳浆细胞瘤，较前缩小。",
            None,
        ),
        (
            "FINDINGS: At 10 o'clock, 3 cm from the nipple, the known hypoechoic mass now measures 1.5 x 1.0 cm, "
            "decreased from 2.6 x 1.8 cm.\nIMPRESSION: Decreasing right breast plasmacytoma.",
            ("1.5", "1.0"),
        ),
        (
            "FINDINGS: A hypoechoic mass 3 cm from the nipple, smaller.\nIMPRESSION: Decreasing right breast plasmacytoma.",
            None,
        ),
    ],
)
def test_a_mass_placed_from_the_nipple_is_the_breast_lesion_and_the_distance_no_size(
    text: str, size: tuple[str, ...] | None
) -> None:
    les = _one(text)
    assert (les.site, les.side, les.change, les.sections) == (
        "breast",
        "right",
        "decreased",
        ["findings", "impression"],
    )
    assert les.size_cm == (_d(*size) if size else None)
