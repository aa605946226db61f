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
