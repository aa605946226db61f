"""The skip helper for system packages: a skip names the package; under MMEMD_STRICT_SKIPS=1 it is a failure."""

from __future__ import annotations

import pytest

import _system


def test_a_missing_system_package_skips_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_system, "STRICT_SKIPS", False)
    with pytest.raises(pytest.skip.Exception, match=r"poppler-utils .*apt-get install poppler-utils"):
        _system.require_system("poppler-utils", lambda: False, "pdftoppm")


def test_under_the_strict_flag_a_missing_system_package_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_system, "STRICT_SKIPS", True)
    with pytest.raises(pytest.fail.Exception, match=r"fonts-noto-cjk.*MMEMD_STRICT_SKIPS=1"):
        _system.require_system("fonts-noto-cjk", False)


def test_a_present_system_package_neither_skips_nor_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_system, "STRICT_SKIPS", True)
    _system.require_system("coreutils", _system.has_executable("ls"))
