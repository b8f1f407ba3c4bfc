"""dlkatas' checker: the harness the katas' tests use, and the CLI (python -m checker).

What tests import from here:

    from checker import kata, dependency, call, assert_close, assert_raises, assert_true, note
    from checker import strategies as cs
"""

from checker.compare import assert_close, assert_raises, assert_true, call, describe
from checker.context import note
from checker.impl import dependency, kata

__all__ = [
    "kata",
    "dependency",
    "call",
    "assert_close",
    "assert_raises",
    "assert_true",
    "describe",
    "note",
]
