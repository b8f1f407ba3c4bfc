"""Data augmentation on a batch of images (N, C, H, W): crop, flip, noise, cutout, mixup.

Implement with NumPy. Each random augmentation comes in two parts: one function
draws the parameters from a NumPy Generator `rng` (same seed, same augmentation),
another applies them. Never modify the input batch: return new arrays.
Run: pytest katas/02_training/test_augmentation.py
"""

import numpy as np


def crop_offsets(n: int, pad: int, rng: np.random.Generator) -> np.ndarray:
    """Draw each image's (top, left) crop offset into its padded version, uniformly.

    Math:
        top, left ~ Uniform{0, 1, ..., 2 * pad}, independently per image and per axis
        (a side of H + 2 pad pixels holds 2 pad + 1 windows of H pixels)

    Shapes:
        returns (N, 2) integers: column 0 is top, column 1 is left.

    Args:
        n: the batch size N.
        pad: the padding added on each side.
        rng: where all the randomness comes from.

    Returns:
        The offsets, one row per image.

    Numerics:
        rng.integers(low, high) excludes high: mind the last position.

    Reference:
        torchvision.transforms.RandomCrop.get_params: torch.randint(0, h - th + 1)
    """
    raise NotImplementedError


def crop(x: np.ndarray, offsets: np.ndarray, pad: int) -> np.ndarray:
    """Zero-pad each image by `pad` on all four sides, then cut the H x W window at its offset.

    Math:
        padded = x with `pad` zeros added before and after the H and W axes
        out[i] = padded[i, :, top_i : top_i + H, left_i : left_i + W]

    Shapes:
        x: (N, C, H, W); offsets: (N, 2) as (top, left); out: (N, C, H, W).

    Args:
        x: a batch of images (any dtype: float or uint8).
        offsets: from crop_offsets, each in 0 .. 2 * pad.
        pad: the padding on each side (0: no padding, then the crop is x itself).

    Returns:
        The cropped batch, x's shape and dtype.

    Numerics:
        Vectorize over the batch: index arrays that broadcast to (N, C, H, W), or
        np.lib.stride_tricks.sliding_window_view.

    Reference:
        torchvision.transforms.RandomCrop(size=(H, W), padding=pad) on each image:
        F.pad(x, (pad, pad, pad, pad)) then slicing
    """
    raise NotImplementedError


