"""Run katas' tests, each in its own process, in parallel, with a timeout.

A hang, a crash, `sys.exit` or a syntax error in one learner file marks that
kata and nothing else. On POSIX the runner imports numpy, torch and pytest once
and forks a child per run (a warm start: a typical kata's result comes back in
well under a second); elsewhere it starts `python -m pytest` per run.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from checker import paths
from checker.catalog import Kata

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

NOT_STARTED, FAILING, PASSING, ERROR = "not started", "failing", "passing", "error"


def pin_threads_early() -> None:
    """Before numpy loads: one BLAS thread per process (we run one process per core)."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")
    os.environ["DLKATAS_THREADS"] = "1"


def warm_up(extra: tuple[str, ...] = ()) -> None:
    """Import what every test run imports (numpy, torch, pytest, hypothesis, the plugin),
    and `extra` modules (a kata's `warm` list in info.toml)."""
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import torch
    from hypothesis.extra import numpy as _hnp  # noqa: F401

    import checker.plugin  # noqa: F401
    import reference.oracles  # noqa: F401
    from checker.catalog import course

    course()  # the course as data, read once here instead of in every child

    torch.set_num_threads(1)
    # The first optimizer built imports torch._dynamo (seconds): pay that once, here.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    for name in extra:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the kata's own tests report it


def _worth_warming(jobs: list[Job]) -> tuple[str, ...]:
    """A kata's slow imports, when it runs three times or more (verify with mutants): a
    module like transformers' BERT takes seconds, once in the parent instead of per child."""
    runs: dict[str, int] = {}
    for job in jobs:
        if job.kata is not None:
            runs[job.kata.id] = runs.get(job.kata.id, 0) + 1
    names: list[str] = []
    for job in jobs:
        if job.kata is not None and runs[job.kata.id] >= 3:
            names += [n for n in job.kata.warm if n not in names]
    return tuple(names)


@dataclass
class Job:
    kata: Kata | None  # None with `tests` set: the harness's own tests
    impl: str = "learner"  # learner | solution | stub | a folder
    label: str = ""  # what the caller calls this run ("solution", "mutant x")
    quick: bool = False  # deselect training tests
    first_failure: bool = False  # stop at the first failing test (-x)
    timeout: float | None = None
    extra: list[str] = field(default_factory=list)
    tests: Path | None = None  # default: the kata's test file
    profile: str | None = None  # hypothesis profile (checker/plugin.py); default dev, or ci in CI

    @property
    def limit(self) -> float:
        return self.timeout or (self.kata.timeout if self.kata else 300)


@dataclass
class Result:
    job: Job
    status: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (test name, first line)
    notes: list[str] = field(default_factory=list)
    detail: str = ""  # why an error, in a sentence
    seconds: float = 0.0
    log: str = ""  # pytest's output

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped

    def first_message(self) -> str:
        if self.detail:
            return self.detail
        return self.failures[0][1] if self.failures else ""


def classify(report: dict | None) -> tuple[str, dict]:
    """Status of a run from the plugin's JSON report."""
    if report is None:
        return ERROR, {}
    tests = report.get("tests", {})
    counts = {
        o: sum(1 for t in tests.values() if t["outcome"] == o)
        for o in ("passed", "failed", "skipped")
    }
    failures = [
        (nid.split("::")[-1], t["message"]) for nid, t in tests.items() if t["outcome"] == "failed"
    ]
    info = {**counts, "failures": failures, "notes": report.get("notes", [])}
    if report.get("collect_errors"):
        info["detail"] = "the tests could not be collected: " + report["collect_errors"][0][:300]
        return ERROR, info
    if report.get("load_errors"):
        info["detail"] = report["load_errors"][0]
        return ERROR, info
    if not tests:
        info["detail"] = "no tests ran"
        return ERROR, info
    if counts["failed"] == 0:
        return PASSING, info
    failed = [t for t in tests.values() if t["outcome"] == "failed"]
    if counts["passed"] == 0 and all(t["not_implemented"] for t in failed):
        return NOT_STARTED, info
    return FAILING, info


