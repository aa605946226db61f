"""Real-browser check of the web page: Debian's chromium, headless, driven by Playwright.

The browser is never downloaded (no ``playwright install``): the test uses ``/usr/bin/chromium`` and is skipped, with
the reason, when that or the Python package is missing. Screenshots go to ``tests/web/artifacts/`` (kept as CI
artifacts, ignored by git).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from _system import require_system
from _zh_prose import english_prose, record_identifiers
from mmemd.knowledge import load
from mmemd.service._web import example_record

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
EXAMPLE = "emd-liver-rrmm-pr"


def _sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is not installed (pip install -e '.[dev]')")
    # The browser is never downloaded: Debian's chromium or nothing.
    require_system(
        "chromium", lambda: CHROMIUM.exists() or shutil.which("chromium") is not None, "the real-browser test"
    )
    return sync_playwright


@pytest.fixture(scope="module")
def browser_page(live_server: str):  # type: ignore[no-untyped-def]
    sync_playwright = _sync_playwright()
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(30_000)
        problems: list[str] = []
        foreign: list[str] = []
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

        def _console(msg: Any) -> None:
            # failed HTTP responses are checked per test (an expected 422 is part of the form test)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
                problems.append(f"console {msg.type}: {msg.text}")

        def _response(resp: Any) -> None:
            if resp.status >= 400:
                problems.append(f"HTTP {resp.status} {urlparse(resp.url).path}")

        page.on("console", _console)
        page.on("response", _response)
        origin = urlparse(live_server).netloc

        def _request(req: Any) -> None:
            u = urlparse(req.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.netloc != origin:
                foreign.append(req.url)

        page.on("request", _request)
        page.goto(live_server + "/")
        page.wait_for_selector("body[data-ready='true']")
        yield page, problems, foreign
        context.close()
        browser.close()


def _expected() -> Any:
    from mmemd.advice import assess_with_advice

    doc, _ = assess_with_advice(example_record(EXAMPLE))
    return doc


def test_web_chinese_example_report_by_keyboard(browser_page: Any) -> None:
    page, problems, foreign = browser_page
    assert page.evaluate("document.documentElement.lang") == "en"

    # Keyboard: Tab from the top of the page reaches the skip link, then the language buttons; Enter switches.
    page.locator("body").focus()
    focused = []
    for _ in range(3):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert focused == ["skip", "lang-en", "lang-zh"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("#lang-zh").get_attribute("aria-pressed") == "true"
    assert page.locator("h1").inner_text() == "mmemd — 多发性骨髓瘤髓外病变（MM-EMD）决策支持"
    assert page.locator("label[for='example-select']").inner_text() == "示例患者"

    # Choose the example, then Tab to the load button and press Enter (keyboard only).
    page.select_option("#example-select", EXAMPLE)
    page.focus("#example-select")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "example-load"
    page.keyboard.press("Enter")

    category = page.locator(".emd-category")
    category.wait_for()
    expected = _expected()
    assert expected.emd.category == "extramedullary"
    assert category.inner_text() == "髓外（EM-E，不与骨相连）"
    assert category.get_attribute("data-category") == "extramedullary"
    assert "继发（复发时）" in page.locator(".panel.emd").inner_text()
    assert (
        "肝" in page.locator(".panel.emd").inner_text()
    )  # site label from the knowledge-base vocabulary (zh)

    # The options, best first, in Chinese, as the engine orders them.
    titles = page.locator(".option h5").all_inner_texts()
    assert titles, "no treatment option shown"
    assert titles == [o.title_zh for o in expected.options]
    first = page.locator(".option").first
    assert f"证据等级 {expected.options[0].grade}" in first.inner_text()
    # evidence cited by number, each number's publication listed under the summary, never a claim id
    for claim in expected.options[0].claims:
        assert claim not in first.inner_text()
    assert "[1" in first.inner_text()
    sources = page.locator("ol.sources li").all_inner_texts()
    assert sources and all(s.startswith("综述") for s in sources)
    assert "emdtx-" not in page.locator("#summary").inner_text()
    assert page.locator("#h-options").inner_text().startswith("证据所讨论的治疗选择")
    # No English engine text: the high-risk features and decision lines are the report's Chinese ones
    page.wait_for_selector(".reasons ul[lang='zh-CN']", state="attached")
    assert page.locator(".reasons ul[lang='en']").count() == 0
    summary = page.locator("#summary").text_content() or ""
    assert "del(17p)（克隆细胞占35%）" in summary
    words = english_prose(summary, load(), record_identifiers(example_record(EXAMPLE)))
    assert words == [], f"English words on the Chinese page: {sorted(set(words))}"

    # The full report: in the sandboxed iframe when the server renders reports, a clear note otherwise.
    try:
        from mmemd.report import render_report  # noqa: F401

        has_report = True
    except ImportError:
        has_report = False
    if has_report:
        page.wait_for_selector("#report-block:not([hidden])")
        frame = page.frame_locator("#report-frame")
        assert (frame.locator("html").get_attribute("lang") or "").startswith("zh")
        assert page.locator("#report-frame").get_attribute("sandbox") == ""
    else:
        # expect() waits without evaluating a string in the page (its CSP forbids eval, which wait_for_function needs)
        from playwright.sync_api import expect

        expect(page.locator("#status")).to_contain_text("501")
        assert "此服务器暂无法提供完整报告" in page.locator("#status").inner_text()
        problems.remove("HTTP 501 /v1/reports")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-zh-example.png"), full_page=True)
    page.evaluate("document.getElementById('h-result').scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "web-zh-summary.png"))  # one screen: what a clinician sees first
    assert not foreign, f"requests to other origins: {foreign}"
    assert not problems, problems


def test_web_chinese_summary_of_every_example_has_no_english_prose(browser_page: Any) -> None:
    """Every example on the page in Chinese (the language chosen above): what it shows, the closed decision lines
    included, has no English prose (tests/_zh_prose.py says what Latin text is allowed and why)."""
    # expect() waits without evaluating a string in the page (its CSP forbids eval, which wait_for_function needs)
    from playwright.sync_api import expect

    from mmemd.service._web import example_names

    page, problems, _ = browser_page
    if page.evaluate("document.documentElement.lang") != "zh-CN":
        page.click("#lang-zh")
    kb = load()
    found = {}
    for name in example_names():
        record = example_record(name)
        page.select_option("#example-select", name)
        page.click("#example-load")
        expect(page.locator("#h-summary")).to_contain_text(record["id"])
        page.wait_for_selector(".reasons ul[lang='zh-CN']", state="attached")
        summary = page.locator("#summary").text_content() or ""
        words = english_prose(summary, kb, record_identifiers(record))
        if words:
            found[name] = sorted(set(words))
    assert found == {}
    assert not problems, problems


def test_web_evidence_search_by_keyboard(browser_page: Any) -> None:
    page, problems, _ = browser_page
    page.focus("#ev-q")
    page.keyboard.type("泊马度胺")
    page.keyboard.press("Enter")  # submits the search form
    page.wait_for_selector("#evidence-results li.claim")
    first = page.locator("#evidence-results li.claim").first
    quote = first.locator("blockquote").inner_text()
    assert quote.strip(), "the verbatim quote is shown"
    assert "来源" in first.locator("figcaption").inner_text()
    assert "多发性骨髓瘤" in first.locator("cite").inner_text()  # source title in Chinese
    assert page.locator("#evidence-status").inner_text().startswith("共 ")
    assert not problems, problems


def test_web_form_errors_shown_next_to_inputs(browser_page: Any) -> None:
    page, problems, _ = browser_page
    page.locator("#form-details > summary").press("Enter")  # <details> opens from the keyboard
    page.fill("#f-id", "web-form-1")
    page.fill("#f-lab-albumin", "35")  # a value without a unit: refused in the page, never guessed
    page.locator("#record-form button[type='submit']").press("Enter")
    note = page.locator("#f-lab-albumin-unit ~ .field-error, .lab .field-error").first
    note.wait_for()
    assert "请为此数值选择单位" in note.inner_text()
    assert page.locator("#f-lab-albumin-unit").get_attribute("aria-invalid") == "true"

    # Fix the unit; an age the server rejects comes back as problem+json and is shown beside the age field.
    page.select_option("#f-lab-albumin-unit", "g/L")
    page.fill("#f-age", "200")
    page.locator("#record-form button[type='submit']").press("Enter")
    page.wait_for_selector("#f-age[aria-invalid='true']")
    age_note = page.locator("#f-age ~ .field-error, #f-age + .field-error").first
    assert "超出范围" in age_note.inner_text()
    problems.remove("HTTP 422 /v1/assessments")
    built = json.loads(page.locator("#record-json").input_value())
    assert built["labs"]["albumin"] == {"value": 35, "unit": "g/L"}
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-zh-form-errors.png"), full_page=True)
    assert not problems, problems


#: a self-contained report like the real one: inline CSS, a data-URI image, inline SVG, and a script that must not run
STAND_IN_REPORT = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>r</title>
<style>h1 {{ color: rgb(200, 0, 0); }}</style></head><body><h1 id="cls">髓外病变</h1>
<img id="px" alt="chart" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==">
<svg id="svg" width="20" height="20"><rect width="20" height="20" fill="blue"/></svg>
<script>document.title = "script ran";</script></body></html>"""


