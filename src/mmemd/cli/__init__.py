"""The ``mmemd`` command line. Each command group lives in its own private module and registers itself here."""

from __future__ import annotations

import os
import sys


def main() -> None:
    # `mmemd --version` is answered before typer, rich and pydantic are imported: the cold start budget is 150 ms.
    if sys.argv[1:] == ["--version"]:
        from mmemd._version import __version__

        print(f"mmemd {__version__}")
        return
    # The first argument that is not an option names the command (the root takes no option with a value).
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    try:
        # A one-record `mmemd assess FILE` with plain options runs without typer (the start-up budget is 200 ms,
        # and building typer's command is a tenth of it); any other command line goes to typer.
        if sys.argv[1:2] == ["assess"]:
            from mmemd.cli._assess_file import run_plain

            if run_plain(sys.argv[2:]):
                return
        from mmemd.cli._app import build_app

        build_app(command)()
    except BrokenPipeError:
        _closed_pipe()
    except SystemExit as exc:
        # typer/click (PacifyFlushWrapper around stdout) and rich (stdout redirected to /dev/null) answer a closed
        # pipe with a quiet exit 1; these traces are the only way to tell it from an ordinary exit 1.
        if exc.code == 1 and (type(sys.stdout).__name__ == "PacifyFlushWrapper" or _stdout_is_devnull()):
            _closed_pipe()
        raise


def _stdout_is_devnull() -> bool:
    try:
        out, null = os.fstat(1), os.stat(os.devnull)
    except OSError:
        return False
    return (out.st_dev, out.st_ino, out.st_rdev) == (null.st_dev, null.st_ino, null.st_rdev)


def _closed_pipe() -> None:
    """The reader went away (``mmemd assess --batch … | head``): stop quietly with the status a shell gives a process
    ended by SIGPIPE (128 + 13), and keep Python from reporting the failed flush at exit."""
    try:
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    except OSError:
        pass
    os._exit(141)
