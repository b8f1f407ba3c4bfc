"""`python -m checker verify`: the repository's own test.

For every kata: the reference solution passes, the shipped stub fails (every test
stops at NotImplementedError), and every mutant (a real learner mistake stored as
a find/replace on the solution) is caught. Plus: the metadata is consistent, the
stubs are documented as DESIGN.md asks, and katas/ still holds the shipped stubs.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from checker import paths, runner
from checker.catalog import Course, Kata, Mutant, validate

DOC_PARTS = ("Math:", "Shapes:", "Args:", "Returns:", "Numerics:", "Reference:")


@dataclass
class Check:
    kata: str
    what: str
    ok: bool
    detail: str = ""


@dataclass
class KataReport:
    kata: str
    tests: int = 0
    solution: str = "not run"
    stub: str = "not run"
    mutants: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0


def apply_mutant(m: Mutant, source: str) -> str:
    count = source.count(m.find)
    if count != 1:
        raise ValueError(
            f"mutant {m.id}: its find text occurs {count} times in the solution "
            "(it must occur exactly once)"
        )
    return source.replace(m.find, m.replace)


def stub_problems(kata: Kata) -> list[str]:
    """Stub rules: imports cleanly, bodies raise NotImplementedError, docstrings in order."""
    problems = []
    path = kata.shipped_stub_path
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as exc:
        return [f"{paths.rel(path)} does not parse: {exc}"]
    if kata.buggy:  # a script with seeded bugs: it runs, and its tests fail
        return []
    if kata.package:
        return _package_stub_problems(tree, path)
    funcs = [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    ]
    if not funcs:
        problems.append(f"{paths.rel(path)} defines no functions")
    for fn in funcs:
        raises = _raises_not_implemented(fn)
        body = [
            n
            for n in fn.body
            if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        ]
        if not raises and body:
            problems.append(
                f"{paths.rel(path)}: {fn.name} has a body that does not raise NotImplementedError"
            )
        if fn.name in ("__init__",) or not raises:
            continue
        problem = _doc_problem(fn, fn.name, paths.rel(path))
        if problem:
            problems.append(problem)
    return problems


def _raises_not_implemented(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(node)
    )


def _doc_problem(node: ast.AST, what: str, shown: str) -> str | None:
    doc = ast.get_docstring(node) or ""
    positions = [doc.find(part) for part in DOC_PARTS]
    missing = [p for p, at in zip(DOC_PARTS, positions) if at < 0]
    if missing:
        return f"{shown}: {what}'s docstring lacks {', '.join(missing)}"
    if positions != sorted(positions):
        order = " ".join(DOC_PARTS)
        return f"{shown}: {what}'s docstring parts are out of order (expected {order})"
    return None


def _package_stub_problems(tree: ast.Module, path: Path) -> list[str]:
    """A module of a package kata may ship working scaffolding (properties, glue); what the
    learner writes raises NotImplementedError, and each top-level function or class holding
    such a body is documented in the six parts."""
    shown = paths.rel(path)
    if not _raises_not_implemented(tree):
        return [f"{shown} raises no NotImplementedError: nothing is left to implement"]
    problems = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name.startswith("_"):
            continue
        if _raises_not_implemented(node):
            kind = "class " if isinstance(node, ast.ClassDef) else ""
            problem = _doc_problem(node, kind + node.name, shown)
            if problem:
                problems.append(problem)
    return problems


def _mutant_root(base: Path, kata: Kata, m: Mutant) -> Path:
    """A copy of reference/solutions with one kata's file mutated."""
    root = base / f"{kata.name}-{m.id}"
    shutil.copytree(paths.SOLUTIONS, root)
    target = root / kata.relpath
    target.write_text(apply_mutant(m, kata.solution_path.read_text(encoding="utf-8")))
    return root


def _unstarted_problem(stub: Path) -> str:
    """What is wrong with a shipped stub, read without running it ("" when it compiles and
    raises NotImplementedError)."""
    try:
        tree = ast.parse(stub.read_text(encoding="utf-8"), filename=str(stub))
    except (OSError, SyntaxError) as exc:
        return f"{paths.rel(stub)}: {exc}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return ""
    return f"{paths.rel(stub)} raises no NotImplementedError: nothing is left to implement"


