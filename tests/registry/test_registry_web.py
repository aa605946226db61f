"""The registry web page in a real browser (Debian's chromium, headless, driven by Playwright; never downloaded):
list, patient timeline and chart, add-visit form by keyboard with errors next to the inputs, zh/en, the report."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _registry_support import example

from mmemd.registry import Registry

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    import uvicorn

    from mmemd.service import ServiceConfig, create_app

    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    reg = Registry(url)
    pid = reg.create(example("emd-liver-rrmm-pr"), author="dr.a").id
    reg.close()
    port = _free_port()
    app = create_app(ServiceConfig(host="127.0.0.1", port=port, local_mode=True, database_url=url))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", url, pid
    finally:
        srv.should_exit = True
        th.join(timeout=10)
        reg = getattr(app.state, "registry", None)
        if reg is not None:
            reg.close()


@pytest.fixture
def page(server: tuple[str, str, str]) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is not installed (pip install -e '.[dev]')")
    exe = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if exe is None:
        pytest.skip(
            f"{CHROMIUM} is missing (Debian: apt-get install chromium); the browser is never downloaded"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=ARGS, headless=True)
        pg = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US").new_page()
        pg.set_default_timeout(30_000)
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        yield pg
        browser.close()
        assert errors == []


def test_follow_a_patient_by_keyboard(page: Any, server: tuple[str, str, str]) -> None:
    from playwright.sync_api import expect

    base, url, pid = server
    page.goto(f"{base}/registry")
    link = page.get_by_role("link", name=pid)
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#visits tbody tr")
    assert page.locator("#visits tbody tr").count() == 3
    assert page.locator("#chart svg polyline").count() == 2  # M-protein and SPD
    assert "Current response: PR" in page.locator("#assessment").inner_text()

    # an impossible marrow value: refused, the error is shown next to its input, nothing is stored
    page.locator("input[name=date]").fill("2025-10-01")
    page.locator("input[name=marrow]").fill("150")
    page.locator("input[name=marrow]").press("Enter")
    page.wait_for_selector("#visit-errors li")
    assert "$.visit.bone_marrow_plasma_cells_pct" in page.locator("#visit-errors").inner_text()
    assert page.locator("input[name=marrow]").get_attribute("aria-invalid") == "true"
    reg = Registry(url)
    assert reg.get(pid).version == 1
    reg.close()

    # a valid visit, typed with the unit selectors and the lesion's diameters
    page.locator("input[name=marrow]").fill("")
    page.locator("input[name=spep]").fill("5")
    page.locator("select[name=spep_unit]").select_option("g/L")
    page.locator("input[name=m_long_0]").fill("1.5")
    page.locator("input[name=m_perp_0]").fill("1")
    page.locator("select[name=new_lesion]").select_option("false")
    page.locator("input[name=m_perp_0]").press("Enter")
    expect(page.locator("#visits tbody tr")).to_have_count(4)
    reg = Registry(url)
    stored = reg.get(pid)
    reg.close()
    assert stored.version == 2
    last = stored.record["assessments"][-1]
    assert last["serum_m_protein"] == {"value": 5, "unit": "g/L"}
    assert last["plasmacytomas"] == [{"lesion": "L1", "longest_cm": 1.5, "perpendicular_cm": 1}]
    assert page.locator("#visits tbody tr").last.locator("td").nth(4).inner_text() == "1.50"

    # Chinese: labels and the report
    page.locator("#lang").select_option("zh")
    assert page.locator("h1").inner_text() == "mmemd — 患者登记"
    page.locator("#report-zh").click()
    expect(page.locator("#report")).to_have_attribute("srcdoc", re.compile("疗效"))


REPORT = (
    "检查日期：2025-11-03\n检查所见：肝脏病灶较前缩小，大小约1.2cm×1.0cm。左肾上腺见结节，大小约1.6cm×1.3cm，"
    "前片未见。右侧胸壁软组织结节，大小约0.8cm×0.6cm。\n诊断意见：左肾上腺新发结节，考虑浆细胞瘤。"
)


def test_visit_from_a_pasted_imaging_report_and_a_lesion_typed_by_hand(
    page: Any, server: tuple[str, str, str]
) -> None:
    from playwright.sync_api import expect

    base, url, pid = server
    page.goto(f"{base}/registry#/p/{pid}")
    page.wait_for_selector("#visits tbody tr")
    page.locator("#imaging-text").fill(REPORT)
    page.locator("#imaging-read").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".imaging-proposal")).to_have_count(3)
    assert "3 lesion(s) proposed" in page.locator("#imaging-status").inner_text()
    # each proposal shows the words it was read from
    assert "1.6cm×1.3cm" in page.locator("#im-1 .imaging-quote").inner_text()
    # the liver lesion goes to the followed lesion L1; the new adrenal one is proposed as a new lesion
    assert page.locator("#im-0-target").input_value() == "L1"
    assert page.locator("#im-1-target").input_value() == ""

    # confirm the liver measurement, edited by keyboard (1.2 -> 1.1)
    page.locator("#im-0-long").fill("1.1")
    page.locator("#im-0-confirm").focus()
    page.keyboard.press("Enter")
    assert page.locator("input[name=date]").input_value() == "2025-11-03"  # the study date
    assert page.locator("input[name=m_long_0]").input_value() == "1.1"
    assert page.locator("input[name=m_perp_0]").input_value() == "1"
    # drop the chest-wall nodule, confirm the adrenal lesion: it becomes a new-lesion row of the visit
    page.locator("#im-2-drop").click()
    page.locator("#im-1-confirm").press("Enter")
    expect(page.locator(".imaging-proposal")).to_have_count(0)
    assert page.locator("select[name=new_lesion]").input_value() == "true"
    row = page.locator("#new-lesion-rows .new-lesion")
    expect(row).to_have_count(1)
    assert row.locator("input[name$=_id]").input_value() == "L2"
    assert row.locator("select[name$=_site]").input_value() == "adrenal"

    # and one more lesion typed by hand, in Chinese
    page.locator("#lang").select_option("zh")
    page.locator("#add-lesion").focus()
    page.keyboard.press("Enter")
    expect(row).to_have_count(2)
    assert page.locator("#add-lesion").inner_text() == "新增病灶"
    hand = row.nth(1)
    assert hand.locator("input[name$=_id]").input_value() == "L3"
    hand.locator("select[name$=_site]").select_option("chest_wall")
    hand.locator("select[name$=_rel]").select_option("arising_from_bone")
    hand.locator("input[name$=_long]").fill("2")
    hand.locator("input[name$=_perp]").fill("1.5")
    # the language switch kept what was confirmed
    assert page.locator("input[name=m_long_0]").input_value() == "1.1"
    hand.locator("input[name$=_perp]").press("Enter")
    expect(page.locator("#visits tbody tr")).to_have_count(4)

    reg = Registry(url)
    stored = reg.get(pid)
    reg.close()
    assert stored.version == 2
    visit = stored.record["assessments"][-1]
    assert visit["date"] == "2025-11-03"
    assert visit["new_lesion"] is True
    assert visit["plasmacytomas"] == [
        {"lesion": "L1", "longest_cm": 1.1, "perpendicular_cm": 1},
        {"lesion": "L2", "longest_cm": 1.6, "perpendicular_cm": 1.3},
        {"lesion": "L3", "longest_cm": 2, "perpendicular_cm": 1.5},
    ]
    lesions = {les["id"]: les for les in stored.record["lesions"]}
    assert lesions["L2"]["site"] == "adrenal"
    assert lesions["L2"]["detected_on"] == "2025-11-03"
    assert lesions["L2"]["detected_at"] == "relapse"
    assert lesions["L3"]["relation_to_bone"] == "arising_from_bone"
    assert "chest_wall" not in {les.get("site") for les in lesions.values() if les["id"] != "L3"}
