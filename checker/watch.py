"""`python -m checker watch [KATA]`: re-run a kata's tests on every save.

The process imports numpy, torch, pytest and the harness once; each run is a fork
of it, so a typical kata's result is on screen well under a second after the save.
File events come from watchfiles; where they do not work (some network or
container filesystems), or with --poll, the watcher polls modification times.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from checker import paths, progress, runner, state
from checker.catalog import Course, Kata


def _kata_for(course: Course, changed: Path) -> Kata | None:
    for k in course.katas:
        if changed.resolve() in (k.stub_path.resolve(), k.test_path.resolve()):
            return k
    return None


def _run_once(course: Course, k: Kata) -> str:
    """Run one kata's tests in a forked child with output straight to the terminal."""
    print(
        f"\n\033[1m--- {k.name}: pytest {paths.rel(k.test_path)} "
        f"({time.strftime('%H:%M:%S')}) ---\033[0m",
        flush=True,
    )
    start = time.monotonic()
    job = runner.Job(k, "learner", "watch", extra=["--color=yes"])
    report = paths.STATE / "watch-report.json"
    paths.STATE.mkdir(exist_ok=True)
    report.unlink(missing_ok=True)
    if hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                import pytest

                code = int(pytest.main(runner.pytest_args(job, report)))
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    else:
        import subprocess

        subprocess.run(
            [sys.executable, "-m", "pytest", *runner.pytest_args(job, report)], cwd=paths.REPO
        )
    import json

    data = json.loads(report.read_text()) if report.exists() else None
    status_name, _ = runner.classify(data)
    doc = state.load(course)
    entry = doc["katas"][k.id]
    entry["status"] = status_name
    entry["fingerprint"] = progress.fingerprint(k)
    state.save(doc)
    print(
        f"\033[1m{k.name}: {status_name}\033[0m ({time.monotonic() - start:.2f} s). "
        "Waiting for your next save (Ctrl-C to stop).",
        flush=True,
    )
    return status_name


def _changes_polling(folder: Path, interval: float = 0.3):
    def snapshot():
        return {p: p.stat().st_mtime_ns for p in folder.rglob("*.py")}

    seen = snapshot()
    while True:
        time.sleep(interval)
        now = snapshot()
        changed = {p for p in now if seen.get(p) != now[p]}
        seen = now
        if changed:
            yield changed


def _changes(folder: Path, poll: bool):
    if not poll:
        try:
            import watchfiles

            for batch in watchfiles.watch(
                folder, debounce=150, step=50, watch_filter=lambda _c, p: p.endswith(".py")
            ):
                yield {Path(p) for _, p in batch}
            return
        except Exception as exc:  # no inotify, too many watches, unsupported filesystem...
            print(f"(file events unavailable: {exc}; polling instead)", file=sys.stderr)
    yield from _changes_polling(folder)


def watch(course: Course, kata: Kata | None, poll: bool = False) -> int:
    runner.pin_threads_early()
    runner.warm_up()  # everything a test run imports, imported once here
    if kata is None:
        doc = state.load(course)
        kata = progress.next_kata(course, progress.collect(course, doc))
    what = f"{kata.name} ({paths.rel(kata.stub_path)})" if kata else "every kata"
    print(f"Watching {what}. Save the file to run its tests.", flush=True)
    if kata:
        _run_once(course, kata)
    try:
        for changed in _changes(paths.KATAS, poll):
            targets = {_kata_for(course, p) for p in changed} - {None}
            if kata is not None:
                # a package kata also reruns when a module it builds on changes (tensor.py
                # under ops): its tests use that module once it passes
                ids = {kata.id} | (set(kata.requires) if kata.package else set())
                targets = {kata} if any(k.id in ids for k in targets) else set()
            for k in sorted(targets, key=lambda k: k.id):
                _run_once(course, k)
    except KeyboardInterrupt:
        print()
    return 0
