"""Look inside a CNN: its first-layer filters and a layer's activation maps as images.

Each filter (or map) gets its own [0, 1] scale, so a filter with small weights is as
visible as a large one; tiles sit in a grid with 1-pixel borders; colour filters stay in
colour. References: Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional
Networks"; CS231n's vis_utils.py (visualize_grid); torchvision.utils.make_grid.
"""

import math

import numpy as np


def tile_filters(w, pad_value=0.5):
    """Tile filters (n, C, kH, kW), C = 1 or 3, into one grey (H, W) or colour (H, W, 3) image."""
    n, C, kH, kW = w.shape
    if C not in (1, 3):
        raise ValueError(
            f"w has {C} input channels: only 1 (grey) or 3 (colour) show as an image; "
            "tile one channel at a time (w[:, [c]])"
        )
    # One scale per filter, over all its channels together: the colours keep their balance.
    lo = w.min(axis=(1, 2, 3), keepdims=True)  # (n, 1, 1, 1)
    span = w.max(axis=(1, 2, 3), keepdims=True) - lo
    # A constant filter has span 0: show it as 0 rather than divide 0 by 0 (NaN).
    tiles = np.where(span > 0, (w - lo) / np.where(span > 0, span, 1), 0)  # (n, C, kH, kW)
    tiles = tiles.transpose(0, 2, 3, 1)  # (n, kH, kW, C): channels last, as images are
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    # A 1-pixel border around every tile: tiles every kH + 1 rows, plus one closing border.
    image = np.full((rows * (kH + 1) + 1, cols * (kW + 1) + 1, C), pad_value, dtype=w.dtype)
    for k in range(n):  # a loop over tiles (not pixels): n is a few dozen
        top, left = 1 + (k // cols) * (kH + 1), 1 + (k % cols) * (kW + 1)  # row-major
        image[top : top + kH, left : left + kW] = tiles[k]
    return image[:, :, 0] if C == 1 else image  # grey: (H, W); colour: (H, W, 3)


def activation_maps(x, layer_fn):
    """One image's activation maps (C_out, H', W') from a layer that takes batches."""
    if x.ndim == 2:
        x = x[None]  # a grey (H, W) image is one channel: (1, H, W)
    return layer_fn(x[None])[0]  # a batch of one: (1, C, H, W) -> (1, C_out, H', W') -> drop N


def tile_activations(a, pad_value=0.5):
    """Tile a layer's maps (C, H, W) into one grey grid image, each map on its own scale."""
    return tile_filters(a[:, None], pad_value)  # each map is a one-channel "filter"


def save_png(image, path):
    """Write a grey (H, W) or colour (H, W, 3) image in [0, 1] as a PNG of H x W pixels."""
    import matplotlib.image  # no pyplot and no figure: no display needed, no axes or margins

    # Fixed vmin and vmax: without them a grey image's contrast is stretched to its own range.
    matplotlib.image.imsave(path, image, cmap="gray", vmin=0.0, vmax=1.0)
