"""Report labels and value names in English and Chinese.

Clinical terms follow the seed reviews' own Chinese wording (e.g. 髓外病变, 骨旁, 总缓解率) and the IMWG category
abbreviations, which Chinese clinical writing keeps in Latin letters (CR, VGPR, PR ...).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, Literal

Lang = Literal["en", "zh"]
LANGS: Final = ("en", "zh")

LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "MM-EMD decision-support report",
        "subtitle": "Multiple myeloma with extramedullary disease: classification, prognosis, work-up and evidence-graded options",
        "patient": "Patient",
        "generated": "Generated",
        "age": "Age",
        "phase": "Phase",
        "transplant_eligible": "Transplant eligible",
        "summary": "Summary",
        "emd": "Extramedullary disease",
        "category": "Classification",
        "timing": "Timing",
        "cns": "CNS involvement",
        "sites": "Sites",
        "staging": "Stage and risk",
        "iss": "ISS",
        "r_iss": "R-ISS",
        "r2_iss": "R2-ISS",
        "high_risk": "High risk (IMS/IMWG 2025)",
        "high_risk_features": "High-risk features",
        "missing": "Missing data",
        "response": "Current response (IMWG 2016)",
        "current": "Current",
        "best": "Best",
        "confirmed": "confirmed",
        "unconfirmed": "unconfirmed",
        "mrd": "MRD",
        "timeline": "Timeline",
        "top_options": "Top treatment options",
        "option": "Option",
        "grade": "Grade",
        "emd_evidence": "EMD-specific evidence",
        "key_numbers": "Key numbers",
        "cautions": "Cautions",
        "main_cautions": "Main cautions",
        "workup": "Open work-up",
        "no_workup": "No open work-up item.",
        "no_options": "No treatment-option rule fired for this patient: complete the open work-up first (mmemd explain lists each rule and why it did not fire).",
        "details": "Details",
        "options_detail": "Treatment options and their evidence",
        "applies_because": "Applies because",
        "evidence_table": "Evidence",
        "cite_no": "No.",
        "study": "Study",
        "design": "Design",
        "n": "n",
        "endpoint": "Endpoint",
        "value": "Value",
        "quote": "Quote (verbatim)",
        "source": "Source",
        "score": "Score",
        "score_parts": "evidence {evidence}, EMD-specific {emd_specific}, match {match}, cautions {cautions}",
        "note": "Note",
        "prognosis": "Prognosis figures that apply",
        "figure": "Figure",
        "population": "Population",
        "sources": "Sources",
        "no_prognosis": "No prognosis figure applies.",
        "workup_detail": "Work-up: what should still be examined",
        "because": "Because",
        "charts": "Charts",
        "response_chart": "Response over time",
        "evidence_chart": "Reported response rates by option",
        "evidence_chart_note": "Rates come from different studies and populations; they are not a head-to-head comparison.",
        "chart_data": "Chart data",
        "date": "Date",
        "response_cat": "Response",
        "serum_m": "Serum M-protein (g/dL)",
        "urine_m": "Urine M-protein (mg/24h)",
        "flc": "Involved FLC (mg/dL)",
        "spd": "Plasmacytoma SPD (cm²)",
        "no_mprotein": "M-protein/FLC panel omitted: no serum M-protein or free-light-chain measurement in the record.",
        "no_spd": "Plasmacytoma panel omitted: no plasmacytoma measurement (SPD) in the record.",
        "no_assessments": "Response chart omitted: the record has no serial response assessments.",
        "no_rates": "Evidence chart omitted: none of the options' claims reports a response rate in percent.",
        "emd_specific": "EMD-specific",
        "general_mm": "general MM",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "possible": "possible",
        "points": "points",
        "indeterminate": "indeterminate",
        "not_reported": "not reported",
        "engine_reasons": "How the engine decided",
        "other_sources": "References",
        "cited_claims": "Other cited evidence (summary, work-up, prognosis)",
        "grade_line": "Evidence grade A (high) to D (very low), computed from study design, then one level down for fewer than 20 patients and one for general-MM evidence applied to EMD.",
        "thin_all": "Evidence is thin: no option has EMD-specific evidence better than grade C; clinical-trial enrolment is listed for that reason.",
        "thin_option_none": "No EMD-specific evidence: general MM data applied to EMD.",
        "thin_option_grade": "EMD-specific evidence is thin (best grade {grade}).",
        "versions": "Versions",
        "package": "mmemd",
        "knowledge_base": "Knowledge base",
        "criteria": "Criteria",
        "disclaimer": "Decision support: this report supports, and does not prescribe, treatment decisions. It lays out published evidence and its strength for the treating clinician to weigh; verify against the cited sources.",
        "cite_hint": "Numbers in square brackets refer to the evidence entries of the same number (under the treatment options and in the last section): each names its publication (the review and its section, and the study the review cites there) and quotes the review verbatim.",
        "more_options": "Other options, lower score",
        "chart_unavailable": "Chart image not available in this format; its data follow.",
        "major": "major",
        "minor": "minor",
    },
    "zh": {
        "title": "多发性骨髓瘤髓外病变（MM-EMD）决策支持报告",
        "subtitle": "分类、预后、待完善检查及按证据分级的治疗选择",
        "patient": "患者",
        "generated": "生成时间",
        "age": "年龄",
        "phase": "疾病阶段",
        "transplant_eligible": "适合移植",
        "summary": "摘要",
        "emd": "髓外病变",
        "category": "分类",
        "timing": "出现时间",
        "cns": "中枢神经系统受累",
        "sites": "部位",
        "staging": "分期与风险",
        "iss": "ISS",
        "r_iss": "R-ISS",
        "r2_iss": "R2-ISS",
        "high_risk": "高危（IMS/IMWG 2025）",
        "high_risk_features": "高危特征",
        "missing": "缺失数据",
        "response": "当前疗效（IMWG 2016）",
        "current": "当前",
        "best": "最佳",
        "confirmed": "已确认",
        "unconfirmed": "未确认",
        "mrd": "MRD",
        "timeline": "时间线",
        "top_options": "主要治疗选择",
        "option": "治疗选择",
        "grade": "证据等级",
        "emd_evidence": "EMD特异性证据",
        "key_numbers": "关键数据",
        "cautions": "注意事项",
        "main_cautions": "主要注意事项",
        "workup": "待完善检查",
        "no_workup": "无待完善检查。",
        "no_options": "该患者未触发任何治疗选择规则：请先完成待完善检查（规则解释功能列出每条规则及其未触发的原因）。",
        "details": "详细信息",
        "options_detail": "治疗选择及其证据",
        "applies_because": "适用依据",
        "evidence_table": "证据",
        "cite_no": "编号",
        "study": "研究",
        "design": "设计",
        "n": "例数",
        "endpoint": "终点",
        "value": "结果",
        "quote": "原文引文",
        "source": "出处",
        "score": "评分",
        "score_parts": "证据 {evidence}，EMD特异性 {emd_specific}，匹配 {match}，注意事项 {cautions}",
        "note": "备注",
        "prognosis": "适用的预后数据",
        "figure": "数据",
        "population": "人群",
        "sources": "出处",
        "no_prognosis": "无适用的预后数据。",
        "workup_detail": "待完善检查",
        "because": "依据",
        "charts": "图表",
        "response_chart": "疗效随时间变化",
        "evidence_chart": "各治疗选择报道的缓解率",
        "evidence_chart_note": "各缓解率来自不同研究和人群，并非头对头比较。",
        "chart_data": "图表数据",
        "date": "日期",
        "response_cat": "疗效",
        "serum_m": "血清M蛋白（g/dL）",
        "urine_m": "尿M蛋白（mg/24h）",
        "flc": "受累游离轻链（mg/dL）",
        "spd": "浆细胞瘤SPD（cm²）",
        "no_mprotein": "未绘制M蛋白/游离轻链图：记录中无血清M蛋白或游离轻链测定值。",
        "no_spd": "未绘制浆细胞瘤图：记录中无浆细胞瘤测量值（SPD）。",
        "no_assessments": "未绘制疗效图：记录中无系列疗效评估。",
        "no_rates": "未绘制证据图：各治疗选择的证据中无以百分比报道的缓解率。",
        "emd_specific": "EMD特异性",
        "general_mm": "一般MM",
        "yes": "是",
        "no": "否",
        "unknown": "未知",
        "possible": "可能",
        "points": "分",
        "indeterminate": "无法确定",
        "not_reported": "未报道",
        "engine_reasons": "判定依据",
        "other_sources": "参考文献",
        "cited_claims": "其他引用的证据（摘要、检查、预后）",
        "grade_line": "证据等级A（高）至D（极低）：按研究设计确定，病例数少于20例降一级，将一般MM证据用于EMD再降一级。",
        "thin_all": "证据薄弱：没有任何治疗选择具有优于C级的EMD特异性证据，因此列出参加临床试验。",
        "thin_option_none": "无EMD特异性证据：系将一般MM数据外推至EMD。",
        "thin_option_grade": "EMD特异性证据薄弱（最佳等级{grade}）。",
        "versions": "版本",
        "package": "mmemd",
        "knowledge_base": "知识库",
        "criteria": "标准",
        "disclaimer": "决策支持声明：本报告仅为临床决策提供支持，不构成处方或治疗建议。报告列出已发表证据及其强度，供主治医师权衡；请对照所引文献核实。",
        "cite_hint": "方括号中的数字指同一编号的证据条目（见各治疗选择之下及最后一节）：每条注明出处（综述及其章节、综述在该处所引研究），并附综述原文引文。",
        "more_options": "其他治疗选择（评分较低）",
        "chart_unavailable": "此格式不含图像，以下为图表数据。",
        "major": "重要",
        "minor": "一般",
    },
}

#: Values of the assessment's enumerations (EMD category, timing, phase, IMWG categories, MRD, design).
VALUES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "extramedullary": "extramedullary (EM-E, no bone contact)",
        "paraskeletal": "paraskeletal (EM-B, arising from bone)",
        "none": "no extramedullary disease",
        "solitary_bone_plasmacytoma": "solitary bone plasmacytoma",
        "solitary_extramedullary_plasmacytoma": "solitary extramedullary plasmacytoma",
        "plasma_cell_leukemia": "plasma cell leukaemia",
        "indeterminate": "indeterminate",
        "primary": "primary (at diagnosis)",
        "secondary": "secondary (at relapse)",
        "newly_diagnosed": "newly diagnosed",
        "relapsed_refractory": "relapsed/refractory",
        "not_evaluable": "not evaluable",
        "baseline": "baseline",
        "sCR": "sCR",
        "CR": "CR",
        "VGPR": "VGPR",
        "PR": "PR",
        "MR": "MR",
        "SD": "SD",
        "PD": "PD",
        "sustained_negative": "sustained MRD-negative",
        "flow_negative": "flow MRD-negative",
        "sequencing_negative": "sequencing MRD-negative",
        "imaging_plus_negative": "imaging-plus MRD-negative",
        "rct": "randomised trial",
        "prospective": "prospective",
        "retrospective": "retrospective",
        "meta_analysis": "meta-analysis",
        "indirect_comparison": "indirect comparison",
        "case_report": "case report",
        "review": "review",
        "preclinical": "preclinical",
        "unknown": "not stated",
    },
    "zh": {
        "extramedullary": "髓外（EM-E，不与骨相连）",
        "paraskeletal": "骨旁（EM-B，源于骨）",
        "none": "无髓外病变",
        "solitary_bone_plasmacytoma": "孤立性骨浆细胞瘤",
        "solitary_extramedullary_plasmacytoma": "孤立性髓外浆细胞瘤",
        "plasma_cell_leukemia": "浆细胞白血病",
        "indeterminate": "无法确定",
        "primary": "原发（诊断时）",
        "secondary": "继发（复发时）",
        "newly_diagnosed": "初诊",
        "relapsed_refractory": "复发难治",
        "not_evaluable": "不可评估",
        "baseline": "基线",
        "sCR": "sCR（严格意义的完全缓解）",
        "CR": "CR（完全缓解）",
        "VGPR": "VGPR（非常好的部分缓解）",
        "PR": "PR（部分缓解）",
        "MR": "MR（微小缓解）",
        "SD": "SD（疾病稳定）",
        "PD": "PD（疾病进展）",
        "sustained_negative": "持续MRD阴性",
        "flow_negative": "流式MRD阴性",
        "sequencing_negative": "测序MRD阴性",
        "imaging_plus_negative": "影像学加MRD阴性",
        "rct": "随机对照试验",
        "prospective": "前瞻性研究",
        "retrospective": "回顾性研究",
        "meta_analysis": "荟萃分析",
        "indirect_comparison": "间接比较",
        "case_report": "病例报告",
        "review": "综述",
        "preclinical": "临床前研究",
        "unknown": "未说明",
    },
}

#: Record fields the engine names when a fact is missing (its reasons quote the JSON path), as readable labels.
FIELDS: Final[dict[str, tuple[str, str]]] = {
    "cytogenetics.del_17p": ("del(17p)", "del(17p)"),
    "cytogenetics.tp53_mutation": ("TP53 mutation", "TP53突变"),
    "cytogenetics.t_4_14": ("t(4;14)", "t(4;14)"),
    "cytogenetics.t_14_16": ("t(14;16)", "t(14;16)"),
    "cytogenetics.t_14_20": ("t(14;20)", "t(14;20)"),
    "cytogenetics.t_11_14": ("t(11;14)", "t(11;14)"),
    "cytogenetics.gain_1q": ("1q gain", "1q获得（+1q）"),
    "cytogenetics.del_1p32": ("del(1p32)", "del(1p32)"),
    "labs.beta2_microglobulin": ("β2-microglobulin", "β2微球蛋白"),
    "labs.albumin": ("albumin", "白蛋白"),
    "labs.ldh": ("LDH", "LDH"),
    "labs.creatinine": ("creatinine", "肌酐"),
    "diagnosis.clonal_bone_marrow_plasma_cells_pct": (
        "clonal bone-marrow plasma cells (%)",
        "骨髓克隆性浆细胞比例",
    ),
    "diagnosis.myeloma_defining_events": ("myeloma-defining events", "骨髓瘤定义事件"),
    "diagnosis.circulating_plasma_cells_pct": ("circulating plasma cells (%)", "外周血浆细胞比例"),
    "transplant_eligible": ("transplant eligibility", "是否适合移植"),
    "therapy_history": ("therapy history", "既往治疗史"),
}


def label(lang: Lang, key: str) -> str:
    return LABELS[lang][key]


def value(lang: Lang, v: object) -> str:
    """A readable value: booleans, None as "unknown", enumeration members through VALUES."""
    if v is None:
        return LABELS[lang]["unknown"]
    if v is True:
        return LABELS[lang]["yes"]
    if v is False:
        return LABELS[lang]["no"]
    s = str(v)
    return VALUES[lang].get(s, s.replace("_", " ") if lang == "en" else s)


def pick(lang: Lang, en: str, zh: str) -> str:
    """The text in the report's language; the other language's when a translation is missing."""
    return (zh or en) if lang == "zh" else (en or zh)


# ---- decision-support additions on page one (line history, ranking reasons, not-suitable list) ------------------
# A separate block so that wording changes elsewhere in LABELS merge cleanly; both languages, merged below.
OPTION_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "line_n": "Line {n}",
        "best_response_col": "best response",
        "refractory_col": "refractory",
        "refractory_derived": "yes (derived: progression on this line)",
        "refractory_recorded": "yes (as recorded)",
        "why_rank": "Why",
        "not_suitable": "Considered, not suitable",
    },
    "zh": {
        "line_n": "第{n}线",
        "best_response_col": "最佳疗效",
        "refractory_col": "难治",
        "refractory_derived": "是（推导：本线治疗中进展）",
        "refractory_recorded": "是（病历记录）",
        "why_rank": "排序依据",
        "not_suitable": "已考虑但不适合",
    },
}
for _lang, _labels in OPTION_LABELS.items():
    LABELS[_lang].update(_labels)


#: An identifier as the record schema, the vocabulary or the engine spells it: ``bcma_car_t``, ``labs.ldh``.
_KEY = re.compile(r"\b(?:(?:cytogenetics|labs|diagnosis)\.[a-z0-9_]+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")


@lru_cache(maxsize=2048)
def key_label(lang: Lang, key: str) -> str | None:
    """The reader's wording of an internal key (a record field, a vocabulary term, a myeloma-defining event, an
    enumeration value); None when the key is not one of ours."""
    from mmemd.knowledge import load_glossary, vocabulary

    if key in FIELDS:
        return pick(lang, *FIELDS[key])
    term = vocabulary().term(key)
    if term is not None:
        return term.zh if lang == "zh" else term.en
    g = load_glossary()
    if f"mde.{key}" in g.terms:
        return g.term(f"mde.{key}", lang)
    return VALUES[lang].get(key)


def plain_keys(text: str, lang: Lang) -> str:
    """``text`` with the internal keys it quotes (the engine's English reasons name record fields and vocabulary
    ids: "refractory to bcma_car_t", "labs.ldh") in the reader's words; any other text unchanged."""
    if "_" not in text and "." not in text:
        return text
    return _KEY.sub(lambda m: key_label(lang, m.group(0)) or m.group(0), text)


