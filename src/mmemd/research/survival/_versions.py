"""Versions stamped on every survival result (package, knowledge base, query engine, formulaic for Cox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmemd.research.survival._models import SurvivalVersions

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped,unused-ignore]  # ibis ships no py.typed marker

    from mmemd.research.survival._local import LocalTable


def versions(table: ir.Table | LocalTable, with_cox: bool = False) -> SurvivalVersions:
    """``ibis`` is the version that ran the queries or, on a local file, the one that compiled them to DuckDB SQL."""
    from mmemd._version import __version__
    from mmemd.knowledge import kb_version
    from mmemd.research.survival._backend import backend_version
    from mmemd.research.survival._local import LocalTable

    if isinstance(table, LocalTable):
        from mmemd.research.survival._compiled import IBIS_VERSION

        ibis_version = IBIS_VERSION
    else:
        import ibis

        ibis_version = str(ibis.__version__)

    formulaic_version = None
    if with_cox:
        from importlib.metadata import version

        formulaic_version = version("formulaic")
    return SurvivalVersions(
        mmemd=__version__,
        knowledge_base=kb_version(),
        ibis=ibis_version,
        backend=backend_version(table),
        formulaic=formulaic_version,
    )
