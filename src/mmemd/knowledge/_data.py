"""Where the curated data live inside the package, and the knowledge-base version (release + content hash)."""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCES_FILE = DATA_DIR / "sources.yaml"
SOURCE_TEXT_DIR = DATA_DIR / "sources"
VOCAB_DIR = DATA_DIR / "vocab"
CLAIMS_DIR = DATA_DIR / "claims"

#: Parsed data files are kept in the cache directory as marshal, named by the file's hash: reading them back is
#: ~20x cheaper than importing PyYAML and parsing the rules, vocabulary and glossary that every assessment reads.
_PARSED_FORMAT = f"mmemd-parsed-yaml/1 marshal/{marshal.version}".encode()


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


def read_yaml(path: Path) -> Any:
    """The YAML document in ``path``, from the parsed cache when it holds this exact content.

    A cache entry carries the sha256 of its payload and is used only when that matches (a damaged entry is parsed
    again and replaced); an unwritable cache directory, or a document marshal cannot hold, just means parsing.
    """
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
    try:
        payload = marshal.dumps(doc)
    except ValueError:  # e.g. a date scalar: not cached
        return
    tmp: str | None = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=entry.name, suffix=".tmp", dir=entry.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, entry)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def data_files() -> list[Path]:
    """Every curated file, in a fixed order: the content hash covers exactly these."""
    files = [SOURCES_FILE]
    files += sorted(SOURCE_TEXT_DIR.glob("*.txt"))
    files += sorted(VOCAB_DIR.glob("*.yaml"))
    files += sorted(CLAIMS_DIR.glob("*.yaml"))
    return files


@lru_cache(maxsize=1)
def content_hash() -> str:
    """sha256 over (relative path, bytes) of every curated file: any edit to the data changes the version."""
    h = hashlib.sha256()
    for path in data_files():
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
