/* mmemd web page. Plain JavaScript, no framework, no build step, no external asset (see docs/web.md).
 *
 * Data flow: a patient record (example, pasted, opened or built from the form) -> POST /v1/assessments -> summary
 * rendered here from mmemd.assessment/1 -> POST /v1/reports?format=html -> the full report in a sandboxed iframe.
 * Text from the server is only ever inserted with textContent (or into the sandboxed iframe's srcdoc), never as HTML.
 */
"use strict";
(function () {
  const I18N = window.MMEMD_I18N;
  const KEY_STORE = "mmemd.apiKey"; // sessionStorage: gone when the tab closes (brief: memory/sessionStorage only)
  const LANG_STORE = "mmemd.lang";
  const state = {
    lang: "en",
    vocab: null,
    examples: [],
    record: null,
    source: "json", // where the current record came from: "json" (textarea/file/example) or "form"
    assessment: null,
    zh: null, // the Chinese high-risk features and decision lines of state.record (POST /ui/reasons?lang=zh)
    reportHtml: null,
    reportLang: null,
    evidence: null,
    lesionCount: 0,
  };
  const $ = (id) => document.getElementById(id);

  // ---- text --------------------------------------------------------------------------------------------------
  function t(key, params) {
    const table = I18N[state.lang] || I18N.en;
    let s = key in table ? table[key] : key in I18N.en ? I18N.en[key] : key;
    if (params) {
      for (const [k, v] of Object.entries(params)) s = s.split("{" + k + "}").join(String(v));
    }
    return s;
  }
  function has(key) {
    return key in (I18N[state.lang] || {});
  }
  /** A vocabulary label (sites, agents, endpoints) in the current language; the id when unknown. */
  function vlabel(table, id) {
    const list = state.vocab ? state.vocab[table] : null;
    const term = list ? list.find((x) => x.id === id) : null;
    return term ? term[state.lang] || term.en : id;
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "i18n") {
        node.dataset.i18n = v;
        node.textContent = t(v);
      } else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  // ---- language ----------------------------------------------------------------------------------------------
  function setLang(lang) {
    state.lang = lang === "zh" ? "zh" : "en";
    try {
      localStorage.setItem(LANG_STORE, state.lang);
    } catch (_e) {
      /* storage may be disabled; the choice then lasts for this page only */
    }
    applyLang();
    fetchChinese();
    if (state.record && state.reportLang !== state.lang && state.assessment) fetchReport();
  }
  function applyLang() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
    for (const node of document.querySelectorAll("[data-vocab]")) {
      const [table, id] = node.dataset.vocab.split(":");
      node.textContent = vlabel(table, id);
    }
    document.title = t("title");
    for (const b of document.querySelectorAll(".lang button")) {
      b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
    }
    renderExamples();
    renderVersions();
    renderSummary();
    renderEvidence();
  }
  function initialLang() {
    const q = new URLSearchParams(location.search).get("lang");
    if (q === "zh" || q === "en") return q;
    try {
      const saved = localStorage.getItem(LANG_STORE);
      if (saved === "zh" || saved === "en") return saved;
    } catch (_e) {
      /* ignore */
    }
    return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  // ---- HTTP --------------------------------------------------------------------------------------------------
  async function api(method, url, body) {
    const headers = { Accept: "application/json, application/problem+json, text/html" };
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers.Authorization = "Bearer " + key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (_e) {
      return null;
    }
  }
  async function readProblem(resp) {
    try {
      return await resp.json();
    } catch (_e) {
      return { status: resp.status, title: resp.statusText, errors: [] };
    }
  }

  // ---- errors next to the input --------------------------------------------------------------------------------
  function clearErrors(scope, box) {
    for (const node of scope.querySelectorAll(".field-error")) node.remove();
    for (const node of scope.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
      const ids = (node.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.startsWith("fe-"));
      if (ids.length) node.setAttribute("aria-describedby", ids.join(" "));
      else node.removeAttribute("aria-describedby");
    }
    box.replaceChildren();
  }
  /** The input that shows an error at this JSON path: exact match, else the closest enclosing path. */
  function fieldFor(scope, path) {
    let p = path;
    while (p) {
      const node = scope.querySelector('[data-path="' + CSS.escape(p) + '"]');
      if (node) return node;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      if (cut <= 0) break;
      p = p.slice(0, cut);
    }
    return null;
  }
  function problemText(err) {
    const code = err.code ? "code." + err.code : null;
    const parts = [];
    if (state.lang !== "en" && code && has(code)) {
      parts.push(t(code));
      if (err.accepted && err.accepted.length) parts.push(t("err.accepted", { list: err.accepted.join(", ") }));
      if (err.message) parts.push(t("err.detail_en", { message: err.message }));
    } else {
      parts.push(err.message || (code ? t(code) : ""));
    }
    return parts.join(" — ");
  }
  let errSeq = 0;
  function showErrors(scope, box, errors, headline) {
    clearErrors(scope, box);
    if (headline) box.append(el("p", { text: headline }));
    const list = el("ul");
    for (const err of errors) {
      const path = err.path || "$";
      const text = problemText(err);
      const field = fieldFor(scope, path);
      if (field) {
        const id = "fe-" + ++errSeq;
        field.setAttribute("aria-invalid", "true");
        field.setAttribute(
          "aria-describedby",
          ((field.getAttribute("aria-describedby") || "") + " " + id).trim()
        );
        const note = el("p", { class: "field-error", id, text: path + t("colon") + text });
        const host = field.closest(".field");
        if (host) host.append(note);
        else field.after(note);
      }
      list.append(el("li", {}, el("code", { text: path }), " ", text));
    }
    if (errors.length) box.append(list);
  }
  async function showResponseError(resp, scope, box) {
    if (resp === null) return showErrors(scope, box, [], t("err.network"));
    if (resp.status === 401 || resp.status === 403) {
      $("auth").open = true;
      showErrors(scope, box, [], t("err.auth"));
      $("api-key").focus();
      return undefined;
    }
    const problem = await readProblem(resp);
    const errors = Array.isArray(problem.errors) ? problem.errors : [];
    const detail = problem.detail || problem.title || resp.statusText || "";
    const headline = resp.status === 422 && errors.length
      ? t("err.invalid", { n: errors.length })
      : t("err.server", { status: resp.status, detail });
    return showErrors(scope, box, errors, headline);
  }

  // ---- examples and vocabulary -------------------------------------------------------------------------------
  async function loadVocabulary() {
    const resp = await api("GET", "/ui/vocabulary");
    if (!resp || !resp.ok) return;
    state.vocab = await resp.json();
    fillSelect($("ev-agent"), "agents");
    fillSelect($("ev-endpoint"), "endpoints");
    const cat = $("ev-category");
    for (const c of state.vocab.categories) cat.append(el("option", { value: c, i18n: "category." + c }));
    buildLabs();
    buildCyto();
    applyLang();
  }
  function fillSelect(select, table) {
    for (const term of state.vocab[table]) {
      select.append(el("option", { value: term.id, "data-vocab": table + ":" + term.id, text: vlabel(table, term.id) }));
    }
  }
  async function loadExamples() {
    const resp = await api("GET", "/examples");
    if (!resp || !resp.ok) return;
    state.examples = (await resp.json()).examples || [];
    renderExamples();
  }
  function renderExamples() {
    const select = $("example-select");
    const chosen = select.value;
    select.replaceChildren(
      ...state.examples.map((ex) => {
        const sites = (ex.sites || []).map((s) => vlabel("sites", s)).join(state.lang === "zh" ? "、" : ", ");
        const bits = [t("phase." + ex.phase)];
        if (sites) bits.push(sites);
        return el("option", { value: ex.name, text: ex.name + " — " + bits.join(" · ") });
      })
    );
    if (chosen) select.value = chosen;
  }
  function renderVersions() {
    const v = state.assessment ? state.assessment.versions : state.vocab ? state.vocab.versions : null;
    $("versions").textContent = v ? t("versions", v) : "";
  }

  // ---- the form ------------------------------------------------------------------------------------------------
  function triSelect(id, path) {
    return el(
      "select",
      { id, "data-path": path, "data-kind": "bool" },
      el("option", { value: "", i18n: "unknown" }),
      el("option", { value: "true", i18n: "yes" }),
      el("option", { value: "false", i18n: "no" })
    );
  }
  function choiceSelect(id, path, prefix, values) {
    return el(
      "select",
      { id, "data-path": path },
      el("option", { value: "", i18n: "unknown" }),
      ...values.map((v) => el("option", { value: v, i18n: prefix + v }))
    );
  }
  function buildLabs() {
    const box = $("labs");
    box.replaceChildren();
    for (const [lab, units] of Object.entries(state.vocab.units)) {
      const vid = "f-lab-" + lab;
      const row = el(
        "div",
        { class: "field lab" },
        el("label", { for: vid, i18n: "lab." + lab }),
        el("div", { class: "pair" },
          el("input", { id: vid, type: "text", inputmode: "decimal", "data-path": "$.labs." + lab + ".value", "data-lab": lab }),
          el("label", { for: vid + "-unit", class: "unit-label", i18n: "form.unit" }),
          el(
            "select",
            { id: vid + "-unit", "data-path": "$.labs." + lab + ".unit", "data-unit-for": lab },
            el("option", { value: "", i18n: "form.unit.choose" }),
            ...units.map((u) => el("option", { value: u, text: u }))
          )
        )
      );
      if (lab === "ldh") {
        row.append(
          el("label", { for: "f-ldh-uln", i18n: "form.uln" }),
          el("input", { id: "f-ldh-uln", type: "text", inputmode: "decimal", "data-path": "$.labs.ldh.upper_limit_normal" })
        );
      }
      box.append(row);
    }
  }
  const CYTO_BOOL = ["del_17p", "tp53_mutation", "t_4_14", "t_14_16", "t_14_20", "t_11_14", "gain_1q"];
  function buildCyto() {
    const box = $("cyto");
    box.replaceChildren();
    for (const k of CYTO_BOOL) {
      box.append(el("div", { class: "field" }, el("label", { for: "f-cy-" + k, i18n: "cyto." + k }),
        triSelect("f-cy-" + k, "$.cytogenetics." + k)));
    }
    box.append(el("div", { class: "field" }, el("label", { for: "f-cy-del_1p32", i18n: "cyto.del_1p32" }),
      choiceSelect("f-cy-del_1p32", "$.cytogenetics.del_1p32", "del_1p32.", ["none", "monoallelic", "biallelic"])));
  }
  function addLesion() {
    const n = ++state.lesionCount;
    const id = "f-les-" + n;
    const siteSelect = el("select", { id: id + "-site", "data-role": "site" }, el("option", { value: "", i18n: "form.site.choose" }));
    for (const s of state.vocab ? state.vocab.sites : []) {
      siteSelect.append(el("option", { value: s.id, "data-vocab": "sites:" + s.id, text: vlabel("sites", s.id) }));
    }
    const remove = el("button", { type: "button", class: "link", i18n: "form.remove_lesion" });
    const box = el(
      "fieldset",
      { class: "lesion", id },
      el("legend", {}, el("span", { i18n: "form.lesion" }), el("span", { class: "lesion-id" })),
      el("div", { class: "grid" },
        el("div", { class: "field" }, el("label", { for: id + "-site", i18n: "form.site" }), siteSelect),
        el("div", { class: "field" }, el("label", { for: id + "-rel", i18n: "form.relation" }),
          choiceSelect(id + "-rel", "", "relation.", ["none", "arising_from_bone", "intraosseous"])),
        el("div", { class: "field" }, el("label", { for: id + "-at", i18n: "form.detected_at" }),
          choiceSelect(id + "-at", "", "detected_at.", ["diagnosis", "relapse"])),
        el("div", { class: "field" }, el("label", { for: id + "-bx", i18n: "form.biopsy" }), triSelect(id + "-bx", "")),
        el("div", { class: "field" }, el("label", { for: id + "-cns", i18n: "form.cns" }), triSelect(id + "-cns", ""))
      ),
      remove
    );
    remove.addEventListener("click", () => {
      const next = box.nextElementSibling || box.previousElementSibling;
      box.remove();
      renumberLesions();
      (next ? next.querySelector("select") : $("add-lesion")).focus();
    });
    $("lesions").append(box);
    renumberLesions();
    siteSelect.focus();
  }
  function renumberLesions() {
    [...$("lesions").querySelectorAll("fieldset.lesion")].forEach((box, i) => {
      box.querySelector(".lesion-id").textContent = " L" + (i + 1);
      const base = "$.lesions[" + i + "].";
      const sel = box.querySelectorAll("select");
      ["site", "relation_to_bone", "detected_at", "biopsy_proven", "cns"].forEach((k, j) => {
        sel[j].dataset.path = base + k;
      });
      box.dataset.path = "$.lesions[" + i + "]";
    });
  }
  function number(text) {
    const s = String(text).trim().replace(",", ".");
    if (s === "") return null;
    const v = Number(s);
    return Number.isFinite(v) ? v : NaN;
  }
  /** The mmemd.patient/1 record the form describes, and the problems found before asking the server. */
  function buildRecord() {
    const errors = [];
    const rec = { schema: "mmemd.patient/1", id: $("f-id").value.trim(), phase: $("f-phase").value };
    const age = number($("f-age").value);
    if (Number.isNaN(age)) errors.push({ path: "$.age", message: t("form.not_number") });
    else if (age !== null) rec.age = age;
    if ($("f-sex").value) rec.sex = $("f-sex").value;
    if ($("f-tx").value) rec.transplant_eligible = $("f-tx").value === "true";
    const bmpc = number($("f-bmpc").value);
    if (Number.isNaN(bmpc)) errors.push({ path: "$.diagnosis.clonal_bone_marrow_plasma_cells_pct", message: t("form.not_number") });
    else if (bmpc !== null) rec.diagnosis = { clonal_bone_marrow_plasma_cells_pct: bmpc };
    const labs = {};
    for (const input of document.querySelectorAll("[data-lab]")) {
      const lab = input.dataset.lab;
      const value = number(input.value);
      const unit = document.querySelector('[data-unit-for="' + lab + '"]').value;
      const base = "$.labs." + lab;
      if (Number.isNaN(value)) errors.push({ path: base + ".value", message: t("form.not_number") });
      else if (value !== null && !unit) errors.push({ path: base + ".unit", message: t("form.need_unit") });
      else if (value === null && unit) errors.push({ path: base + ".value", message: t("form.need_value") });
      else if (value !== null) labs[lab] = { value, unit };
    }
    const uln = number($("f-ldh-uln") ? $("f-ldh-uln").value : "");
    if (Number.isNaN(uln)) errors.push({ path: "$.labs.ldh.upper_limit_normal", message: t("form.not_number") });
    else if (uln !== null && labs.ldh) labs.ldh.upper_limit_normal = uln;
    if (Object.keys(labs).length) rec.labs = labs;
    const cyto = {};
    for (const k of CYTO_BOOL) {
      const v = $("f-cy-" + k).value;
      if (v) cyto[k] = v === "true";
    }
    if ($("f-cy-del_1p32").value) cyto.del_1p32 = $("f-cy-del_1p32").value;
    if (Object.keys(cyto).length) rec.cytogenetics = cyto;
    const lesions = [];
    [...$("lesions").querySelectorAll("fieldset.lesion")].forEach((box, i) => {
      const [site, rel, at, bx, cns] = [...box.querySelectorAll("select")].map((s) => s.value);
      const les = { id: "L" + (i + 1) };
      if (!site) errors.push({ path: "$.lesions[" + i + "].site", message: t("form.need_site") });
      else les.site = site;
      if (rel) les.relation_to_bone = rel;
      if (at) les.detected_at = at;
      if (bx) les.biopsy_proven = bx === "true";
      if (cns) les.cns = cns === "true";
      lesions.push(les);
    });
    if (lesions.length) rec.lesions = lesions;
    return { record: rec, errors };
  }

  // ---- assessing -------------------------------------------------------------------------------------------------
  function errorScope() {
    return state.source === "form" ? [$("record-form"), $("form-errors")] : [document.body, $("record-errors")];
  }
  async function assess(record) {
    state.record = record;
    state.assessment = null;
    state.zh = null;
    state.reportHtml = null;
    state.reportLang = null;
    $("report-block").hidden = true;
    clearErrors($("record-form"), $("form-errors"));
    clearErrors(document.body, $("record-errors"));
    $("status").textContent = t("status.assessing");
    const resp = await api("POST", "/v1/assessments", record);
    if (!resp || !resp.ok) {
      $("status").textContent = "";
      renderSummary();
      const [scope, box] = errorScope();
      await showResponseError(resp, scope, box);
      return;
    }
    state.assessment = await resp.json();
    $("status").textContent = t("status.done", { id: state.assessment.patient_id || record.id });
    renderSummary();
    renderVersions();
    $("h-result").focus();
    fetchChinese();
    fetchReport();
  }
  /** The engine words its reasons and high-risk features in English: in Chinese the page shows the report's Chinese
   * lines for them, rendered by the server (one renderer for the report, the text summary and this page). */
  async function fetchChinese() {
    if (state.lang !== "zh" || !state.assessment || state.zh) return;
    const record = state.record;
    const resp = await api("POST", "/ui/reasons?lang=zh", record);
    if (record !== state.record || !resp || !resp.ok) return; // a newer record, or none: nothing English shown
    state.zh = await resp.json();
    renderSummary();
  }
  async function fetchReport() {
    const lang = state.lang;
    const record = state.record;
    $("status").textContent = t("status.report_loading");
    const resp = await api("POST", "/v1/reports?lang=" + lang + "&format=html", record);
    if (record !== state.record) return; // a newer record replaced this one while the report rendered
    if (!resp || !resp.ok) {
      $("status").textContent = t("status.report_unavailable", { status: resp ? resp.status : "—" });
      return;
    }
    state.reportHtml = await resp.text();
    state.reportLang = lang;
    if ($("report-block").hidden) {
      // Show the frame and let one rendering frame pass before loading the report: chromium runs a sandboxed frame
      // in its own process, and a document loaded while the frame was display:none can stay without layout.
      $("report-block").hidden = false;
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    }
    $("report-frame").srcdoc = state.reportHtml;
    $("status").textContent = t("status.report_ready");
  }
  function parseTextarea() {
    const text = $("record-json").value.trim();
    if (!text) {
      showErrors(document.body, $("record-errors"), [], t("err.empty"));
      return null;
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      showErrors(document.body, $("record-errors"), [{ path: "$", code: "malformed_json", message: String(e.message || e) }],
        t("err.json", { detail: String(e.message || e) }));
      return null;
    }
  }
  async function loadExample() {
    const name = $("example-select").value;
    if (!name) return;
    $("status").textContent = t("status.loading_example");
    const resp = await api("GET", "/examples/" + encodeURIComponent(name));
    if (!resp || !resp.ok) return showResponseError(resp, document.body, $("record-errors"));
    const record = await resp.json();
    $("record-json").value = JSON.stringify(record, null, 2);
    state.source = "json";
    return assess(record);
  }

  // ---- rendering the assessment --------------------------------------------------------------------------------
  function dl(rows) {
    const node = el("dl", { class: "kv" });
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      node.append(el("dt", { text: k }), el("dd", {}, v));
    }
    return node;
  }
  function yesNo(v) {
    return v === true ? t("yes") : v === false ? t("no") : t("unknown");
  }
  function bi(obj) {
    if (!obj) return "";
    if (typeof obj === "string") return obj;
    return obj[state.lang] || obj.en || "";
  }
  // Claims are cited by number, in order of first citation in the summary (the report's rule: sorted, a run of three
  // or more as a range), and each number's publication is listed under the summary: a clinician cannot look up a
  // knowledge-base id. `cited` holds the claim ids of the summary being rendered, in number order.
  let cited = [];
  function collapse(nums) {
    const sorted = [...new Set(nums)].sort((a, b) => a - b);
    const out = [];
    let run = [];
    const flush = () => {
      if (run.length >= 3) out.push(run[0] + "–" + run[run.length - 1]);
      else out.push(...run.map(String));
      run = [];
    };
    for (const n of sorted) {
      if (run.length && n !== run[run.length - 1] + 1) flush();
      run.push(n);
    }
    if (run.length) flush();
    return out.join(", ");
  }
  function cite(ids) {
    if (!ids || !ids.length) return null;
    const nums = ids.map((c) => {
      let i = cited.indexOf(c);
      if (i < 0) i = cited.push(c) - 1;
      return i + 1;
    });
    return el("span", { class: "cites", text: " [" + collapse(nums) + "]" });
  }
  function claimsLine(ids) {
    if (!ids || !ids.length) return null;
    return el("p", { class: "claims" }, t("summary.claims") + t("colon"), cite(ids));
  }
  function bilingual(table, key) {
    const entry = state.vocab && state.vocab[table] ? state.vocab[table][key] : null;
    return entry ? entry[state.lang] || entry.en : null;
  }
  function paren(text) {
    return text ? (state.lang === "zh" ? "（" + text + "）" : "(" + text + ")") : "";
  }
  function sourcesList() {
    if (!cited.length) return null;
    const reviews = [...new Set(cited.map((c) => (c.startsWith("emdrev-") ? "emdrev" : "emdtx")))].sort().reverse();
    return el("section", { class: "panel wide", "aria-labelledby": "h-sources" },
      el("h4", { id: "h-sources", text: t("summary.sources") }),
      el("ol", { class: "sources" }, ...cited.map((c) => el("li", { text: bilingual("publications", c) || "—" }))),
      el("ul", { class: "reviews" }, ...reviews.map((r) => el("li", { text: bilingual("reviews", r) || "—" }))));
  }
  function reasons(list) {
    // In Chinese the engine's (English) reasons are not shown: the Chinese lines come in one list (zhReasons).
    if (state.lang === "zh" || !list || !list.length) return null;
    return el("details", { class: "reasons" }, el("summary", { text: t("summary.reasons") }),
      el("ul", { lang: "en" }, ...list.map((r) => el("li", { text: r }))));
  }
  function zhReasons() {
    const list = state.lang === "zh" && state.zh ? state.zh.reasons : [];
    if (!list.length) return null;
    return el("details", { class: "reasons" }, el("summary", { text: t("summary.reasons") }),
      el("ul", { lang: "zh-CN" }, ...list.map((r) => el("li", { text: r }))));
  }
  function features(st) {
    if (state.lang !== "zh") return (st.high_risk_features || []).join("; ");
    return state.zh ? state.zh.high_risk_features.join("；") : "";
  }
  function renderSummary() {
    const box = $("summary");
    const a = state.assessment;
    if (!a) {
      box.replaceChildren(el("p", { class: "hint", text: t("result.none") }));
      return;
    }
    const emd = a.emd || {};
    const st = a.staging || {};
    const r = a.response || {};
    cited = [];
    const out = [el("h3", { id: "h-summary", text: t("summary.heading", { id: a.patient_id }) })];

    const emdCat = emd.category ? t("emd." + emd.category) : t("unknown");
    out.push(el("section", { class: "panel emd", "aria-labelledby": "h-emd" },
      el("h4", { id: "h-emd", text: t("summary.emd") }),
      dl([
        [t("summary.category"), el("strong", { class: "emd-category", "data-category": emd.category, text: emdCat })],
        [t("summary.timing"), emd.timing ? t("timing." + emd.timing) : null],
        [t("summary.cns"), yesNo(emd.cns)],
        [t("summary.sites"), (emd.sites || []).map((s) => vlabel("sites", s)).join(state.lang === "zh" ? "、" : ", ")],
      ]),
      emd.category === "indeterminate" ? el("p", { class: "hint", text: t("summary.indeterminate_note") }) : null,
      reasons(emd.reasons)));

    const r2 = st.r2_iss || {};
    out.push(el("section", { class: "panel", "aria-labelledby": "h-stage" },
      el("h4", { id: "h-stage", text: t("summary.staging") }),
      dl([
        ["ISS", st.iss || t("unknown")],
        ["R-ISS", st.r_iss || ((st.r_iss_possible || []).length ? (st.r_iss_possible || []).join(" / ") + " ?" : t("unknown"))],
        ["R2-ISS", r2.group ? r2.group + (r2.points !== null && r2.points !== undefined ? " (" + r2.points + ")" : "") : t("unknown")],
        [t("summary.high_risk"), yesNo(st.high_risk)],
        [t("summary.features"), features(st)],
      ]),
      reasons(st.reasons)));

    const resp = (c) => (c ? (has("resp." + c) ? t("resp." + c) : c) : t("unknown"));
    out.push(el("section", { class: "panel", "aria-labelledby": "h-resp" },
      el("h4", { id: "h-resp", text: t("summary.response") }),
      dl([
        [t("summary.current"), resp(r.current) + (r.current ? " (" + (r.confirmed ? t("summary.confirmed") : t("summary.unconfirmed")) + ")" : "")],
        [t("summary.best"), resp(r.best)],
        [t("summary.pd"), yesNo(r.progressive_disease)],
        [t("summary.mrd"), r.mrd ? t("mrd." + r.mrd) : null],
      ]),
      reasons(r.reasons),
      zhReasons()));

    const options = a.options || [];
    const optList = el("ol", { class: "options" });
    for (const o of options) {
      const title = state.lang === "zh" ? o.title_zh : o.title_en;
      const badges = el("p", { class: "badges" },
        el("span", { class: "badge grade", text: t("summary.grade", { grade: o.grade }) }), " ",
        el("span", { class: "badge " + (o.emd_specific_evidence ? "emd" : "general"),
          text: o.emd_specific_evidence ? t("summary.emd_specific") : t("summary.general_mm") }), " ",
        el("span", { class: "badge score", text: t("summary.score", { score: o.score }) }));
      const item = el("li", { class: "option", "data-option": o.id }, el("h5", { text: title }), badges);
      if ((o.agents || []).length) {
        item.append(el("p", {}, t("summary.agents") + t("colon") + o.agents.map((x) => vlabel("agents", x)).join(state.lang === "zh" ? "、" : ", ")));
      }
      if ((o.key_results || []).length) {
        item.append(el("p", { class: "sub", text: t("summary.key_results") }),
          el("ul", {}, ...o.key_results.map((k) => el("li", {}, bi(k) + " (" + k.grade + ")", cite([k.claim])))));
      }
      if ((o.applies_because || []).length) {
        item.append(el("p", { class: "sub", text: t("summary.applies") }), el("ul", {}, ...o.applies_because.map((b) => el("li", { text: bi(b) }))));
      }
      if ((o.cautions || []).length) {
        item.append(el("p", { class: "sub caution-head", text: t("summary.cautions") }),
          el("ul", { class: "cautions" }, ...o.cautions.map((c) =>
            el("li", { class: "caution " + (c.severity || "minor") },
              el("strong", { text: t("severity." + (c.severity || "minor")) + t("colon") }), bi(c),
              cite(c.claims)))));
      }
      const note = state.lang === "zh" ? o.note_zh : o.note_en;
      if (note) item.append(el("p", { class: "hint", text: note }));
      item.append(claimsLine(o.claims));
      optList.append(item);
    }
    out.push(el("section", { class: "panel wide", "aria-labelledby": "h-options" },
      el("h4", { id: "h-options", text: t("summary.options") }),
      options.length ? optList : el("p", { text: t("summary.no_options") })));

    const workup = a.workup || [];
    out.push(el("section", { class: "panel", "aria-labelledby": "h-workup" },
      el("h4", { id: "h-workup", text: t("summary.workup") }),
      workup.length
        ? el("ul", {}, ...workup.map((w) => el("li", { class: "workup" },
          el("strong", { text: state.lang === "zh" ? w.title_zh : w.title_en }),
          (w.because || []).length ? el("span", { text: " — " + w.because.map(bi).join("; ") }) : null,
          claimsLine(w.claims))))
        : el("p", { text: t("summary.no_workup") })));

    const prog = a.prognosis || [];
    if (prog.length) {
      out.push(el("section", { class: "panel", "aria-labelledby": "h-prog" },
        el("h4", { id: "h-prog", text: t("summary.prognosis") }),
        el("ul", {}, ...prog.map((p) => el("li", {}, bi(p) + " ", claimsLine(p.claims) ||
          el("span", { class: "cites", text: paren((p.citations || []).map((k) => bilingual("references", k) || k).join(state.lang === "zh" ? "；" : "; ")) }))))));
    }
    const sources = sourcesList();
    if (sources) out.push(sources);
    box.replaceChildren(el("div", { class: "summary-grid" }, ...out));
  }

  // ---- evidence browser ------------------------------------------------------------------------------------------
  async function searchEvidence() {
    const params = new URLSearchParams();
    for (const [k, id] of [["q", "ev-q"], ["agent", "ev-agent"], ["endpoint", "ev-endpoint"], ["category", "ev-category"]]) {
      const v = $(id).value.trim();
      if (v) params.set(k, v);
    }
    const form = $("evidence-form");
    clearErrors(form, $("evidence-errors"));
    $("evidence-status").textContent = t("evidence.searching");
    const resp = await api("GET", "/v1/evidence?" + params.toString());
    if (!resp || !resp.ok) {
      $("evidence-status").textContent = "";
      await showResponseError(resp, form, $("evidence-errors"));
      return;
    }
    state.evidence = await resp.json();
    renderEvidence();
  }
  function evidenceItems(body) {
    const list = body.hits || body.results || body.claims || body.items || [];
    return list.map((x) => (x && x.claim ? x.claim : x));
  }
  function sourceLabel(c) {
    const sources = state.vocab ? state.vocab.sources || [] : [];
    const s = sources.find((x) => x.id === c.source);
    const title = s ? (state.lang === "zh" ? s.title_zh : s.title_en) : c.source;
    let section = "";
    if (c.section) {
      const sec = s && s.sections ? s.sections[c.section] : null;
      section = " · " + t("evidence.section") + " " + c.section + (sec ? " " + (state.lang === "zh" ? sec.zh : sec.en) : "");
    }
    return title + section;
  }
  function renderEvidence() {
    const ol = $("evidence-results");
    if (!state.evidence) {
      ol.replaceChildren();
      return;
    }
    const items = evidenceItems(state.evidence);
    $("evidence-status").textContent = items.length ? t("evidence.count", { n: items.length }) : t("evidence.none");
    ol.replaceChildren(...items.map((c) => {
      const statement = state.lang === "zh" ? c.statement_zh || c.statement_en : c.statement_en || c.statement_zh;
      const meta = [t("evidence.grade") + " " + (c.grade || "?")];
      if (c.n_total) meta.push(t("evidence.n", { n: c.n_total }));
      if (c.endpoint) meta.push(vlabel("endpoints", c.endpoint));
      if (c.emd_specific) meta.push(t("summary.emd_specific"));
      return el("li", { class: "claim", "data-claim": c.id },
        el("p", { class: "statement" }, el("code", { text: c.id }), " ", statement || ""),
        el("p", { class: "meta", text: meta.join(" · ") }),
        el("figure", {},
          el("blockquote", { lang: "zh-CN", text: c.quote || "" }),
          el("figcaption", {}, t("evidence.quote") + " — " + t("evidence.source") + t("colon"), el("cite", { text: sourceLabel(c) }))));
    }));
  }

  // ---- wiring ----------------------------------------------------------------------------------------------------
  function downloadReport() {
    if (!state.reportHtml) return;
    const url = URL.createObjectURL(new Blob([state.reportHtml], { type: "text/html" }));
    const a = el("a", { href: url, download: "mmemd-report-" + (state.record.id || "patient") + "-" + state.reportLang + ".html" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  function wire() {
    for (const b of document.querySelectorAll(".lang button")) b.addEventListener("click", () => setLang(b.dataset.lang));
    const key = $("api-key");
    key.value = sessionStorage.getItem(KEY_STORE) || "";
    key.addEventListener("change", () => {
      if (key.value) sessionStorage.setItem(KEY_STORE, key.value);
      else sessionStorage.removeItem(KEY_STORE);
    });
    $("example-load").addEventListener("click", loadExample);
    $("assess").addEventListener("click", () => {
      state.source = "json";
      clearErrors(document.body, $("record-errors"));
      const rec = parseTextarea();
      if (rec !== null) assess(rec);
    });
    $("record-file").addEventListener("change", async (ev) => {
      const file = ev.target.files && ev.target.files[0];
      if (!file) return;
      $("record-json").value = await file.text(); // read in the browser; nothing is uploaded until "Assess"
      state.source = "json";
      $("status").textContent = t("status.file_loaded", { name: file.name });
    });
    $("add-lesion").addEventListener("click", addLesion);
    $("record-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      state.source = "form";
      const { record, errors } = buildRecord();
      if (errors.length) {
        showErrors($("record-form"), $("form-errors"), errors, null);
        const first = $("record-form").querySelector("[aria-invalid]");
        if (first) first.focus();
        return;
      }
      $("record-json").value = JSON.stringify(record, null, 2);
      $("status").textContent = t("form.built");
      assess(record);
    });
    $("evidence-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      searchEvidence();
    });
    $("report-download").addEventListener("click", downloadReport);
    $("h-result").setAttribute("tabindex", "-1");
  }

  async function main() {
    state.lang = initialLang();
    wire();
    applyLang();
    await Promise.all([loadVocabulary(), loadExamples()]);
    document.body.dataset.ready = "true"; // for tests: the selects are filled
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
