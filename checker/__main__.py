"""python -m checker ..."""

import os
import sys

from checker.runner import pin_threads_early

pin_threads_early()  # before anything imports numpy

from checker.cli import main  # noqa: E402

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:  # `python -m checker progress | head`: the reader has had enough
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
raise SystemExit(code)
