"""Registry -> cohort tables -> `mmemd cohort analyze`; the date shift; backup/restore round trips; the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from _registry_support import EXAMPLES, example
from typer.testing import CliRunner

from mmemd.cli._app import build_app
from mmemd.registry import Identity, Registry, RegistryEvent, audit_entries
from mmemd.registry._export import date_shift_days, export_cohort

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


def _fill(reg: Registry) -> dict[str, str]:
    """Every shipped example, twice (with MRNs and names), plus end-point events; registry id -> example name."""
    out = {}
    for copy in range(2):
        for i, name in enumerate(NAMES):
            rec = example(name)
            dx = dt.date.fromisoformat(rec["diagnosis"]["date"])
            events = [RegistryEvent(event="last_contact", date=dx + dt.timedelta(days=400 + 30 * i))]
            if i % 3 == 0:
                events = [
                    RegistryEvent(event="progression", date=dx + dt.timedelta(days=200 + 10 * i), line=1),
                    RegistryEvent(event="death", date=dx + dt.timedelta(days=300 + 10 * i)),
                ]
            p = reg.create(
                rec,
                author="dr.a",
                identity=Identity(mrn=f"HOSP-{copy}-{i:04d}", name=f"Patient Name {copy}{i}"),
                events=events,
            )
            out[p.id] = name
    return out


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "mmemd.toml"
    cfg.write_text(f'database_url = "{url}"\n', encoding="utf-8")
    return cfg


def _strings(directory: Path) -> set[str]:
    found: set[str] = set()
    for f in directory.glob("*.parquet"):
        for col in pq.read_table(f).to_pylist():
            found |= {str(v) for v in col.values() if v is not None}
    return found


def test_export_is_pseudonymised_and_cohort_analyze_reads_it(database_url: str, tmp_path: Path) -> None:
    reg = Registry(database_url)
    ids = _fill(reg)
    reg.close()
    runner = CliRunner()
    app = build_app()
    cfg = _config(tmp_path, database_url)
    out = tmp_path / "cohort"
    res = runner.invoke(
        app, ["registry", "export", "--format", "cohort", "--out", str(out), "--config", str(cfg)]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["rows"]["patients"] == len(ids) == 2 * len(NAMES)
    assert summary["rows"]["events"] == sum(2 for i in range(len(NAMES)) if i % 3 == 0) * 2
    # pseudonymised: registry ids only; no MRN, name or the hospital's record id anywhere in the tables
    strings = _strings(out)
    assert set(pq.read_table(out / "patients.parquet").column("patient_id").to_pylist()) == set(ids)
    assert not any(s.startswith(("HOSP-", "Patient Name")) for s in strings)
    assert not (set(NAMES) & strings)
    # the research tool reads the export as it is
    res = runner.invoke(app, ["cohort", "analyze", str(out), "--json", "--workers", "1"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rows"]["patients"] == len(ids)
    assert doc["rows"]["assessments"] == 2 * sum(len(example(n).get("assessments", [])) for n in NAMES)
    # the export was audited (no patient id: it is a whole-registry action)
    reg = Registry(database_url)
    assert [(e["action"], e["patient_id"]) for e in audit_entries(reg)] == [("export", None)]
    reg.close()


def test_date_shift_keeps_intervals_and_is_undone_only_with_the_key(tmp_path: Path) -> None:
    reg = Registry(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    ids = _fill(reg)
    plain = export_cohort(reg, tmp_path / "plain").out_dir
    key = b"k" * 32
    shifted = export_cohort(reg, tmp_path / "shifted", date_shift_key=key).out_dir
    reg.close()

    def rows(d: Path, table: str) -> dict[str, dict[str, Any]]:
        return {r["patient_id"]: r for r in pq.read_table(d / f"{table}.parquet").to_pylist()}

    a, b = rows(plain, "patients"), rows(shifted, "patients")
    offsets = set()
    for pid in ids:
        off = (b[pid]["diagnosis_date"] - a[pid]["diagnosis_date"]).days
        assert off == date_shift_days(key, pid)
        assert -182 <= off <= 182
        # follow-up length is exact
        assert (b[pid]["last_contact_date"] - b[pid]["diagnosis_date"]) == (
            a[pid]["last_contact_date"] - a[pid]["diagnosis_date"]
        )
        offsets.add(off)
    assert len(offsets) > 1  # per patient, not one global shift
    # another key gives other offsets: the offsets come from the key, not from the data
    other = b"another key, also 32 bytes long."
    assert [date_shift_days(other, pid) for pid in ids] != [date_shift_days(key, pid) for pid in ids]


def test_backup_restore_round_trip(database_url: str, tmp_path: Path) -> None:
    from mmemd.registry._backup import BackupError

    reg = Registry(database_url)
    p = reg.create(example("emd-liver-rrmm-pr"), author="dr.a", identity=Identity(mrn="M1"))
    reg.patch(p.id, {"ecog": 2}, author="dr.a")
    before = (reg.get(p.id).record, [h.version for h in reg.history(p.id)], reg.identity(p.id))
    reg.close()
    runner = CliRunner()
    app = build_app()
    cfg = _config(tmp_path, database_url)
    dump = tmp_path / "registry.backup"
    try:
        res = runner.invoke(app, ["registry", "backup", str(dump), "--config", str(cfg)])
    except BackupError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(str(exc))
    assert res.exit_code == 0, res.output
    # after the backup: more changes, then restore -> the state at the backup
    reg = Registry(database_url)
    reg.add_visit(p.id, {"date": "2026-01-01", "serum_ife": "negative"}, author="dr.b")
    q = reg.create(example("ndmm-mrd-negative-cr"), author="dr.b")
    reg.close()
    res = runner.invoke(app, ["registry", "restore", str(dump), "--yes", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    reg = Registry(database_url)
    assert (reg.get(p.id).record, [h.version for h in reg.history(p.id)], reg.identity(p.id)) == before
    assert q.id not in reg.patient_ids()
    # the restored database still enforces its rules and accepts writes
    assert reg.add_visit(p.id, {"date": "2026-02-01"}, author="dr.c").version == 3
    reg.close()


def test_cli_users_keys_audit_and_bad_input(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    cfg = _config(tmp_path, url)
    runner = CliRunner()
    app = build_app()
    res = runner.invoke(app, ["registry", "init", "--config", str(cfg)])
    assert res.exit_code == 0 and "schema revision 0003" in res.stdout
    res = runner.invoke(
        app,
        ["registry", "user", "add", "wang", "--role", "clinician", "--password-stdin", "--config", str(cfg)],
        input="correct horse battery\n",
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["registry", "key", "add", "ward-app", "--role", "clinician", "--user", "wang", "--config", str(cfg)],
    )
    assert res.exit_code == 0
    key = res.stdout.strip()
    assert key.startswith("mmemd_") and len(key) > 40

    from mmemd.registry import check_password, resolve_api_key

    reg = Registry(url)
    assert check_password(reg, "wang", "correct horse battery") is not None
    assert check_password(reg, "wang", "wrong") is None
    assert resolve_api_key(reg, key) is not None and resolve_api_key(reg, key).name == "wang"  # type: ignore[union-attr]
    with reg.engine.connect() as c:
        import sqlalchemy as sa

        stored = c.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    p = reg.create(example("pcl-primary-pleural"), author="wang")
    from mmemd.registry import Principal, audit

    audit(reg, Principal("wang", "clinician"), "read", p.id, request_id="r-1")
    reg.close()
    res = runner.invoke(app, ["registry", "key", "revoke", "ward-app", "--config", str(cfg)])
    assert res.exit_code == 0
    reg = Registry(url)
    assert resolve_api_key(reg, key) is None
    reg.close()
    res = runner.invoke(app, ["registry", "audit", "--json", "--patient", p.id, "--config", str(cfg)])
    assert res.exit_code == 0
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert [(x["user"], x["action"], x["request_id"]) for x in lines] == [("wang", "read", "r-1")]
    # bad input: exit 2 with a message, never a traceback
    for args in (
        ["registry", "audit", "--since", "yesterday", "--config", str(cfg)],
        ["registry", "user", "add", "wang", "--role", "clinician", "--password-stdin", "--config", str(cfg)],
        ["registry", "init", "--config", str(tmp_path / "missing.toml")],
        ["registry", "restore", str(tmp_path / "nothing"), "--yes", "--config", str(cfg)],
    ):
        res = runner.invoke(app, args, input="another password\n")
        assert res.exit_code == 2, (args, res.output)
        assert "error:" in res.stderr and "Traceback" not in res.output


def test_export_in_worker_processes_equals_the_single_process_export(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mmemd.registry._export as export

    reg = Registry(database_url)
    _fill(reg)
    one = export_cohort(reg, tmp_path / "one", workers=1, date_shift_key=b"k" * 32)
    monkeypatch.setattr(export, "_CHUNK", 4)  # small chunks, so 20 patients are worth two workers
    two = export_cohort(reg, tmp_path / "two", workers=2, date_shift_key=b"k" * 32)
    reg.close()
    assert one.rows == two.rows
    for name in one.rows:
        a = pq.read_table(one.out_dir / f"{name}.parquet")
        b = pq.read_table(two.out_dir / f"{name}.parquet")
        key = [(c, "ascending") for c in a.column_names if c not in ("site",)][:3]
        assert a.sort_by(key).to_pylist() == b.sort_by(key).to_pylist()
    assert sorted(p.name for p in two.out_dir.iterdir()) == sorted(f"{n}.parquet" for n in one.rows)


def _analysis(doc: dict[str, Any]) -> dict[str, Any]:
    """An analysis without what names its source or times it."""
    return {k: v for k, v in doc.items() if k not in ("source", "timings_s")}


def test_cohort_analyze_on_the_registry_equals_analyze_on_its_export(
    database_url: str, tmp_path: Path
) -> None:
    from mmemd.registry import cohort_tables

    reg = Registry(database_url)
    ids = _fill(reg)
    gone = next(iter(ids))
    reg.delete(gone, author="dr.a", expected_version=1)  # a deleted patient is in neither
    reg.close()
    runner = CliRunner()
    app = build_app()
    cfg = _config(tmp_path, database_url)
    key_file = tmp_path / "shift.key"
    key_file.write_bytes(b"a date-shift key of 32 bytes ok.")
    for shift in ([], ["--date-shift-key-file", str(key_file)]):
        out = tmp_path / f"cohort{len(shift)}"
        res = runner.invoke(app, ["registry", "export", "--out", str(out), "--config", str(cfg), *shift])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["cohort", "analyze", str(out), "--json", "--workers", "1"])
        assert res.exit_code == 0, res.output
        on_export = json.loads(res.stdout)
        res = runner.invoke(
            app, ["cohort", "analyze", "--registry", "--config", str(cfg), "--json", "--workers", "1", *shift]
        )
        assert res.exit_code == 0, res.output
        on_registry = json.loads(res.stdout)
        assert on_registry["source"].startswith("registry+")
        assert on_export["rows"]["patients"] == len(ids) - 1
        assert _analysis(on_registry) == _analysis(on_export)
    # the same rows as the Parquet files, table by table (so pseudonymised the same way: registry ids only)
    reg = Registry(database_url)
    tables = cohort_tables(reg, date_shift_key=key_file.read_bytes())
    assert sum(e["action"] == "export" for e in audit_entries(reg)) == 4  # two exports, two registry reads
    reg.close()
    for name, table in tables.items():
        assert table.equals(pq.read_table(tmp_path / "cohort2" / f"{name}.parquet")), name
    assert gone not in set(tables["patients"].column("patient_id").to_pylist())


def test_cohort_analyze_registry_refuses_bad_input_cleanly(tmp_path: Path) -> None:
    runner = CliRunner()
    app = build_app()
    missing = tmp_path / "nowhere.sqlite3"
    res = runner.invoke(app, ["cohort", "analyze", f"registry+sqlite:///{missing}", "--json"])
    assert res.exit_code == 2
    assert "no registry database" in res.output
    assert not missing.exists()  # reading never creates a database
    res = runner.invoke(app, ["cohort", "analyze", str(tmp_path), "--registry"])
    assert res.exit_code == 2 and "not both" in res.output
    short = tmp_path / "k"
    short.write_bytes(b"short")
    cfg = _config(tmp_path, f"sqlite:///{missing}")
    res = runner.invoke(
        app, ["cohort", "analyze", "--registry", "--config", str(cfg), "--date-shift-key-file", str(short)]
    )
    assert res.exit_code == 2 and "at least 16 bytes" in res.output


def test_cohort_analyze_registry_with_a_key_is_for_the_researcher_role(tmp_path: Path) -> None:
    from mmemd.registry import create_api_key, resolve_api_key

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    reg = Registry(url)
    reg.create(example("emd-liver-rrmm-pr"), author="dr.a")
    keys = {role: create_api_key(reg, f"{role}-team", role) for role in ("researcher", "clinician")}
    researcher = resolve_api_key(reg, keys["researcher"])
    assert researcher is not None
    reg.close()
    runner = CliRunner()
    app = build_app()
    argv = ["cohort", "analyze", f"registry+{url}", "--json", "--workers", "1", "--api-key-file"]
    for role, want in (
        ("clinician", "need the researcher role"),
        ("unknown", "not a valid registry API key"),
    ):
        f = tmp_path / f"{role}.key"
        f.write_text(keys.get(role, "not-a-key") + "\n", encoding="utf-8")
        res = runner.invoke(app, [*argv, str(f)])
        assert res.exit_code == 2 and want in res.output, res.output
    f = tmp_path / "researcher.key"
    f.write_text(keys["researcher"], encoding="utf-8")
    res = runner.invoke(app, [*argv, str(f)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"]["patients"] == 1
    reg = Registry(url)
    entries = [(e["action"], e["user"], e["role"]) for e in audit_entries(reg)]
    reg.close()
    assert entries == [("export", researcher.name, "researcher")]  # the refused keys read nothing
