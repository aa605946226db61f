"""Where the curated data live inside the package, and the knowledge-base version (release + content hash)."""

from __future__ import annotations

import marshal
import os
import time
import zlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCES_FILE = DATA_DIR / "sources.yaml"
SOURCE_TEXT_DIR = DATA_DIR / "sources"
VOCAB_DIR = DATA_DIR / "vocab"
CLAIMS_DIR = DATA_DIR / "claims"

#: Parsed data files are kept in the cache directory as marshal, named by the file's hash: reading them back is
#: ~20x cheaper than importing PyYAML and parsing the rules, vocabulary and glossary that every assessment reads.
_PARSED_FORMAT = f"mmemd-parsed-yaml/1 marshal/{marshal.version}".encode()

#: A result kept by ``stat`` (:func:`stamped`) is reused only once its files have been quiet for this long, so a write
#: within the file system's timestamp granularity after the read cannot leave the stamp looking current (git's
#: "racily clean" rule for its index; the knowledge store's ``.verified`` stamp follows it too).
STAMP_SETTLE_SECONDS = 2.0

_STAMPED_FORMAT = b"mmemd-stamped/1"


def cache_dir() -> Path:
    """``$MMEMD_CACHE_DIR``, else ``$XDG_CACHE_HOME/mmemd``, else ``~/.cache/mmemd``."""
    if env := os.environ.get("MMEMD_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmemd"


def parse_yaml(text: bytes | str) -> Any:
    import yaml  # only when a file is not in the parsed cache yet

    # libyaml is ~10x faster; fall back to the pure-Python loader where it is not compiled in
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _stat_stamp(paths: Sequence[Path]) -> tuple[bytes, float] | None:
    """The files' paths and ``stat`` (device, inode, size, mtime, ctime), and their latest change (None: one is
    missing). Any write to a file changes its mtime and ctime; an added or removed file changes the list."""
    lines: list[str] = []
    latest = 0.0
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            return None
        lines.append(f"{p}\0{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}")
        latest = max(latest, st.st_mtime, st.st_ctime)
    return "\n".join(lines).encode("utf-8", "surrogateescape"), latest


def stamp_name(kind: str, where: Path) -> str:
    """The name of a :func:`stamped` entry for ``kind`` of the files at ``where``: one entry per checkout, so that
    two installations sharing a cache (a checkout beside an installed copy, two worktrees) do not overwrite each
    other's entry on every run."""
    return f"{kind}-{zlib.crc32(str(where).encode('utf-8', 'surrogateescape')):08x}"


def stamped(name: str, paths: Sequence[Path], compute: Callable[[], bytes | None]) -> bytes | None:
    """``compute()`` — a function of the files' content — kept in the cache by the files' ``stat``.

    While every file's ``stat`` equals the one the result was computed under, the kept result is returned without
    reading the files: that is what lets a one-record ``assess`` skip hashing the data (and importing ``hashlib``).
    An entry carries a CRC-32 of its stamp and payload and is used only when that matches (a damaged entry is
    computed again and replaced). A result is kept only when the files did not change while it was computed and have
    been quiet for :data:`STAMP_SETTLE_SECONDS`; ``compute()`` returning None, an unwritable cache directory or a
    missing file just mean computing every time.
    """
    entry = cache_dir() / "stamped" / f"{name}.stamped"
    before = _stat_stamp(paths)
    if before is not None:
        head = _STAMPED_FORMAT + b"\n" + before[0] + b"\n\n"
        try:
            blob = entry.read_bytes()
        except OSError:
            pass
        else:
            body = blob[4:]
            if body.startswith(head) and zlib.crc32(body) == int.from_bytes(blob[:4], "big"):
                return body[len(head) :]
    value = compute()
    if value is None or before is None:
        return value
    after = _stat_stamp(paths)
    if after is not None and after[0] == before[0] and time.time() - after[1] >= STAMP_SETTLE_SECONDS:
        body = head + value
        _write_atomically(entry, zlib.crc32(body).to_bytes(4, "big") + body)
    return value


_V = TypeVar("_V")


def kept_validated(
    name: str,
    paths: Sequence[Path],
    validate: Callable[[], _V],
    values: Callable[[_V], bytes],
    rebuild: Callable[[bytes], _V],
) -> _V:
    """``validate()`` — a function of the files' content — kept by the files' ``stat`` (:func:`stamped`) as
    ``values(result)`` and, while none changed, ``rebuild(kept)`` instead of validating again.

    Validating raises as it does (its problems are reported); a result ``values`` cannot hold (``ValueError``:
    marshal) is not kept; an entry whose CRC-32 matched but cannot be rebuilt means validating again."""
    validated: list[_V] = []

    def compute() -> bytes | None:
        validated.append(validate())
        try:
            return values(validated[0])
        except ValueError:
            return None

    blob = stamped(name, paths, compute)
    if validated:
        return validated[0]
    assert blob is not None  # a kept entry always has a payload
    try:
        return rebuild(blob)
    except (EOFError, ValueError, TypeError, KeyError):
        return validate()


def _write_atomically(entry: Path, blob: bytes) -> None:
    tmp: str | None = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only to write: an assessment with a warm cache writes nothing

        fd, tmp = tempfile.mkstemp(prefix=entry.name, suffix=".tmp", dir=entry.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, entry)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def read_yaml(path: Path) -> Any:
    """The YAML document in ``path``: from the file's ``stat`` stamp when it has not changed since it was last
    parsed (:func:`stamped`), else from the parsed cache when that holds this exact content, else parsed.

    A content-keyed entry carries the sha256 of its payload and is used only when that matches (a damaged entry is
    parsed again and replaced); an unwritable cache directory, or a document marshal cannot hold, just means parsing.
    """
    parsed: list[Any] = []

    def payload() -> bytes | None:
        parsed.append(_read_yaml_by_content(path))
        try:
            return marshal.dumps(parsed[0])
        except ValueError:  # e.g. a date scalar: not kept
            return None

    blob = stamped(stamp_name(f"{path.parent.name}-{path.name}", path), [path], payload)
    if parsed:
        return parsed[0]
    assert blob is not None  # a kept entry always has a payload
    try:
        return marshal.loads(blob)
    except (EOFError, ValueError, TypeError):  # CRC-32 matched a damaged payload: parse it
        return _read_yaml_by_content(path)


def _read_yaml_by_content(path: Path) -> Any:
    import hashlib  # only when a file changed since it was last read (a one-record assess does not hash)

    raw = path.read_bytes()
    key = hashlib.sha256(_PARSED_FORMAT + b"\0" + raw).hexdigest()
    entry = cache_dir() / "parsed" / f"{key[:32]}.marshal"
    try:
        blob = entry.read_bytes()
    except OSError:
        pass
    else:
        digest, payload = blob[:32], blob[32:]
        if hashlib.sha256(payload).digest() == digest:
            try:
                return marshal.loads(payload)
            except (EOFError, ValueError, TypeError):
                pass
    doc = parse_yaml(raw)
    _store_parsed(entry, doc)
    return doc


def _store_parsed(entry: Path, doc: Any) -> None:
    import hashlib

    try:
        payload = marshal.dumps(doc)
    except ValueError:  # e.g. a date scalar: not cached
        return
    _write_atomically(entry, hashlib.sha256(payload).digest() + payload)


def data_files() -> list[Path]:
    """Every curated file, in a fixed order: the content hash covers exactly these."""
    files = [SOURCES_FILE]
    files += sorted(SOURCE_TEXT_DIR.glob("*.txt"))
    files += sorted(VOCAB_DIR.glob("*.yaml"))
    files += sorted(CLAIMS_DIR.glob("*.yaml"))
    return files


@lru_cache(maxsize=1)
def content_hash() -> str:
    """sha256 over (relative path, bytes) of every curated file: any edit to the data changes the version.

    Kept by the files' ``stat`` (:func:`stamped`): computed again whenever a file was written, added or removed."""
    files = data_files()
    digest = stamped(
        stamp_name("content-hash", DATA_DIR), files, lambda: _content_hash(files).encode("ascii")
    )
    assert digest is not None
    return digest.decode("ascii")


def _content_hash(files: list[Path]) -> str:
    import hashlib

    h = hashlib.sha256()
    for path in files:
        h.update(path.relative_to(DATA_DIR).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def release() -> str:
    text = SOURCES_FILE.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("release:"):
            return line.split(":", 1)[1].strip().strip("\"'")
    raise ValueError(f"{SOURCES_FILE}: no 'release:' line")


def kb_version() -> str:
    """Knowledge-base version stamped on every output: ``kb-<release>+sha256:<first 12 hex of the content hash>``."""
    return f"kb-{release()}+sha256:{content_hash()[:12]}"
