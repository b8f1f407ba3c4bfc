"""PyTorch oracles the tests compare against, one module per kata that needs more
than a single torch call. Everything runs in float64.
"""

from __future__ import annotations

import numpy as np
import torch


def tensor(x, grad: bool = False) -> torch.Tensor:
    """A float64 torch copy of a NumPy array (integers stay int64)."""
    arr = np.array(x, copy=True)
    t = torch.from_numpy(arr)
    if t.is_floating_point():
        t = t.to(torch.float64)
    elif t.dtype != torch.bool:
        t = t.to(torch.int64)
    return t.requires_grad_(grad) if grad else t


def numpy(t: torch.Tensor) -> np.ndarray:
    """A float64 NumPy copy of a tensor."""
    return t.detach().cpu().numpy().copy()
