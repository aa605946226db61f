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

    # The first argument that is not an option names the command (the root takes no option with a value).
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    build_app(command)()
