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
import importlib.abc
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
    """Start a test session on root, with nothing left from an earlier one in this process
    (the runner forks its children from a parent that may have run tests itself)."""
    global _root
    _root = root
    _modules.clear()
    _packages.clear()
    load_errors.clear()


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


def _kata(kata_id: str):
    """The course's entry for kata_id, or None (a kata the course does not list)."""
    from checker.catalog import course

    try:
        return course().kata(kata_id)
    except Exception:
        return None


def _relpath(kata_id: str) -> str:
    """Where a kata's module sits in an implementation root ("09_autograd/minigrad/ops.py")."""
    k = _kata(kata_id)
    return k.relpath if k else f"{kata_id}.py"


def stub_signature(kata_id: str, name: str) -> str:
    """`name(args)` as the shipped stub declares it, for 'does not define' messages."""
    stub = paths.STUBS / _relpath(kata_id)
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
    k = _kata(kata_id)
    if k is not None and k.package:  # one module of a package the section grows
        return load_package_module(kata_id, impl_root)[1]
    path = (impl_root or root()) / f"{kata_id}.py"
    if path in _modules:
        return _modules[path]
    _checked_source(path, kata_id.split("/")[-1], framework)
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
        _fail(f"{paths.rel(path)} raised {type(exc).__name__} while importing ({where}): {exc}")
    _modules[path] = module
    return module


def _checked_source(path: Path, name: str, framework: str) -> str:
    """The source of a learner file that exists, compiles, and (NumPy katas) imports no torch."""
    __tracebackhide__ = True
    shown = paths.rel(path)
    if not path.exists():
        _fail(f"{shown} does not exist. Restore the stub with: python -m checker reset {name}")
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
    return source


# --- package katas -----------------------------------------------------------------------
# A section may grow one package across several katas (09_autograd/minigrad/: tensor.py,
# ops.py, ...). A test of one of them gets a package assembled for it: the kata under test
# from the selected root; each kata it requires from the same root where that kata passes
# (the reference otherwise, with a note); every later module, and __init__.py, from the
# reference, so nothing the learner has not reached yet can break it.

_packages: dict[tuple[Path, str], tuple[ModuleType, ModuleType]] = {}
KNOWN_STATUS_ENV = "DLKATAS_KNOWN_STATUS"


class _PackageFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of one assembled package at the files chosen for them."""

    def __init__(self, files: dict[str, Path]):
        self.files = files

    def find_spec(self, fullname, path=None, target=None):
        where = self.files.get(fullname)
        if where is None:
            return None
        is_package = where.name == "__init__.py"
        return importlib.util.spec_from_file_location(
            fullname, where, submodule_search_locations=[] if is_package else None
        )


def _known_status() -> dict[str, str]:
    import json
    import os

    try:
        return dict(json.loads(os.environ.get(KNOWN_STATUS_ENV, "{}")))
    except (ValueError, TypeError):
        return {}


def _recorded_status(k) -> str | None:
    """The status progress.toml holds for a learner's kata, if its files are unchanged since."""
    from checker.catalog import read_toml
    from checker.progress import fingerprint

    try:
        entry = read_toml(paths.PROGRESS)["katas"][k.id]
        if entry.get("fingerprint") == fingerprint(k):
            return str(entry["status"])
    except Exception:  # no progress.toml yet, or one the checker will rebuild
        return None
    return None


def _package_digest(dep, here: Path) -> str:
    """What a package kata's status depends on: its tests, its module and the modules of
    the katas it requires (later ones come from the reference)."""
    from checker.catalog import course

    h = hashlib.sha256(f"{dep.id}\n".encode())
    members = [dep] + [course().kata(r) for r in dep.requires]
    for f in [dep.test_path] + [here / m.relpath for m in members]:
        h.update(f.read_bytes() if f.exists() else b"<missing>")
    return h.hexdigest()[:24]


STATUS_CACHE = "package-status.json"  # in .dlkatas/: statuses of the learner's package katas


def _cached_status(dep, here: Path) -> str | None:
    import json

    try:
        cache = json.loads((paths.STATE / STATUS_CACHE).read_text())
        return cache.get(dep.id, {}).get(_package_digest(dep, here))
    except (OSError, ValueError, AttributeError):
        return None


