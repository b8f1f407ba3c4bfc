"""A broken learner file marks its own kata, with a clear reason, and nothing else."""

import shutil

import pytest

from checker import catalog, paths, runner

FORWARD = "01_fundamentals/forward"


@pytest.fixture
def root(tmp_path):
    """An implementation root holding the reference solutions, ready to break."""
    shutil.copytree(paths.SOLUTIONS, tmp_path / "impl")
    return tmp_path / "impl"


def run_forward(root, source: str | None = None, timeout: float = 60):
    kata = catalog.course().kata(FORWARD)
    if source is not None:
        (root / kata.relpath).write_text(source)
    return runner.run([runner.Job(kata, str(root), "test", timeout=timeout)])[0]


def test_the_solution_passes(root):
    assert run_forward(root).status == runner.PASSING


def test_a_syntax_error_is_an_error_with_its_line(root):
    r = run_forward(root, "import numpy as np\ndef mlp_forward(X:\n")
    assert r.status == runner.ERROR
    assert "SyntaxError at line 2" in r.detail


def test_importing_torch_in_a_numpy_kata_is_refused(root):
    r = run_forward(root, "import torch\n")
    assert r.status == runner.ERROR and "torch is the oracle, not a tool" in r.detail


def test_an_infinite_loop_times_out(root):
    src = (paths.SOLUTIONS / FORWARD).with_suffix(".py").read_text()
    src = src.replace("    h = X  # (N, D)", "    while True:\n        pass\n    h = X")
    r = run_forward(root, src, timeout=4)
    assert r.status == runner.ERROR and "timed out" in r.detail


def test_os_exit_in_learner_code_is_reported(root):
    r = run_forward(root, "import os\nos._exit(3)\n")
    assert r.status == runner.ERROR and "before it could report" in r.detail


def test_sys_exit_in_a_function_fails_that_kata_only(root):
    src = (paths.SOLUTIONS / FORWARD).with_suffix(".py").read_text()
    r = run_forward(root, src.replace("    h = X  # (N, D)", "    raise SystemExit(1)"))
    assert r.status in (runner.FAILING, runner.ERROR)


def test_a_missing_function_is_named_with_its_signature(root):
    src = (paths.SOLUTIONS / FORWARD).with_suffix(".py").read_text()
    r = run_forward(root, src.replace("def mlp_forward(", "def mlp_forwards("))
    messages = " ".join(m for _, m in r.failures) + r.detail
    assert "does not define mlp_forward(X, weights, biases, activation='relu')" in messages


def test_a_stub_is_not_started(root):
    r = run_forward(paths.STUBS)
    assert r.status == runner.NOT_STARTED


def test_slow_imports_are_warmed_only_for_katas_run_three_times():
    import dataclasses

    kata = dataclasses.replace(catalog.course().kata(FORWARD), warm=("json", "csv"))
    once = [runner.Job(kata, "solution", "solution"), runner.Job(kata, "stub", "stub")]
    assert runner._worth_warming(once) == ()
    mutant = runner.Job(kata, "x", "mutant m")
    assert runner._worth_warming(once + [mutant]) == ("json", "csv")


def test_a_passing_kata_with_skipped_tests_says_so():
    from checker import progress

    kata = catalog.course().kata(FORWARD)
    r = runner.Result(runner.Job(kata, "solution", "solution"), runner.PASSING, 5, 0, 2)
    assert progress.summarize(r) == (
        "5 tests pass, 2 skipped (why: pytest katas/01_fundamentals/test_forward.py -rs)"
    )


def test_the_cli_pins_blas_before_numpy_loads():
    # `python -m checker` imports the package before __main__ pins the threads: the package
    # must not import NumPy, or every forked test process inherits a multi-threaded BLAS.
    import subprocess
    import sys

    code = "import checker.runner, sys; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_an_item_waits_for_the_skipped_tests_of_its_katas():
    from checker import progress

    course = catalog.course()
    kata = course.kata(FORWARD)
    item = course.items_for(kata)[0]
    states = {k.id: progress.KataState(runner.PASSING) for k in course.katas}
    assert progress.item_done(course, item, states, doc={})
    states[kata.id] = progress.KataState(runner.PASSING, skipped=1)
    assert not progress.item_done(course, item, states, doc={})
