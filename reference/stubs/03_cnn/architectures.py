"""Classic CNN architectures in PyTorch: LeNet-5, AlexNet, VGG, ResNet, Inception, EfficientNet.

Implement with PyTorch (torch.nn). A network here is a few reusable blocks plus a table of
sizes: write the blocks, then stack them. The tests count parameters against the models
torchvision publishes (AlexNet 61,100,840; VGG-16 138,357,544; ResNet-18 11,689,512;
EfficientNet-B0 5,288,548), load reference weights into your blocks BY NAME (use the layer
names each docstring gives: torchvision's, so its checkpoints would load), and compare
outputs. Big networks are built on torch's "meta" device (shapes only, no memory): build
layers from their sizes, without running data through them in __init__.
Every BatchNorm2d keeps torch's defaults (eps 1e-5).
Run: pytest katas/03_cnn/test_architectures.py
"""

import math  # noqa: F401  (math.ceil, for round_repeats)

import torch
import torch.nn.functional as F  # noqa: F401  (F.relu, F.silu, F.adaptive_avg_pool2d)
from torch import nn


def conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    groups: int = 1,
    activation: type[nn.Module] | None = None,
) -> nn.Sequential:
    """Conv2d without bias, BatchNorm2d, then activation() if one is given.

    Math:
        y = act(BN(conv(x)));  the conv has no bias (BN's beta would cancel it anyway)

    Shapes:
        (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))
        for odd kernel sizes: padding (kernel_size - 1) // 2 keeps the size at stride 1.

    Args:
        in_channels, out_channels, kernel_size, stride, groups: as nn.Conv2d's.
        activation: a module class (nn.ReLU, nn.SiLU), instantiated with no arguments; None
            for no activation.

    Returns:
        nn.Sequential(conv, bn) or nn.Sequential(conv, bn, act): keys "0.weight", "1.weight",
        "1.bias", "1.running_mean", ...

    Numerics:
        Nothing special.

    Reference:
        torchvision.ops.Conv2dNormActivation
    """
    raise NotImplementedError


def lenet5(num_classes: int = 10) -> nn.Module:
    """LeNet-5 as LeCun et al. (1998) drew it, with tanh and average pooling.

    Math:
        conv 5x5 (1 -> 6), tanh, avg pool 2  ->  conv 5x5 (6 -> 16), tanh, avg pool 2
        -> flatten -> linear 400 -> 120, tanh -> linear 120 -> 84, tanh -> linear 84 -> classes

    Shapes:
        (N, 1, 32, 32) -> (N, 6, 28, 28) -> (N, 6, 14, 14) -> (N, 16, 10, 10) -> (N, 16, 5, 5)
        -> (N, 400) -> (N, 120) -> (N, 84) -> (N, num_classes). (MNIST's 28 x 28: pad by 2.)

    Args:
        num_classes: the outputs of the last layer.

    Returns:
        An nn.Module (nn.Sequential is fine) with 61,706 parameters for 10 classes; its
        parameters(), in order, are conv1 weight, bias, conv2 weight, bias, fc1 ... fc3.

    Numerics:
        The original's partial connection table (C3) and RBF output are left out; this is the
        usual modern reading of the architecture.

    Reference:
        LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document
        recognition, Fig. 2
    """
    raise NotImplementedError


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> nn.Module:
    """AlexNet exactly as torchvision defines it (the single-GPU 'one weird trick' variant).

    Math:
        conv 11x11/4 pad 2 (3 -> 64), ReLU, max pool 3/2
        conv 5x5 pad 2 (64 -> 192), ReLU, max pool 3/2
        conv 3x3 pad 1 (192 -> 384), ReLU; conv 3x3 (384 -> 256), ReLU; conv 3x3 (256 -> 256),
        ReLU, max pool 3/2
        adaptive avg pool to 6 x 6, flatten (9216)
        dropout, linear 9216 -> 4096, ReLU, dropout, linear 4096 -> 4096, ReLU,
        linear 4096 -> num_classes

    Shapes:
        (N, 3, 224, 224) -> (N, 256, 6, 6) -> (N, num_classes); the adaptive pool lets any
        input of at least 63 x 63 through.

    Args:
        num_classes: outputs; dropout: the probability of both dropout layers.

    Returns:
        An nn.Module with 61,100,840 parameters for 1000 classes.

    Numerics:
        The 2012 paper's network has 96, 256, 384, 384, 256 channels split over two GPUs and
        local response normalisation; torchvision (and this kata) follow the 2014 variant.

    Reference:
        torchvision.models.alexnet; Krizhevsky (2014), One weird trick for parallelizing
        convolutional neural networks
    """
    raise NotImplementedError