def _cache_status(dep, here: Path, status: str) -> None:
    """Remember a learner's kata status until any file it depends on changes, so the next
    pytest of a later kata does not run its tests again (writes are atomic; best effort)."""
    import json
    import os
    import tempfile

    try:
        paths.STATE.mkdir(exist_ok=True)
        target = paths.STATE / STATUS_CACHE
        try:
            cache = json.loads(target.read_text())
        except (OSError, ValueError):
            cache = {}
        cache[dep.id] = {_package_digest(dep, here): status}
        fd, tmp = tempfile.mkstemp(dir=paths.STATE, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(cache, f)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only checkout: the status is recomputed next time


def _module_choice(k, dep, here: Path) -> tuple[Path, str | None]:
    """Which file a package test uses for `dep` (a kata of the package), and a note."""
    mine, solution = here / dep.relpath, dep.solution_path
    if dep == k or here == paths.SOLUTIONS:
        return mine, None
    if dep.id not in k.requires:
        return solution, None  # later than the kata under test: never the learner's concern
    if mine.exists() and mine.read_bytes() == solution.read_bytes():
        return mine, None
    if not mine.exists():
        status = "missing"
    elif mine.read_bytes() == dep.shipped_stub_path.read_bytes():
        status = "not started"
    else:
        status = _known_status().get(f"{here}:{dep.id}") or _dependency_status.get((dep.id, here))
        if status is None and here == paths.KATAS:
            status = _cached_status(dep, here) or _recorded_status(dep)
        if status is None:
            status = _status_of(dep.id, here)
            if here == paths.KATAS and not status.startswith("still running"):
                _cache_status(dep, here, status)
    if status == "passing":
        return mine, f"Using your {paths.rel(mine)} (its tests pass)."
    return solution, (
        f"Using the reference {dep.package}/{dep.name}.py: your {paths.rel(mine)} is {status} "
        f"(pytest {paths.rel(dep.test_path)}). Once it passes, these tests use yours."
    )


def load_package_module(
    kata_id: str, impl_root: Path | None = None
) -> tuple[ModuleType, ModuleType]:
    """(the assembled package, its module for kata_id), or fail the test with a clear message."""
    __tracebackhide__ = True
    from checker.catalog import course
    from checker.context import note

    here = impl_root or root()
    k = course().kata(kata_id)
    if (here, k.id) in _packages:
        return _packages[(here, k.id)]
    members = [m for m in course().katas if m.section == k.section and m.package == k.package]
    files: dict[str, Path] = {}
    for dep in members:  # in course order, so a kata's requirements are settled before it
        path, message = _module_choice(k, dep, here)
        if path != dep.solution_path:
            _checked_source(path, dep.name, dep.framework)
        if message:
            note(message)
        files[dep.name] = path
    init = paths.SOLUTIONS / k.section / k.package / "__init__.py"
    digest = hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()[:10]
    name = f"_dlkatas_{k.package}_{digest}"
    finder = _PackageFinder({name: init, **{f"{name}.{m}": p for m, p in files.items()}})
    sys.meta_path.insert(0, finder)  # stays: a module may import a sibling lazily
    try:
        package = importlib.import_module(name)
    except Exception as exc:  # learner code may raise anything at import time
        sys.meta_path.remove(finder)
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]
        tb = traceback.extract_tb(exc.__traceback__)
        ours = set(map(str, files.values()))
        frame = next((f for f in reversed(tb) if f.filename in ours), None)
        where = f"{paths.rel(Path(frame.filename))} line {frame.lineno}" if frame else "import"
        _fail(f"the {k.package} package does not import: {type(exc).__name__} at {where}: {exc}")
    module = getattr(package, k.name, None) or importlib.import_module(f"{name}.{k.name}")
    _packages[(here, k.id)] = (package, module)
    return package, module


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
        return (self._impl_root or root()) / _relpath(self._kata_id)

    @property
    def package(self) -> ModuleType:
        """A package kata's whole package, assembled for this test run (see above)."""
        __tracebackhide__ = True
        return load_package_module(self._kata_id, self._impl_root)[0]

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


STATUS_TIMEOUT = 60  # seconds for a run that only decides whose module a later kata uses


def _status_of(kata_id: str, impl_root: Path) -> str:
    """Run a kata's (non-training) tests against impl_root in a fresh process; its status."""
    import json
    import os
    import subprocess
    import tempfile

    from checker.runner import classify

    key = (kata_id, impl_root)
    if key in _dependency_status:
        return _dependency_status[key]
    section, name = kata_id.split("/")
    test = paths.KATAS / section / f"test_{name}.py"
    env = {
        **os.environ,
        "DLKATAS_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # what this process already knows: a package kata's run need not rerun the tests
        # of the katas before it
        KNOWN_STATUS_ENV: json.dumps(
            {
                **_known_status(),
                **{f"{r}:{kid}": st for (kid, r), st in _dependency_status.items()},
            }
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [
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
        ]
        try:
            subprocess.run(
                command, cwd=paths.REPO, env=env, capture_output=True, timeout=STATUS_TIMEOUT
            )
        except subprocess.TimeoutExpired:  # a loop in that kata: this one uses the reference
            _dependency_status[key] = f"still running after {STATUS_TIMEOUT} s"
            return _dependency_status[key]
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
