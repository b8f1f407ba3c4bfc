"""The pytest plugin every kata's tests run under (loaded by pyproject's addopts).

It owns the --impl switch, hypothesis profiles, thread pinning, the `rng` fixture,
the summary notes, and the JSON report the checker reads to tell "not started"
from "failing" from "error".
"""

from __future__ import annotations

import builtins
import json
import os
import zlib
from pathlib import Path

import numpy as np
import pytest

from checker import context, impl, paths

PROFILE_ENV = "DLKATAS_PROFILE"
# Python 3.10 has no exception groups; isinstance(x, ()) is simply False there.
_GROUP = getattr(builtins, "BaseExceptionGroup", ())


def pytest_addoption(parser):
    group = parser.getgroup("dlkatas")
    group.addoption(
        "--impl",
        default=os.environ.get(paths.IMPL_ENV, "learner"),
        help="which implementations to test: learner (katas/, default), solution "
        "(reference/solutions/), stub (reference/stubs/) or a folder mirroring katas/",
    )
    group.addoption("--dlkatas-report", default=None, help="write a JSON report here (checker use)")


def _register_hypothesis_profiles():
    from hypothesis import HealthCheck, Phase, settings

    common = dict(
        deadline=None,
        # no "explain" phase: its notes about which lines ran are noise in a learner's failure
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.register_profile("dev", max_examples=25, **common)
    settings.register_profile("ci", max_examples=60, derandomize=True, database=None, **common)
    # verify's runs that only need a verdict: a stub or a mutant fails, no need to shrink
    # the example; --quick checks each solution on fewer examples.
    verdict = {**common, "phases": [Phase.explicit, Phase.generate]}
    settings.register_profile(
        "verdict", max_examples=60, derandomize=True, database=None, **verdict
    )
    settings.register_profile("quick", max_examples=10, derandomize=True, database=None, **common)
    name = os.environ.get(PROFILE_ENV) or ("ci" if os.environ.get("CI") else "dev")
    settings.load_profile(name)
    return name


def pin_threads():
    """One BLAS and one torch thread: parallel test processes must not oversubscribe."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import torch

    torch.set_num_threads(1)


def pytest_configure(config):
    try:
        root = paths.impl_root(config.getoption("--impl"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    impl.set_root(root)
    context.session_notes.clear()
    config._dlkatas = {
        "impl": str(root),
        "profile": _register_hypothesis_profiles(),
        "tests": {},
        "collect_errors": [],
    }
    threads = os.environ.get("DLKATAS_THREADS", "")
    if threads == "1":
        pin_threads()
    elif not threads:
        # torch is the oracle on small tensors here: one thread is faster than a pool
        import torch

        torch.set_num_threads(1)


TRAINING_TIMEOUT = 600  # seconds per training test; others get pyproject's `timeout`


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("training") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(TRAINING_TIMEOUT))


def pytest_report_header(config):
    info = config._dlkatas
    return (
        f"dlkatas: testing {paths.rel(Path(info['impl']))}/ (hypothesis profile {info['profile']})"
    )


def _kata_of(path: Path) -> str | None:
    name = Path(path).stem
    return name.removeprefix("test_") if name.startswith("test_") else None


def pytest_runtest_setup(item):
    context.reset(_kata_of(item.path))


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A NumPy Generator seeded from the test's name: the same inputs every run.

    The seed appears in failure messages.
    """
    seed = zlib.crc32(request.node.nodeid.encode()) % (2**31)
    context.current.seed = seed
    return np.random.default_rng(seed)


def _is_not_implemented(exc: BaseException) -> bool:
    if isinstance(exc, NotImplementedError):
        return True
    if isinstance(exc, _GROUP):
        return all(_is_not_implemented(e) for e in exc.exceptions)
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    name = type(exc).__name__
    if name in ("AssertionError", "Failed"):
        return line or name
    return f"{name}: {line}" if line else name


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    info = item.config._dlkatas
    entry = info["tests"].setdefault(
        item.nodeid, {"outcome": "passed", "not_implemented": False, "message": "", "duration": 0.0}
    )
    entry["duration"] += report.duration
    if report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "skipped"
        entry["message"] = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    elif report.failed:
        entry["outcome"] = "failed"
        if call.excinfo is not None and not entry["message"]:
            entry["not_implemented"] = _is_not_implemented(call.excinfo.value)
            entry["message"] = _first_line(call.excinfo.value)


def pytest_collectreport(report):
    if report.failed:
        config = getattr(report, "config", None) or _CONFIG.get("config")
        if config is not None:
            config._dlkatas["collect_errors"].append(
                f"{report.nodeid}: {str(report.longrepr)[-500:]}"
            )


_CONFIG: dict = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    _CONFIG["config"] = session.config


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    info = config._dlkatas
    tests = info["tests"].values()
    if context.session_notes:
        terminalreporter.section("dlkatas notes")
        for note in context.session_notes:
            terminalreporter.write_line(note)
    failed = [t for t in tests if t["outcome"] == "failed"]
    if failed and all(t["not_implemented"] for t in failed) and len(failed) == len(tests):
        terminalreporter.write_line(
            "\nNot started: every test stopped at NotImplementedError. Open the kata's .py file, "
            "replace `raise NotImplementedError` with your code, and run these tests again."
        )


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    target = config.getoption("--dlkatas-report")
    if not target:
        return
    info = config._dlkatas
    data = {
        "impl": info["impl"],
        "exitstatus": int(exitstatus),
        "tests": info["tests"],
        "collect_errors": info["collect_errors"],
        "load_errors": sorted(set(impl.load_errors)),
        "notes": list(context.session_notes),
    }
    tmp = Path(target).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, target)
