"""Tolerance classes, in one place. Always an (rtol, atol) pair.

The oracle runs in float64; the tolerance is chosen by the dtype the learner's
result must have. Classes grow with how much rounding the computation can pile up:
an elementwise op rounds once, a reduction sums many roundings, a matmul sums
products, and a gradient goes through a whole backward pass.
"""

from __future__ import annotations

import numpy as np

TOLERANCES: dict[str, dict[str, tuple[float, float]]] = {
    #                  float64 (rtol, atol)   float32 (rtol, atol)
    "elementwise": {"float64": (1e-9, 1e-12), "float32": (1e-5, 1e-6)},
    "reduction": {"float64": (1e-8, 1e-10), "float32": (1e-4, 1e-5)},
    "matmul": {"float64": (1e-8, 1e-10), "float32": (1e-4, 1e-5)},
    "grad": {"float64": (1e-7, 1e-9), "float32": (1e-3, 1e-4)},
}


def tolerance(kind: str, dtype) -> tuple[float, float]:
    """(rtol, atol) for a tolerance class and the dtype being checked."""
    if kind not in TOLERANCES:
        raise ValueError(f"unknown tolerance class {kind!r}; one of {sorted(TOLERANCES)}")
    name = np.dtype(dtype).name
    table = TOLERANCES[kind]
    return table.get(
        name, table["float32"] if name in ("float16", "bfloat16") else table["float64"]
    )
