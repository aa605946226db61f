"""Default factories for pydantic fields that start empty.

pydantic reads a ``default_factory``'s signature when it builds a model (a factory may take the validated data as
its argument). For the builtins ``list`` and ``dict`` that means parsing their text signatures with ``tokenize``,
about 0.1 ms a field — 4 ms of a one-record ``mmemd assess``, which builds some 30 such fields; a Python function's
signature is read from its code object in a tenth of that.
"""

from __future__ import annotations

from typing import Any


def new_list() -> list[Any]:
    return []


def new_dict() -> dict[str, Any]:
    return {}
