"""Errors of the meta-analysis package: bad input names the field; a solver that fails says so instead of guessing."""

from __future__ import annotations


class MetaInputError(ValueError):
    """Input that cannot be analysed; ``field`` names the column or option at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ConvergenceError(RuntimeError):
    """An iterative τ² estimator did not converge (metafor stops with an error too; we never return a partial value)."""