# ---- the engine's reason lines in Chinese -------------------------------------------------------------------------
# The engine words each reason from a fixed set of templates (clinical/emd.py, staging.py, risk.py,
# _response_text.py, response.py, _response_baseline.py, _response_mrd.py); each row below is one template's Chinese,
# applied in order (longer phrases before the shorter ones they contain). Values — numbers, dates, thresholds,
# criterion names and sections — are carried over as the engine wrote them, so the Chinese line states the same
# facts; internal keys then go through :func:`plain_keys`. A line left with English words is not shown
# (report/_reasons_zh.py says what is shown instead).
_N = r"[0-9]+(?:\.[0-9]+)?(?:E[-+]?[0-9]+)?"
_D = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CAT = r"(?:sCR|CR|VGPR|PR|MR|SD|PD|not_evaluable)"
_S = r"IMWG-2016 §1\.[0-9]"
REASON_PHRASES: Final[tuple[tuple[str, str], ...]] = (
    # EMD classification (clinical/emd.py)
    (
        rf"^plasma cell leukemia: circulating plasma cells ({_N})% at diagnosis \(≥({_N})% on smear, IMWG 2021, "
        r"Fernández de Larrea et al\.\)",
        r"浆细胞白血病：诊断时外周血浆细胞 \1%（外周血涂片≥\2%，IMWG 2021，Fernández de Larrea等，2021）",
    ),
    (
        rf"^plasma cell leukemia: circulating plasma cells ({_N})% on ({_D}) \(≥({_N})% on smear, IMWG 2021, "
        r"Fernández de Larrea et al\.\)",
        r"浆细胞白血病：\2 外周血浆细胞 \1%（外周血涂片≥\3%，IMWG 2021，Fernández de Larrea等，2021）",
    ),
    (r" — a feature of the PCL$", "——属浆细胞白血病的表现"),
    (
        r"^circulating plasma cells not recorded: plasma cell leukemia not assessed$",
        "未记录外周血浆细胞：未评估浆细胞白血病",
    ),
    (r"^no plasmacytoma recorded$", "未记录浆细胞瘤"),
    (
        r"^lesions not recorded \(absent = unknown\); record an empty list when imaging found none$",
        "未记录病灶（缺失即未知）；影像未见病灶时请记录为空列表",
    ),
    (r"^not a solitary plasmacytoma: ", "非孤立性浆细胞瘤："),
    (
        rf"clonal bone marrow plasma cells ({_N})% \(≥({_N})% = myeloma, IMWG 2014\)",
        r"骨髓克隆性浆细胞 \1%（≥\2% 即为骨髓瘤，IMWG 2014）",
    ),
    (r"confirmed multiple myeloma diagnosis recorded", "已记录多发性骨髓瘤确诊"),
    (
        rf"; ({_N}) lesions \(a solitary plasmacytoma is a single lesion\)",
        r"；\1 处病灶（孤立性浆细胞瘤仅为单一病灶）",
    ),
    (
        r"^single lesion without known systemic myeloma: solitary plasmacytoma vs myeloma cannot be decided; "
        r"missing: ",
        "单一病灶，未知是否存在系统性骨髓瘤：无法判定孤立性浆细胞瘤抑或骨髓瘤；缺失：",
    ),
    (r"([A-Za-z0-9_-]+)\.relation_to_bone", r"\1与骨的关系"),
    (r"([A-Za-z0-9_-]+) biopsy confirmation \(negative\)", r"\1活检证实（阴性）"),
    (r"([A-Za-z0-9_-]+) biopsy confirmation \(not recorded\)", r"\1活检证实（未记录）"),
    (
        rf"^single lesion, clonal bone marrow plasma cells ({_N})% \(<({_N})%: minimal marrow involvement\), "
        r"no myeloma-defining event: solitary plasmacytoma \(IMWG 2014\)$",
        r"单一病灶，骨髓克隆性浆细胞 \1%（<\2%：骨髓微小受累），无骨髓瘤定义事件：孤立性浆细胞瘤（IMWG 2014）",
    ),
    (
        r"^single lesion, no clonal bone marrow plasma cells, no myeloma-defining event: solitary plasmacytoma "
        r"\(IMWG 2014\)$",
        "单一病灶，无骨髓克隆性浆细胞，无骨髓瘤定义事件：孤立性浆细胞瘤（IMWG 2014）",
    ),
    (
        r"^relation to bone unknown for (.+): whether paraskeletal disease is also present cannot be decided$",
        r"\1与骨的关系未知：无法判定是否同时存在骨旁病变",
    ),
    (
        r"^relation to bone unknown for (.+): extramedullary \(takes precedence\) vs paraskeletal vs intraosseous "
        r"cannot be decided$",
        r"\1与骨的关系未知：无法判定髓外（优先）、骨旁抑或骨内",
    ),
    # staging (clinical/staging.py) and high risk (clinical/risk.py)
    (r"^ISS undetermined \((.+?)\): (.+) not recorded$", r"ISS未定（\1）：未记录\2"),
    (r"^R-ISS undetermined \((.+?)\): (.+) unknown$", r"R-ISS未定（\1）：\2未知"),
    (
        rf"^R2-ISS group undetermined \(score ({_N})-({_N}), groups (I|II|III|IV)-(I|II|III|IV)\): (.+) unknown$",
        r"R2-ISS分组未定（积分 \1-\2，\3-\4组）：\5未知",
    ),
    (
        rf"^R2-ISS score ({_N})-({_N}) \((.+) unknown\), group (I|II|III|IV) either way$",
        r"R2-ISS积分 \1-\2（\3未知），无论如何均为\4组",
    ),
    (r"high-risk CA \(([^()]*)\)", r"高危染色体异常（\1）"),
    (r"LDH status", "LDH状态"),
    (r"1q gain(?![a-z])", "1q获得"),
    (r"^LDH at diagnosis not recorded \(labs\.ldh\): ", "未记录诊断时LDH："),
    (r"^LDH upper limit of normal not recorded \(labs\.ldh\.upper_limit_normal\): ", "未记录LDH正常值上限："),
    (r"^high risk undecided: ", "高危未定："),
    (
        r"del\(17p\) present but its clonal fraction is not recorded \(cytogenetics\.del_17p_clonal_fraction_pct; "
        rf"high risk needs ([≥>])({_N})%\)",
        r"存在del(17p)但未记录其克隆细胞比例（高危需\1\2%）",
    ),
    (r"del\(17p\) not recorded \(cytogenetics\.del_17p\)", "未记录del(17p)"),
    (r"TP53 mutation status not recorded \(cytogenetics\.tp53_mutation\)", "未记录TP53突变状态"),
    (
        r"IgH translocation with 1q获得/del\(1p32\) undecided: (.+) not recorded$",
        r"IgH易位伴1q获得/del(1p32)未定：未记录\1",
    ),
    (
        r"monoallelic del\(1p32\) with 1q status not recorded \(cytogenetics\.gain_1q\)",
        "单等位基因del(1p32)，未记录1q状态",
    ),
    (r"del\(1p32\) not recorded \(cytogenetics\.del_1p32\)", "未记录del(1p32)"),
    (
        r"beta2-microglobulin at diagnosis not recorded \(labs\.beta2_microglobulin\)",
        "未记录诊断时β2微球蛋白",
    ),
    (
        rf"beta2-microglobulin ({_N}) (\S+) is ≥({_N}) mg/L but creatinine at diagnosis is not recorded "
        r"\(labs\.creatinine\)",
        r"β2微球蛋白 \1 \2 ≥\3 mg/L，但未记录诊断时肌酐",
    ),
    # response: baseline (_response_text.describe_baseline, _response_baseline)
    (rf"^measurable disease at baseline ({_D}) \(({_S})\): ", r"基线 \1 有可测量病变（\2）："),
    (
        rf"^not_evaluable \(({_S})\): no measurable disease at baseline ({_D}) — ",
        r"不可评估（\1）：基线 \2 无可测量病变——",
    ),
    (
        r"serum free light chains \(κ, λ and involved chain\) missing at baseline",
        "基线血清游离轻链（κ、λ及受累轻链）缺失",
    ),
    (
        r"serum M-protein and urine M-protein missing at baseline",
        "serum M-protein、urine M-protein missing at baseline",
    ),
    (
        r"(serum M-protein|urine M-protein|serum M-protein、urine M-protein) missing at baseline: cannot tell "
        r"whether it is measurable",
        r"基线\1缺失：无法判断是否可测量",
    ),
    (
        r"serum and urine M-protein and involved FLC below the measurable thresholds",
        "血清与尿M蛋白及受累FLC均低于可测量阈值",
    ),
    (r"bone-marrow plasma cells not known at baseline", "基线骨髓浆细胞比例未知"),
    (rf"bone-marrow plasma cells ({_N})% \(< ({_N})%\)", r"骨髓浆细胞 \1%（< \2%）"),
    (r"; response by serum/urine M-protein", "；以血清/尿M蛋白评估疗效"),
    (r"; response by dFLC \(serum and urine unmeasurable\)", "；以dFLC评估疗效（血清与尿均不可测量）"),
    (r"; response by BMPC", "；以骨髓浆细胞比例（BMPC）评估疗效"),
    (r"; baseline serum and urine M-protein missing", "; baseline serum M-protein、urine M-protein missing"),
    (
        r"; baseline (.+?) M-protein missing \(its criteria use absolute values only\)",
        r"；基线\1 M-protein缺失（其标准仅用绝对值）",
    ),
    (r"; plasmacytomas at baseline: (.+) \(SPD unknown\)$", r"；基线浆细胞瘤：\1（SPD未知）"),
    (rf"; plasmacytomas at baseline: (.+) \(SPD ({_N}) cm²\)$", r"；基线浆细胞瘤：\1（SPD \2 cm²）"),
    (rf"involved FLC \(kappa\) ≥({_N}) mg/dL with abnormal κ/λ", r"受累FLC（κ）≥\1 mg/dL且κ/λ异常"),
    (rf"involved FLC \(lambda\) ≥({_N}) mg/dL with abnormal κ/λ", r"受累FLC（λ）≥\1 mg/dL且κ/λ异常"),
    (r"; serum, urine and FLC unmeasurable", "；血清、尿及FLC均不可测量"),
    (r"; serum and urine unmeasurable", "；血清与尿均不可测量"),
    (
        rf"^({_N}) assessment\(s\) before the baseline ({_D}) are not evaluated \(not_evaluable\)$",
        r"基线 \2 之前的 \1 次评估不予评估（不可评估）",
    ),
    (r"^not_evaluable: no assessments$", "不可评估：无评估"),
    (rf"^not_evaluable: no assessment after the baseline ({_D})$", r"不可评估：基线 \1 之后无评估"),
    (
        rf"^not_evaluable at ({_D}): no measurable disease at baseline; PD criteria are still applied$",
        r"\1 不可评估：基线无可测量病变；仍适用PD标准",
    ),
    (
        rf"^not_evaluable at ({_D}): the response parameter \((.+)\) was not measured$",
        r"\1 不可评估：疗效参数（\2）未测量",
    ),
    (r"（serum/urine M-protein）", "（血清/尿M蛋白）"),
    (r"（serum FLC）", "（血清FLC）"),
    (r"（bone-marrow PCs）", "（骨髓浆细胞）"),
    # response: the current level, what keeps it from the next (_response_text.describe_level, response.py)
    (rf"^({_CAT}) \(({_S})\) at ({_D}): ", r"\3：\1（\2）："),
    (r"^not (sCR|CR|VGPR|PR|MR): ", r"未达\1："),
    (
        r"^MR not reported: mr_rrmm_only is set and the patient is not known to be relapsed/refractory$",
        "不报告MR：设置为仅对复发/难治患者报告MR，而该患者未知为复发/难治",
    ),
    (rf"; confirmed by ({_D})$", r"；已由 \1 的评估确认"),
    (
        r"; confirmed \(marrow/imaging need no second assessment, general rule 1\)$",
        "；已确认（骨髓/影像无需第二次评估，一般规则1）",
    ),
    (
        rf"; not confirmed yet: needs two consecutive assessments \(({_S}) general rule 1\), confirmed level here "
        rf"({_CAT})$",
        r"；尚未确认：需连续两次评估（\1 一般规则1），此处已确认的级别为\2",
    ),
    (
        r"; general rule 7: a missing datum downgrades to the level the known data establish$",
        "；一般规则7：数据缺失时降至已知数据可确定的级别",
    ),
    (r" — datum missing", "——数据缺失"),
    (r"serum IFE negative", "血清IFE阴性"),
    (r"urine IFE negative", "尿IFE阴性"),
    (r"serum IFE positive", "血清IFE阳性"),
    (r"urine IFE positive", "尿IFE阳性"),
    (r"serum IFE not reported", "血清IFE未报告"),
    (r"urine IFE not reported", "尿IFE未报告"),
    (r" ?\(CR needs a negative serum IFE\)", "（CR需血清IFE阴性）"),
    (r" ?\(CR needs a negative urine IFE\)", "（CR需尿IFE阴性）"),
    (r" ?\(needs a negative serum IFE\)", "（需血清IFE阴性）"),
    (r" ?\(needs a negative urine IFE\)", "（需尿IFE阴性）"),
    (rf" ?\(CR needs <({_N})%\)", r"（CR需<\1%）"),
    (r" \(CR needs every plasmacytoma gone, 0 × 0\)", "（CR需所有浆细胞瘤消失，0 × 0）"),
    (r"M-protein 0 on electrophoresis, IFE positive", "M-protein electrophoresis 0，IFE阳性"),
    (r"M-protein 0 on electrophoresis, IFE not reported", "M-protein electrophoresis 0，IFE未报告"),
    (r"serum M-protein missing", "血清M蛋白缺失"),
    (r"urine M-protein missing", "尿M蛋白缺失"),
    (r"serum FLC missing", "血清FLC缺失"),
    (rf"κ/λ ({_N}|n/a) \(normal, normal ({_N})–({_N})\)", r"κ/λ \1（正常；正常范围 \2–\3）"),
    (rf"κ/λ ({_N}|n/a) \(abnormal, normal ({_N})–({_N})\)", r"κ/λ \1（异常；正常范围 \2–\3）"),
    (rf" \(bone marrow of ({_D}), no confirmation needed\)", r"（\1 的骨髓检查，无需确认）"),
    (r"bone marrow not examined", "未行骨髓检查"),
    (r"marrow clonality by IHC not known", "骨髓IHC克隆性未知"),
    (r"no clonal plasma cells by IHC", "IHC未见克隆性浆细胞"),
    (r"clonal plasma cells by IHC", "IHC见克隆性浆细胞"),
    (r"plasmacytoma (.+) not imaged at this date", r"浆细胞瘤 \1 在该日期未行影像检查"),
    (r"all plasmacytomas gone \(0 × 0\)", "所有浆细胞瘤消失（0 × 0）"),
    (
        rf"SPD ({_N}) cm² \(baseline SPD unknown: a baseline plasmacytoma was not measured\)",
        r"SPD \1 cm²（基线SPD未知：有一处基线浆细胞瘤未测量）",
    ),
    (rf"≥({_N})% fall or <({_N}) mg/24h", r"下降≥\1%或<\2 mg/24h"),
    (rf"([≥>])({_N})% fall", r"下降\1\2%"),
    (r" ?\(needs ([^()]+)\)", r"（需\1）"),
    # the parameter named alone when it keeps the next level away (_response_text._PARAM_NAMES)
    (r"(?:(?<=: )|(?<=; )|(?<=：))bone marrow(?=——|;|$)", "骨髓"),
    (r"(?:(?<=: )|(?<=; )|(?<=：))marrow IHC(?=——|;|$)", "骨髓IHC"),
    (r"(?:(?<=: )|(?<=; )|(?<=：))plasmacytomas(?=——|;|$)", "浆细胞瘤"),
    (r"(?:(?<=: )|(?<=; )|(?<=：))serum(?=——|;|$)", "血清"),
    (r"(?:(?<=: )|(?<=; )|(?<=：))urine(?=——|;|$)", "尿"),
    # progression (_response_text.describe_pd, response.py)
    (rf"^PD at ({_D}), not confirmed yet: ", r"\1 PD（尚未确认）："),
    (rf"^PD at ({_D}): ", r"\1 PD："),
    (
        rf"; M-protein/FLC progression needs a second consecutive assessment \(({_S}) general rule 1\)$",
        r"；M蛋白/FLC进展需连续第二次评估确认（\1 一般规则1）",
    ),
    (r" \(imaging/marrow PD needs no confirmation, general rule 1\)$", "（影像/骨髓PD无需确认，一般规则1）"),
    (
        r" \(laboratory PD taken without confirmation: confirmation settings are off\)$",
        "（实验室PD未经确认即采用：确认设置已关闭）",
    ),
    (
        rf"^assessments after the confirmed PD of ({_D}) are reported as PD; a new line of therapy needs a new "
        r"baseline$",
        r"\1 确认PD之后的评估均报告为PD；新的治疗线需要新的基线",
    ),
    (rf"({_S}) PD \(([abc])\): new lesion reported", r"\1 PD（\2）：出现新病灶"),
    (
        rf"({_S}) PD \(([abc])\): new plasmacytoma (\S+) \(not present at baseline\)",
        r"\1 PD（\2）：新发浆细胞瘤 \3（基线时不存在）",
    ),
    (rf"({_S}) PD \(([abc])\): ", r"\1 PD（\2）："),
    (r"relative test met from a nadir ≤ 0, §1\.5", "最低点≤0时视为满足相对标准，§1.5"),
    (
        rf", \+({_N}) points \(([^()]+)\) from nadir ({_N})% \(({_D}|\?)\)",
        r"，较最低点 \3%（\4）升高 \1 个百分点（\2）",
    ),
    (
        rf", \+({_N})( g/dL)? \(([^()]+)\) from nadir ({_N}) \(({_D}|\?)\)",
        r"，较最低点 \4（\5）升高 \1\2（\3）",
    ),
    (rf" \(([^()]+)\) from nadir ({_N})( cm²| cm)? \(({_D}|\?)\)", r"（\1），最低点 \2\3（\4）"),
    (rf"≥({_N}) g/dL suffices from a nadir ≥({_N})", r"最低点≥\2时升高≥\1 g/dL即可"),
    (rf"≥({_N})% and ([≥>])({_N}) points", r"升高≥\1%且\2\3个百分点"),
    (rf"≥({_N})% and ([≥>])({_N}) cells/µL", r"升高≥\1%且\2\3个/µL"),
    (rf"≥({_N})% and ([≥>])({_N}) (g/dL|mg/24h|mg/dL)", r"升高≥\1%且\2\3 \4"),
    (r"; only measure of disease$", "；为唯一的疾病指标"),
    (rf"; ≥({_N})%, more than one lesion$", r"；升高≥\1%，多于一处病灶"),
    (rf"; ≥({_N})%, short axis ({_N}) cm \(>({_N}) cm\)$", r"；升高≥\1%，短径 \2 cm（>\3 cm）"),
    (r" longest diameter ", " 最长径 "),
    (r"circulating PCs ", "外周血浆细胞 "),
    # relapse from CR (response.py)
    (
        rf"^relapse from CR \(({_S})\) at ({_D}): (.+) after CR of ({_D})",
        r"\2 CR后复发（\1）：继 \4 的CR之后\3",
    ),
    (
        r"; not PD by itself \(general rule 3: positive IFE alone after CR is not PD\)$",
        "；其本身不构成PD（一般规则3：CR后仅IFE转阳不属PD）",
    ),
    (r"M-protein back on electrophoresis", "M-protein electrophoresis back"),
    (r"plasmacytoma measurable again", "浆细胞瘤再次可测量"),
    (r"sign of progression", "进展征象"),
    (r"(?<=, |: )progression(?=, | after|$)", "进展"),
    # best response (response.py)
    (
        rf"^best confirmed response: ({_CAT}) at ({_D}), confirmed by ({_D}) \(({_S}) general rule 1\)$",
        r"最佳确认疗效：\2 \1，已由 \3 的评估确认（\4 一般规则1）",
    ),
    (
        rf"^best confirmed response: ({_CAT}) at ({_D}) \(({_S}) general rule 1\)$",
        r"最佳确认疗效：\2 \1（\3 一般规则1）",
    ),
    (
        r"^best confirmed response: not_evaluable \(no confirmed category yet\)$",
        "最佳确认疗效：不可评估（尚无已确认的疗效类别）",
    ),
    # MRD (_response_mrd.py)
    (rf"^MRD: positive at ({_D}) \(({_S})\)$", r"MRD：\1 阳性（\2）"),
    (
        rf"^MRD: negative at ({_D}) but the method \(NGF or NGS\) is missing \(({_S})\)$",
        r"MRD：\1 阴性，但未记录方法（NGF或NGS）（\2）",
    ),
    (
        rf"^MRD: negative at ({_D}) but the sensitivity is missing; needs ≤ 1 in 10\^5 \(({_S})\)$",
        r"MRD：\1 阴性，但未记录灵敏度；需≤1/10^5（\2）",
    ),
    (
        rf"^MRD: negative at ({_D}) with sensitivity ({_N}), above the required ({_N}) \(({_S})\)$",
        r"MRD：\1 阴性，灵敏度 \2，高于要求的 \3（\4）",
    ),
    (
        rf"^MRD: negative at ({_D}) but not in (confirmed CR|CR) at that assessment; MRD categories require CR "
        rf"\(({_S})\)$",
        r"MRD：\1 阴性，但该次评估未达\2；MRD分类以CR为前提（\3）",
    ),
    (r"未达confirmed CR；", "未达已确认的CR；"),
    (
        rf"^MRD: negative at ({_D}), lost — relapse/progression at ({_D}) \(({_S})\)$",
        r"MRD：\1 阴性，已丧失——\2 复发/进展（\3）",
    ),
    (
        rf"^MRD sustained_negative \(({_S})\): marrow and PET negative at ({_D}) and ({_D}), ≥ 1 year apart \((.+)\)$",
        r"MRD持续阴性（\1）：\2 与 \3 骨髓及PET均阴性，间隔≥1年（\4）",
    ),
    (r"（calendar_year）$", "（按日历年计）"),
    (r"（365_days）$", "（按365天计）"),
    (rf"^MRD (flow_negative|sequencing_negative|imaging_plus_negative) \(({_S})\): ", r"\1（\2）："),
    (
        rf"(NGF|NGS) negative at ({_D}), sensitivity ({_N}) \(≤ ({_N})\), in CR",
        r"\2 \1阴性，灵敏度 \3（≤ \4），处于CR",
    ),
    (r", PET-CT negative$", "，PET-CT阴性"),
    (r"; PET-CT not reported \(imaging-plus needs it\)$", "；未报告PET-CT（影像加强MRD阴性需要此项）"),
    # the measurements, last: the templates above name them inside longer phrases
    (rf", ([−+](?:{_N})%|n/a) from ({_N})( cm²|%)?", r"，较基线 \2\3 变化 \1"),
    (r"serum M-protein electrophoresis", "血清M蛋白电泳"),
    (r"urine M-protein electrophoresis", "尿M蛋白电泳"),
    (r"电泳 0", "电泳为0"),
    (r"电泳 back", "电泳重新出现"),
    (r"serum M-protein", "血清M蛋白"),
    (r"urine M-protein", "尿M蛋白"),
    (r"(?<![A-Za-z])n/a(?![A-Za-z])", "无法计算"),
    (r"(?<=I) or (?=I)", "或"),
    (r"LDH状态 unknown$", "LDH状态未知"),
    (r" \(([^()]*)\)", r"（\1）"),
    (r"; ", "；"),
    (r", ", "，"),
    (r": ", "："),
)
