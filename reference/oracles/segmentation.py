"""Oracle for the segmentation kata: generated shapes, metrics from a confusion matrix,
the soft Dice loss written out (with the slips learners make), and a training loop.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CLASSES = ("background", "circle", "rectangle", "triangle")


def make_shapes(
    n: int, size: int, rng: np.random.Generator, max_shapes: int = 2, noise: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """n noisy images of circles, rectangles and triangles, with their masks.

    Every image has 1..max_shapes shapes of random class, size, place and brightness on
    a background of random brightness plus Gaussian noise; shapes do not overlap (one
    that would is drawn again, up to 20 times). Returns images float32 (n, 1, size,
    size) and masks int64 (n, size, size) holding 0 (background), 1 (circle),
    2 (rectangle), 3 (triangle).
    """
    yy, xx = np.mgrid[0:size, 0:size] + 0.5  # pixel centres, (size, size) each
    images = np.empty((n, 1, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        image = np.full((size, size), rng.uniform(0.0, 0.3))
        for _ in range(rng.integers(1, max_shapes + 1)):
            for _attempt in range(20):
                kind, inside = _shape(rng, size, yy, xx)
                if not np.any(masks[i][inside]):
                    break
            else:
                continue  # no room left: one shape fewer
            image[inside] = rng.uniform(0.6, 1.0)
            masks[i][inside] = kind
        images[i, 0] = image + noise * rng.standard_normal((size, size))
    return torch.from_numpy(images), torch.from_numpy(masks)


def _shape(rng: np.random.Generator, size: int, yy: np.ndarray, xx: np.ndarray):
    """A random shape: its class (1, 2, 3) and its (size, size) boolean mask."""
    kind = int(rng.integers(1, 4))
    # the shape's half-extent; a triangle's area is 0.41 x its circumscribed circle's,
    # so triangles come larger: the three classes cover similar numbers of pixels
    r = rng.uniform(0.14, 0.24) * size * (1.4 if kind == 3 else 1.0)
    cy, cx = rng.uniform(r, size - r, 2)
    if kind == 1:
        return kind, (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    if kind == 2:
        hy, hx = rng.uniform(0.6, 1.0, 2) * r
        return kind, (np.abs(yy - cy) <= hy) & (np.abs(xx - cx) <= hx)
    # an equilateral triangle at a random angle: the pixels inside all three half-planes
    angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2, 4]) * np.pi / 3
    vy, vx = cy + r * np.sin(angles), cx + r * np.cos(angles)
    inside = np.ones((size, size), dtype=bool)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        inside &= (vx[b] - vx[a]) * (yy - vy[a]) - (vy[b] - vy[a]) * (xx - vx[a]) >= 0
    return kind, inside


def confusion(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(C, C) counts, rows the target class, columns the predicted one (torch.bincount)."""
    index = target.reshape(-1).long() * n_classes + pred.reshape(-1).long()
    return torch.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def scores(
    pred: torch.Tensor, target: torch.Tensor, n_classes: int, absent: float = float("nan")
) -> dict[str, torch.Tensor]:
    """Per-class IoU and Dice (float64) from the confusion matrix, and their nan-means.

    absent: the per-class value of a class in neither pred nor target (NaN: left out of
    the means; 0 or 1 reproduce the other conventions).
    """
    cm = confusion(pred, target, n_classes).double()
    tp = cm.diagonal()
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    present = (tp + fp + fn) > 0
    denom = torch.where(present, tp + fp + fn, torch.ones_like(tp))
    iou = torch.where(present, tp / denom, torch.full_like(tp, absent))
    dice = torch.where(present, 2 * tp / (2 * tp + fp + fn).clamp(min=1), iou)
    return {
        "iou": iou,
        "dice": dice,
        "mean_iou": torch.nanmean(iou),
        "mean_dice": torch.nanmean(dice),
    }


def soft_dice_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    eps: float = 1.0,
    activation: str = "softmax",
    per_image: bool = False,
    dim: int = 1,
) -> torch.Tensor:
    """1 - mean_c (2 sum(p t) + eps) / (sum p + sum t + eps), sums over batch and pixels.

    activation "sigmoid", per_image=True and dim=-1 reproduce three slips: independent
    sigmoids instead of a softmax over the classes, a Dice per image averaged afterwards,
    and a softmax over the wrong axis.
    """
    n_classes = logits.shape[1]
    probs = torch.sigmoid(logits) if activation == "sigmoid" else torch.softmax(logits, dim=dim)
    onehot = F.one_hot(target, n_classes).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (2, 3) if per_image else (0, 2, 3)
    inter = (probs * onehot).sum(dims)
    sizes = probs.sum(dims) + onehot.sum(dims)
    return 1 - ((2 * inter + eps) / (sizes + eps)).mean()


def fit(model, loss_fn, X, Y, *, epochs, batch_size, lr, rng) -> list[float]:
    """Adam on cross-entropy + loss_fn(logits, Y); the mean batch loss of every epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * -(-len(X) // batch_size)
    )
    history = []
    for _ in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        losses = []
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            logits = model(X[idx])
            loss = F.cross_entropy(logits, Y[idx]) + loss_fn(logits, Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    return history


@torch.no_grad()
def predict(model, X, batch_size: int = 256) -> torch.Tensor:
    """Class ids (N, H, W) in eval mode."""
    model.eval()
    return torch.cat([model(X[i : i + batch_size]).argmax(1) for i in range(0, len(X), batch_size)])