def flip_mask(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Draw which images to flip: each one independently with probability p.

    Math:
        flip_i ~ Bernoulli(p)

    Shapes:
        returns (N,) bool.

    Args:
        n: the batch size N.
        p: the probability to flip an image.
        rng: where all the randomness comes from.

    Returns:
        True for the images to flip.

    Numerics:
        rng.random(n) is uniform on [0, 1): a draw below p happens with probability p.

    Reference:
        torchvision.transforms.RandomHorizontalFlip(p): flips if torch.rand(1) < p
    """
    raise NotImplementedError


def hflip(x: np.ndarray, flip: np.ndarray) -> np.ndarray:
    """Mirror the chosen images left to right; leave the others as they are.

    Math:
        out[i, c, h, w] = x[i, c, h, W - 1 - w]   where flip[i], else x[i, c, h, w]

    Shapes:
        x: (N, C, H, W); flip: (N,) bool; out: (N, C, H, W).

    Args:
        x: a batch of images.
        flip: from flip_mask.

    Returns:
        The new batch, x's dtype.

    Numerics:
        Flipping twice must give x back exactly.

    Reference:
        torch.flip(x, dims=[3]) (torchvision's hflip) where flip is True
    """
    raise NotImplementedError


def add_noise(x: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Add independent Gaussian noise with standard deviation std to every element.

    Math:
        out = x + std * eps,   eps ~ N(0, 1) elementwise

    Shapes:
        x: any shape; out: x's shape.

    Args:
        x: a batch of images (floating point).
        std: the noise's standard deviation (not its variance).
        rng: draw eps with ONE call, rng.standard_normal(x.shape) (float64); the test
            replays it.

    Returns:
        A new array of x's dtype (cast the sum back to x's dtype).

    Numerics:
        Never x += ...: that would overwrite the caller's batch.

    Reference:
        x + std * torch.randn_like(x)
    """
    raise NotImplementedError


def cutout_centers(n: int, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Draw each image's cutout center, uniformly over all its pixels, border included.

    Math:
        row ~ Uniform{0, ..., height - 1};  col ~ Uniform{0, ..., width - 1}

    Shapes:
        returns (N, 2) integers: column 0 is the row, column 1 the column.

    Args:
        n: the batch size N.
        height, width: the image size H, W.
        rng: where all the randomness comes from.

    Returns:
        The centers, one row per image.

    Numerics:
        Centers near the border are meant: the square may hang over the edge.

    Reference:
        DeVries & Taylor (2017), Cutout: y = np.random.randint(h), x = np.random.randint(w)
    """
    raise NotImplementedError


def cutout(x: np.ndarray, centers: np.ndarray, size: int) -> np.ndarray:
    """Zero a size x size square around each image's center, in every channel.

    Math:
        top = row - size // 2;  left = col - size // 2
        out[i, :, h, w] = 0  for top <= h < top + size and left <= w < left + size,
        keeping only the pixels that lie inside the image; elsewhere out = x

    Shapes:
        x: (N, C, H, W); centers: (N, 2) as (row, col); out: (N, C, H, W).

    Args:
        x: a batch of images (any dtype).
        centers: from cutout_centers.
        size: the side of the square (0: nothing is cut; larger than the image: all).

    Returns:
        The new batch, x's dtype.

    Numerics:
        Clip the square at the border; do not shift it inside, and beware of negative
        indices: in NumPy x[-2:3] is not rows 0 to 2.

    Reference:
        The Cutout class of DeVries & Taylor's code, which np.clips the square's
        bounds (its square is size - 1 wide for odd sizes; here it is always size)
    """
    raise NotImplementedError


def mixup_params(n: int, alpha: float, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """Draw mixup's mixing weight and the pairing of the batch.

    Math:
        lam ~ Beta(alpha, alpha) (lam = 1 when alpha <= 0: no mixing);
        perm: a uniformly random permutation of 0 .. N - 1

    Shapes:
        lam: a Python float; perm: (N,) integers.

    Args:
        n: the batch size N.
        alpha: the Beta distribution's parameter (0.2 to 0.4 is common).
        rng: where all the randomness comes from.

    Returns:
        (lam, perm): one lam for the whole batch, as in the paper's code.

    Numerics:
        rng.beta needs alpha > 0: handle alpha <= 0 before calling it.

    Reference:
        mixup_data in facebookresearch/mixup-cifar10: lam = np.random.beta(alpha,
        alpha); index = torch.randperm(batch_size)
    """
    raise NotImplementedError


def mixup(
    x: np.ndarray, y: np.ndarray, num_classes: int, lam: float, perm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mix every image and its one-hot label with those of its partner perm[i].

    Math:
        Y = one_hot(y, num_classes)
        x_mix = lam * x + (1 - lam) * x[perm]
        y_mix = lam * Y + (1 - lam) * Y[perm]

    Shapes:
        x: (N, C, H, W) (or any (N, ...)); y: (N,) integer labels; perm: (N,);
        x_mix: x's shape; y_mix: (N, num_classes).

    Args:
        x: a batch of images (floating point); y: their class labels.
        num_classes: K, the number of classes (a batch may lack some of them).
        lam, perm: from mixup_params.

    Returns:
        (x_mix, y_mix), both of x's dtype; each row of y_mix sums to 1.

    Numerics:
        Keep x's dtype: lam is a Python float, which does not promote float32.

    Reference:
        mixup_data in facebookresearch/mixup-cifar10, with the label mixed as
        F.one_hot(y, K) instead of mixing the two losses
    """
    raise NotImplementedError