def vgg_block(in_channels: int, out_channels: int, num_convs: int) -> nn.Sequential:
    """A VGG block: num_convs 3x3 convolutions with ReLU, then a 2x2 max pool.

    Math:
        (conv 3x3 pad 1, ReLU) x num_convs (the first maps in -> out, the rest out -> out),
        then max pool 2/2

    Shapes:
        (N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2)

    Args:
        in_channels, out_channels: channels in and out; num_convs: convolutions in the block.

    Returns:
        nn.Sequential: conv, ReLU, conv, ReLU, ..., MaxPool2d (convs with bias, no BN).

    Numerics:
        Two stacked 3x3 convs see 5x5 and three see 7x7, with fewer parameters and more
        nonlinearities than one large kernel: VGG's argument.

    Reference:
        Simonyan & Zisserman (2015), Table 1; torchvision.models.vgg's make_layers
    """
    raise NotImplementedError


def vgg16(num_classes: int = 1000, dropout: float = 0.5) -> nn.Module:
    """VGG-16 (configuration D) from five of your vgg_blocks and torchvision's classifier.

    Math:
        vgg_block(3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3)
        -> adaptive avg pool to 7 x 7 -> flatten (25088)
        -> linear 25088 -> 4096, ReLU, dropout -> linear 4096 -> 4096, ReLU, dropout
        -> linear 4096 -> num_classes

    Shapes:
        (N, 3, 224, 224) -> (N, 512, 7, 7) -> (N, num_classes)

    Args:
        num_classes: outputs; dropout: the probability of both dropout layers.

    Returns:
        An nn.Module with 138,357,544 parameters for 1000 classes.

    Numerics:
        90% of those parameters sit in the first linear layer (25088 x 4096).

    Reference:
        torchvision.models.vgg16
    """
    raise NotImplementedError


class BasicBlock(nn.Module):
    """ResNet-18/34's residual block: two 3x3 convs, a shortcut, then ReLU of the sum.

    Layers (these names, as torchvision's): conv1 (3x3, stride, padding 1, no bias), bn1,
    conv2 (3x3, padding 1, no bias), bn2, downsample. downsample is the projection shortcut
    conv_bn(in_channels, out_channels, 1, stride) when skip is True and the block changes the
    channels or the size (stride != 1); otherwise None (the identity shortcut).
    skip=False builds the same block without any shortcut (a 'plain' block, for comparison).
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, skip: bool = True):
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual block forward pass.

        Math:
            out = relu(bn1(conv1(x)));  out = bn2(conv2(out))
            out = relu(out + shortcut(x)), shortcut = downsample or the identity
            (skip=False: out = relu(out))

        Shapes:
            x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))

        Args:
            x: a batch of feature maps.

        Returns:
            A new tensor; x is left as it was.

        Numerics:
            The identity path carries the gradient through any depth unchanged: d out / d x
            contains I. Add with out + identity (never x += ...: that overwrites the input).

        Reference:
            torchvision.models.resnet.BasicBlock; He et al. (2016), Fig. 2
        """
        raise NotImplementedError


class Bottleneck(nn.Module):
    """ResNet-50's residual block: 1x1 reduce to width, 3x3, 1x1 expand to expansion * width.

    Layers (torchvision's names): conv1 (1x1, in -> width), bn1, conv2 (3x3, stride, padding 1,
    width -> width), bn2, conv3 (1x1, width -> 4 width), bn3, all convs without bias; downsample
    = conv_bn(in_channels, 4 width, 1, stride) when stride != 1 or in_channels != 4 width,
    else None. The stride sits on the 3x3 conv (ResNet v1.5, as torchvision).
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Bottleneck forward pass.

        Math:
            out = relu(bn1(conv1(x)));  out = relu(bn2(conv2(out)));  out = bn3(conv3(out))
            return relu(out + shortcut(x))

        Shapes:
            x: (N, in_channels, H, W) -> (N, 4 width, ceil(H / stride), ceil(W / stride))

        Args:
            x: a batch of feature maps.

        Returns:
            A new tensor; x is left as it was.

        Numerics:
            The 3x3 conv works on width channels only: 4x cheaper than on 4 width.

        Reference:
            torchvision.models.resnet.Bottleneck; He et al. (2016), Fig. 5
        """
        raise NotImplementedError


