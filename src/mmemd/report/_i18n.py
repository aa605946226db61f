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
