"""Semantic segmentation: a small U-Net, an FCN head, Dice and IoU, and a soft Dice loss.

This kata is written in PyTorch. A segmentation network gives every pixel a class.
The training test trains your UNet(1, 4, base=16, depth=2) with your soft Dice loss
(plus cross-entropy) on 512 generated 32x32 images of circles, rectangles and triangles
on noisy backgrounds (4 classes with the background), and expects a mean IoU of at
least 0.9 on 200 new images. To look at that data, or to train on it yourself:

    from reference.oracles.segmentation import make_shapes    # run from the repository root
    images, masks = make_shapes(8, 32, np.random.default_rng(0))
    # images (8, 1, 32, 32) float32; masks (8, 32, 32) int64: 0 background,
    # 1 circle, 2 rectangle, 3 triangle

Metrics count pixels over the whole batch (every image together, not per image).
A class that appears in neither the prediction nor the target has no IoU or Dice
(0 / 0): its score is NaN and the means leave it out. torchmetrics' MeanIoU flags such
a class too (with -1 rather than NaN). Counting it as 0 would punish a model for a
class that was never there; counting it as 1 would flatter it.

Run: pytest katas/03_cnn/test_segmentation.py
"""

import torch
from torch import nn


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by BatchNorm and ReLU; the size is kept.

    Math:
        Conv2d(in, out, 3, padding=1) -> BatchNorm2d(out) -> ReLU
        -> Conv2d(out, out, 3, padding=1) -> BatchNorm2d(out) -> ReLU

    Shapes:
        (N, in_channels, H, W) -> (N, out_channels, H, W), for any H, W.

    Args:
        in_channels, out_channels: channels in and out.

    Returns:
        An nn.Sequential of those six modules.

    Numerics:
        padding=1 keeps the size, so that skip features and upsampled features line up.

    Reference:
        The "double conv" of every U-Net implementation (Ronneberger et al. 2015 use
        unpadded convolutions and crop; padding avoids the crop).
    """
    raise NotImplementedError


class UNet(nn.Module):
    """A U-Net: encoder blocks and pooling, a bottleneck, upsampling, skips, a 1x1 classifier."""

    def __init__(self, in_channels: int = 1, n_classes: int = 4, base: int = 8, depth: int = 2):
        """Build encoders, pool, bottleneck, ups, decoders and head (see forward)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-pixel class logits for a batch of images.

        Math:
            c_i = base * 2^i for i = 0 .. depth-1. Attributes (the tests read them):
              encoders[i] = conv_block(in_channels or c_{i-1}, c_i)  (nn.ModuleList)
              pool = MaxPool2d(2);  bottleneck = conv_block(c_{depth-1}, 2 c_{depth-1})
              ups[j] = ConvTranspose2d(2 c, c, 2, stride=2)          (nn.ModuleList)
              decoders[j] = conv_block(2 c, c)                        (nn.ModuleList)
              head = Conv2d(base, n_classes, 1)
            with c = c_{depth-1-j}: decoder j works at encoder depth-1-j's resolution.
            forward: s_i = encoders[i](x), x = pool(s_i), for each i in order;
            x = bottleneck(x); then for each j: x = ups[j](x),
            x = decoders[j](cat([s_{depth-1-j}, x], dim=1)) (the skip connection);
            return head(x).

        Shapes:
            x: (N, in_channels, H, W), H and W multiples of 2^depth.
            s_i: (N, c_i, H / 2^i, W / 2^i); decoders[j]'s input: (N, 2 c, h, w).
            Returns (N, n_classes, H, W).

        Args:
            x: images, float32.

        Returns:
            Logits (no softmax), float32.

        Numerics:
            The skip is what lets the decoder draw sharp boundaries: the bottleneck has
            seen the image at 1 / 2^depth of its resolution.

        Reference:
            Ronneberger et al., "U-Net" (2015), figure 1; nn.ConvTranspose2d, torch.cat.
        """
        raise NotImplementedError


class FCNHead(nn.Module):
    """FCN's head: a 1x1 convolution scores each class, bilinear upsampling to the image size."""

    def __init__(self, in_channels: int, n_classes: int):
        """Build self.classifier, an nn.Conv2d(in_channels, n_classes, 1)."""
        raise NotImplementedError

    def forward(self, features: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Class scores for every pixel of an image, from a coarse feature map.

        Math:
            scores = classifier(features) (one linear classifier per position), then
            F.interpolate(scores, size=size, mode="bilinear", align_corners=False).

        Shapes:
            features: (N, in_channels, h, w); size = (H, W); returns (N, n_classes, H, W).

        Args:
            features: a backbone's output (stride 8, 16 or 32 in the FCN paper).
            size: the input image's (height, width), in that order.

        Returns:
            Logits at full resolution.

        Numerics:
            Classify first, then upsample: upsampling n_classes channels is cheaper than
            upsampling in_channels, and the result is the same (both are linear).

        Reference:
            Long et al., "Fully Convolutional Networks" (2015);
            torchvision.models.segmentation.fcn.FCNHead.
        """
        raise NotImplementedError


def iou_per_class(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Intersection over union of every class, NaN for a class absent from both.

    Math:
        P_c = pixels predicted c, T_c = pixels labelled c, over every image of the batch:
        IoU_c = |P_c & T_c| / |P_c | T_c|  (= TP / (TP + FP + FN));  NaN when both empty.

    Shapes:
        pred, target: (N, H, W) class ids, or any shape as long as both match.
        Returns (n_classes,).

    Args:
        pred: predicted class ids (e.g. logits.argmax(1)), int64.
        target: true class ids, int64.
        n_classes: C; ids are 0 .. C-1.

    Returns:
        float64 tensor.

    Numerics:
        Count in integers and divide in float64; 0 / 0 gives NaN on purpose (no eps: an
        eps would turn "absent" into 0).

    Reference:
        torchmetrics' JaccardIndex / MeanIoU (per_class=True); a confusion matrix built
        with torch.bincount gives the same counts.
    """
    raise NotImplementedError


def dice_per_class(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Dice coefficient of every class, NaN for a class absent from both.

    Math:
        Dice_c = 2 |P_c & T_c| / (|P_c| + |T_c|)  (= 2 TP / (2 TP + FP + FN) = F1);
        NaN when both are empty. Dice = 2 IoU / (1 + IoU) >= IoU.

    Shapes:
        pred, target: (N, H, W); returns (n_classes,).

    Args:
        pred, target, n_classes: as in iou_per_class.

    Returns:
        float64 tensor.

    Numerics:
        As in iou_per_class.

    Reference:
        torchmetrics' DiceScore; Dice (1945), Sorensen (1948).
    """
    raise NotImplementedError


def mean_iou(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> float:
    """Mean IoU over the classes present in the prediction or the target.

    Math:
        mean of IoU_c over the classes whose IoU is not NaN.

    Shapes:
        pred, target: (N, H, W).

    Args:
        pred, target, n_classes: as in iou_per_class.

    Returns:
        A Python float.

    Numerics:
        An absent class is left out, not counted as 0 (torch.nanmean).

    Reference:
        torchmetrics.segmentation.MeanIoU.
    """
    raise NotImplementedError


def mean_dice(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> float:
    """Mean Dice over the classes present in the prediction or the target.

    Math:
        mean of Dice_c over the classes whose Dice is not NaN.

    Shapes:
        pred, target: (N, H, W).

    Args:
        pred, target, n_classes: as in iou_per_class.

    Returns:
        A Python float.

    Numerics:
        An absent class is left out, as in mean_iou.

    Reference:
        torchmetrics.segmentation.DiceScore.
    """
    raise NotImplementedError


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - mean over classes of the soft Dice between softmax probabilities and one-hot targets.

    Math:
        p = softmax(logits, dim=1) (the classes compete at every pixel);
        t = one-hot(target), laid out like p; sums over the batch and the pixels:
        dice_c = (2 sum(p_c t_c) + eps) / (sum p_c + sum t_c + eps)
        loss = 1 - mean_c dice_c

    Shapes:
        logits: (N, C, H, W); target: (N, H, W) int64 in 0..C-1; returns a scalar ().

    Args:
        logits: the network's raw scores.
        target: the true class of every pixel.
        eps: smoothing: a class absent from the batch and not predicted scores 1,
            and the gradient stays finite.

    Returns:
        A 0-d tensor with a gradient to logits (built from differentiable torch ops).

    Numerics:
        Use softmax, not a sigmoid per channel: with a sigmoid the probabilities of a
        pixel need not sum to 1, and the loss no longer matches argmax predictions.
        Keep logits' dtype.

    Reference:
        Milletari et al., "V-Net" (2016); monai.losses.DiceLoss(softmax=True,
        to_onehot_y=True, batch=True) with smooth_nr = smooth_dr = eps.
    """
    raise NotImplementedError
