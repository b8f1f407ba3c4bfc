"""A package kata's tests get a package assembled for them: their own module from the
selected root, earlier modules from it only where those katas pass, later ones from the
reference, so unfinished later work never breaks an earlier kata."""

import json
import shutil

import pytest

from checker import catalog, impl, paths

SECTION = "09_autograd"


def kata(name):
    return catalog.course().kata(f"{SECTION}/{name}")


@pytest.fixture
def learner(tmp_path, monkeypatch):
    """A learner's root: every module of the package still the shipped stub."""
    root = tmp_path / "katas"
    shutil.copytree(paths.STUBS / SECTION, root / SECTION)
    monkeypatch.setattr(impl, "_packages", {})
    monkeypatch.setattr(impl, "load_errors", [])  # this session's report must not count them
    return root


def write(root, name, source):
    (root / kata(name).relpath).write_text(source)


def test_the_kata_under_test_comes_from_the_selected_root(learner):
    ops = kata("ops")
    assert impl._module_choice(ops, ops, learner) == (learner / ops.relpath, None)


def test_an_unstarted_earlier_kata_is_replaced_by_the_reference_with_a_note(learner):
    path, note = impl._module_choice(kata("ops"), kata("tensor"), learner)
    assert path == kata("tensor").solution_path
    assert "not started" in note and "test_tensor.py" in note


def test_later_modules_always_come_from_the_reference(learner):
    write(learner, "nn", "def broken(:\n")
    assert impl._module_choice(kata("ops"), kata("nn"), learner) == (
        kata("nn").solution_path,
        None,
    )


def test_an_earlier_kata_that_passes_is_the_learners(learner, monkeypatch):
    tensor = kata("tensor")
    source = tensor.solution_path.read_text() + "\n# mine\n"
    write(learner, "tensor", source)
    known = {f"{learner}:{tensor.id}": "passing"}
    monkeypatch.setenv(impl.KNOWN_STATUS_ENV, json.dumps(known))
    path, note = impl._module_choice(kata("ops"), tensor, learner)
    assert path == learner / tensor.relpath and "Using your" in note
    known[f"{learner}:{tensor.id}"] = "failing"
    monkeypatch.setenv(impl.KNOWN_STATUS_ENV, json.dumps(known))
    path, note = impl._module_choice(kata("ops"), tensor, learner)
    assert path == tensor.solution_path and "failing" in note


def test_a_broken_later_module_does_not_stop_an_earlier_katas_package(learner):
    write(learner, "nn", "def broken(:\n")
    write(learner, "tensor", kata("tensor").solution_path.read_text())
    package, ops = impl.load_package_module(f"{SECTION}/ops", learner)
    assert ops.__file__ == str(learner / kata("ops").relpath)
    assert package.nn.__file__ == str(kata("nn").solution_path)
    assert package.tensor.__file__ == str(learner / kata("tensor").relpath)
    assert package.Tensor is package.tensor.Tensor


def test_a_syntax_error_in_the_kata_under_test_names_the_file_and_line(learner):
    write(learner, "ops", "import numpy as np\ndef add(a, b:\n")
    with pytest.raises(
        pytest.fail.Exception, match=r"ops\.py does not import: SyntaxError at line 2"
    ):
        impl.load_package_module(f"{SECTION}/ops", learner)


def test_an_earlier_kata_that_hangs_is_replaced_by_the_reference(learner, monkeypatch):
    monkeypatch.setattr(impl, "STATUS_TIMEOUT", 2)
    monkeypatch.setattr(impl, "_dependency_status", {})
    write(learner, "tensor", "while True:\n    pass\n")
    path, note = impl._module_choice(kata("ops"), kata("tensor"), learner)
    assert path == kata("tensor").solution_path and "still running after 2 s" in note


def test_a_learners_earlier_kata_status_is_remembered_until_its_files_change(
    learner, tmp_path, monkeypatch
):
    monkeypatch.setattr(paths, "KATAS", learner)
    monkeypatch.setattr(paths, "STATE", tmp_path / "state")
    monkeypatch.setattr(impl, "_dependency_status", {})
    runs = []
    monkeypatch.setattr(impl, "_status_of", lambda kid, root: runs.append(kid) or "passing")
    tensor = kata("tensor")
    write(learner, "tensor", tensor.solution_path.read_text() + "\n# mine\n")
    for _ in range(2):
        monkeypatch.setattr(impl, "_dependency_status", {})
        path, _ = impl._module_choice(kata("ops"), tensor, learner)
        assert path == learner / tensor.relpath
    assert runs == [tensor.id]  # the second test run read the first one's result
    write(learner, "tensor", tensor.solution_path.read_text() + "\n# changed\n")
    impl._module_choice(kata("ops"), tensor, learner)
    assert runs == [tensor.id, tensor.id]
