"""The ``mmemd`` command line. Each command group lives in its own private module and registers itself here."""

from __future__ import annotations

import sys


def main() -> None:
    # `mmemd --version` is answered before typer, rich and pydantic are imported: the cold start budget is 150 ms.
    if sys.argv[1:] == ["--version"]:
        from mmemd._version import __version__

        print(f"mmemd {__version__}")
        return
    from mmemd.cli._app import build_app

    build_app()()