def pytest_args(job: Job, report: Path) -> list[str]:
    args = [
        str(job.tests or job.kata.test_path),
        f"--impl={job.impl}",
        f"--dlkatas-report={report}",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        f"--rootdir={paths.REPO}",
        # Warm runs import the plugin before pytest starts: nothing to rewrite there.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    if job.quick:
        args += ["-m", "not training"]
    if job.first_failure:
        args.append("-x")
    return args + job.extra


def _child(job: Job, report: Path, log: Path) -> None:
    """In the forked child: run pytest with output to the log, then leave at once."""
    code = 70
    try:
        os.setsid()  # our own process group, so a timeout kills any grandchildren too
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        # The parent may itself run under pytest's capture: write to the log, not to it.
        sys.stdout = sys.__stdout__ = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.chdir(paths.REPO)
        if job.profile:
            os.environ["DLKATAS_PROFILE"] = job.profile
        import pytest

        code = int(pytest.main(pytest_args(job, report)))
    except BaseException as exc:  # noqa: BLE001 - anything the learner's code does
        try:
            os.write(2, f"\n[dlkatas] the test run stopped: {exc!r}\n".encode())
        except OSError:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _spawn(job: Job, report: Path, log: Path):
    """Start one run; returns a handle with .poll() -> exit code or None, and .kill()."""
    if hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:
            _child(job, report, log)

        class Forked:
            def poll(self):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    return None
                return os.waitstatus_to_exitcode(status)

            def kill(self):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)

        return Forked()
    out = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *pytest_args(job, report)],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=paths.REPO,
        env={**os.environ, **({"DLKATAS_PROFILE": job.profile} if job.profile else {})},
    )
    return proc


def _result(job: Job, report_path: Path, log_path: Path, code, seconds, timed_out) -> Result:
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    report = None
    if report_path.exists():
        try:
            report = json.loads(report_path.read_text())
        except json.JSONDecodeError:
            report = None
    status, info = classify(report)
    result = Result(
        job=job,
        status=status,
        seconds=seconds,
        log=log,
        passed=info.get("passed", 0),
        failed=info.get("failed", 0),
        skipped=info.get("skipped", 0),
        failures=info.get("failures", []),
        notes=info.get("notes", []),
        detail=info.get("detail", ""),
    )
    if timed_out:
        result.status = ERROR
        result.detail = (
            f"timed out after {seconds:.0f} s: an infinite loop, or far too "
            "much work (see the kata's Numerics and Shapes notes)"
        )
    elif report is None:
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        tail = log.strip().splitlines()[-1:] or [""]
        result.detail = (
            f"the test process ended ({how}) before it could report; does the "
            f"code call sys.exit/os._exit or crash? {tail[0][:200]}"
        )
    return result


def run(jobs: list[Job], workers: int | None = None, on_result=None) -> list[Result]:
    """Run jobs in parallel (one per core by default); results in the order of jobs."""
    pin_threads_early()
    if hasattr(os, "fork"):
        warm_up(_worth_warming(jobs))  # once, before forking: every child starts warm
        # Everything imported so far lives as long as the process: out of the collector's
        # sight, a child's full collections (pytest runs two at exit) scan only what the
        # child made. That took 0.3 s of each run's 0.5 s of overhead.
        gc.freeze()
    workers = workers or max(1, min(len(jobs), os.cpu_count() or 1))
    tmp = Path(tempfile.mkdtemp(prefix="dlkatas-run-"))
    results: list[Result | None] = [None] * len(jobs)
    pending = list(enumerate(jobs))
    running: dict[int, tuple] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                i, job = pending.pop(0)
                report, log = tmp / f"{i}.json", tmp / f"{i}.log"
                running[i] = (_spawn(job, report, log), time.monotonic(), report, log)
            time.sleep(0.01)
            for i, (handle, start, report, log) in list(running.items()):
                code = handle.poll()
                elapsed = time.monotonic() - start
                limit = jobs[i].limit
                timed_out = code is None and elapsed > limit
                if timed_out:
                    handle.kill()
                if code is not None or timed_out:
                    del running[i]
                    results[i] = _result(jobs[i], report, log, code, elapsed, timed_out)
                    if on_result:
                        on_result(results[i])
    finally:
        for handle, *_ in running.values():
            handle.kill()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    return results  # type: ignore[return-value]
