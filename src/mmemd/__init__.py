"""mmemd — evidence, criteria and decision support for multiple myeloma with extramedullary disease.

Public surface (heavy modules are imported lazily so that ``mmemd --version`` starts fast):

- ``mmemd.knowledge`` — the evidence knowledge base (``knowledge.load()``).
- ``mmemd.assess(record)`` — the clinical engine: EMD classification, staging, risk, IMWG response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mmemd._version import __version__

if TYPE_CHECKING:
    from mmemd import knowledge as knowledge
    from mmemd.clinical import assess as assess

__all__ = ["__version__", "assess", "knowledge"]


def __getattr__(name: str) -> Any:
    if name == "knowledge":
        import importlib

        return importlib.import_module("mmemd.knowledge")
    if name == "assess":
        from mmemd.clinical import assess

        return assess
    raise AttributeError(f"module 'mmemd' has no attribute {name!r}")
