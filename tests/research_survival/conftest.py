"""Shared fixtures: R survival reference values computed in the test run itself (skipped without Rscript)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from _system import has_executable, require_system

HERE = Path(__file__).resolve().parent

# aml (acute myelogenous leukemia, Miller 1981), as shipped with R survival: weeks to relapse, 1 = relapse.
AML = {
    "time": [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45],
    "status": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
    "x": ["Maintained"] * 11 + ["Nonmaintained"] * 12,
}


@pytest.fixture(scope="session")
def aml_frame() -> Any:
    import pandas as pd

    return pd.DataFrame(AML)


@pytest.fixture(scope="session")
def r_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(directory with the R data sets as CSV, reference values). One Rscript run for the whole test session."""
    require_system("r-cran-survival", has_executable("Rscript"), "reference values from R survival")
    rscript = shutil.which("Rscript")
    assert rscript is not None
    out = tmp_path_factory.mktemp("r-survival")
    proc = subprocess.run(
        [rscript, "--vanilla", str(HERE / "survival_reference.R"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        if "there is no package called" in proc.stderr:
            require_system(
                "r-cran-survival", False, f"reference values from R ({proc.stderr.strip()[-200:]})"
            )
        raise RuntimeError(f"survival_reference.R failed:\n{proc.stderr}")
    return out, json.loads((out / "reference.json").read_text(encoding="utf-8"))
