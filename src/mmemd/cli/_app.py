from __future__ import annotations

import typer

from mmemd._version import __version__


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mmemd {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="mmemd",
        help="Evidence, criteria and decision support for multiple myeloma with extramedullary disease.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
        ),
    ) -> None:
        """mmemd: decision support, never prescription."""

    import importlib

    # One module per command family; each owns its commands and imports its heavy dependencies lazily, so
    # `mmemd --help` stays fast.
    for name in _COMMAND_MODULES:
        importlib.import_module(f"mmemd.cli.{name}").register(app)
    return app


_COMMAND_MODULES = (
    "_evidence",
    "_clinical",
    "_advice",
    "_report",
    "_serve",
    "_fhir",
    "_meta",
    "_survival",
    "_cohort",
    "_registry",
)