def resnet18(num_classes: int = 1000) -> nn.Module:
    """ResNet-18 from your BasicBlocks.

    Math:
        stem: conv 7x7/2 pad 3 (3 -> 64, no bias), BN, ReLU, max pool 3/2 pad 1
        stages of two BasicBlocks: 64 (stride 1), 128, 256, 512 (each stride 2 at its first
        block) -> adaptive avg pool to 1 x 1 -> flatten -> linear 512 -> num_classes

    Shapes:
        (N, 3, 224, 224) -> (N, 64, 56, 56) -> ... -> (N, 512, 7, 7) -> (N, num_classes)

    Args:
        num_classes: outputs of the final linear layer.

    Returns:
        An nn.Module with 11,689,512 parameters for 1000 classes.

    Numerics:
        Three projection shortcuts (the first block of stages 2-4); the rest are identities.

    Reference:
        torchvision.models.resnet18; He et al. (2016), Table 1
    """
    raise NotImplementedError


class Inception(nn.Module):
    """GoogLeNet's Inception module: four branches at different scales, concatenated.

    Layers (names as torchvision's GoogLeNet; each conv is conv_bn(..., activation=nn.ReLU)):
    branch1 = conv 1x1 (in -> ch1x1);
    branch2 = nn.Sequential(conv 1x1 (in -> ch3x3red), conv 3x3 (ch3x3red -> ch3x3));
    branch3 = nn.Sequential(conv 1x1 (in -> ch5x5red), conv 5x5 (ch5x5red -> ch5x5));
    branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv 1x1 (in -> pool_proj)).
    inception (3a) is Inception(192, 64, 96, 128, 16, 32, 32): 256 channels out.
    (torchvision's GoogLeNet has a 3x3 in branch3, a slip it keeps for its checkpoints; this
    is the paper's 5x5.)
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int,
                 ch5x5red: int, ch5x5: int, pool_proj: int):  # fmt: skip
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the four branches on x and concatenate them.

        Math:
            out = cat([branch1(x), branch2(x), branch3(x), branch4(x)], channels)

        Shapes:
            x: (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)

        Args:
            x: a batch of feature maps.

        Returns:
            The concatenation, in the branch order above.

        Numerics:
            Every branch must keep H x W, or the concatenation fails.

        Reference:
            torchvision.models.googlenet.Inception; Szegedy et al. (2015), Fig. 2b, Table 1
        """
        raise NotImplementedError


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation: one learned gate in (0, 1) per channel, from global context.

    Layers (torchvision's names): fc1 = nn.Conv2d(channels, squeeze_channels, 1) and
    fc2 = nn.Conv2d(squeeze_channels, channels, 1), both with bias.
    """

    def __init__(self, channels: int, squeeze_channels: int):
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale each channel of x by its gate.

        Math:
            s = mean of x over H, W;  g = sigmoid(fc2(silu(fc1(s))));  out = x * g

        Shapes:
            x: (N, C, H, W); s, g: (N, C, 1, 1); out: (N, C, H, W)

        Args:
            x: a batch of feature maps.

        Returns:
            x scaled channel by channel (a new tensor).

        Numerics:
            SiLU inside as in EfficientNet (the SENet paper used ReLU).

        Reference:
            torchvision.ops.SqueezeExcitation(activation=nn.SiLU); Hu et al. (2018)
        """
        raise NotImplementedError


class MBConv(nn.Module):
    """EfficientNet's mobile inverted bottleneck with squeeze-and-excitation.

    Layers: hidden = in_channels * expand_ratio;
    expand = conv_bn(in, hidden, 1, activation=nn.SiLU), or None when expand_ratio == 1;
    depthwise = conv_bn(hidden, hidden, kernel_size, stride, groups=hidden, activation=nn.SiLU);
    se = SqueezeExcitation(hidden, max(1, int(in_channels * se_ratio)))  (the block's INPUT
    channels set the squeeze width, as in the paper's code and torchvision);
    project = conv_bn(hidden, out_channels, 1) with no activation.
    The residual connection is used when stride == 1 and in_channels == out_channels.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 expand_ratio: int, se_ratio: float = 0.25):  # fmt: skip
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """MBConv forward pass.

        Math:
            h = expand(x) (or x);  h = project(se(depthwise(h)));  out = h + x if residual else h

        Shapes:
            x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))

        Args:
            x: a batch of feature maps.

        Returns:
            A new tensor; x is left as it was.

        Numerics:
            No ReLU/SiLU after project and none after the sum: a linear bottleneck.
            (Stochastic depth is left out: it is the identity at evaluation.)

        Reference:
            torchvision.models.efficientnet.MBConv; Sandler et al. (2018); Tan & Le (2019)
        """
        raise NotImplementedError


def compound_scaling(
    phi: float, alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15
) -> tuple[float, float, float]:
    """EfficientNet's compound scaling: one coefficient phi scales depth, width and resolution.

    Math:
        depth d = alpha^phi,  width w = beta^phi,  resolution r = gamma^phi,
        with alpha * beta^2 * gamma^2 ~ 2, so FLOPs (prop. to d w^2 r^2) grow by ~2^phi

    Shapes:
        Scalars.

    Args:
        phi: the compound coefficient (0 gives B0's multipliers 1, 1, 1).
        alpha, beta, gamma: the grid-searched bases (the paper's 1.2, 1.1, 1.15).

    Returns:
        (depth_mult, width_mult, resolution_mult) as Python floats.

    Numerics:
        Nothing special.

    Reference:
        Tan & Le (2019), EfficientNet, eq. 3
    """
    raise NotImplementedError


def round_filters(filters: int, width_mult: float, divisor: int = 8) -> int:
    """Scale a channel count by width_mult and round it to a multiple of divisor.

    Math:
        v = filters * width_mult
        new = max(divisor, int(v + divisor / 2) // divisor * divisor)
        if new < 0.9 * v: new += divisor      (never round down by more than 10%)

    Shapes:
        Scalars.

    Args:
        filters: channels in B0; width_mult: the width multiplier; divisor: 8.

    Returns:
        The new channel count, a Python int.

    Numerics:
        Multiples of 8 suit hardware; the 10% rule stops small layers from shrinking too much.

    Reference:
        round_filters in the EfficientNet TF code; torchvision's _make_divisible
    """
    raise NotImplementedError


def round_repeats(repeats: int, depth_mult: float) -> int:
    """Scale a stage's number of blocks by depth_mult, rounding up.

    Math:
        ceil(depth_mult * repeats)

    Shapes:
        Scalars.

    Args:
        repeats: blocks in the stage in B0; depth_mult: the depth multiplier.

    Returns:
        A Python int.

    Numerics:
        Rounding up: a multiplier above 1 never leaves a stage as it was.

    Reference:
        round_repeats in the EfficientNet TF code; torchvision's MBConvConfig.adjust_depth
    """
    raise NotImplementedError


def efficientnet(
    width_mult: float = 1.0, depth_mult: float = 1.0, num_classes: int = 1000, dropout: float = 0.2
) -> nn.Module:
    """EfficientNet from your MBConv blocks: B0 at multipliers (1, 1), larger ones scaled.

    Math:
        stem conv_bn(3, round_filters(32), 3, stride 2, SiLU)
        for (expand, kernel, stride, in, out, repeats) in B0's stages:
            (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
            (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
            (6, 3, 1, 192, 320, 1)
            round_repeats(repeats) MBConvs with round_filters'd channels; only the first
            block of a stage has the stride and the in -> out change
        head conv_bn(c, 4 c, 1, SiLU) with c = round_filters(320) (1280 for B0)
        adaptive avg pool 1, flatten, dropout, linear 4 c -> num_classes

    Shapes:
        (N, 3, 224, 224) -> (N, 320, 7, 7) -> (N, 1280, 7, 7) -> (N, num_classes)

    Args:
        width_mult, depth_mult: B0 (1.0, 1.0), B1 (1.0, 1.1), B2 (1.1, 1.2), B3 (1.2, 1.4).
        num_classes: outputs; dropout: before the final linear layer.

    Returns:
        An nn.Module: 5,288,548 parameters for B0, 7,794,184 for B1, 9,109,994 for B2.

    Numerics:
        Resolution is the input's business: the network takes any size.

    Reference:
        torchvision.models.efficientnet_b0 ... b7; Tan & Le (2019), Table 1
    """
    raise NotImplementedError
