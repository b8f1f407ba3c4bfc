"""Where things live in the repository, and the implementation roots."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KATAS = REPO / "katas"
REFERENCE = REPO / "reference"
SOLUTIONS = REFERENCE / "solutions"
STUBS = REFERENCE / "stubs"
MUTANTS = REFERENCE / "mutants"
PROGRESS = REPO / "progress.toml"
STATE = REPO / ".dlkatas"  # backups and run logs; ignored by git
CURRICULUM = Path(__file__).resolve().parent / "curriculum.toml"

IMPL_ENV = "DLKATAS_IMPL"
NAMED_ROOTS = {"learner": KATAS, "solution": SOLUTIONS, "stub": STUBS}


def impl_root(impl: str | None = None) -> Path:
    """The folder that mirrors katas/ for an --impl value (learner, solution, stub or a DIR)."""
    impl = impl or os.environ.get(IMPL_ENV) or "learner"
    if impl in NAMED_ROOTS:
        return NAMED_ROOTS[impl]
    root = Path(impl).expanduser()
    if not root.is_absolute():
        root = Path.cwd() / root
    if not root.is_dir():
        raise ValueError(
            f"--impl={impl}: no such folder. Use learner, solution, stub, or a folder "
            "that mirrors the katas/ layout (NN_section/<kata>.py)."
        )
    return root.resolve()


def rel(path: Path) -> str:
    """A path as the learner would type it: relative to the repository when inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)
