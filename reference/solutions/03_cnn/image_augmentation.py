"""An ImageNet-style augmentation pipeline in NumPy: resized crop, flip, colour jitter, normalise.

Each random transform is two functions: one draws its parameters from a Generator, one
applies them. The formulas are torchvision's (transforms.RandomResizedCrop, functional
adjust_brightness / adjust_contrast / adjust_saturation, normalize) on float images in
[0, 1], shaped (C, H, W) or (N, C, H, W); on a batch, one draw applies to every image.
Section 02's augmentation kata covers padded crops, flips of a batch, noise, cutout and mixup.
"""

import math
from collections.abc import Callable, Sequence

import numpy as np

LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, as PIL's convert("L")


# ----------------------------------------------------------------------------- resized crop


def resized_crop_params(
    height: int,
    width: int,
    rng: np.random.Generator,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params with NumPy draws: (top, left, h, w)."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(scale[0], scale[1])
        # log-uniform: a 4:3 crop is as likely as a 3:4 one
        aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))  # aspect = w / h
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(rng.integers(0, height - h + 1))
            left = int(rng.integers(0, width - w + 1))
            return top, left, h, w
    # Ten misses (an image far from the ratio range): the largest centred crop within it.
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        w, h = int(round(height * max(ratio))), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _source_index(out_size: int, in_size: int):
    """Bilinear sampling positions along one axis (align_corners=False): i0, i1, weight of i1."""
    src = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5  # pixel centres line up
    src = np.maximum(src, 0.0)  # the first outputs would sample left of pixel 0: clamp
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, src - i0


def resized_crop(
    x: np.ndarray, top: int, left: int, height: int, width: int, size: int | tuple[int, int]
) -> np.ndarray:
    """Cut x[..., top:top+height, left:left+width], resize it bilinearly to size."""
    out_h, out_w = (size, size) if isinstance(size, int) else size
    crop = x[..., top : top + height, left : left + width]  # (..., C, h, w)
    y0, y1, wy = _source_index(out_h, crop.shape[-2])
    x0, x1, wx = _source_index(out_w, crop.shape[-1])
    wy, wx = wy.astype(x.dtype), wx.astype(x.dtype)
    # Interpolate between rows, then between columns: separable.
    rows = crop[..., y0, :] * (1 - wy)[:, None] + crop[..., y1, :] * wy[:, None]  # (..., out_h, w)
    return rows[..., x0] * (1 - wx) + rows[..., x1] * wx  # (..., C, out_h, out_w)


# ----------------------------------------------------------------------------- flip


def hflip_param(rng: np.random.Generator, p: float = 0.5) -> bool:
    return bool(rng.random() < p)


def hflip(x: np.ndarray, flip: bool) -> np.ndarray:
    return x[..., ::-1].copy() if flip else x.copy()  # W is the last axis


# ----------------------------------------------------------------------------- colour jitter


def rgb_to_grayscale(x: np.ndarray) -> np.ndarray:
    """(..., 3, H, W) -> (..., 1, H, W) luma; a 1-channel image is already grey."""
    if x.shape[-3] == 1:
        return x.copy()
    r, g, b = x[..., 0:1, :, :], x[..., 1:2, :, :], x[..., 2:3, :, :]  # keep the channel axis
    return LUMA[0] * r + LUMA[1] * g + LUMA[2] * b


def _blend(x: np.ndarray, other, factor: float) -> np.ndarray:
    """factor * x + (1 - factor) * other, clamped back into [0, 1]."""
    return np.clip(factor * x + (1.0 - factor) * other, 0.0, 1.0).astype(x.dtype, copy=False)


def adjust_brightness(x: np.ndarray, factor: float) -> np.ndarray:
    return _blend(x, 0.0, factor)  # blend with black


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    # One grey level per image: the mean luma over all its pixels (not a mean per channel).
    mean = rgb_to_grayscale(x).mean(axis=(-3, -2, -1), keepdims=True)  # (..., 1, 1, 1)
    return _blend(x, mean.astype(x.dtype), factor)


def adjust_saturation(x: np.ndarray, factor: float) -> np.ndarray:
    if x.shape[-3] == 1:
        return x.copy()  # nothing to desaturate
    return _blend(x, rgb_to_grayscale(x), factor)  # (..., 1, H, W) broadcasts over C


def jitter_params(
    rng: np.random.Generator,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.4,
) -> dict:
    order = rng.permutation(3)  # torchvision applies the adjustments in a random order
    factors = {
        name: float(rng.uniform(max(0.0, 1.0 - s), 1.0 + s))
        for name, s in (("brightness", brightness), ("contrast", contrast),
                        ("saturation", saturation))
    }  # fmt: skip
    return {"order": order, **factors}


def color_jitter(x: np.ndarray, params: dict) -> np.ndarray:
    adjust = [
        (adjust_brightness, "brightness"),
        (adjust_contrast, "contrast"),
        (adjust_saturation, "saturation"),
    ]
    out = x
    for i in params["order"]:
        fn, name = adjust[i]
        out = fn(out, params[name])
    return out.copy() if out is x else out


# ----------------------------------------------------------------------------- normalise


def normalize(x: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    m = np.asarray(mean, dtype=x.dtype)[:, None, None]  # (C, 1, 1): broadcasts over H, W
    s = np.asarray(std, dtype=x.dtype)[:, None, None]
    return (x - m) / s


def denormalize(x: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    m = np.asarray(mean, dtype=x.dtype)[:, None, None]
    s = np.asarray(std, dtype=x.dtype)[:, None, None]
    return x * s + m


# ----------------------------------------------------------------------------- pipeline


def compose(transforms: Sequence[Callable]) -> Callable:
    """Chain transforms t(x, rng) -> x into pipeline(x, label, rng) -> (x, label)."""
    steps = list(transforms)  # a copy: later changes to the caller's list do not leak in

    def pipeline(x, label, rng):
        for t in steps:
            x = t(x, rng)
        return x, label  # augmentations change the pixels, never the label

    return pipeline


def train_transform(
    size: int | tuple[int, int],
    mean: Sequence[float],
    std: Sequence[float],
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    flip_p: float = 0.5,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.4,
) -> Callable:
    """The usual ImageNet training pipeline: resized crop, flip, jitter, normalise."""

    def crop(x, rng):
        top, left, h, w = resized_crop_params(x.shape[-2], x.shape[-1], rng, scale, ratio)
        return resized_crop(x, top, left, h, w, size)

    def flip(x, rng):
        return hflip(x, hflip_param(rng, flip_p))

    def jitter(x, rng):
        return color_jitter(x, jitter_params(rng, brightness, contrast, saturation))

    def norm(x, rng):
        return normalize(x, mean, std)

    return compose([crop, flip, jitter, norm])
