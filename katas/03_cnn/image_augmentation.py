"""An ImageNet-style augmentation pipeline: random resized crop, flip, colour jitter, normalise.

Implement with NumPy. Images are floats in [0, 1], shaped (C, H, W) or (N, C, H, W); on a
batch, one draw of parameters applies to every image (as torchvision's transforms do on a
batched tensor; call the pipeline per image for per-image augmentation). Each random
transform is two functions: one draws its parameters from a NumPy Generator `rng`, in the
exact order its docstring gives (the tests replay it), and one applies them. Never modify
the input: return new arrays of the input's dtype. Hue jitter is left out.
Section 02's augmentation kata covers padded crops, batch flips, noise, cutout and mixup.
Run: pytest katas/03_cnn/test_image_augmentation.py
"""

import math  # noqa: F401  (math.log, math.exp, math.sqrt)
from collections.abc import Callable, Sequence

import numpy as np


def resized_crop_params(
    height: int,
    width: int,
    rng: np.random.Generator,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tuple[int, int, int, int]:
    """Draw RandomResizedCrop's box: a random area fraction and a log-uniform aspect ratio.

    Math:
        up to 10 attempts, each drawing, in this order:
            target_area = height * width * rng.uniform(scale[0], scale[1])
            aspect = exp(rng.uniform(log(ratio[0]), log(ratio[1])))     (aspect = w / h)
            w = int(round(sqrt(target_area * aspect)));  h = int(round(sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                top = rng.integers(0, height - h + 1);  left = rng.integers(0, width - w + 1)
                return (top, left, h, w)
        fallback (all 10 missed), the centred crop with the ratio clamped into range:
            width / height < min(ratio): w = width,  h = int(round(w / min(ratio)))
            width / height > max(ratio): h = height, w = int(round(h * max(ratio)))
            otherwise the whole image;   top = (height - h) // 2, left = (width - w) // 2

    Shapes:
        Scalars: the image's height and width in, four Python ints out.

    Args:
        height, width: the image size H, W.
        rng: where all the randomness comes from (draw exactly as above).
        scale: the range of the crop's area as a fraction of the image's.
        ratio: the range of the crop's aspect ratio w / h.

    Returns:
        (top, left, h, w): the crop is x[..., top:top + h, left:left + w].

    Numerics:
        Log-uniform, not uniform, in the ratio: 4:3 and 3:4 are equally likely.
        round() is Python's (half to even), as torchvision's.

    Reference:
        torchvision.transforms.RandomResizedCrop.get_params
    """
    raise NotImplementedError


def resized_crop(
    x: np.ndarray, top: int, left: int, height: int, width: int, size: int | tuple[int, int]
) -> np.ndarray:
    """Cut the box out of x and resize it bilinearly to size.

    Math:
        crop = x[..., top:top + height, left:left + width]
        along each axis (in = crop side, out = output side), for output index i:
            src = max((i + 0.5) * in / out - 0.5, 0)     (pixel centres align)
            i0 = floor(src), i1 = min(i0 + 1, in - 1), t = src - i0
            value = (1 - t) * crop[i0] + t * crop[i1]
        rows first, then columns (bilinear is separable)

    Shapes:
        x: (C, H, W) or (N, C, H, W); out: (C, out_h, out_w) or (N, C, out_h, out_w).

    Args:
        x: an image or a batch, float in [0, 1].
        top, left, height, width: the box, from resized_crop_params.
        size: (out_h, out_w), or an int for a square output.

    Returns:
        The resized crop, x's dtype.

    Numerics:
        No antialiasing (torchvision >= 0.17 antialiases tensors by default when shrinking).
        Upsampling works the same way; out = in is a plain crop.

    Reference:
        torchvision F.resized_crop = crop, then F.interpolate(crop, size, mode="bilinear",
        align_corners=False, antialias=False)
    """
    raise NotImplementedError


def hflip_param(rng: np.random.Generator, p: float = 0.5) -> bool:
    """Draw whether to flip: one rng.random() below p.

    Math:
        flip = rng.random() < p

    Shapes:
        Scalar.

    Args:
        rng: one draw from it; p: the flip probability.

    Returns:
        A Python bool.

    Numerics:
        Nothing special.

    Reference:
        torchvision.transforms.RandomHorizontalFlip: torch.rand(1) < p
    """
    raise NotImplementedError


def hflip(x: np.ndarray, flip: bool) -> np.ndarray:
    """Mirror x left to right if flip, else return a copy.

    Math:
        out[..., h, w] = x[..., h, W - 1 - w]

    Shapes:
        x: (C, H, W) or (N, C, H, W); out: x's shape.

    Args:
        x: an image or a batch; flip: from hflip_param.

    Returns:
        A new array, x's dtype.

    Numerics:
        Flip the last axis (W), not H.

    Reference:
        torchvision F.hflip = x.flip(-1)
    """
    raise NotImplementedError


def rgb_to_grayscale(x: np.ndarray) -> np.ndarray:
    """The luma of an RGB image, keeping a channel axis of size 1.

    Math:
        grey = 0.299 R + 0.587 G + 0.114 B    (ITU-R 601-2 luma, as PIL)

    Shapes:
        (..., 3, H, W) -> (..., 1, H, W); a (..., 1, H, W) image comes back as a copy.

    Args:
        x: RGB (or already grey) images, channels at axis -3.

    Returns:
        A new array, x's dtype.

    Numerics:
        torchvision's tensor code writes 0.2989 for R; PIL and this kata use 0.299.

    Reference:
        torchvision F.rgb_to_grayscale
    """
    raise NotImplementedError


def adjust_brightness(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with black: scale every value, then clamp.

    Math:
        out = clip(factor * x, 0, 1)

    Shapes:
        x: (C, H, W) or (N, C, H, W); out: x's shape.

    Args:
        x: images in [0, 1]; factor: >= 0 (1 is the identity, 0 gives black).

    Returns:
        A new array, x's dtype.

    Numerics:
        Clamp: a factor above 1 pushes bright pixels past 1.

    Reference:
        torchvision F.adjust_brightness = _blend(img, zeros, factor)
    """
    raise NotImplementedError


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend each image with its mean grey level.

    Math:
        m = mean of rgb_to_grayscale(x) over all of one image's pixels (one number per image)
        out = clip(factor * x + (1 - factor) * m, 0, 1)

    Shapes:
        x: (C, H, W) or (N, C, H, W); m: (1, 1, 1) or (N, 1, 1, 1); out: x's shape.

    Args:
        x: images in [0, 1], C = 3 (or 1: m is then the mean of x); factor >= 0.

    Returns:
        A new array, x's dtype.

    Numerics:
        One grey mean per image, not one per channel (that would also shift the colours),
        and not one for the whole batch.

    Reference:
        torchvision F.adjust_contrast
    """
    raise NotImplementedError


def adjust_saturation(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend each pixel with its own grey value.

    Math:
        out = clip(factor * x + (1 - factor) * rgb_to_grayscale(x), 0, 1)

    Shapes:
        x: (C, H, W) or (N, C, H, W); the grey image (..., 1, H, W) broadcasts over C.

    Args:
        x: images in [0, 1]; factor >= 0 (0 gives grey, 1 the identity, 2 more colour).

    Returns:
        A new array, x's dtype; a 1-channel image comes back unchanged (a copy).

    Numerics:
        Clamp: factors above 1 overshoot.

    Reference:
        torchvision F.adjust_saturation
    """
    raise NotImplementedError


def jitter_params(
    rng: np.random.Generator,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.4,
) -> dict:
    """Draw ColorJitter's order and factors.

    Math:
        in this order: order = rng.permutation(3)
        then for s in (brightness, contrast, saturation): rng.uniform(max(0, 1 - s), 1 + s)

    Shapes:
        order: (3,) integers, a permutation of 0 (brightness), 1 (contrast), 2 (saturation).

    Args:
        rng: where all the randomness comes from.
        brightness, contrast, saturation: jitter strengths (0: the factor is always 1).

    Returns:
        {"order": order, "brightness": float, "contrast": float, "saturation": float}

    Numerics:
        Draw every factor even when its strength is 0 (the replay expects four draws).

    Reference:
        torchvision.transforms.ColorJitter.get_params (randperm, then uniform_ per factor)
    """
    raise NotImplementedError


def color_jitter(x: np.ndarray, params: dict) -> np.ndarray:
    """Apply brightness, contrast and saturation in the drawn order.

    Math:
        for i in params["order"]: x = adjust_i(x, factor_i)
        (0: adjust_brightness, 1: adjust_contrast, 2: adjust_saturation)

    Shapes:
        x: (C, H, W) or (N, C, H, W); out: x's shape.

    Args:
        x: images in [0, 1]; params: from jitter_params.

    Returns:
        A new array, x's dtype.

    Numerics:
        The order matters: clamping and the contrast mean do not commute.

    Reference:
        torchvision.transforms.ColorJitter.forward
    """
    raise NotImplementedError


def normalize(x: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Standardise each channel with a given mean and standard deviation.

    Math:
        out[..., c, :, :] = (x[..., c, :, :] - mean[c]) / std[c]

    Shapes:
        x: (C, H, W) or (N, C, H, W); mean, std: C numbers each.

    Args:
        x: images; mean, std: per channel (ImageNet's: (0.485, 0.456, 0.406),
            (0.229, 0.224, 0.225)).

    Returns:
        A new array, x's dtype.

    Numerics:
        Use mean and std as arrays of x's dtype, shaped (C, 1, 1): float32 stays float32.

    Reference:
        torchvision F.normalize
    """
    raise NotImplementedError


def denormalize(x: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Undo normalize (to look at a normalised image).

    Math:
        out[..., c, :, :] = x[..., c, :, :] * std[c] + mean[c]

    Shapes:
        As normalize.

    Args:
        x: normalised images; mean, std: the ones normalize used.

    Returns:
        A new array, x's dtype.

    Numerics:
        denormalize(normalize(x)) == x up to rounding.

    Reference:
        The inverse of torchvision F.normalize
    """
    raise NotImplementedError


def compose(transforms: Sequence[Callable]) -> Callable:
    """Chain transforms into one pipeline that carries a label along untouched.

    Math:
        pipeline(x, label, rng) = (t_k(... t_2(t_1(x, rng), rng) ..., rng), label)

    Shapes:
        Whatever the transforms take and return.

    Args:
        transforms: callables t(x, rng) -> x, applied first to last, each given the same rng.

    Returns:
        pipeline(x, label, rng) -> (x_out, label): label is returned as it came (the same
        object), whatever it is.

    Numerics:
        Copy the list: changing the caller's list afterwards must not change the pipeline.

    Reference:
        torchvision.transforms.Compose (with the rng made explicit)
    """
    raise NotImplementedError


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
    """The usual ImageNet training pipeline, built with compose from the pieces above.

    Math:
        1. box = resized_crop_params(H, W, rng, scale, ratio); x = resized_crop(x, *box, size)
        2. x = hflip(x, hflip_param(rng, flip_p))
        3. x = color_jitter(x, jitter_params(rng, brightness, contrast, saturation))
        4. x = normalize(x, mean, std)
        (draws happen in this order, each step drawing just before it applies)

    Shapes:
        (C, H, W) -> (C, out_h, out_w); (N, C, H, W) -> (N, C, out_h, out_w).

    Args:
        size: the output size; mean, std: for normalize; the rest: each step's settings.

    Returns:
        pipeline(x, label, rng) -> (x_out, label), from compose.

    Numerics:
        Jitter before normalize: the adjustments clamp to [0, 1], which only makes sense
        before normalisation.

    Reference:
        torchvision's ImageNet recipe: Compose([RandomResizedCrop(size),
        RandomHorizontalFlip(), ColorJitter(0.4, 0.4, 0.4), ToTensor(), Normalize(mean, std)])
    """
    raise NotImplementedError
