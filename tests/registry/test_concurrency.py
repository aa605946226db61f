"""Concurrent editors lose no write; a process killed in the middle of a write leaves the previous version intact."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from _registry_support import example

from mmemd.registry import Registry, VersionConflict

SRC = Path(__file__).resolve().parents[2] / "src"


def _visit(n: int) -> dict[str, object]:
    day = dt.date(2030, 1, 1) + dt.timedelta(days=n)
    return {"date": day.isoformat(), "serum_m_protein": {"value": 1.0, "unit": "g/dL"}}


def test_concurrent_editors_lose_no_write(database_url: str) -> None:
    reg = Registry(database_url, pool_size=8)
    pid = reg.create(example("emd-liver-rrmm-pr"), author="dr.a").id
    start_visits = len(reg.get(pid).record["assessments"])
    editors, per_editor = 6, 5
    conflicts = [0] * editors
    errors: list[BaseException] = []

    def editor(k: int) -> None:
        try:
            for j in range(per_editor):
                while True:
                    # read, then write against the version read: a conflict means "re-read and re-apply"
                    version = reg.get(pid).version
                    try:
                        reg.add_visit(
                            pid, _visit(k * 100 + j), author=f"editor-{k}", expected_version=version
                        )
                        break
                    except VersionConflict:
                        conflicts[k] += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=editor, args=(k,)) for k in range(editors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = reg.get(pid)
    dates = {a["date"] for a in final.record["assessments"]}
    assert len(final.record["assessments"]) == start_visits + editors * per_editor
    assert all(_visit(k * 100 + j)["date"] in dates for k in range(editors) for j in range(per_editor))
    assert final.version == 1 + editors * per_editor
    assert [h.version for h in reg.history(pid)] == list(range(1, final.version + 1))
    reg.close()


_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mmemd.registry import Registry
    from mmemd.registry._store import Registry as R

    url, pid, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    original = R._append

    def append_then_hang(*args, **kwargs):
        original(*args, **kwargs)
        args[0].flush()  # the new rows are in the database, uncommitted
        marker.write_text("in the middle of the write")
        time.sleep(600)

    R._append = staticmethod(append_then_hang)
    reg = Registry(url)
    reg.add_visit(pid, {"date": "2031-01-01", "serum_ife": "negative"}, author="doomed")
    """
)


def test_a_crash_mid_write_leaves_the_previous_version(database_url: str, tmp_path: Path) -> None:
    reg = Registry(database_url)
    p = reg.create(example("emd-liver-rrmm-pr"), author="dr.a")
    reg.close()
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, database_url, p.id, str(marker)], env=env)
    try:
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), "the writer did not reach the middle of its write"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    reg = Registry(database_url)
    after = reg.get(p.id)
    assert after.version == 1 and after.record == p.record
    assert [h.author for h in reg.history(p.id)] == ["dr.a"]
    # the lock died with the process: the next writer gets through
    assert reg.add_visit(p.id, {"date": "2031-01-01"}, author="dr.b").version == 2
    reg.close()
