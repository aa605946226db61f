"""The command → module map that lets one command build only its own part of the app."""

from __future__ import annotations

import importlib

import pytest
import typer
from typer.testing import CliRunner

from mmemd.cli import _app


def _registered(module: str) -> set[str]:
    app = typer.Typer()
    importlib.import_module(f"mmemd.cli.{module}").register(app)
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert None not in names
    return {str(n) for n in names}


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    by_module: dict[str, set[str]] = {}
    for command, module in _app._COMMAND_OWNERS.items():
        by_module.setdefault(module, set()).add(command)
    assert set(by_module) == set(_app._COMMAND_MODULES)
    for module in _app._COMMAND_MODULES:
        assert _registered(module) == by_module[module], module


@pytest.mark.parametrize("command", sorted(_app._COMMAND_OWNERS))
def test_a_command_alone_has_the_same_help_as_in_the_full_app(command: str) -> None:
    alone = CliRunner().invoke(_app.build_app(command), [command, "--help"])
    full = CliRunner().invoke(_app.build_app(), [command, "--help"])
    assert alone.exit_code == full.exit_code == 0
    assert alone.stdout == full.stdout


def test_unknown_command_gets_the_full_app_and_a_suggestion() -> None:
    r = CliRunner().invoke(_app.build_app("asses"), ["asses"])
    assert r.exit_code == 2
    assert "assess" in r.output
