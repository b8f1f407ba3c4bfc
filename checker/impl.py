"""Load a kata's implementation from the selected root (the --impl switch).

Tests never import kata modules directly. They ask for one:

    act = kata("01_fundamentals/activations")
    out = call(act.softmax, x)

and get it from katas/ (the learner's), reference/solutions/, or any folder that
mirrors the layout. Loading is lazy, so a learner file with a syntax error fails
each test with a clear message instead of stopping collection.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from checker import paths

FORBIDDEN_IN_NUMPY_KATAS = ("torch", "tensorflow", "jax", "keras")

_root: Path | None = None
_modules: dict[Path, ModuleType] = {}
# Problems met while loading (syntax errors, torch imports...): the plugin
# reports the kata as "error" rather than "failing" when there are any.
load_errors: list[str] = []


class KataLoadError(Exception):
    """The implementation module could not be used (shown to the learner as is)."""


def set_root(root: Path) -> None:
    global _root
    _root = root
    _modules.clear()


def root() -> Path:
    global _root
    if _root is None:
        _root = paths.impl_root()
    return _root


def _fail(message: str):
    """Fail the current test with a message and no traceback from the harness."""
    import pytest

    load_errors.append(message.splitlines()[0])
    pytest.fail(message, pytrace=False)


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) for every import of a framework a NumPy kata may not use."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in FORBIDDEN_IN_NUMPY_KATAS:
                found.append((node.lineno, name))
    return found


def stub_signature(kata_id: str, name: str) -> str:
    """`name(args)` as the shipped stub declares it, for 'does not define' messages."""
    stub = paths.STUBS / f"{kata_id}.py"
    try:
        tree = ast.parse(stub.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return name
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            if isinstance(node, ast.ClassDef):
                return f"class {name}"
            args = node.args
            for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
                if a is not None:
                    a.annotation = None  # the names and defaults are what the learner needs
            return f"{name}({ast.unparse(args)})"
    return name


def load_module(
    kata_id: str, framework: str = "numpy", impl_root: Path | None = None
) -> ModuleType:
    """Import <root>/<kata_id>.py (cached per process) or fail the test with a clear message."""
    __tracebackhide__ = True
    path = (impl_root or root()) / f"{kata_id}.py"
    shown = paths.rel(path)
    if path in _modules:
        return _modules[path]
    if not path.exists():
        _fail(
            f"{shown} does not exist. Restore the stub with: python -m checker reset "
            f"{kata_id.split('/')[-1]}"
        )
    source = path.read_text(encoding="utf-8")
    try:
        compile(source, str(path), "exec")
    except SyntaxError as exc:
        _fail(
            f"{shown} does not import: SyntaxError at line {exc.lineno}: {exc.msg}\n"
            f"    {(exc.text or '').rstrip()}"
        )
    if framework == "numpy":
        bad = forbidden_imports(source)
        if bad:
            line, mod = bad[0]
            _fail(
                f"{shown} imports {mod} (line {line}). In this kata torch is the oracle, "
                "not a tool: write it with NumPy."
            )
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    modname = f"_dlkatas_{kata_id.replace('/', '_')}_{digest}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # learner code may raise anything at import time
        del sys.modules[modname]
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"line {f.lineno}" for f in reversed(tb) if f.filename == str(path)), "")
        _fail(f"{shown} raised {type(exc).__name__} while importing ({where}): {exc}")
    _modules[path] = module
    return module


class KataProxy:
    """Stands for a kata module; resolves names on first use."""

    def __init__(self, kata_id: str, framework: str = "numpy", impl_root: Path | None = None):
        self._kata_id = kata_id
        self._framework = framework
        self._impl_root = impl_root

    @property
    def module(self) -> ModuleType:
        __tracebackhide__ = True
        return load_module(self._kata_id, self._framework, self._impl_root)

    @property
    def path(self) -> Path:
        return (self._impl_root or root()) / f"{self._kata_id}.py"

    def __getattr__(self, name: str):
        __tracebackhide__ = True
        if name.startswith("_"):  # pytest and mock probe private names; katas export none
            raise AttributeError(name)
        module = self.module
        if not hasattr(module, name):
            _fail(
                f"{paths.rel(self.path)} does not define {stub_signature(self._kata_id, name)}. "
                "Keep the names and signatures of the stub."
            )
        return getattr(module, name)

    def __repr__(self) -> str:
        return f"<kata {self._kata_id} from {paths.rel(self.path)}>"


def kata(kata_id: str) -> KataProxy:
    """The implementation of a kata from the selected root, e.g. kata("01_fundamentals/layers")."""
    from checker.catalog import course

    try:
        framework = course().kata(kata_id).framework
    except Exception:
        framework = "numpy"
    return KataProxy(kata_id, framework)


_dependency_status: dict[tuple[str, Path], str] = {}


def _status_of(kata_id: str, impl_root: Path) -> str:
    """Run a kata's (non-training) tests against impl_root in a fresh process; its status."""
    import json
    import os
    import subprocess
    import tempfile

    from checker.runner import classify

    key = (kata_id, impl_root)
    if key not in _dependency_status:
        section, name = kata_id.split("/")
        test = paths.KATAS / section / f"test_{name}.py"
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            env = {
                **os.environ,
                "DLKATAS_THREADS": "1",
                "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1",
            }
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    str(test),
                    f"--impl={impl_root}",
                    "-q",
                    "-m",
                    "not training",
                    f"--dlkatas-report={report}",
                    "-p",
                    "no:cacheprovider",
                ],
                cwd=paths.REPO,
                env=env,
                capture_output=True,
                timeout=300,
            )
            data = json.loads(report.read_text()) if report.exists() else None
        _dependency_status[key] = classify(data)[0]
    return _dependency_status[key]


def dependency(kata_id: str) -> KataProxy:
    """An earlier kata's pieces for a later kata: the learner's where they pass, else the reference.

    Katas never block each other: mnist_mlp trains on your layers once your layers kata
    passes, and on the reference layers until then. A note says which.
    """
    from checker.context import note

    here = root()
    mine = here / f"{kata_id}.py"
    solution = paths.SOLUTIONS / f"{kata_id}.py"
    name = kata_id.split("/")[-1]
    if not solution.exists():
        raise FileNotFoundError(
            f"{paths.rel(solution)} is missing: the reference solutions ship with the "
            "repository (git checkout -- reference/ restores them)."
        )
    if here == paths.SOLUTIONS or (mine.exists() and mine.read_bytes() == solution.read_bytes()):
        return KataProxy(kata_id, impl_root=here)
    shipped = paths.STUBS / f"{kata_id}.py"
    if not mine.exists():
        status = "missing"
    elif shipped.exists() and mine.read_bytes() == shipped.read_bytes():
        status = "not started"  # the shipped stub, untouched: no need to run its tests
    else:
        status = _status_of(kata_id, here)
    if status == "passing":
        note(f"Using your {paths.rel(mine)} (its tests pass).")
        return KataProxy(kata_id, impl_root=here)
    note(
        f"Using the reference {name} from {paths.rel(solution)}: your {paths.rel(mine)} is "
        f"{status} (run pytest {paths.rel(paths.KATAS / kata_id.split('/')[0])}/test_{name}.py). "
        "Once it passes, this kata uses yours."
    )
    return KataProxy(kata_id, impl_root=paths.SOLUTIONS)