def test_web_report_frame_renders_self_contained_html_without_scripts(
    browser_page: Any, monkeypatch: Any
) -> None:
    """The report frame shows inline CSS and images under the page's CSP, and runs no script (sandbox)."""
    from playwright.sync_api import expect

    import mmemd.report

    calls: list[str] = []

    def render_report(record: Any, *, lang: str = "en", fmt: str = "html", kb: Any = None) -> str:
        calls.append(lang)
        return STAND_IN_REPORT.format(lang=lang)

    monkeypatch.setattr(mmemd.report, "render_report", render_report, raising=False)
    page, problems, _ = browser_page
    page.click("#lang-en")
    page.select_option("#example-select", "pcl-primary-pleural")
    page.click("#example-load")
    page.wait_for_selector("#report-block:not([hidden])")
    # chromium does not lay out an off-screen cross-origin (sandboxed) frame: bring it into view first
    page.locator("#report-frame").scroll_into_view_if_needed()
    frame = page.frame_locator("#report-frame")
    assert frame.locator("html").get_attribute("lang") == "en"
    assert frame.locator("#cls").evaluate("e => getComputedStyle(e).color") == "rgb(200, 0, 0)"
    assert frame.locator("#px").evaluate("e => e.complete && e.naturalWidth") == 1
    expect(frame.locator("#svg")).to_be_visible()  # waits: the frame's size reaches it asynchronously
    assert frame.locator("html").evaluate("() => document.title") == "r"  # the inline script did not run
    assert calls == ["en"]
    # switching language re-renders the report in that language
    page.click("#lang-zh")
    expect(page.locator("#status")).to_contain_text("完整报告已生成")
    expect(page.frame_locator("#report-frame").locator("html")).to_have_attribute(
        "lang", "zh"
    )  # srcdoc reloads
    assert calls == ["en", "zh"]
    # ... and the summary: the engine's English reasons give way to the Chinese lines, fetched for this record
    page.wait_for_selector(".reasons ul[lang='zh-CN']", state="attached")
    assert page.locator(".reasons ul[lang='en']").count() == 0
    record = example_record("pcl-primary-pleural")
    summary = page.locator("#summary").text_content() or ""
    assert english_prose(summary, load(), record_identifiers(record)) == []
    page.click("#lang-en")
    assert page.locator(".reasons ul[lang='en']").count() > 0
    assert page.locator(".reasons ul[lang='zh-CN']").count() == 0
    assert not [p for p in problems if "Content Security Policy" in p or "page error" in p], problems
