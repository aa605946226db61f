"""The web page as served: HTML, assets, both languages, no external origin, CSP, examples."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import html5lib
import pytest

from mmemd.service._web import STATIC_TYPES, example_names

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "src" / "mmemd" / "service" / "static"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: zh strings that may equal the English (gene/translocation names, a formula)
SAME_IN_BOTH = re.compile(r"^(cyto\.(del_17p|t_\d+_\d+|del_1p32)|evidence\.n)$")


def _i18n(client: Any) -> dict[str, dict[str, str]]:
    text = client.get("/static/i18n.js").text
    table: dict[str, dict[str, str]] = json.loads(text[text.index("{") : text.rindex("}") + 1])
    return table


def test_web_index_html_served_with_security_headers(web_client: Any) -> None:
    r = web_client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    doc = html5lib.parse(r.text, namespaceHTMLElements=False)
    assert doc.get("lang") == "en"
    assert [s.get("src") for s in doc.iter("script")] == [
        "/static/i18n.js",
        "/static/app.js",
        "/static/imaging.js",
    ]
    assert all(not (s.text or "").strip() for s in doc.iter("script")), (
        "no inline script (CSP script-src 'self')"
    )
    assert not [e for e in doc.iter() if any(a.startswith("on") for a in e.attrib)], "no inline event handler"
    assert len(list(doc.iter("h1"))) == 1


def test_web_html_is_well_formed(web_client: Any) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(web_client.get("/").text)  # raises on any parse error


def test_web_csp_forbids_other_origins(web_client: Any) -> None:
    for url in ("/", "/static/app.js"):
        csp = web_client.get(url).headers["content-security-policy"]
        directives = dict((d.split()[0], d.split()[1:]) for d in (x.strip() for x in csp.split(";")) if d)
        assert directives["default-src"] == ["'none'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["frame-ancestors"] == ["'none'"]
        for name, sources in directives.items():
            for src in sources:
                assert src in {"'self'", "'none'", "'unsafe-inline'", "data:"}, f"{name} allows {src}"


def test_web_every_control_has_a_label(web_client: Any) -> None:
    doc = html5lib.parse(web_client.get("/").text, namespaceHTMLElements=False)
    labelled = {lab.get("for") for lab in doc.iter("label")}
    for tag in ("input", "select", "textarea"):
        for e in doc.iter(tag):
            assert e.get("id") in labelled or e.get("aria-label"), f"<{tag} id={e.get('id')}> has no label"
    for b in doc.iter("button"):
        assert (b.text or "").strip(), "every button has visible text"


@pytest.mark.parametrize("name", sorted(STATIC_TYPES))
def test_web_static_asset_content_type(web_client: Any, name: str) -> None:
    r = web_client.get(f"/static/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == STATIC_TYPES[name]
    assert r.content == (STATIC / name).read_bytes()


@pytest.mark.parametrize(
    "path", ["/static/index.html", "/static/nope.js", "/static/..%2F_web.py", "/static/%2e%2e"]
)
def test_web_static_unknown_is_404_problem(web_client: Any, path: str) -> None:
    r = web_client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "def build_router" not in r.text


def test_web_no_external_url_in_any_asset(web_client: Any) -> None:
    bodies = {"/": web_client.get("/").text} | {n: web_client.get(f"/static/{n}").text for n in STATIC_TYPES}
    for name, body in bodies.items():
        assert not re.search(r"(?i)\b(?:https?|wss?|ftp):", body), f"{name} names an absolute URL"
        assert not re.search(r"""(?:src|href|action)\s*=\s*["']//""", body), f"{name}: protocol-relative URL"
        if name.endswith((".css", "/")):
            assert not re.search(r"(?i)@import|url\(\s*['\"]?(?!data:)", body), f"{name}: CSS loads something"
        # fetch() and every src/href point at this origin: a path starting with one slash
        for target in re.findall(r"""(?:fetch\(|api\("\w+",\s*)["']([^"']+)""", body):
            assert target.startswith("/") and not target.startswith("//"), target


