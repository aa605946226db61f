"""Tests that need a system (Debian) package: skip naming the package, or fail under the strict flag.

A clone with only Python installs and passes its tests: what needs a CJK font, poppler, chromium, R or Java skips with a
reason that names the package to install. CI installs them all and sets ``MMEMD_STRICT_SKIPS=1``, under which such a
skip is a failure (the image lost a package). Skips for optional *Python* extras (pyspark) are not affected.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest

#: Under ``MMEMD_STRICT_SKIPS=1`` (set by .ci/run, whose machine installs every system package) a test that would
#: skip for want of a system package fails instead: a skip there means the CI image lost a package.
STRICT_SKIPS = os.environ.get("MMEMD_STRICT_SKIPS") == "1"


def require_system(package: str, available: bool | Callable[[], bool], needed_for: str = "") -> None:
    """Skip the calling test unless the Debian package ``package`` is usable; fail instead under the strict flag.

    ``available`` is the check (a bool or a callable returning one), e.g. ``lambda: shutil.which("pdftoppm")``.
    The reason names the package, so a fresh machine's skip list says what to install.
    """
    ok = available() if callable(available) else available
    if ok:
        return
    why = f"system package {package} is not installed (apt-get install {package})"
    if needed_for:
        why += f": needed for {needed_for}"
    if STRICT_SKIPS:
        pytest.fail(f"{why} [MMEMD_STRICT_SKIPS=1 turns this skip into a failure]", pytrace=False)
    pytest.skip(why)


def has_executable(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


def cjk_font_installed() -> bool:
    """A CJK-capable font that matplotlib (and, through fontconfig, WeasyPrint) can use: fonts-noto-cjk."""
    from mmemd.report import _charts

    return _charts.cjk_font() is not None