def verify(
    course: Course,
    katas: list[Kata],
    quick: bool = False,
    json_path: Path | None = None,
    echo=print,
) -> bool:
    start = time.monotonic()
    checks: list[Check] = []
    reports = {k.id: KataReport(kata=k.id) for k in katas}

    def add(kata: str, what: str, ok: bool, detail: str = "") -> None:
        checks.append(Check(kata, what, ok, detail))
        if not ok:
            echo(f"  FAIL {kata}: {what}" + (f"\n       {detail}" if detail else ""))

    # 1. Metadata, once for the whole course.
    problems = validate(course)
    if len(katas) < len(course.katas):  # a partial run reports only what concerns its katas
        ids = [k.id for k in katas]
        problems = [p for p in problems if any(i in p for i in ids) or "kata " not in p]
    for p in problems:
        add("metadata", p, False)
    add("metadata", "curriculum and katas consistent", not problems)
    strict_stubs = bool(os.environ.get("CI"))
    for k in katas:
        for p in stub_problems(k):
            add(k.id, p, False)
        if k.stub_path.exists() and k.shipped_stub_path.exists():
            same = k.stub_path.read_bytes() == k.shipped_stub_path.read_bytes()
            if not same and strict_stubs:
                add(
                    k.id,
                    f"{paths.rel(k.stub_path)} differs from {paths.rel(k.shipped_stub_path)}",
                    False,
                    "the learner's file must start as the shipped stub",
                )
            elif not same:
                echo(f"  note {k.id}: katas/ holds your work, not the shipped stub (fine)")

    # 2. Runs: solution and stub for each kata, and every mutant unless --quick.
    jobs: list[runner.Job] = [
        runner.Job(None, "solution", "harness", tests=paths.REPO / "checker" / "tests")
    ]
    tmp = Path(tempfile.mkdtemp(prefix="dlkatas-mutants-"))
    try:
        for k in katas:
            solution_profile = "quick" if quick else "ci"
            jobs.append(
                runner.Job(k, "solution", "solution", quick=quick, profile=solution_profile)
            )
            if quick and not k.buggy:
                # --quick reads the stub instead of running its tests (a run per kata doubled
                # its time); the full run checks that every test stops at NotImplementedError
                problem = _unstarted_problem(k.shipped_stub_path)
                reports[k.id].stub = runner.NOT_STARTED if not problem else runner.ERROR
                add(k.id, "stub compiles and raises NotImplementedError", not problem, problem)
                continue
            jobs.append(
                runner.Job(k, "stub", "stub", quick=quick, first_failure=quick, profile="verdict")
            )
            if quick:
                continue
            for m in k.mutants:
                try:
                    root = _mutant_root(tmp, k, m)
                except ValueError as exc:
                    add(k.id, f"mutant {m.id} applies", False, str(exc))
                    continue
                jobs.append(
                    runner.Job(
                        k, str(root), f"mutant {m.id}", first_failure=True, profile="verdict"
                    )
                )
        os.environ.setdefault("DLKATAS_PROFILE", "ci")

        def done(r: runner.Result) -> None:
            k, label = r.job.kata, r.job.label
            if k is None:
                for name, message in r.failures:
                    add("harness", f"checker/tests: {name}", False, message)
                ok = r.status == runner.PASSING
                add(
                    "harness",
                    f"checker's own tests ({r.passed} passed)",
                    ok,
                    "" if ok else r.first_message() + "\n" + _tail(r.log),
                )
                echo(
                    f"  {'ok' if ok else '!!'} {'checker/tests':40} {'harness':32} "
                    f"{r.status:12} {r.seconds:5.1f} s"
                )
                return
            rep = reports[k.id]
            rep.seconds += r.seconds
            if label == "solution":
                rep.tests = r.total
                rep.solution = r.status
                ok = r.status == runner.PASSING and r.passed > 0
                add(
                    k.id,
                    "solution passes",
                    ok,
                    "" if ok else f"{r.status}: {r.first_message()}\n" + _tail(r.log),
                )
            elif label == "stub":
                rep.stub = r.status
                ok = r.status == (runner.FAILING if k.buggy else runner.NOT_STARTED)
                add(
                    k.id,
                    "buggy stub fails its tests"
                    if k.buggy
                    else "stub fails with NotImplementedError only",
                    ok,
                    "" if ok else f"{r.status} ({r.passed} passed): {r.first_message()}",
                )
            else:
                mid = label.removeprefix("mutant ")
                caught = r.status == runner.FAILING
                rep.mutants[mid] = {
                    "caught": caught,
                    "status": r.status,
                    "message": r.first_message(),
                }
                detail = (
                    "every test passed: the tests cannot tell this mistake apart"
                    if r.status == runner.PASSING
                    else f"{r.status}: {r.first_message()} (a mutant must import and fail a test)"
                )
                add(k.id, f"mutant {mid} caught", caught, "" if caught else detail)
            mark = "ok" if all(c.ok for c in checks if c.kata == k.id) else "!!"
            echo(f"  {mark} {k.id:40} {label:32} {r.status:12} {r.seconds:5.1f} s")

        # The longest runs (training katas' solutions) first: started last, one of them
        # would leave the other core idle at the end.
        jobs.sort(key=lambda j: not (j.kata and j.kata.training and j.label == "solution"))
        runner.run(jobs, on_result=done)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    passed = sum(c.ok for c in checks)
    failed = len(checks) - passed
    if json_path:
        data = {
            "passed": passed,
            "failed": failed,
            "seconds": round(time.monotonic() - start, 1),
            "katas": {
                kid: {
                    "tests": r.tests,
                    "solution": r.solution,
                    "stub": r.stub,
                    "mutants_caught": sum(m["caught"] for m in r.mutants.values()),
                    "mutants_total": len(r.mutants),
                    "mutants": r.mutants,
                    "seconds": round(r.seconds, 2),
                }
                for kid, r in reports.items()
            },
            "failures": [c.__dict__ for c in checks if not c.ok],
        }
        Path(json_path).write_text(json.dumps(data, indent=2))
    echo(
        f"verify{' --quick' if quick else ''}: {len(katas)} katas in "
        f"{time.monotonic() - start:.0f} s"
    )
    echo(f"{passed} passed, {failed} failed")
    return failed == 0


def _tail(log: str, lines: int = 25) -> str:
    return "\n".join("       | " + line for line in log.strip().splitlines()[-lines:])
