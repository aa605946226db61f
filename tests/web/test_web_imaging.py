"""Real-browser check of the "paste an imaging report" panel: Debian's chromium, headless, driven by Playwright.

Paste a report → proposed lesions with the source words marked → confirm one, edit it, drop another → add to the
record in the JSON box, which must then be a valid mmemd.patient/1 record. Skipped, with the reason, when chromium
or the playwright package is missing (the browser is never downloaded).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from mmemd.clinical.record import PatientRecord
from mmemd.service._web import example_record

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
EXAMPLE = "emd-liver-rrmm-pr"
REPORT = (
    "检查项目：PET-CT全身显像\n检查日期：2025-03-01\n检查所见：左肾上腺新见结节，大小约1.6cm×1.3cm，SUVmax约6.2。"
    "右侧胸壁软组织肿块较前缩小，现约2.0cm×1.2cm。肝S8段小囊肿。\n"
    "诊断意见：1. 左肾上腺新发结节，考虑浆细胞瘤。2. 右侧胸壁病灶较前缩小。\n"
)


@pytest.fixture(scope="module")
def page(live_server: str):  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is not installed (pip install -e '.[dev]')")
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if executable is None:
        pytest.skip(
            f"{CHROMIUM} is missing (Debian: apt-get install chromium); the browser is never downloaded"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        problems: list[str] = []
        origin = urlparse(live_server).netloc
        pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        pg.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
        pg.on(
            "request",
            lambda r: (
                problems.append(f"foreign request {r.url}") if urlparse(r.url).netloc != origin else None
            ),
        )
        pg.goto(live_server + "/?lang=en")
        pg.wait_for_selector("body[data-ready='true']")
        yield pg, problems
        context.close()
        browser.close()


def test_paste_confirm_edit_drop_and_add_to_the_record(page: Any) -> None:
    pg, problems = page
    pg.fill("#record-json", json.dumps(example_record(EXAMPLE)))
    pg.fill("#imaging-text", REPORT)
    pg.click("#imaging-extract")
    cards = pg.locator("fieldset.imaging-lesion")
    cards.first.wait_for()
    assert cards.count() == 2
    assert "2 lesion(s) proposed" in pg.locator("#imaging-status").inner_text()

    # The source words are marked in the report text; the cyst is not proposed.
    marked = pg.locator("#imaging-marked mark").all_inner_texts()
    assert "肾上腺" in marked and "1.6cm×1.3cm" in marked and "SUVmax约6.2" in marked
    assert not any("囊肿" in m for m in marked)
    assert pg.locator("#imaging-marked").inner_text().strip() == REPORT.strip()  # the whole report, marked

    # Proposal 1 (left adrenal, new): edit the long diameter, confirm. Proposal 2 (chest wall): drop.
    assert pg.locator("#im-les-0-site").input_value() == "adrenal"
    assert pg.locator("#im-les-0-side").input_value() == "left"
    assert pg.locator("#im-les-0-long").input_value() == "1.6"
    pg.fill("#im-les-0-long", "1.7")
    pg.click("#im-les-0-confirm")
    assert pg.locator("#im-les-0-confirm").get_attribute("aria-pressed") == "true"
    pg.click("#im-les-1-drop")
    assert cards.count() == 1
    assert pg.locator("#imaging-date").input_value() == "2025-03-01"
    pg.click("#imaging-add")
    assert "1 lesion(s) added" in pg.locator("#imaging-status").inner_text()

    record = json.loads(pg.locator("#record-json").input_value())
    PatientRecord.model_validate(record)  # the record stays valid mmemd.patient/1
    added = [les for les in record["lesions"] if les["id"].startswith("img-")]
    assert added == [
        {
            "id": "img-2025-03-01-1",
            "site": "adrenal",
            "relation_to_bone": "none",
            "modality": "PET-CT",
            "detected_on": "2025-03-01",
        }
    ]
    visit = next(a for a in record["assessments"] if a["date"] == "2025-03-01")
    assert visit["plasmacytomas"] == [
        {"lesion": "img-2025-03-01-1", "longest_cm": 1.7, "perpendicular_cm": 1.3}
    ]
    assert visit["new_lesion"] is True
    assert problems == []


def test_nothing_is_added_without_confirmation_and_labels_follow_the_language(page: Any) -> None:
    pg, problems = page
    before = pg.locator("#record-json").input_value()
    pg.fill("#imaging-text", REPORT)
    pg.click("#imaging-extract")
    pg.locator("fieldset.imaging-lesion").first.wait_for()
    pg.click("#imaging-add")
    assert "Confirm at least one lesion" in pg.locator("#imaging-errors").inner_text()
    assert pg.locator("#record-json").input_value() == before
    pg.click("#lang-zh")
    assert pg.locator("#h-imaging").inner_text() == "粘贴影像报告"
    assert pg.locator("fieldset.imaging-lesion legend").first.inner_text().startswith("建议病灶 1")
    assert "左" in pg.locator("#im-les-0-side option:checked").inner_text()
    assert problems == []
