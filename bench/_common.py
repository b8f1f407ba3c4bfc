"""What every benchmark shares: one thread each, the reference solution, fair timing.

Import this module first in a bench script (`import _common`): it pins NumPy's BLAS to one
thread before NumPy loads, as the checker runs katas, and puts the repository on sys.path.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread, set before NumPy (and torch) load their BLAS libraries.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

BUDGET_LINE = "\nratio = numpy / torch (below 1: NumPy is faster; the budget here is 3)"


def solution(kata_id: str):
    """The reference solution's module for a kata ("03_cnn/conv2d")."""
    from checker import paths
    from checker.impl import load_module

    return load_module(kata_id, impl_root=paths.SOLUTIONS)


def versions() -> str:
    return f"torch {torch.__version__}, NumPy {np.__version__}"


def median_ms(steps, repeats: int, warmup: int = 2) -> list[float]:
    """Median milliseconds of each step, the steps taking turns (fair on a busy machine)."""
    for _ in range(warmup):
        for step in steps:
            step()
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for step, record in zip(steps, times):
            start = time.perf_counter()
            step()
            record.append(time.perf_counter() - start)
    return [1000 * statistics.median(t) for t in times]


def max_diff(ours, theirs, relative: bool = False) -> float:
    """Largest |a - b| over pairs of NumPy arrays and tensors; relative: to each b's scale
    (gradients summed over a batch or a sequence are large)."""
    worst = 0.0
    for a, t in zip(ours, theirs):
        b = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
        d = float(np.max(np.abs(a - b)))
        if relative:
            d /= float(np.max(np.abs(b))) or 1.0
        worst = max(worst, d)
    return worst
