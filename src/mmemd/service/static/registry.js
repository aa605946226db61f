// The registry page: list, patient timeline + chart, add-visit form, assessment, report. No framework, no inline
// script (the Content-Security-Policy forbids it); every value shown comes from /v1/patients.
"use strict";
(() => {
  const KEY_STORE = "mmemd.apiKey"; // same sessionStorage entry as the main page
  const LANG_STORE = "mmemd.lang";
  const T = {
    en: {
      title: "mmemd — patient registry", tagline: "Decision support, never a prescription.", lang: "Language",
      apikey: "API key", patients: "Patients", search: "Search (registry id, MRN or name)", find: "Find",
      assessment: "Assessment", report_en: "Report (English)", report_zh: "Report (中文)",
      chart: "M-protein and SPD", timeline: "Timeline", date: "Date", mprotein: "Serum M-protein",
      flc: "FLC (κ/λ)", ife: "Serum IFE", uife: "Urine IFE", spd: "SPD (cm²)", category: "Response",
      lines: "Lines of therapy", lesions: "Lesions", add_visit: "Add a visit", upep: "Urine M-protein",
      involved: "Involved", marrow: "Marrow plasma cells %", mrd: "MRD negative", yes: "yes", no: "no",
      measurements: "Plasmacytoma diameters (cm)", new_lesion: "New lesion found", save: "Save visit",
      none: "none", no_patients: "No patient found.", version: "version", current: "Current response",
      best: "best", saved: "Visit saved.", stale: "Someone else changed this patient: the page now shows their version; enter the visit again.",
      longest: "longest", perpendicular: "perpendicular", line: "Line", unauthorized: "Enter a valid clinician API key.",
      failed: "The request failed", more: "More", username: "User", password: "Password", signin: "Sign in",
      signout: "Sign out", signed_in: "Signed in as", signin_failed: "Wrong user name or password.",
      paste_report: "Paste an imaging report", report_text: "Report text (Chinese or English)",
      read_report: "Read the report", reading: "Reading…", found: "{n} lesion(s) proposed: confirm, edit or drop each.",
      none_found: "No lesion found in this report.", words: "From the words", goes_to: "Goes to",
      as_new: "a new lesion", site: "Site", relation: "Relation to bone", confirm: "Confirm", drop: "Drop",
      proposal: "Proposed lesion", added: "Added to the visit below: check it before saving.",
      new_lesions: "New lesions", add_lesion: "Add a new lesion", lesion_id: "Lesion id", detected_at: "Found at",
      remove: "Remove", rel_none: "none (extraosseous)", rel_arising_from_bone: "arising from bone (paraskeletal)",
      rel_intraosseous: "intraosseous (bone plasmacytoma)", det_relapse: "relapse", det_diagnosis: "diagnosis",
      change: "Change", ch_new: "new", ch_increased: "larger", ch_decreased: "smaller", ch_stable: "stable",
      ch_resolved: "resolved",
    },
    zh: {
      title: "mmemd — 患者登记", tagline: "决策支持，绝非处方。", lang: "语言", apikey: "API 密钥",
      patients: "患者", search: "搜索（登记号、病案号或姓名）", find: "查找", assessment: "评估",
      report_en: "报告（English）", report_zh: "报告（中文）", chart: "M 蛋白与 SPD", timeline: "时间线",
      date: "日期", mprotein: "血清 M 蛋白", flc: "游离轻链（κ/λ）", ife: "血清免疫固定电泳", uife: "尿免疫固定电泳",
      spd: "SPD（cm²）", category: "疗效", lines: "治疗线", lesions: "病灶", add_visit: "新增随访",
      upep: "尿 M 蛋白", involved: "受累轻链", marrow: "骨髓浆细胞 %", mrd: "MRD 阴性", yes: "是", no: "否",
      measurements: "浆细胞瘤径线（cm）", new_lesion: "发现新病灶", save: "保存随访", none: "无",
      no_patients: "未找到患者。", version: "版本", current: "当前疗效", best: "最佳", saved: "随访已保存。",
      stale: "其他用户已修改该患者：页面已显示其版本，请重新录入本次随访。", longest: "最长径", perpendicular: "垂直径",
      line: "第几线", unauthorized: "请输入有效的临床医师 API 密钥。", failed: "请求失败", more: "更多",
      username: "用户名", password: "密码", signin: "登录", signout: "退出", signed_in: "已登录：",
      signin_failed: "用户名或密码错误。",
      paste_report: "粘贴影像报告", report_text: "报告文本（中文或英文）", read_report: "读取报告", reading: "读取中…",
      found: "提出 {n} 个病灶：请逐一确认、修改或舍弃。", none_found: "该报告中未发现病灶。", words: "来源文字",
      goes_to: "归入", as_new: "新病灶", site: "部位", relation: "与骨的关系", confirm: "确认", drop: "舍弃",
      proposal: "提议病灶", added: "已加入下方随访：保存前请核对。", new_lesions: "新病灶", add_lesion: "新增病灶",
      lesion_id: "病灶编号", detected_at: "发现时机", remove: "移除", rel_none: "无（骨外）",
      rel_arising_from_bone: "起源于骨（骨旁）", rel_intraosseous: "骨内（骨浆细胞瘤）", det_relapse: "复发",
      det_diagnosis: "诊断", change: "变化", ch_new: "新发", ch_increased: "增大", ch_decreased: "缩小", ch_stable: "稳定",
      ch_resolved: "消失",
    },
  };
  const $ = (sel) => document.querySelector(sel);
  const state = { lang: "en", patient: null, etag: null, cursor: null, units: {}, sites: [], proposals: [], study: null, rows: 0 };
  const t = (k, n) => String(T[state.lang][k] ?? T.en[k] ?? k).replace("{n}", n ?? "");
  const RELATIONS = ["none", "arising_from_bone", "intraosseous"];

  function applyLang() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    document.querySelectorAll("option[data-site]").forEach((o) => { o.textContent = siteLabel(o.value); });
    state.keepTyped = true;
    if (state.patient) renderPatient(state.patient, state.assessment);
    state.keepTyped = false;
    if (state.proposals.length) { keepEdits(); renderProposals(); }
  }

  async function api(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers["X-API-Key"] = key;
    return fetch(path, Object.assign({}, opts, { headers }));
  }

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    children.forEach((c) => e.append(c));
    return e;
  }

  async function search(more = false) {
    const q = $("#q").value.trim();
    const params = new URLSearchParams({ limit: "50" });
    if (q) params.set("q", q);
    if (more && state.cursor) params.set("cursor", state.cursor);
    const r = await api(`/v1/patients?${params}`);
    if (!r.ok) { $("#list-status").textContent = r.status === 401 || r.status === 403 ? t("unauthorized") : `${t("failed")} (${r.status})`; return; }
    const body = await r.json();
    const ul = $("#patients");
    if (!more) ul.replaceChildren();
    for (const p of body.items) {
      const label = [p.id, p.mrn, p.name].filter(Boolean).join(" · ");
      ul.append(el("li", {}, el("a", { href: `#/p/${encodeURIComponent(p.id)}`, text: label })));
    }
    state.cursor = body.next_cursor;
    $("#list-status").textContent = body.items.length || more ? "" : t("no_patients");
    if (state.cursor) {
      const b = el("button", { type: "button", text: t("more") });
      b.addEventListener("click", () => { b.remove(); search(true); });
      ul.append(el("li", {}, b));
    }
  }

  const spd = (a) => (a.plasmacytomas || []).reduce((s, m) => s + m.longest_cm * m.perpendicular_cm, 0);
  const qty = (q) => (q ? `${q.value} ${q.unit}` : "");

  function chart(visits) {
    // Two series on their own scales (M-protein in g/dL, SPD in cm²), one point per visit, as inline SVG.
    const W = 560, H = 180, P = 30;
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t("chart"));
    const toGdl = (q) => (q ? (q.unit === "g/L" ? q.value / 10 : q.value) : null);
    const series = [
      { name: t("mprotein") + " (g/dL)", color: "#1f5fa8", ys: visits.map((a) => toGdl(a.serum_m_protein)) },
      { name: "SPD (cm²)", color: "#b5472f", ys: visits.map((a) => (a.plasmacytomas ? spd(a) : null)) },
    ];
    const n = visits.length;
    const x = (i) => P + (n <= 1 ? 0 : (i * (W - 2 * P)) / (n - 1));
    series.forEach((s, k) => {
      const vals = s.ys.filter((v) => v !== null);
      if (!vals.length) return;
      const max = Math.max(...vals) || 1;
      const pts = s.ys.map((v, i) => (v === null ? null : [x(i), H - P - (v / max) * (H - 2 * P)])).filter(Boolean);
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", pts.map((p) => p.join(",")).join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", s.color);
      line.setAttribute("stroke-width", "2");
      svg.append(line);
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", String(P + k * 260));
      label.setAttribute("y", "14");
      label.setAttribute("fill", s.color);
      label.textContent = `${s.name}: max ${max.toFixed(2)}`;
      svg.append(label);
    });
    return svg;
  }

  function renderPatient(p, assessment) {
    $("#patient-section").hidden = false;
    $("#patient-h").textContent = p.id;
    $("#patient-meta").textContent = `${t("version")} ${state.etag ? state.etag.replace(/"/g, "").split(".").pop() : ""}`;
    const visits = p.assessments || [];
    const cats = {};
    if (assessment && assessment.response) {
      for (const row of assessment.response.timeline || []) cats[row.date] = row.category;
      const r = assessment.response;
      $("#assessment").textContent = `${t("current")}: ${r.current ?? "—"} (${t("best")}: ${r.best ?? "—"})`;
    }
    const tbody = $("#visits tbody");
    tbody.replaceChildren();
    for (const a of visits) {
      const flc = a.free_light_chains || {};
      const f = [flc.kappa, flc.lambda].map(qty).join(" / ");
      tbody.append(el("tr", {}, el("td", { text: a.date }), el("td", { text: qty(a.serum_m_protein) }),
        el("td", { text: f === " / " ? "" : f }), el("td", { text: a.serum_ife || "" }),
        el("td", { text: a.plasmacytomas ? spd(a).toFixed(2) : "" }), el("td", { text: cats[a.date] || "" })));
    }
    $("#chart").replaceChildren(chart(visits));
    $("#lines").replaceChildren(...(p.therapy_history || []).map((l) =>
      el("li", { text: `${t("line")} ${l.line}: ${l.agents.join(", ")}${l.start ? " · " + l.start : ""}` })));
    $("#lesions").replaceChildren(...(p.lesions || []).map((l) =>
      el("li", { text: [l.id, l.site, l.relation_to_bone, l.detected_at].filter(Boolean).join(" · ") })));
    const fs = $("#measurements");
    // a language switch re-renders: keep the diameters already typed or confirmed from a report
    const typed = Object.fromEntries([...fs.querySelectorAll("input")].map((i) => [i.name, i.value]));
    fs.querySelectorAll("p").forEach((e) => e.remove());
    (p.lesions || []).forEach((l, i) => {
      fs.append(el("p", {}, el("span", { text: `${l.id} ` }),
        el("label", {}, `${t("longest")} `, el("input", { name: `m_long_${i}`, type: "number", step: "any", min: "0", "data-lesion": l.id })),
        " ", el("label", {}, `${t("perpendicular")} `, el("input", { name: `m_perp_${i}`, type: "number", step: "any", min: "0" }))));
    });
    if (p === state.patient && state.keepTyped) fs.querySelectorAll("input").forEach((i) => { i.value = typed[i.name] ?? ""; });
  }

  // --- new lesions typed by hand or confirmed from an imaging report ----------------------------------------------
  const siteLabel = (id) => { const s = state.sites.find((x) => x.id === id); return s ? s[state.lang] || s.en : id; };

  function options(values, current, label, attrs = {}) {
    return values.map((v) => {
      const o = el("option", Object.assign({ value: v, text: label(v) }, attrs));
      if (v === current) o.selected = true;
      return o;
    });
  }

  function siteSelect(name, current, path) {
    const ids = state.sites.map((s) => s.id);
    if (current && !ids.includes(current)) ids.unshift(current);
    return el("select", path ? { name, "data-path": path } : { id: name }, el("option", { value: "" }),
      ...options(ids, current, siteLabel, { "data-site": "" }));
  }

  function relationSelect(name, current, path) {
    return el("select", path ? { name, "data-path": path } : { id: name }, el("option", { value: "" }),
      ...options(RELATIONS, current, (v) => t("rel_" + v), { }));
  }

  function freshLesionId() {
    const used = new Set((state.patient.lesions || []).map((l) => l.id));
    document.querySelectorAll("#new-lesion-rows input[name$=_id]").forEach((i) => used.add(i.value));
    let k = (state.patient.lesions || []).length + 1;
    while (used.has(`L${k}`)) k++;
    return `L${k}`;
  }

  /** A row of the "new lesions" fieldset; `from` is a confirmed imaging proposal (or nothing when typed by hand). */
  function addLesionRow(from = {}) {
    const j = state.rows++;
    const n = document.querySelectorAll("#new-lesion-rows .new-lesion").length;
    const p = `$.lesions[${n}]`;
    const row = el("fieldset", { class: "new-lesion", "data-row": String(j) },
      el("legend", { text: `${t("new_lesions")} ${n + 1}` }),
      el("label", {}, el("span", { "data-t": "lesion_id", text: t("lesion_id") }), " ",
        el("input", { name: `nl_${j}_id`, value: from.id || freshLesionId(), required: "", "data-path": `${p}.id` })), " ",
      el("label", {}, el("span", { "data-t": "site", text: t("site") }), " ", siteSelect(`nl_${j}_site`, from.site, `${p}.site`)), " ",
      el("label", {}, el("span", { "data-t": "relation", text: t("relation") }), " ",
        relationSelect(`nl_${j}_rel`, from.relation_to_bone, `${p}.relation_to_bone`)), " ",
      el("label", {}, el("span", { "data-t": "detected_at", text: t("detected_at") }), " ",
        el("select", { name: `nl_${j}_at`, "data-path": `${p}.detected_at` },
          ...options(["relapse", "diagnosis"], "relapse", (v) => t("det_" + v), {}))), " ",
      el("label", {}, el("span", { "data-t": "longest", text: t("longest") }), " ",
        el("input", { name: `nl_${j}_long`, type: "number", step: "any", min: "0", value: from.long ?? "" })), " ",
      el("label", {}, el("span", { "data-t": "perpendicular", text: t("perpendicular") }), " ",
        el("input", { name: `nl_${j}_perp`, type: "number", step: "any", min: "0", value: from.perp ?? "" })));
    if (from.modality) row.dataset.modality = from.modality;
    const remove = el("button", { type: "button", "data-t": "remove", text: t("remove") });
    remove.addEventListener("click", () => { row.remove(); $("#add-lesion").focus(); });
    row.append(" ", remove);
    $("#new-lesion-rows").append(row);
    return row;
  }

  function newLesions(form, visitDate) {
    const lesions = [], ms = [];
    document.querySelectorAll("#new-lesion-rows .new-lesion").forEach((row) => {
      const j = row.dataset.row;
      const les = { id: form.elements[`nl_${j}_id`].value.trim(), detected_at: form.elements[`nl_${j}_at`].value };
      const site = form.elements[`nl_${j}_site`].value, rel = form.elements[`nl_${j}_rel`].value;
      if (site) les.site = site;
      if (rel) les.relation_to_bone = rel;
      if (visitDate) les.detected_on = visitDate;
      if (row.dataset.modality) les.modality = row.dataset.modality;
      lesions.push(les);
      const a = num(form, `nl_${j}_long`), b = num(form, `nl_${j}_perp`);
      if (a !== null || b !== null) ms.push({ lesion: les.id, longest_cm: a, perpendicular_cm: b });
    });
    return { lesions, ms };
  }

  // --- "paste an imaging report": proposals to confirm, edit or drop ----------------------------------------------
  async function readReport() {
    const status = $("#imaging-status");
    status.textContent = t("reading");
    const r = await api(`/v1/patients/${encodeURIComponent(state.patient.id)}/imaging-extractions`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: $("#imaging-text").value, lang: "auto" }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      status.textContent = `${t("failed")} (${r.status}) ${(body.errors || []).map((e) => `${e.path}: ${e.message}`).join("; ") || body.detail || ""}`;
      return;
    }
    state.study = body;
    state.proposals = body.lesions.map((les) => ({ les, done: false }));
    renderProposals();
    status.textContent = body.lesions.length ? t("found", body.lesions.length) : t("none_found");
  }

  function keepEdits() {
    state.proposals.forEach((p, i) => {
      const get = (s) => document.getElementById(`im-${i}-${s}`);
      if (!get("site")) return;
      p.target = get("target").value;
      p.edit = { site: get("site").value, rel: get("rel").value, long: get("long").value, perp: get("perp").value };
    });
  }

  function renderProposals() {
    const box = $("#imaging-proposals");
    box.replaceChildren();
    const existing = (state.patient.lesions || []).map((l) => l.id);
    const taken = new Set();
    state.proposals.forEach((p, i) => {
      if (p.done) return;
      const les = p.les, size = les.size_cm || [];
      const id = `im-${i}`;
      const quotes = [...new Set(les.evidence.map((e) => e.quote))].join(" · ");
      // a lesion already followed at the same site gets the measurement; anything else is proposed as a new lesion
      const match = (state.patient.lesions || []).find((l) => l.site === les.site && !taken.has(l.id));
      const target = p.target ?? (les.change === "new" || !match ? "" : match.id);
      if (target) taken.add(target);
      const targetSel = el("select", { id: `${id}-target` }, el("option", { value: "", text: t("as_new") }),
        ...options(existing, target, (v) => v, {}));
      const fields = el("fieldset", { class: "imaging-proposal", id },
        el("legend", { text: `${t("proposal")} ${i + 1}: ${siteLabel(les.site)}${les.change ? " · " + t("ch_" + les.change) : ""}` }),
        el("p", {}, `${t("words")}: `, el("q", { class: "imaging-quote", text: quotes })),
        el("label", {}, `${t("goes_to")} `, targetSel), " ",
        el("label", {}, `${t("site")} `, siteSelect(`${id}-site`, les.site, "")), " ",
        el("label", {}, `${t("relation")} `, relationSelect(`${id}-rel`, les.relation_to_bone, "")), " ",
        el("label", {}, `${t("longest")} `, el("input", { id: `${id}-long`, type: "number", step: "any", min: "0", value: size.length === 2 ? String(size[0]) : "" })), " ",
        el("label", {}, `${t("perpendicular")} `, el("input", { id: `${id}-perp`, type: "number", step: "any", min: "0", value: size.length === 2 ? String(size[1]) : "" })), " ");
      const ok = el("button", { type: "button", id: `${id}-confirm`, text: t("confirm") });
      const drop = el("button", { type: "button", id: `${id}-drop`, text: t("drop") });
      ok.addEventListener("click", () => confirmProposal(i));
      drop.addEventListener("click", () => { keepEdits(); p.done = true; renderProposals(); $("#imaging-read").focus(); });
      targetSel.addEventListener("change", () => { p.target = targetSel.value; });
      fields.append(ok, " ", drop);
      box.append(fields);
      if (p.edit) for (const [k, v] of Object.entries(p.edit)) document.getElementById(`${id}-${k}`).value = v;
    });
  }

  function confirmProposal(i) {
    const p = state.proposals[i], id = `im-${i}`, form = $("#visit-form");
    const val = (s) => document.getElementById(`${id}-${s}`).value;
    const long = val("long"), perp = val("perp"), target = val("target");
    const resolved = p.les.change === "resolved" && long === "" && perp === "";
    if (!form.elements.date.value && state.study.study_date) form.elements.date.value = state.study.study_date;
    if (target) {
      const k = (state.patient.lesions || []).findIndex((l) => l.id === target);
      form.elements[`m_long_${k}`].value = resolved ? "0" : long;
      form.elements[`m_perp_${k}`].value = resolved ? "0" : perp;
    } else {
      addLesionRow({ site: val("site"), relation_to_bone: val("rel"), long, perp, modality: state.study.modality });
      if (p.les.change === "new") form.elements.new_lesion.value = "true";
    }
    keepEdits();
    p.done = true;
    renderProposals();
    $("#imaging-status").textContent = t("added");
    // keyboard users go on with the next proposal, or to what was just filled in
    const next = document.querySelector("#imaging-proposals select");
    if (next) next.focus();
    else if (target) form.elements[`m_long_${(state.patient.lesions || []).findIndex((l) => l.id === target)}`].focus();
    else document.querySelector("#new-lesion-rows .new-lesion:last-child input").focus();
  }

  async function openPatient(id) {
    const [r, a] = await Promise.all([api(`/v1/patients/${encodeURIComponent(id)}`), api(`/v1/patients/${encodeURIComponent(id)}/assessment`)]);
    if (!r.ok) { $("#list-status").textContent = r.status === 401 || r.status === 403 ? t("unauthorized") : `${t("failed")} (${r.status})`; return; }
    state.etag = r.headers.get("ETag");
    state.patient = await r.json();
    state.assessment = a.ok ? await a.json() : null;
    $("#report").hidden = true;
    renderPatient(state.patient, state.assessment);
  }

  function num(form, name) {
    const v = form.elements[name].value;
    return v === "" ? null : Number(v);
  }

  function visitBody(form) {
    const v = { date: form.elements.date.value };
    const sp = num(form, "spep");
    if (sp !== null) v.serum_m_protein = { value: sp, unit: form.elements.spep_unit.value };
    const up = num(form, "upep");
    if (up !== null) v.urine_m_protein = { value: up, unit: form.elements.upep_unit.value };
    const k = num(form, "kappa"), l = num(form, "lambda");
    if (k !== null || l !== null) {
      v.free_light_chains = {};
      const u = form.elements.flc_unit.value;
      if (k !== null) v.free_light_chains.kappa = { value: k, unit: u };
      if (l !== null) v.free_light_chains.lambda = { value: l, unit: u };
      if (form.elements.involved.value) v.free_light_chains.involved = form.elements.involved.value;
    }
    const bm = num(form, "marrow");
    if (bm !== null) v.bone_marrow_plasma_cells_pct = bm;
    for (const f of ["serum_ife", "urine_ife"]) if (form.elements[f].value) v[f] = form.elements[f].value;
    if (form.elements.mrd.value) v.mrd = { negative: form.elements.mrd.value === "true" };
    const ms = [];
    (state.patient.lesions || []).forEach((les, i) => {
      const a = num(form, `m_long_${i}`), b = num(form, `m_perp_${i}`);
      if (a !== null || b !== null) ms.push({ lesion: les.id, longest_cm: a, perpendicular_cm: b });
    });
    const added = newLesions(form, v.date);
    ms.push(...added.ms);
    if (ms.length) v.plasmacytomas = ms;
    if (form.elements.new_lesion.value) v.new_lesion = form.elements.new_lesion.value === "true";
    return added.lesions.length ? { visit: v, lesions: added.lesions } : { visit: v };
  }

  function showErrors(errors) {
    const ul = $("#visit-errors");
    ul.replaceChildren(...errors.map((e) => el("li", { text: `${e.path}: ${e.message}` })));
    document.querySelectorAll("#visit-form [aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    for (const e of errors) {
      const input = document.querySelector(`#visit-form [data-path="${CSS.escape(e.path)}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }

  async function saveVisit(ev) {
    ev.preventDefault();
    const form = ev.target;
    const id = state.patient.id;
    const r = await api(`/v1/patients/${encodeURIComponent(id)}/visits`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "If-Match": state.etag },
      body: JSON.stringify(visitBody(form)),
    });
    if (r.status === 201) {
      showErrors([]);
      form.reset();
      $("#new-lesion-rows").replaceChildren();
      $("#imaging-proposals").replaceChildren();
      $("#imaging-status").textContent = "";
      state.proposals = [];
      await openPatient(id);
      $("#visit-errors").replaceChildren(el("li", { text: t("saved") }));
      return;
    }
    const body = await r.json().catch(() => ({}));
    if (r.status === 412) { await openPatient(id); showErrors([{ path: "", message: t("stale") }]); return; }
    showErrors(body.errors || [{ path: "", message: `${t("failed")} (${r.status}) ${body.detail || ""}` }]);
  }

  async function showReport(lang) {
    const r = await api(`/v1/patients/${encodeURIComponent(state.patient.id)}/report?lang=${lang}`);
    const frame = $("#report");
    frame.srcdoc = r.ok ? await r.text() : `${t("failed")} (${r.status})`;
    frame.hidden = false;
  }

  async function init() {
    const saved = localStorage.getItem(LANG_STORE);
    state.lang = saved === "zh" ? "zh" : "en";
    $("#lang").value = state.lang;
    $("#lang").addEventListener("change", () => { state.lang = $("#lang").value; localStorage.setItem(LANG_STORE, state.lang); applyLang(); });
    const key = $("#apikey");
    key.value = sessionStorage.getItem(KEY_STORE) || "";
    key.addEventListener("change", () => { if (key.value) sessionStorage.setItem(KEY_STORE, key.value); else sessionStorage.removeItem(KEY_STORE); search(); });
    const vocab = await (await fetch("/registry/vocab.json")).json();
    document.querySelectorAll("[data-units]").forEach((s) => {
      s.replaceChildren(...vocab.units[s.dataset.units].map((u) => el("option", { value: u, text: u })));
    });
    $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); search(); });
    $("#signin-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = e.target;
      const r = await fetch("/registry/session", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: f.elements.username.value, password: f.elements.password.value }) });
      f.elements.password.value = "";
      $("#signin-status").textContent = r.ok ? `${t("signed_in")} ${(await r.json()).user}` : t("signin_failed");
      if (r.ok) search();
    });
    $("#signout").addEventListener("click", async () => {
      await fetch("/registry/session", { method: "DELETE" });
      $("#signin-status").textContent = "";
      $("#patients").replaceChildren();
    });
    $("#visit-form").addEventListener("submit", saveVisit);
    $("#imaging-read").addEventListener("click", readReport);
    $("#add-lesion").addEventListener("click", () => { addLesionRow().querySelector("input").focus(); });
    try {
      const v = await fetch("/ui/vocabulary", { headers: { Accept: "application/json" } });
      if (v.ok) state.sites = (await v.json()).sites || [];
    } catch (_e) { /* the selects then offer the ids the report used */ }
    $("#report-en").addEventListener("click", () => showReport("en"));
    $("#report-zh").addEventListener("click", () => showReport("zh"));
    const route = () => {
      const m = location.hash.match(/^#\/p\/(.+)$/);
      if (m) openPatient(decodeURIComponent(m[1]));
    };
    window.addEventListener("hashchange", route);
    applyLang();
    await search();
    route();
  }
  document.addEventListener("DOMContentLoaded", init);
})();
