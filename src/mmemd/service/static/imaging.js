/* mmemd web page, imaging panel: paste a report, read the proposed lesions (POST /v1/imaging/extractions), show the
   words each value came from, let the clinician confirm, edit or drop each lesion, then add the confirmed ones to the
   patient record in the JSON box (lesions[] and, with the study date, the assessment's plasmacytomas / new_lesion).
   Nothing is added without an explicit confirmation. Strings live in i18n.js under "imaging.*". */
"use strict";
(function () {
  const I18N = window.MMEMD_I18N;
  const KEY_STORE = "mmemd.apiKey";
  const $ = (id) => document.getElementById(id);
  const state = { result: null, text: "", proposals: [], sites: [] };

  function lang() {
    return (document.documentElement.lang || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
  }
  function t(key, params) {
    const table = I18N[lang()] || I18N.en;
    let s = key in table ? table[key] : key in I18N.en ? I18N.en[key] : key;
    for (const [k, v] of Object.entries(params || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }
  function siteLabel(id) {
    const term = state.sites.find((x) => x.id === id);
    return term ? term[lang()] || term.en : id;
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c) node.append(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }
  function select(id, values, current, label) {
    const s = el("select", { id });
    for (const v of values) {
      const o = el("option", { value: v, text: label(v) });
      if (v === (current || "")) o.selected = true;
      s.append(o);
    }
    return s;
  }

  async function post(url, body) {
    const headers = { Accept: "application/json, application/problem+json", "Content-Type": "application/json" };
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers.Authorization = "Bearer " + key;
    try {
      return await fetch(url, { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
    } catch (_e) {
      return null;
    }
  }

  function fail(message) {
    $("imaging-errors").replaceChildren(el("p", { text: message }));
    $("imaging-status").textContent = "";
  }

  async function read() {
    const text = $("imaging-text").value;
    $("imaging-errors").replaceChildren();
    $("imaging-status").textContent = t("imaging.reading");
    const resp = await post("/v1/imaging/extractions", { text, lang: "auto" });
    if (!resp || !resp.ok) {
      let detail = resp ? resp.status + " " + resp.statusText : "";
      try {
        const p = await resp.json();
        detail = (p.errors || []).map((e) => e.path + ": " + e.message).join("; ") || p.detail || detail;
      } catch (_e) {
        /* keep the status line */
      }
      fail(t("imaging.failed") + (detail ? " — " + detail : ""));
      return;
    }
    state.result = await resp.json();
    state.text = text;
    state.proposals = state.result.lesions.map((les) => ({ les, confirmed: false, dropped: false }));
    $("imaging-date").value = state.result.study_date || "";
    render();
    const n = state.result.lesions.length;
    let status = n ? t("imaging.found", { n }) : t("imaging.none_found");
    if (state.result.no_extramedullary_lesion === true) status += " " + t("imaging.no_emd");
    $("imaging-status").textContent = status;
  }

  /** The report with every evidence span of the proposals still shown wrapped in <mark>, as text nodes only. */
  function renderMarked() {
    const spans = [];
    state.proposals.forEach((p, i) => {
      if (p.dropped) return;
      for (const ev of p.les.evidence) spans.push({ start: ev.start, end: ev.end, i, field: ev.field });
    });
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const box = $("imaging-marked");
    box.replaceChildren();
    let pos = 0;
    for (const s of spans) {
      if (s.start < pos) continue; // nested or overlapping: the outer span is already marked
      box.append(document.createTextNode(state.text.slice(pos, s.start)));
      box.append(el("mark", { "data-lesion": String(s.i), "data-field": s.field, text: state.text.slice(s.start, s.end) }));
      pos = s.end;
    }
    box.append(document.createTextNode(state.text.slice(pos)));
  }

  function proposalCard(p, i) {
    const les = p.les;
    const id = "im-les-" + i;
    const size = les.size_cm || [];
    const quotes = [...new Set(les.evidence.map((e) => e.quote))].join(" · ");
    const sites = state.sites.map((s) => s.id);
    if (!sites.includes(les.site)) sites.unshift(les.site);
    const confirm = el("button", { type: "button", id: id + "-confirm", "aria-pressed": String(p.confirmed), text: t(p.confirmed ? "imaging.confirmed" : "imaging.confirm") });
    const drop = el("button", { type: "button", class: "link", id: id + "-drop", text: t("imaging.drop") });
    const field = (key, control) => el("div", { class: "field" }, el("label", { for: control.id, text: t(key) }), control);
    const box = el(
      "fieldset",
      { class: "imaging-lesion" + (p.confirmed ? " confirmed" : ""), id },
      el("legend", { text: t("imaging.lesion") + " " + (i + 1) + " — " + siteLabel(les.site) }),
      el("p", { class: "imaging-quote" }, t("imaging.words") + t("colon"), el("span", { text: quotes })),
      el(
        "div",
        { class: "grid" },
        field("imaging.site", select(id + "-site", sites, les.site, siteLabel)),
        field("imaging.side", select(id + "-side", ["", "left", "right", "bilateral"], les.side, (v) => (v ? t("imaging.side." + v) : t("unknown")))),
        field("imaging.relation", select(id + "-rel", ["none", "arising_from_bone", "intraosseous"], les.relation_to_bone, (v) => t("relation." + v))),
        field("imaging.long", el("input", { id: id + "-long", type: "number", min: "0", max: "50", step: "any", value: size.length === 2 ? String(size[0]) : "" })),
        field("imaging.short", el("input", { id: id + "-short", type: "number", min: "0", max: "50", step: "any", value: size.length === 2 ? String(size[1]) : "" })),
        el("p", {}, t("imaging.suv") + t("colon") + (les.suv_max ?? "—") + " · " + t("imaging.change") + t("colon") +
          (les.change ? t("imaging.change." + les.change) : "—") + " · " + t("imaging.certainty") + t("colon") + t("imaging.certainty." + les.certainty))
      ),
      el("div", { class: "row" }, confirm, drop)
    );
    confirm.addEventListener("click", () => {
      p.confirmed = !p.confirmed;
      render();
      $(id + "-confirm").focus();
    });
    drop.addEventListener("click", () => {
      p.dropped = true;
      render();
      $("imaging-add").focus();
    });
    box.addEventListener("focusin", () => highlight(i, true));
    box.addEventListener("focusout", () => highlight(i, false));
    return box;
  }

  function highlight(i, on) {
    for (const m of $("imaging-marked").querySelectorAll('mark[data-lesion="' + i + '"]')) m.classList.toggle("active", on);
  }

  function render() {
    if (!state.result) return;
    // keep what the clinician typed before re-rendering (language switch, confirm, drop)
    state.proposals.forEach((p, i) => {
      const site = $("im-les-" + i + "-site");
      if (!site) return;
      p.edit = {
        site: site.value,
        side: $("im-les-" + i + "-side").value,
        rel: $("im-les-" + i + "-rel").value,
        long: $("im-les-" + i + "-long").value,
        short: $("im-les-" + i + "-short").value,
      };
    });
    $("imaging-result").hidden = false;
    renderMarked();
    const list = $("imaging-lesions");
    list.replaceChildren();
    state.proposals.forEach((p, i) => {
      if (p.dropped) return;
      list.append(proposalCard(p, i));
      if (p.edit) {
        $("im-les-" + i + "-site").value = p.edit.site;
        $("im-les-" + i + "-side").value = p.edit.side;
        $("im-les-" + i + "-rel").value = p.edit.rel;
        $("im-les-" + i + "-long").value = p.edit.long;
        $("im-les-" + i + "-short").value = p.edit.short;
      }
    });
  }

  function num(text) {
    const s = String(text).trim().replace(",", ".");
    if (s === "") return null;
    const v = Number(s);
    return Number.isFinite(v) && v >= 0 && v <= 50 ? v : NaN;
  }

  function addToRecord() {
    $("imaging-errors").replaceChildren();
    let record;
    try {
      record = JSON.parse($("record-json").value);
    } catch (_e) {
      record = null;
    }
    if (!record || typeof record !== "object" || Array.isArray(record)) return fail(t("imaging.no_record"));
    const chosen = state.proposals.map((p, i) => [p, i]).filter(([p]) => p.confirmed && !p.dropped);
    if (!chosen.length) return fail(t("imaging.nothing_confirmed"));
    const date = $("imaging-date").value;
    const lesions = Array.isArray(record.lesions) ? record.lesions : [];
    const ids = new Set(lesions.map((l) => l && l.id));
    const measured = [];
    for (const [p, i] of chosen) {
      const base = "img-" + (date || "undated") + "-" + (i + 1);
      let id = base;
      for (let k = 2; ids.has(id); k++) id = base + "-" + k;
      ids.add(id);
      const lesion = { id, site: $("im-les-" + i + "-site").value, relation_to_bone: $("im-les-" + i + "-rel").value };
      if (state.result.modality) lesion.modality = state.result.modality;
      if (p.les.change === "new" && date) lesion.detected_on = date;
      lesions.push(lesion);
      const long = num($("im-les-" + i + "-long").value);
      const short = num($("im-les-" + i + "-short").value);
      if (Number.isNaN(long) || Number.isNaN(short)) return fail(t("imaging.long") + " / " + t("imaging.short"));
      if (lesion.relation_to_bone !== "intraosseous" && long !== null && short !== null) {
        measured.push({ lesion: id, longest_cm: Math.max(long, short), perpendicular_cm: Math.min(long, short) });
      } else if (lesion.relation_to_bone !== "intraosseous" && p.les.change === "resolved" && long === null) {
        measured.push({ lesion: id, longest_cm: 0, perpendicular_cm: 0 });
      }
    }
    const anyNew = chosen.some(([p]) => p.les.change === "new");
    if ((measured.length || anyNew) && !date) return fail(t("imaging.need_date"));
    record.lesions = lesions;
    if (measured.length || anyNew) {
      const assessments = Array.isArray(record.assessments) ? record.assessments : [];
      let a = assessments.find((x) => x && x.date === date);
      if (!a) {
        a = { date };
        assessments.push(a);
        assessments.sort((x, y) => String(x.date).localeCompare(String(y.date)));
      }
      if (measured.length) a.plasmacytomas = (Array.isArray(a.plasmacytomas) ? a.plasmacytomas : []).concat(measured);
      if (anyNew) a.new_lesion = true;
      record.assessments = assessments;
    }
    $("record-json").value = JSON.stringify(record, null, 2);
    $("record-json").dispatchEvent(new Event("input", { bubbles: true }));
    for (const [p] of chosen) p.dropped = true; // added: no longer a proposal
    render();
    $("imaging-status").textContent = t("imaging.added", { n: chosen.length });
  }

  async function loadSites() {
    try {
      const resp = await fetch("/ui/vocabulary", { headers: { Accept: "application/json" } });
      if (resp.ok) state.sites = (await resp.json()).sites || [];
    } catch (_e) {
      /* the selects then show site ids */
    }
  }

  function main() {
    $("imaging-extract").addEventListener("click", read);
    $("imaging-add").addEventListener("click", addToRecord);
    new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
    loadSites();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
