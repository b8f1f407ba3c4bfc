"""Data augmentation on a batch of images (N, C, H, W): crop, flip, noise, cutout, mixup.

Each random augmentation is split in two: draw the parameters from an rng, then apply
them. The draw is where the statistics live; the apply part is plain array indexing.
References: torchvision.transforms.RandomCrop / RandomHorizontalFlip; DeVries & Taylor,
"Improved Regularization of CNNs with Cutout" (2017); Zhang et al., "mixup: Beyond
Empirical Risk Minimization" (2018).
"""

import numpy as np


def crop_offsets(n, pad, rng):
    """Per-image (top, left) offsets into the padded image, uniform over every position."""
    # A padded side is H + 2 pad long and the crop H: 2 pad + 1 positions, 0 to 2 pad inclusive.
    return rng.integers(0, 2 * pad + 1, size=(n, 2))  # (N, 2): column 0 top, column 1 left


def crop(x, offsets, pad):
    """Zero-pad each image by `pad` on all four sides, then cut an H x W window at offsets."""
    N, C, H, W = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2p, W + 2p), zeros
    rows = offsets[:, 0, None] + np.arange(H)  # (N, H): the padded rows each crop keeps
    cols = offsets[:, 1, None] + np.arange(W)  # (N, W)
    # Fancy indexing with broadcast index arrays gathers every image's window at once.
    n = np.arange(N)[:, None, None, None]  # (N, 1, 1, 1)
    c = np.arange(C)[None, :, None, None]  # (1, C, 1, 1)
    return padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W)


def flip_mask(n, p, rng):
    """Which images to flip: each one independently with probability p."""
    return rng.random(n) < p  # (N,) bool


def hflip(x, flip):
    """Mirror the images where flip is True left to right (along W, the last axis)."""
    return np.where(flip[:, None, None, None], x[..., ::-1], x)  # a new array, x untouched


def add_noise(x, std, rng):
    """Add N(0, std^2) noise to every pixel; the result keeps x's dtype."""
    noise = rng.standard_normal(x.shape)  # float64, one draw per element
    return (x + std * noise).astype(x.dtype)  # x + ..., never x += ...: x is the caller's


def cutout_centers(n, height, width, rng):
    """Per-image (row, col) centers for cutout, uniform over every pixel of the image."""
    rows = rng.integers(0, height, size=n)  # anywhere, the border included
    cols = rng.integers(0, width, size=n)
    return np.stack([rows, cols], axis=1)  # (N, 2)


def cutout(x, centers, size):
    """Zero a size x size square around each center (all channels), clipped at the border."""
    N, C, H, W = x.shape
    top = centers[:, 0, None] - size // 2  # (N, 1); negative when the square hangs over the top
    left = centers[:, 1, None] - size // 2  # (N, 1)
    rows, cols = np.arange(H), np.arange(W)
    # Comparing pixel indices with the square's bounds clips it at the border for free.
    in_rows = (rows >= top) & (rows < top + size)  # (N, H)
    in_cols = (cols >= left) & (cols < left + size)  # (N, W)
    square = in_rows[:, :, None] & in_cols[:, None, :]  # (N, H, W)
    return np.where(square[:, None], x.dtype.type(0), x)  # (N, 1, H, W) covers every channel


def mixup_params(n, alpha, rng):
    """lam ~ Beta(alpha, alpha) (1 when alpha <= 0) and a random pairing of the batch."""
    lam = float(rng.beta(alpha, alpha)) if alpha > 0 else 1.0  # one lam for the whole batch
    return lam, rng.permutation(n)


def mixup(x, y, num_classes, lam, perm):
    """Mix each image and its one-hot label with those of its partner perm[i]."""
    onehot = np.eye(num_classes, dtype=x.dtype)[y]  # (N, K): num_classes, not y.max() + 1
    x_mix = lam * x + (1 - lam) * x[perm]
    y_mix = lam * onehot + (1 - lam) * onehot[perm]  # the same lam and perm as the images
    return x_mix, y_mix
