"""Where the curated data live inside the package, and the knowledge-base version (release + content hash)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCES_FILE = DATA_DIR / "sources.yaml"
SOURCE_TEXT_DIR = DATA_DIR / "sources"
VOCAB_DIR = DATA_DIR / "vocab"
CLAIMS_DIR = DATA_DIR / "claims"

try:  # libyaml is ~10x faster; fall back to the pure-Python loader where it is not compiled in
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)


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
