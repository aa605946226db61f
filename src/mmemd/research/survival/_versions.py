"""Versions stamped on every survival result (package, knowledge base, query engine, lifelines for Cox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmemd.research.survival._models import SurvivalVersions

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped,unused-ignore]  # ibis ships no py.typed marker


def versions(table: ir.Table, with_lifelines: bool = False) -> SurvivalVersions:
    import ibis

    from mmemd._version import __version__
    from mmemd.knowledge import kb_version
    from mmemd.research.survival._backend import backend_version

    lifelines_version = None
    if with_lifelines:
        from importlib.metadata import version  # the distribution's metadata: importing lifelines costs ~1 s

        lifelines_version = version("lifelines")
    return SurvivalVersions(
        mmemd=__version__,
        knowledge_base=kb_version(),
        ibis=str(ibis.__version__),
        backend=backend_version(table),
        lifelines=lifelines_version,
    )
