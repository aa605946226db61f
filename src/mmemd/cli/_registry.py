"""`mmemd registry`: create, audit, export, back up and restore the patient registry; manage users and keys.

Every command takes ``--config FILE`` (the same TOML file as ``mmemd serve``; its ``database_url`` names the
database, the default is ``registry.sqlite3`` in the data directory). docs/registry.md has worked examples.
"""

from __future__ import annotations

import getpass
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mmemd.registry import Principal, Registry

EXIT_INVALID = 2

registry_app = typer.Typer(
    name="registry",
    help="The patient registry: init, audit, export, backup, restore, users and keys.",
    no_args_is_help=True,
)
user_app = typer.Typer(
    name="user", help="Local accounts (clinician, researcher, admin).", no_args_is_help=True
)
key_app = typer.Typer(name="key", help="API keys with a role, for programs.", no_args_is_help=True)
registry_app.add_typer(user_app)
registry_app.add_typer(key_app)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Service config (TOML) naming database_url; default: the data directory."),
]


class RoleName(StrEnum):
    clinician = "clinician"
    researcher = "researcher"
    admin = "admin"


class ExportFormat(StrEnum):
    cohort = "cohort"


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(EXIT_INVALID)


def _database_url(config_file: Path | None) -> str:
    from pydantic import ValidationError

    from mmemd.registry import default_database_url
    from mmemd.service._config import load_config

    try:
        cfg = load_config(config_file)
    except OSError as exc:
        raise _fail(f"cannot read config {config_file}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']) or '(config)'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        ]
        raise _fail("invalid configuration\n  " + "\n  ".join(lines)) from None
    except ValueError as exc:
        raise _fail(f"config {config_file}: {exc}") from None
    return cfg.database_url or default_database_url()


def _open(config_file: Path | None) -> Registry:
    from sqlalchemy.exc import SQLAlchemyError

    from mmemd.registry import Registry

    url = _database_url(config_file)
    try:
        return Registry(url)
    except (SQLAlchemyError, OSError) as exc:
        where = url.split("@")[-1]  # never print credentials
        raise _fail(f"cannot open the registry database {where}: {type(exc).__name__}") from None


def _operator() -> Principal:
    from mmemd.registry import Principal

    return Principal(f"cli:{getpass.getuser()}", "admin")


@registry_app.command("init")
def init_command(config_file: ConfigOpt = None) -> None:
    """Create the registry database (or upgrade it to the newest schema)."""
    from mmemd.registry import current_revision

    reg = _open(config_file)
    sys.stdout.write(f"registry ready: {reg.dialect}, schema revision {current_revision(reg.engine)}\n")
    reg.close()


@registry_app.command("audit")
def audit_command(
    config_file: ConfigOpt = None,
    patient: Annotated[str | None, typer.Option("--patient", help="Only this registry id.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this ISO date or time (UTC).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many entries.")] = 1000,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the audit log (who read or wrote which patient's data, when) — oldest first."""
    import datetime as dt

    from mmemd.registry import audit_entries

    start = None
    if since is not None:
        try:
            start = dt.datetime.fromisoformat(since)
        except ValueError:
            raise _fail(f"--since: not an ISO date or time: {since!r}") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
    reg = _open(config_file)
    rows = audit_entries(reg, patient_id=patient, user=user, since=start, limit=limit)
    reg.close()
    if json_out:
        for r in rows:
            sys.stdout.write(json.dumps(r) + "\n")
        return
    for r in rows:
        sys.stdout.write(
            f"{r['at']}  {r['user']} ({r['role']})  {r['action']:<10} {r['patient_id'] or '-':<14} "
            f"{r['outcome']:<9} {r['request_id'] or ''}\n"
        )


@registry_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Directory for the tables.", show_default=False)],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Export format.")] = ExportFormat.cohort,
    config_file: ConfigOpt = None,
    date_shift_key_file: Annotated[
        Path | None,
        typer.Option(
            "--date-shift-key-file", help="Shift each patient's dates by an offset derived from this key."
        ),
    ] = None,
    max_shift_days: Annotated[int, typer.Option("--max-shift-days", min=1, max=3650)] = 182,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=8, help="Processes (default: the CPUs, at most 8).")
    ] = None,
) -> None:
    """Write the pseudonymised mmemd.cohort/1 tables (Parquet) for `mmemd cohort analyze`."""
    from mmemd.registry import audit, export_cohort

    key = None
    if date_shift_key_file is not None:
        try:
            key = date_shift_key_file.read_bytes().strip()
        except OSError as exc:
            raise _fail(f"--date-shift-key-file: {exc.strerror or exc}") from None
        if len(key) < 16:
            raise _fail("--date-shift-key-file: the key must be at least 16 bytes")
    reg = _open(config_file)
    try:
        summary = export_cohort(reg, out, date_shift_key=key, max_shift_days=max_shift_days, workers=workers)
        audit(reg, _operator(), "export")
    finally:
        reg.close()
    sys.stdout.write(
        json.dumps(
            {
                "out": str(summary.out_dir),
                "format": fmt.value,
                "rows": summary.rows,
                "date_shifted": summary.date_shifted,
                "skipped_patients_no_diagnosis_date": summary.skipped_patients_no_diagnosis_date,
                "skipped_lesions_no_detected_at": summary.skipped_lesions_no_detected_at,
            }
        )
        + "\n"
    )


