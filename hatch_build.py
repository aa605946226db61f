"""Wheel build hook: compile the pure engine modules listed in pyproject.toml with mypyc.

``pip install .`` / ``pip wheel .`` build a wheel; when a C compiler and the Python headers are present, the
modules named in ``[tool.mmemd.compiled] modules`` are compiled with mypyc into C extension modules that sit in
the wheel next to their ``.py`` sources (Python's import system prefers an extension module to a source file of
the same name). The same source is the pure-Python code path: mypyc compiles plain typed Python, so the compiled
and pure builds compute the same answers (tests/test_compiled.py holds them byte-identical).

The compiled build is an optimisation, never a requirement:
- a failed compile (no compiler, no headers, a mypyc error) prints a warning and the wheel is built pure;
- ``MMEMD_PURE=1`` builds the pure wheel without trying (and without installing the hook's build dependencies);
- editable installs (``pip install -e .``) are always pure: an extension module in src/ would shadow the edited
  ``.py`` file beside it.

Nothing is written into the source tree: mypyc's C files, the object files and the extensions are made in a
temporary directory. The compile runs in a child process, so that a crash or ``sys.exit`` inside mypyc or the
compiler cannot take the build down with it. tests/test_compiled.py calls the same ``compile_modules``;
``python hatch_build.py OUT`` runs it by hand: OUT receives the extension files at their paths inside the wheel.
"""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # imported outside a build (tests, benchmarks): only the compile functions are used
    BuildHookInterface = object

ROOT = Path(__file__).resolve().parent

#: What the compile needs besides the standard library, installed by pip into an isolated build environment:
#: mypy (which ships mypyc) and setuptools (which drives the C compiler for the extension modules).
BUILD_DEPENDENCIES = ["mypy>=1.10", "setuptools>=61"]

#: The mypy settings of the compile. Third-party packages are left out on purpose (``no_site_packages``): an
#: isolated build environment does not have the runtime dependencies, and a development environment does, so
#: reading them would make the compiled code depend on where it was built. Their types are then ``Any``, which
#: mypyc treats with generic (ordinary Python) operations; the modules' own typing, checked strictly by the
#: project's mypy run, is unchanged. Measured with all eight response-engine modules compiled (their classes plain
#: classes): reading the third-party types changed nothing (0.344 and 0.353 against 0.331 and 0.354 ms of one
#: worker's CPU a dense record, interleaved).
_MYPY_CONFIG = """\
[mypy]
follow_imports = silent
ignore_missing_imports = True
no_site_packages = True
cache_dir = {cache}
"""

#: The name of the shared library holding the compiled code; the shims of the compiled modules import it. Kept
#: inside the package so the wheel adds no top-level module to site-packages.
GROUP_NAME = "mmemd._compiled"


def pure_forced() -> bool:
    return os.environ.get("MMEMD_PURE", "") not in ("", "0")


def declared_modules(root: Path = ROOT) -> list[str]:
    """The dotted names of the modules to compile: ``[tool.mmemd.compiled] modules`` in pyproject.toml."""
    with (root / "pyproject.toml").open("rb") as f:
        config = tomllib.load(f)
    modules = config["tool"]["mmemd"]["compiled"]["modules"]
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise TypeError("[tool.mmemd.compiled] modules must be a list of module names")
    return modules


def module_path(root: Path, module: str) -> Path:
    return root / "src" / Path(*module.split(".")).with_suffix(".py")


def compile_modules(out: Path, root: Path = ROOT, modules: list[str] | None = None) -> tuple[bool, str]:
    """Compile ``modules`` (default: the declared ones) of the tree at ``root`` into ``out``.

    ``out`` receives the extension files at their paths inside the wheel (``mmemd/clinical/x.cpython-….so``).
    Returns ``(True, log)`` on success, ``(False, log)`` with the compiler's or mypyc's messages on failure.
    """
    modules = declared_modules(root) if modules is None else modules
    paths = [str(module_path(root, m)) for m in modules]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mmemd-mypyc-") as work:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(out), *paths]
        # The child's working directory is the temporary one: mypy and setuptools write nothing into the tree.
        proc = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    log = proc.stdout + proc.stderr
    return proc.returncode == 0, log


def _compile_child(out: Path, paths: list[str]) -> None:
    """Run in the child process, in a temporary working directory: mypyc's C code, then the extensions."""
    from mypyc.build import mypycify
    from setuptools import Distribution
    from setuptools.command.build_ext import build_ext

    work = Path.cwd()
    config = work / "mypy.ini"
    config.write_text(_MYPY_CONFIG.format(cache=work / "mypy-cache"), encoding="utf-8")
    extensions = mypycify(
        ["--config-file", str(config), *paths], target_dir=str(work / "c"), group_name=GROUP_NAME
    )
    dist = Distribution({"name": "mmemd-compiled", "ext_modules": extensions})
    command = build_ext(dist)
    command.build_lib = str(out)
    command.build_temp = str(work / "temp")
    command.ensure_finalized()
    command.run()


def _asked_for_editable() -> bool:
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "get_requires_for_build_editable":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def built_files(out: Path) -> dict[str, str]:
    """Extension files under ``out`` -> their paths inside the wheel."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return {
        str(p): p.relative_to(out).as_posix() for p in sorted(out.rglob("*")) if p.name.endswith(suffixes)
    }


def build_dependencies() -> list[str]:
    """What the build needs installed for the compile: none when it will not compile (pure or editable)."""
    # hatchling asks before every build without saying which kind. An editable build never compiles, so it should
    # not install mypy and setuptools (about 6 s of a `pip install -e .`): it is recognised by the PEP 660 backend
    # function that asks, get_requires_for_build_editable, on the call stack.
    if pure_forced() or _asked_for_editable():
        return []
    return list(BUILD_DEPENDENCIES)


def add_compiled(root: Path, version: str, build_data: dict[str, Any], out: Path) -> bool:
    """Compile into ``out`` and add the extensions to hatchling's ``build_data``; False (and a warning) when the
    wheel stays pure."""
    if version == "editable" or pure_forced():
        return False
    ok, log = compile_modules(out, root)
    files = built_files(out) if ok else {}
    if not files:
        tail = "\n".join(log.strip().splitlines()[-15:])
        print(
            "WARNING: mmemd: compiling the engine modules with mypyc failed; building the pure-Python wheel "
            "instead (same results, slower). Needs a C compiler and the Python headers (e.g. Debian's gcc "
            f"and python3-dev). Set MMEMD_PURE=1 to skip the attempt.\n{tail}",
            file=sys.stderr,
        )
        return False
    build_data["pure_python"] = False
    build_data["infer_tag"] = True
    build_data["force_include"].update(files)
    return True


class CompiledBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        return build_dependencies()

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # A temporary directory, removed in finalize(): nothing is written into the source tree.
        self._compiled_dir = tempfile.mkdtemp(prefix="mmemd-compiled-")
        add_compiled(Path(self.root), version, build_data, Path(self._compiled_dir))

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        shutil.rmtree(self._compiled_dir, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _compile_child(Path(sys.argv[2]), sys.argv[3:])
    elif len(sys.argv) == 2:
        done, messages = compile_modules(Path(sys.argv[1]).resolve())
        print(messages, end="")
        sys.exit(0 if done else 1)
    else:
        sys.exit("usage: python hatch_build.py OUT")
