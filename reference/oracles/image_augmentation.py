"""Oracles for 03_cnn/image_augmentation.

Applying a transform: torch, in float64, as torchvision's tensor functional code does it
(torchvision cannot be imported here, so its formulas are written out): F.interpolate for
the resize, torch.flip, _blend + clamp for the colour adjustments, sub/div for normalize.
The one difference from torchvision: grey is 0.299 R + 0.587 G + 0.114 B (ITU-R 601-2, as
PIL); torchvision's tensor code rounds the first weight to 0.2989.

Drawing parameters: the kata's spec replays torchvision's get_params with NumPy draws, so
the replay here is NumPy too (the tests also check the draws' statistics independently).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor

LUMA = (0.299, 0.587, 0.114)


# ----------------------------------------------------------------------------- draws (replay)


def resized_crop_params(height, width, rng, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                        variant="torchvision"):  # fmt: skip
    """torchvision.transforms.RandomResizedCrop.get_params, torch.rand -> rng calls.

    variant: "torchvision", or a known mistake for messages: "uniform-ratio" (the aspect
    ratio drawn uniformly, not log-uniformly), "h-over-w" (aspect taken as h / w).
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(scale[0], scale[1])
        if variant == "uniform-ratio":
            aspect_ratio = rng.uniform(ratio[0], ratio[1])
        else:
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if variant == "h-over-w":
            w, h = h, w
        if 0 < w <= width and 0 < h <= height:
            i = int(rng.integers(0, height - h + 1))
            j = int(rng.integers(0, width - w + 1))
            return i, j, h, w
    in_ratio = float(width) / float(height)  # fallback to central crop
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:  # whole image
        w = width
        h = height
    return (height - h) // 2, (width - w) // 2, h, w


def jitter_params(rng, brightness=0.4, contrast=0.4, saturation=0.4):
    """ColorJitter.get_params: a random order first, then one factor per adjustment."""
    order = rng.permutation(3)
    b = rng.uniform(max(0.0, 1 - brightness), 1 + brightness)
    c = rng.uniform(max(0.0, 1 - contrast), 1 + contrast)
    s = rng.uniform(max(0.0, 1 - saturation), 1 + saturation)
    return {"order": order, "brightness": b, "contrast": c, "saturation": s}


# ----------------------------------------------------------------------------- applies (torch)


def resized_crop(x, top, left, height, width, size, align_corners=False):
    """torchvision F.resized_crop on a tensor: slice, then F.interpolate(bilinear)."""
    t = tensor(x)
    single = t.ndim == 3
    if single:
        t = t[None]  # interpolate reads (N, C, H, W); a 3-D tensor would mean (N, C, L)
    crop = t[..., top : top + height, left : left + width]
    size = (size, size) if isinstance(size, int) else tuple(size)
    out = F.interpolate(crop, size=size, mode="bilinear", align_corners=align_corners,
                        antialias=False)  # fmt: skip
    return numpy(out[0] if single else out)


def hflip(x, flip, dim=-1):
    t = tensor(x)
    return numpy(torch.flip(t, dims=[dim]) if flip else t)


def _blend(img1, img2, ratio, clamp=True):
    out = ratio * img1 + (1.0 - ratio) * img2
    return out.clamp(0, 1) if clamp else out


def grayscale(t, luma=LUMA):
    if t.shape[-3] == 1:
        return t.clone()
    r, g, b = t.unbind(dim=-3)
    return (luma[0] * r + luma[1] * g + luma[2] * b).unsqueeze(-3)


def adjust_brightness(x, factor, clamp=True):
    t = tensor(x)
    return numpy(_blend(t, torch.zeros_like(t), factor, clamp))


def adjust_contrast(x, factor, luma=LUMA, per_channel=False, clamp=True):
    """per_channel=True gives a known mistake: each channel blended with its own mean."""
    t = tensor(x)
    if per_channel:
        mean = t.mean(dim=(-2, -1), keepdim=True)
    else:
        mean = grayscale(t, luma).mean(dim=(-3, -2, -1), keepdim=True)
    return numpy(_blend(t, mean, factor, clamp))


def adjust_saturation(x, factor, luma=LUMA, clamp=True):
    t = tensor(x)
    if t.shape[-3] == 1:
        return numpy(t)
    return numpy(_blend(t, grayscale(t, luma), factor, clamp))


def color_jitter(x, params):
    out = x
    for i in params["order"]:
        if i == 0:
            out = adjust_brightness(out, params["brightness"])
        elif i == 1:
            out = adjust_contrast(out, params["contrast"])
        else:
            out = adjust_saturation(out, params["saturation"])
    return np.asarray(out, dtype=np.float64)


def normalize(x, mean, std):
    """torchvision F.normalize: (x - mean[:, None, None]) / std[:, None, None]."""
    t = tensor(x)
    m = torch.as_tensor(mean, dtype=torch.float64).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float64).view(-1, 1, 1)
    return numpy(t.sub(m).div(s))


def train_transform(x, rng, size, mean, std, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                    flip_p=0.5, brightness=0.4, contrast=0.4, saturation=0.4):  # fmt: skip
    """RandomResizedCrop, RandomHorizontalFlip, ColorJitter, Normalize, drawn in that order."""
    box = resized_crop_params(x.shape[-2], x.shape[-1], rng, scale, ratio)
    out = resized_crop(x, *box, size)
    out = hflip(out, bool(rng.random() < flip_p))
    out = color_jitter(out, jitter_params(rng, brightness, contrast, saturation))
    return normalize(out, mean, std)