@registry_app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(help="Backup file to write.", show_default=False)],
    config_file: ConfigOpt = None,
) -> None:
    """Back up the registry (SQLite online backup while the service runs; pg_dump for PostgreSQL)."""
    from mmemd.registry import BackupError, audit, backup

    reg = _open(config_file)
    try:
        backup(reg.url, dest)
        audit(reg, _operator(), "backup")
    except BackupError as exc:
        raise _fail(str(exc)) from None
    finally:
        reg.close()
    sys.stdout.write(f"backup written to {dest}\n")


@registry_app.command("restore")
def restore_command(
    src: Annotated[Path, typer.Argument(help="Backup file to restore.", show_default=False)],
    config_file: ConfigOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Replace the current registry without asking.")] = False,
) -> None:
    """Replace the registry by a backup (stop the service first)."""
    from mmemd.registry import BackupError, audit, restore

    if not yes and not typer.confirm("Replace the current registry with the backup?"):
        raise typer.Exit(1)
    url = _database_url(config_file)
    try:
        restore(url, src)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    reg = _open(config_file)
    audit(reg, _operator(), "restore")
    reg.close()
    sys.stdout.write(f"registry restored from {src}\n")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(show_default=False)],
    role: Annotated[RoleName, typer.Option("--role", help="clinician, researcher or admin.")],
    config_file: ConfigOpt = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (else prompt; never argv).")
    ] = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="An account for API keys only.")] = False,
) -> None:
    """Create a local account (argon2id password hash)."""
    from mmemd.registry import AccountError, add_user

    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if password is not None and len(password) < 8:
        raise _fail("the password must be at least 8 characters")
    reg = _open(config_file)
    try:
        add_user(reg, username, role.value, password)
    except AccountError as exc:
        raise _fail(str(exc)) from None
    finally:
        reg.close()
    sys.stdout.write(f"user {username} added ({role.value})\n")


@user_app.command("list")
def user_list(config_file: ConfigOpt = None) -> None:
    """List the accounts."""
    from mmemd.registry import list_users

    reg = _open(config_file)
    for u in list_users(reg):
        sys.stdout.write(json.dumps(u) + "\n")
    reg.close()


@key_app.command("add")
def key_add(
    label: Annotated[str, typer.Argument(show_default=False, help="A name for the key (a program, a team).")],
    role: Annotated[RoleName, typer.Option("--role", help="clinician, researcher or admin.")],
    user: Annotated[str | None, typer.Option("--user", help="The account the key acts as.")] = None,
    config_file: ConfigOpt = None,
) -> None:
    """Create an API key and print it — the only time it is shown."""
    from mmemd.registry import AccountError, create_api_key

    reg = _open(config_file)
    try:
        key = create_api_key(reg, label, role.value, user)
    except AccountError as exc:
        raise _fail(str(exc)) from None
    finally:
        reg.close()
    sys.stdout.write(key + "\n")


@key_app.command("revoke")
def key_revoke(
    label: Annotated[str, typer.Argument(show_default=False)],
    config_file: ConfigOpt = None,
) -> None:
    """Revoke the keys with this label."""
    from mmemd.registry import revoke_api_key

    reg = _open(config_file)
    n = revoke_api_key(reg, label)
    reg.close()
    if n == 0:
        raise _fail(f"no active key labelled {label!r}")
    sys.stdout.write(f"{n} key(s) revoked\n")


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
