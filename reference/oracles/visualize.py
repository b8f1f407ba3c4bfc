"""Oracle for 03_cnn/visualize: the filter grid built with torch reshapes and permutes.

An independent construction (no loop over tiles): pad every tile on its bottom and right,
lay the (rows * cols) tiles out with one permute, then add the top and left border.
Keyword switches reproduce learners' known mistakes, so a failure can name the one it matches.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) for n tiles: cols = ceil(sqrt(n)), rows = ceil(n / cols)."""
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def tile_filters(
    w, pad_value=0.5, scale="filter", transpose=False, column_major=False, lead_border=True
):
    """The (H, W) grey or (H, W, 3) colour grid of filters w (n, C, kH, kW), each in [0, 1].

    scale: "filter" (each filter on its own, all its channels together: the right one),
    "global" (one min and max for all filters) or "channel" (each colour on its own).
    lead_border=False: the off-by-one grid whose tiles start at pixel 0 (no border above and
    left, two below and right).
    """
    t = tensor(w)
    n, C, kH, kW = t.shape
    dims = {"filter": (1, 2, 3), "global": (0, 1, 2, 3), "channel": (2, 3)}[scale]
    lo, hi = t.amin(dim=dims, keepdim=True), t.amax(dim=dims, keepdim=True)
    span = hi - lo
    t = torch.where(span > 0, (t - lo) / torch.where(span > 0, span, 1.0), 0.0)
    if transpose:
        t = t.transpose(2, 3)
        kH, kW = kW, kH
    rows, cols = grid_shape(n)
    cells = torch.full((rows * cols, C, kH, kW), float(pad_value), dtype=torch.float64)
    cells[:n] = t
    if column_major:  # filter k at (k % rows, k // rows)
        cells = cells.reshape(cols, rows, C, kH, kW).transpose(0, 1).reshape(-1, C, kH, kW)
    cells = F.pad(cells, (0, 1, 0, 1), value=float(pad_value))  # a border below and right
    grid = cells.reshape(rows, cols, C, kH + 1, kW + 1).permute(2, 0, 3, 1, 4)
    grid = grid.reshape(C, rows * (kH + 1), cols * (kW + 1))
    edge = (1, 0, 1, 0) if lead_border else (0, 1, 0, 1)
    grid = F.pad(grid, edge, value=float(pad_value))  # ... and above and left
    return numpy(grid[0] if C == 1 else grid.permute(1, 2, 0))  # channels last for colour
