"""`mmemd assess`, `mmemd validate`, `mmemd schema` (clinical engine, issue 3)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Placeholder until the clinical engine lands; registers nothing."""