def test_web_both_languages_cover_every_string(web_client: Any) -> None:
    table = _i18n(web_client)
    assert set(table) == {"en", "zh"}
    assert set(table["en"]) == set(table["zh"])
    html = web_client.get("/").text
    js = web_client.get("/static/app.js").text
    used = set(re.findall(r'data-i18n="([^"]+)"', html)) | set(re.findall(r'\bt\("([a-z0-9_.]+)"', js))
    used |= set(re.findall(r'i18n: "([a-z0-9_.]+)"', js))
    assert used, "the page uses translated strings"
    used = {
        k for k in used if not k.endswith(".")
    }  # prefixes completed at run time: checked in the next test
    missing = sorted(k for k in used if k not in table["en"])
    assert not missing, missing
    for key, zh in table["zh"].items():
        if not SAME_IN_BOTH.match(key):
            assert CJK.search(zh) or zh != table["en"][key], f"zh string for {key!r} is untranslated"
    # the page's static text is English until the script switches; the Chinese is in the served i18n table
    assert "患者记录" in table["zh"].values()


def _enum(schema: dict[str, Any], *path: str) -> list[str]:
    node: Any = schema
    for p in path:
        node = node[p]
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    for alt in node.get("anyOf", [node]):
        if "enum" in alt:
            return [str(v) for v in alt["enum"]]
        if "$ref" in alt:
            return _enum({**schema, "x": alt}, "x")
    raise AssertionError(f"no enum at {path}")


def test_web_every_engine_value_has_a_label_in_both_languages(web_client: Any) -> None:
    """Values the page shows by key ("emd." + category ...) come from the assessment model: none may lack a label."""
    from mmemd.clinical.assessment import assessment_json_schema

    schema = assessment_json_schema()
    defs = schema["$defs"]

    def props(model: str, field: str) -> list[str]:
        return _enum(schema | {"m": defs[model]["properties"][field]}, "m")

    table = _i18n(web_client)
    emd_model = next(k for k, v in defs.items() if "also_paraskeletal" in v.get("properties", {}))
    resp_model = next(k for k, v in defs.items() if "relapse_from_cr" in v.get("properties", {}))
    wanted = (
        [f"emd.{v}" for v in props(emd_model, "category")]
        + [f"timing.{v}" for v in props(emd_model, "timing")]
        + [f"resp.{v}" for v in props(resp_model, "current")]
        + [f"mrd.{v}" for v in props(resp_model, "mrd")]
    )
    from mmemd.clinical.record import PatientRecord
    from mmemd.knowledge._models import Category

    record = PatientRecord.model_json_schema()
    wanted += [f"category.{c.value}" for c in Category]
    wanted += [f"phase.{v}" for v in record["properties"]["phase"]["enum"]]
    wanted += [f"relation.{v}" for v in _enum(record, "$defs", "Lesion", "properties", "relation_to_bone")]
    wanted += [f"detected_at.{v}" for v in _enum(record, "$defs", "Lesion", "properties", "detected_at")]
    wanted += [f"del_1p32.{v}" for v in _enum(record, "$defs", "Cytogenetics", "properties", "del_1p32")]
    wanted += [
        f"cyto.{k}"
        for k in record["$defs"]["Cytogenetics"]["properties"]
        if k != "del_17p_clonal_fraction_pct"
    ]
    wanted += [f"lab.{k}" for k in web_client.get("/ui/vocabulary").json()["units"]]
    wanted += ["severity.major", "severity.minor"]
    for lang in ("en", "zh"):
        missing = [k for k in wanted if k not in table[lang]]
        assert not missing, (lang, missing)


def test_web_examples_listing_matches_repository(web_client: Any) -> None:
    r = web_client.get("/examples")
    assert r.status_code == 200
    body = r.json()
    names = [e["name"] for e in body["examples"]]
    assert names == sorted(p.stem for p in (REPO / "examples").glob("*.json"))
    assert names == list(example_names())
    assert {"mmemd", "knowledge_base", "response_criteria", "high_risk_definition"} <= set(body["versions"])
    liver = next(e for e in body["examples"] if e["name"] == "emd-liver-rrmm-pr")
    assert liver == {
        "name": "emd-liver-rrmm-pr",
        "id": "emd-liver-rrmm-pr",
        "phase": "relapsed_refractory",
        "sites": ["liver"],
    }


