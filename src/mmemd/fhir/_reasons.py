"""Reason codes of the FHIR import and their bilingual messages (docs/fhir.md, "Reasons").

A reason is either a *skip* (the element was not mapped: unknown code, unconvertible unit, ...) or an *inference*
(the element was mapped by a documented rule the reader should know about: a unit converted, a therapy line grouped
by date, ...). Messages name codes, units and record fields — never a patient's measured values.
"""

from __future__ import annotations

from typing import Final

from mmemd.fhir._models import Reason

# code -> (English template, Chinese template); templates use str.format fields.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "invalid_resource": (
        "not valid FHIR R4 {rtype} ({problem}); this resource was not imported, the rest of the input was",
        "不是有效的 FHIR R4 资源，未导入该资源，其余内容照常导入",
    ),
    "diagnosis_not_confirmed": (
        "myeloma Condition with verificationStatus {status!r}: used for the diagnosis date and phase, not as proof of systemic disease",
        "骨髓瘤诊断的核实状态为 {status!r}：用于诊断日期和阶段，不作为系统性疾病的依据",
    ),
    "myeloma_diagnosis_systemic": (
        "a confirmed multiple myeloma diagnosis is recorded: systemic disease for EMD classification",
        "已记录确诊的多发性骨髓瘤：髓外病变分类时视为系统性疾病",
    ),
    "unrelated_body_structure": (
        "BodyStructure not referred to by any myeloma resource and without the lesion extension: not a plasmacytoma",
        "该身体结构未被任何骨髓瘤相关资源引用，也无病灶扩展：不视为浆细胞瘤",
    ),
    "lesion_not_active": (
        "plasmacytoma with status {status!r}: not a current lesion",
        "浆细胞瘤状态为 {status!r}：不是当前病灶",
    ),
    "lesion_not_confirmed": (
        "plasmacytoma with verificationStatus {status!r}: not a confirmed lesion",
        "浆细胞瘤核实状态为 {status!r}：不是确诊病灶",
    ),
    "relapse_inferred": (
        "phase set to relapsed_refractory: progression recorded after the start of a therapy line or a coded remission",
        "阶段设为 relapsed_refractory：治疗线开始后或编码为缓解后记录到疾病进展",
    ),
    "relapse_from_text": (
        "phase set to relapsed_refractory: the diagnosis text {text!r} names a relapsed or refractory myeloma",
        "阶段设为 relapsed_refractory：诊断名称 {text!r} 为复发或难治性骨髓瘤",
    ),
    "relapse_from_lines": (
        "phase set to relapsed_refractory: therapy line {line} (a new treatment after an earlier line, not maintenance) "
        "implies progression or relapse",
        "阶段设为 relapsed_refractory：第 {line} 线治疗（前线治疗之后的新治疗，非维持治疗）提示疾病进展或复发",
    ),
    "m_protein_progression": (
        "{field} rose from its nadir after a therapy line started by at least 25% and the IMWG absolute minimum "
        "(progression), confirmed by {confirmed_by}",
        "{field} 在治疗线开始后较最低值升高至少 25% 且达到国际骨髓瘤工作组标准的绝对最小增幅（疾病进展），由{confirmed_by_zh}确认",
    ),
    "relation_from_coding": (
        "relation to bone {relation} inferred from code {code}",
        "根据编码 {code} 推断与骨的关系为 {relation}",
    ),
    "paraskeletal_from_text": (
        "relation to bone arising_from_bone: the text says the lesion arises from bone (paraskeletal pattern table)",
        "文本说明病灶起源于骨（骨旁病灶，模式表）",
    ),
    "histology_unlinked": (
        "histology Observation refers to no Condition in the input; its morphology was not used",
        "组织学观察未指向输入中的任何诊断，未使用其形态学编码",
    ),
    "diagnosis_date_from_other": (
        "the diagnosis Condition has no onset: the earliest onset of another myeloma diagnosis Condition was used",
        "诊断记录无发病日期：采用另一条骨髓瘤诊断记录中最早的发病日期",
    ),
    "diagnosis_date_from_recorded": (
        "no onset date on any myeloma diagnosis: the date the diagnosis was asserted or recorded (assertedDate "
        "extension, recordedDate) was used",
        "骨髓瘤诊断均无发病日期：采用诊断的确认或记录日期",
    ),
    "panel_components": (
        "panel {code}: its components were read as the laboratory tests they report",
        "组合检验 {code}：其各分量按所报告的检验项目分别读取",
    ),
    "value_from_string": (
        "{field}: the value was read from its text (valueString: a number, an optional comparator and unit)",
        "{field}：数值由结果文本（数字、可选比较符和单位）读取",
    ),
    "date_from_issued": (
        "no effective date: the issued date was used",
        "无生效日期：采用报告发布日期",
    ),
    "transplant_type_assumed": (
        "stem cell transplant {what} says neither autologous nor allogeneic: read as autologous (asct), the myeloma "
        "transplant; check it",
        "造血干细胞移植 {what} 未注明自体或异基因：按骨髓瘤常用的自体移植读取，请核对",
    ),
    "maintenance_joins_line": (
        "{agent} alone after a combination line, without recorded progression: maintenance, kept in that line",
        "{agent} 单药用于联合方案之后且无疾病进展记录：视为维持治疗，归入该线",
    ),
    "procedure_from_text": (
        "procedure {procedure} read from its text {name!r} (pattern table)",
        "根据操作名称 {name!r}（模式表）识别为 {procedure}",
    ),
    "agents_from_regimen": (
        "agents {agents} read from the regimen named {name!r}",
        "根据方案名称 {name!r} 识别为 {agents}",
    ),
    "agent_from_product_name": (
        "agent {agent} read from the product name {name!r}",
        "根据药品名称 {name!r} 识别为 {agent}",
    ),
    "ife_from_text": (
        "immunofixation result read as {value} from its text (pattern table)",
        "根据文本（模式表）将免疫固定电泳结果判读为 {value}",
    ),
    "lab_from_local_name": (
        "laboratory item {name!r} (no LOINC code) read as {code} by its name (pattern table)",
        "检验项目 {name!r}（无 LOINC 编码）按名称（模式表）识别为 {code}",
    ),
    "cytogenetics_from_variant": (
        "{field} read from a genomic variant's gene, cytogenetic location and change type (pattern table)",
        "{field} 由基因变异的基因、染色体位置和变异类型（模式表）读取",
    ),
    "diagnosis_from_text": (
        "diagnosis {target} read from the Condition's text {text} (pattern table; no listed code)",
        "根据诊断名称 {text}（模式表，无可识别编码）识别为 {target}",
    ),
    "site_in_text": (
        "site {site} found in the text {text!r} (the one site it names)",
        "在文本 {text!r} 中找到部位 {site}（文本仅提及这一部位）",
    ),
    "test_from_name": (
        "test {name!r} (no listed code) read as {field} by its name (pattern table)",
        "检验项目 {name!r} 按名称（模式表）识别为 {field}",
    ),
    "lab_from_loinc_name": (
        "{code} is not in the code tables; its LOINC name {name!r} names the same test as LOINC {as_code} (pattern "
        "table), read as that test",
        "{code} 不在编码表中；其 LOINC 名称 {name!r} 与 LOINC {as_code} 为同一检验（模式表），按该检验读取",
    ),
    "cytogenetics_from_text": (
        "{field} read from a cytogenetics report's text (pattern table); a clinician must confirm it",
        "{field} 由细胞遗传学报告文本（模式表）提取，须经临床医生确认",
    ),
    "lesion_from_text": (
        "lesion {lesion} ({site}) was read from the imaging report's text; a clinician must confirm it",
        "病灶 {lesion}（{site_zh}）由影像报告文本提取，须经临床医生确认",
    ),
    "assessment_from_text": (
        "{what} on {date} was read from the imaging report's text; a clinician must confirm it",
        "{date} 的{what_zh}由影像报告文本提取，须经临床医生确认",
    ),
    "lesion_text_duplicate": (
        "a lesion at site {site} read from the report text was not added: a coded lesion at that site is recorded",
        "报告文本提取的{site_zh}病灶未加入：该部位已有编码病灶",
    ),
    "unreadable_text": (
        "the report's presented form is not readable text ({why}); it was not used",
        "报告的呈现文本不可读（{why}），未使用",
    ),
    "no_lesion_in_report": (
        "imaging report read: its text names no plasmacytoma",
        "已读取影像报告：文本未提及浆细胞瘤",
    ),
    "no_extramedullary_lesion_in_report": (
        "this imaging report states that there is no extramedullary lesion and no resource gives one: lesions are "
        "recorded as none",
        "该影像报告明确写明无髓外病灶，且无其他资源提供病灶：病灶记录为无",
    ),
    "no_extramedullary_lesion_overruled": (
        "this imaging report states that there is no extramedullary lesion, but another resource gives a lesion: the "
        "lesions are kept",
        "该影像报告写明无髓外病灶，但其他资源提供了病灶：保留这些病灶",
    ),
    "no_report_text": (
        "imaging report without a conclusion or a text/plain presentedForm: nothing to read",
        "影像报告既无结论也无纯文本呈现内容，无可读取内容",
    ),
    "report_not_imaging": (
        "DiagnosticReport that is not an imaging report (category, code): its text is not read",
        "该诊断报告不是影像报告（按类别和代码判断），未读取其文本",
    ),
    "unmapped_resource": (
        "{rtype} resources are not used by mmemd",
        "mmemd 不使用 {rtype} 资源",
    ),
    "unknown_code": (
        "no mapping for code {code}; the element was not used",
        "代码 {code} 无映射，未使用该条目",
    ),
    "unverified_code": (
        "code {code} is not accepted: {why}",
        "不接受代码 {code}：{why}",
    ),
    "derived_value": (
        "{what} is not imported: mmemd computes it from its components",
        "未导入 {what}：mmemd 由其组成部分计算",
    ),
    "not_used_method": (
        "{what} is not used: {why}",
        "未使用 {what}：{why}",
    ),
    "unknown_unit": (
        "unit {unit!r} is not accepted for {field} and cannot be converted exactly; accepted: {accepted}",
        "{field} 不接受单位 {unit!r}，且无法精确换算；可接受：{accepted}",
    ),
    "unit_converted": (
        "{field}: converted exactly from {src} to {dst}",
        "{field}：已由 {src} 精确换算为 {dst}",
    ),
    "no_value": (
        "no value (or a dataAbsentReason): nothing to map",
        "无数值（或有 dataAbsentReason）：无可映射内容",
    ),
    "value_type": (
        "{field} needs {expected}",
        "{field} 需要 {expected}",
    ),
    "comparator": (
        "value with comparator {comparator!r} is not an exact value and was not used",
        "带比较符 {comparator!r} 的数值不是确切值，未使用",
    ),
    "no_date": (
        "no effective date: a measurement cannot be placed in time",
        "无生效日期：无法确定测量时间",
    ),
    "partial_date": (
        "date {value!r} is not a full calendar date (YYYY-MM-DD)",
        "日期 {value!r} 不是完整日期（YYYY-MM-DD）",
    ),
    "status_excluded": (
        "status {status!r}: not a usable result",
        "状态 {status!r}：不是可用结果",
    ),
    "other_patient": (
        "refers to {ref}, not the bundle's patient",
        "指向 {ref}，不是本 Bundle 的患者",
    ),
    "conflicting_values": (
        "{field}: several different values on {date}; none was used",
        "{field}：{date} 有多个不同数值，均未使用",
    ),
    "superseded": (
        "{field}: serial value neither at diagnosis nor the latest; the record keeps only those two",
        "{field}：既非诊断时也非最近一次的序列数值；患者记录仅保留这两者",
    ),
    "outside_diagnosis_window": (
        "{field}: measured more than {days} days before the diagnosis date; not a value at diagnosis",
        "{field}：测量时间早于诊断日期超过 {days} 天，不是诊断时数值",
    ),
    "no_diagnosis_date": (
        "{field}: no diagnosis date, so a value at diagnosis cannot be chosen",
        "{field}：无诊断日期，无法选定诊断时数值",
    ),
    "no_diagnosis": (
        "no myeloma Condition (ICD-10 C90.x or SNOMED 109989006): phase and diagnosis date unknown",
        "无骨髓瘤诊断（ICD-10 C90.x 或 SNOMED 109989006）：分期阶段和诊断日期未知",
    ),
    "multiple_diagnoses": (
        "another myeloma Condition; the earliest onset was used as the diagnosis",
        "另有骨髓瘤诊断条目；以最早发病日期作为诊断",
    ),
    "phase_default": (
        "phase set to newly_diagnosed: no relapse recorded (ICD-10-CM 5th character 2, clinicalStatus relapse/recurrence) and no progression after a therapy line",
        "阶段设为 newly_diagnosed：未记录复发（ICD-10-CM 第5位为2，或 clinicalStatus 为 relapse/recurrence），治疗线开始后也未记录疾病进展",
    ),
    "pcl_coded": (
        "plasma cell leukaemia is coded; mmemd classifies PCL from the circulating plasma cell percentage (PCL21)",
        "已编码浆细胞白血病；mmemd 依据外周血浆细胞百分比判定 PCL（PCL21）",
    ),
    "out_of_scope_condition": (
        "Condition {code} is not a plasma cell neoplasm or plasmacytoma; not used",
        "诊断 {code} 不是浆细胞肿瘤或浆细胞瘤，未使用",
    ),
    "gender_unmapped": (
        "gender {gender!r} has no counterpart in the record (female | male); sex left unknown",
        "性别 {gender!r} 在记录中无对应值（female | male）；性别未知",
    ),
    "no_birth_date": (
        "{why}; age left unknown",
        "{why}；年龄未知",
    ),
    "no_patient_id": (
        "no Patient.id or identifier; the record id is {id!r}",
        "无 Patient.id 或标识符；记录 id 设为 {id!r}",
    ),
    "multiple_patients": (
        "a second Patient resource; only the first patient is imported",
        "存在第二个 Patient 资源；仅导入第一位患者",
    ),
    "unknown_site": (
        "body site {site} has no mmemd site id; the lesion's site is left unknown",
        "部位 {site} 无 mmemd 部位 id；病灶部位未知",
    ),
    "unknown_agent": (
        "medication or procedure {what} has no mmemd agent id",
        "药物或操作 {what} 无 mmemd 药物 id",
    ),
    "legacy_atc": (
        "pre-2022 ATC code {code} read as {agent}",
        "2022 年前的 ATC 代码 {code} 视为 {agent}",
    ),
    "therapy_line_inferred": (
        "no therapy-line extension: grouped into line {line} by start date, agents and recorded progression",
        "无治疗线扩展：根据开始日期、药物及记录的疾病进展归入第 {line} 线",
    ),
    "no_start_date": (
        "therapy without a start date and without a therapy-line extension cannot be placed in a line",
        "治疗无开始日期且无治疗线扩展，无法归入治疗线",
    ),
    "unresolved_reference": (
        "reference {ref} is not in the bundle",
        "引用 {ref} 不在 Bundle 中",
    ),
    "unknown_lesion": (
        "measurement of {ref}, which is not a plasmacytoma in the bundle",
        "测量对象 {ref} 不是 Bundle 中的浆细胞瘤",
    ),
    "incomplete_measurement": (
        "plasmacytoma size needs both the longest and the perpendicular diameter",
        "浆细胞瘤大小需要最长径和垂直径",
    ),
    "involved_chain_inferred": (
        "involved light chain {chain} inferred from the abnormal kappa/lambda ratio on {date}",
        "根据 {date} 异常的 κ/λ 比值推断受累轻链为 {chain}",
    ),
    "involved_chain_unknown": (
        "free light chains without the involved chain (no explicit code, ratio not abnormal)",
        "游离轻链缺少受累轻链（无明确编码，比值不异常）",
    ),
    "unknown_value": (
        "{field}: value {value!r} is not one of {accepted}",
        "{field}：值 {value!r} 不属于 {accepted}",
    ),
}


def reason(rcode: str, path: str, /, **fields: object) -> Reason:
    en, zh = MESSAGES[rcode]
    return Reason(code=rcode, path=path, message_en=en.format(**fields), message_zh=zh.format(**fields))
