"""dlkatas' checker: the harness the katas' tests use, and the CLI (python -m checker).

What tests import from here:

    from checker import kata, dependency, call, assert_close, assert_raises, assert_true, note
    from checker import strategies as cs
"""

import importlib

# Imported on first use, not here: `python -m checker` imports this package before its
# __main__ can pin NumPy's BLAS to one thread, and NumPy reads that setting once, at import
# (two BLAS threads in each of two test processes on two cores ran training 3-5x slower).
_HOME = {
    "assert_close": "checker.compare",
    "assert_png": "checker.compare",
    "assert_raises": "checker.compare",
    "assert_true": "checker.compare",
    "call": "checker.compare",
    "describe": "checker.compare",
    "note": "checker.context",
    "dependency": "checker.impl",
    "kata": "checker.impl",
}


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'checker' has no attribute {name!r}")


__all__ = [
    "kata",
    "dependency",
    "call",
    "assert_close",
    "assert_png",
    "assert_raises",
    "assert_true",
    "describe",
    "note",
]
