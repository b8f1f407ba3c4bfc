"""Look inside a CNN: its first-layer filters and a layer's activation maps as images.

Implement with NumPy (and matplotlib to write the PNG). Each filter or map gets its own
[0, 1] scale, tiles sit in a row-major grid with 1-pixel borders, and colour filters stay
in colour. The tests check the arrays, not the pictures by eye.
Run: pytest katas/03_cnn/test_visualize.py
"""

import numpy as np


def tile_filters(w: np.ndarray, pad_value: float = 0.5) -> np.ndarray:
    """Tile filters (n, C, kH, kW), C = 1 or 3, into one grey (H, W) or colour (H, W, 3) image.

    Math:
        Each filter on its own scale, over all its C channels together:
        tile_k = (w_k - min(w_k)) / (max(w_k) - min(w_k)), and 0 where max = min.
        Grid: cols = ceil(sqrt(n)), rows = ceil(n / cols); filter k goes to grid row
        k // cols, column k % cols (row-major), its top-left pixel at
        (1 + (k // cols) * (kH + 1), 1 + (k % cols) * (kW + 1)).
        Every other pixel (the 1-pixel borders around and between tiles, the empty
        cells after the last filter) is pad_value.

    Shapes:
        w: (n, C, kH, kW), torch's conv weight layout, C in {1, 3}.
        Returns (rows * (kH + 1) + 1, cols * (kW + 1) + 1) for C = 1, and the same with
        a last axis of 3 for C = 3: channels last, as matplotlib expects.

    Args:
        w: the filters (a first conv layer's weight).
        pad_value: the border and empty-cell value in [0, 1].

    Returns:
        The image, w's dtype, values in [0, 1].

    Numerics:
        A constant filter (max = min) maps to 0, never 0 / 0 = NaN.
        C other than 1 or 3 raises ValueError (show one channel at a time: w[:, [c]]).

    Reference:
        torchvision.utils.make_grid(w, nrow=cols, padding=1, normalize=True,
        scale_each=True); CS231n vis_utils.visualize_grid.
    """
    raise NotImplementedError


def activation_maps(x: np.ndarray, layer_fn) -> np.ndarray:
    """One image's activation maps from a layer that takes batches.

    Math:
        maps = layer_fn(batch of one image)[0]

    Shapes:
        x: (C, H, W), or (H, W) for a grey image (one channel);
        layer_fn: (N, C, H, W) -> (N, C_out, H', W'); returns (C_out, H', W').

    Args:
        x: one image (not a batch).
        layer_fn: the network up to the layer to look at, e.g. conv then ReLU.

    Returns:
        The maps, as layer_fn returns them (dtype included).

    Numerics:
        Call layer_fn once, with a 4-D batch of one image.

    Reference:
        a forward hook's output: model.layer.register_forward_hook(...)
    """
    raise NotImplementedError


def tile_activations(a: np.ndarray, pad_value: float = 0.5) -> np.ndarray:
    """Tile a layer's activation maps (C, H, W) into one grey grid image.

    Math:
        The same grid as tile_filters, with map c as a one-channel filter:
        each map on its own [0, 1] scale, 1-pixel borders of pad_value.

    Shapes:
        a: (C, H, W); returns (rows * (H + 1) + 1, cols * (W + 1) + 1), C tiles.

    Args:
        a: activation maps of one image.
        pad_value: the border and empty-cell value.

    Returns:
        The grey image, a's dtype.

    Numerics:
        A map that is 0 everywhere (a dead ReLU channel) shows as 0, without NaN.

    Reference:
        torchvision.utils.make_grid(a[:, None], normalize=True, scale_each=True)
    """
    raise NotImplementedError


def save_png(image: np.ndarray, path) -> None:
    """Write a grey (H, W) or colour (H, W, 3) image in [0, 1] as a PNG of H x W pixels.

    Math:
        Grey: value v -> grey level v (black 0, white 1), with no contrast stretch.
        Colour: the three channels as red, green, blue.

    Shapes:
        image: (H, W) or (H, W, 3); the file is H x W pixels (no axes, no margins).

    Args:
        image: as tile_filters or tile_activations return it.
        path: where to write the .png.

    Returns:
        None.

    Numerics:
        Fix the grey scale to [0, 1] (vmin=0, vmax=1): matplotlib stretches each image
        to its own range otherwise. No display needed: no figure, no pyplot window.

    Reference:
        matplotlib.image.imsave (or plt.imsave); read back with matplotlib.image.imread.
    """
    raise NotImplementedError
