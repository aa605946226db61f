from __future__ import annotations

import typer

from mmemd._version import __version__


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mmemd {__version__}")
        raise typer.Exit()


def build_app(command: str | None = None) -> typer.Typer:
    """The ``mmemd`` app; with ``command`` (the first argument), only the module that owns that command is imported
    and registered — typer turns every registered command into a click command on each run, which is most of the
    start-up cost after the imports. An unknown or missing command builds the whole app (help, error message)."""
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
    owner = _COMMAND_OWNERS.get(command) if command else None
    for name in (owner,) if owner else _COMMAND_MODULES:
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
    "_imaging",
    "_registry",
)

#: The module registering each top-level command (checked against the modules by the CLI tests).
_COMMAND_OWNERS = {
    "evidence": "_evidence",
    "assess": "_clinical",
    "validate": "_clinical",
    "schema": "_clinical",
    "explain": "_advice",
    "report": "_report",
    "serve": "_serve",
    "fhir": "_fhir",
    "meta": "_meta",
    "synthesize": "_meta",
    "survival": "_survival",
    "cohort": "_cohort",
    "imaging": "_imaging",
    "registry": "_registry",
}
