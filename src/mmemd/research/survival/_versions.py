"""Versions stamped on every survival result (package, knowledge base, query engine, formulaic for Cox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmemd.research.survival._models import SurvivalVersions

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped,unused-ignore]  # ibis ships no py.typed marker


def versions(table: ir.Table, with_cox: bool = False) -> SurvivalVersions:
    import ibis

    from mmemd._version import __version__
    from mmemd.knowledge import kb_version
    from mmemd.research.survival._backend import backend_version

    formulaic_version = None
    if with_cox:
        from importlib.metadata import version

        formulaic_version = version("formulaic")
    return SurvivalVersions(
        mmemd=__version__,
        knowledge_base=kb_version(),
        ibis=str(ibis.__version__),
        backend=backend_version(table),
        formulaic=formulaic_version,
    )
