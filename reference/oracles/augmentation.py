"""Oracles for 02_training/augmentation: each augmentation applied in torch from given
parameters (torchvision cannot be imported here, so these are its operations spelled out:
F.pad + slicing, torch.flip, F.one_hot). Images are compared as float64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def crop(x, offsets, pad):
    """RandomCrop(size=(H, W), padding=pad) on each image, at the given (top, left)."""
    t = tensor(x)
    H, W = t.shape[-2:]
    padded = F.pad(t, (pad, pad, pad, pad))  # zeros: padding_mode="constant", fill=0
    return numpy(
        torch.stack([img[:, i : i + H, j : j + W] for img, (i, j) in zip(padded, offsets)])
    )


def hflip(x, flip, dim=3):
    """torch.flip along W (dim 3) for the chosen images; dim=2 flips upside down."""
    t = tensor(x)
    chosen = torch.as_tensor(flip, dtype=torch.bool).view(-1, 1, 1, 1)
    return numpy(torch.where(chosen, torch.flip(t, dims=[dim]), t))


def add_noise(x, std, eps):
    return numpy(tensor(x) + std * tensor(eps))


def cutout(x, centers, size, variant="clip"):
    """Zero the square around each center; variant "shift" / "wrap" give known mistakes.

    clip: the square's bounds clipped to the image (DeVries & Taylor's np.clip).
    shift: the square moved inside the image, whole. wrap: negative indices wrap around.
    negative-slice: Python slicing with an unclipped negative start.
    """
    t = tensor(x).clone()
    H, W = t.shape[-2:]
    for img, (r, c) in zip(t, centers):
        top, left = int(r) - size // 2, int(c) - size // 2
        if variant == "shift":
            top, left = min(max(top, 0), max(H - size, 0)), min(max(left, 0), max(W - size, 0))
        if variant == "wrap":
            rows = torch.arange(top, top + size) % H
            cols = torch.arange(left, left + size) % W
            img[:, rows[:, None], cols[None, :]] = 0
        elif variant == "negative-slice":  # x[-2:3] in NumPy: from the end, usually empty
            img[:, top : top + size, left : left + size] = 0
        else:
            img[:, max(top, 0) : max(top + size, 0), max(left, 0) : max(left + size, 0)] = 0
    return numpy(t)


def mixup(x, y, num_classes, lam, perm, label_lam=None, label_perm=True):
    """(x_mix, y_mix); label_lam / label_perm=False reproduce known label mistakes."""
    t, p = tensor(x), torch.as_tensor(perm, dtype=torch.int64)
    Y = F.one_hot(torch.as_tensor(y, dtype=torch.int64), num_classes).to(torch.float64)
    a = lam if label_lam is None else label_lam
    x_mix = lam * t + (1 - lam) * t.index_select(0, p)
    y_mix = a * Y + (1 - a) * (Y.index_select(0, p) if label_perm else Y)
    return numpy(x_mix), numpy(y_mix)
