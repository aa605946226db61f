"""Build mmemd's wheel and unpack it into a directory, to measure an installed build beside the source tree.

Run: ``python benchmarks/build_compiled.py DIR [--pure]``. ``pip wheel`` builds the wheel as ``pip install .`` does
(build hook included: the modules of ``[tool.mmemd.compiled]`` compiled with mypyc when a C compiler and the Python
headers are present); ``--pure`` sets ``MMEMD_PURE=1`` for the pure wheel. DIR then holds the ``mmemd`` package as
the wheel installs it, and the benchmarks run it first on ``PYTHONPATH``::

    python benchmarks/build_compiled.py /tmp/mmemd-compiled
    python benchmarks/build_compiled.py /tmp/mmemd-pure --pure
    python benchmarks/bench_batch.py --lines 40000 --no-advice --rounds 3 --src /tmp/mmemd-pure --src /tmp/mmemd-compiled
    python benchmarks/bench_startup.py --src /tmp/mmemd-pure --src /tmp/mmemd-compiled

Both trees are unpacked wheels, so the comparison differs only in the compiled modules. Not a test.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "dir", type=Path, help="where to unpack the wheel (replaced if it holds an mmemd package)"
    )
    parser.add_argument("--pure", action="store_true", help="build the pure-Python wheel (MMEMD_PURE=1)")
    args = parser.parse_args()
    env = {**os.environ, "MMEMD_PURE": "1" if args.pure else "0"}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp, str(ROOT)],
            env=env,
            check=True,
        )
        (wheel,) = Path(tmp).glob("mmemd-*.whl")
        shutil.rmtree(args.dir / "mmemd", ignore_errors=True)
        args.dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(args.dir)
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    compiled = sorted(
        p.relative_to(args.dir).as_posix() for p in args.dir.rglob("*") if p.name.endswith(suffixes)
    )
    print(f"{wheel.name} unpacked into {args.dir}")
    print(f"{len(compiled)} extension modules" + "".join(f"\n  {name}" for name in compiled))


if __name__ == "__main__":
    main()
