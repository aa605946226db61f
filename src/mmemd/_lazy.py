"""A package's exports imported from their modules on first use (PEP 562 module ``__getattr__``).

Start-up time of a command is mostly imports, so a package whose callers need only part of it (record validation
needs the vocabulary, not the evidence store) names where each export lives instead of importing every module.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` for ``package``: ``where`` maps each export to the submodule (``"_kb"``) defining it."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        mod = where.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{mod}"), name)
        namespace[name] = value  # later reads are plain attribute lookups
        return value

    return __getattr__
