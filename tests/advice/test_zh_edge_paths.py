"""Chinese text on paths the shipped examples do not take: a class caution for a BCMA-directed drug (a tracked class
that is no pharmacological class of the vocabulary), and an option that is the regimen the patient is on now with
no evaluable response. Each is rendered by `mmemd explain --lang zh` and the Chinese report and searched for English
prose (tests/_zh_prose.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _zh_prose import english_prose, record_identifiers
from mmemd.cli._app import build_app
from mmemd.report import render_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _teclistamab_refractory() -> dict[str, Any]:
    # progression on teclistamab in the latest line: refractory to the BCMA-directed class, so the
    # selinexor + BCMA CAR-T option carries a same-class caution
    rec = json.loads((EXAMPLES / "relapse-after-bcma-car-t.json").read_text(encoding="utf-8"))
    rec["therapy_history"][-1]["agents"] = ["teclistamab"]
    return rec


def _pcl_on_bortezomib() -> dict[str, Any]:
    # primary PCL already on bortezomib-dexamethasone, no response assessment yet: the PCL induction option is
    # the current regimen, and the current response is not evaluable
    rec = json.loads((EXAMPLES / "pcl-primary-pleural.json").read_text(encoding="utf-8"))
    rec["therapy_history"] = [{"line": 1, "agents": ["bortezomib", "dexamethasone"], "start": "2025-01-01"}]
    rec["assessments"] = []
    return rec


CASES = {
    "teclistamab-refractory": (_teclistamab_refractory, "靶向BCMA治疗难治"),
    "pcl-on-bortezomib": (_pcl_on_bortezomib, "当前第1线方案包含硼替佐米"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_explain_and_report_in_chinese_on_other_paths(kb: Any, case: str, tmp_path: Path) -> None:
    build, expected = CASES[case]
    record = build()
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    res = CliRunner().invoke(build_app(), ["explain", str(path), "--lang", "zh"], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    report = render_report(record, lang="zh", fmt="text", kb=kb)
    assert isinstance(report, str)
    # the path under test is taken: its Chinese reason is in the explanation or the report (cautions)
    assert expected in res.stdout.replace("\n", "").replace("│", "").replace(" ", "") + report
    ids = record_identifiers(record)
    assert english_prose(res.stdout, kb, ids) == []
    assert english_prose(report, kb, ids) == []
