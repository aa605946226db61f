"""Errors of the cohort tools: every problem names its table, column and an offending row (by its key)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CohortError", "CohortProblem"]


@dataclass(frozen=True, slots=True)
class CohortProblem:
    table: str
    column: str | None
    message: str
    rows: int = 0
    """How many rows have the problem (0 when it is about the table as a whole)."""
    example: str | None = None
    """The key of one offending row, e.g. ``patient_id=P000012, line=2, date=2021-03-04``."""

    def __str__(self) -> str:
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        count = f" ({self.rows} row(s); e.g. {self.example})" if self.rows and self.example else ""
        if self.rows and not self.example:
            count = f" ({self.rows} row(s))"
        return f"{where}: {self.message}{count}"

    def to_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "column": self.column,
            "message": self.message,
            "rows": self.rows,
            "example": self.example,
        }


class CohortError(ValueError):
    """The cohort cannot be analysed: every problem found, not just the first."""

    def __init__(self, problems: list[CohortProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    def report_text(self) -> str:
        return f"{len(self.problems)} problem(s) in the cohort:\n" + "\n".join(
            f"  {p}" for p in self.problems
        )