@pytest.mark.parametrize("name", sorted(p.stem for p in (REPO / "examples").glob("*.json")))
def test_web_example_is_the_repository_record_and_assesses(web_client: Any, name: str) -> None:
    r = web_client.get(f"/examples/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    record = r.json()
    assert record == json.loads((REPO / "examples" / f"{name}.json").read_text(encoding="utf-8"))
    assessed = web_client.post("/v1/assessments", json=record)
    assert assessed.status_code == 200, assessed.text
    assert assessed.json()["patient_id"] == record["id"]


def test_web_unknown_example_is_404_problem(web_client: Any) -> None:
    r = web_client.get("/examples/no-such-patient")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 404
    assert problem["errors"][0]["path"] == "path.name"
    assert "emd-liver-rrmm-pr" in problem["detail"]


def test_web_vocabulary_units_are_exactly_what_the_engine_accepts(web_client: Any) -> None:
    from mmemd.clinical.record import PatientRecord

    vocab = web_client.get("/ui/vocabulary").json()
    units = vocab["units"]
    assert set(units) == {"beta2_microglobulin", "albumin", "ldh", "creatinine", "calcium", "hemoglobin"}
    assert units["albumin"] == ["g/dL", "g/L"]
    assert len(units["creatinine"]) == 2  # mg/dL and one spelling of µmol/L
    schema = PatientRecord.model_json_schema()["$defs"]
    for lab, offered in units.items():
        ref = next(a["$ref"] for a in schema["Labs"]["properties"][lab]["anyOf"] if "$ref" in a).rsplit(
            "/", 1
        )[-1]
        unit = schema[ref]["properties"]["unit"]
        accepted = unit.get("enum", [unit.get("const")])
        assert set(offered) <= set(accepted), lab
        fold = {u.replace("µ", "u").replace("μ", "u") for u in accepted}
        assert len(offered) == len(fold), f"{lab}: one entry per distinct unit"
    assert {"id": "liver", "en": "liver", "zh": "肝"} in vocab["sites"]
    assert any(a["id"] == "pomalidomide" and a["zh"] == "泊马度胺" for a in vocab["agents"])
    assert "treatment_outcome" in vocab["categories"]
    assert {s["alias"] for s in vocab["sources"]} >= {"emdtx"}


def test_web_versions_match_the_assessment(web_client: Any) -> None:
    record = web_client.get("/examples/emd-liver-rrmm-pr").json()
    assessed = web_client.post("/v1/assessments", json=record).json()
    assert web_client.get("/ui/vocabulary").json()["versions"] == assessed["versions"]
    assert web_client.get("/examples").json()["versions"] == assessed["versions"]


def test_web_page_served_without_key_when_auth_is_on() -> None:
    """The page holds no patient data; with authentication on, /v1 still needs the key the user types in."""
    import hashlib

    from fastapi.testclient import TestClient

    from mmemd.service import ServiceConfig, create_app

    key = "web-test-key"
    config = ServiceConfig(api_key_hashes=[hashlib.sha256(key.encode()).hexdigest()])
    with TestClient(create_app(config)) as client:
        assert client.get("/").status_code == 200
        assert client.get("/examples").status_code == 200
        record = client.get("/examples/emd-liver-rrmm-pr").json()
        assert client.post("/v1/assessments", json=record).status_code == 401
        ok = client.post("/v1/assessments", json=record, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200


def test_web_emd_labels_match_the_report(web_client: Any) -> None:
    """The page's summary and the report in its frame name the EMD classification with the same words."""
    try:
        from mmemd.report._i18n import VALUES
    except ImportError:
        pytest.skip("mmemd.report has no label table (VALUES) to compare with")
    table = _i18n(web_client)
    for lang in ("en", "zh"):
        for key, text in table[lang].items():
            if key.startswith(("emd.", "timing.")):
                value = key.split(".", 1)[1]
                assert VALUES[lang].get(value, text) == text, (lang, key)
