"""DCGAN's generator and discriminator, its training step, and StyleGAN2's weight
modulation and AdaIN.

This kata is written in PyTorch. DCGAN (Radford et al. 2015) made GANs train on images by
following a few rules: the generator upsamples noise with transposed convolutions
(kernel 4, stride 2, padding 1 doubles the side, as in 03_cnn/transposed_conv), with
BatchNorm and ReLU after each and tanh at the end; the discriminator mirrors it with
strided convolutions and LeakyReLU(0.2), with no BatchNorm on its first layer; every
weight starts from N(0, 0.02); both players use Adam with lr 2e-4 and beta1 = 0.5.
Images here are 32x32 (MNIST's 28x28 padded by 2 on each side), in [-1, 1] like tanh.

StyleGAN steers each generated image with a style vector: AdaIN gives each channel the
style's mean and std; StyleGAN2 moves the same idea into the weights (modulate the
kernel by the style, then demodulate it back to unit norm).

The training test (slow, last) trains your DCGAN on 4,000 MNIST digits for 400 steps and
checks that a FID-like distance to real digits falls well below where it started; a grid
of your samples is written as a PNG to pytest's tmp_path.

Run: pytest katas/06_generative/test_dcgan.py
"""

import torch
from torch import nn


def conv_transpose_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """The side of a ConvTranspose2d's output.

    Math:
        out = (size - 1) * stride - 2 * padding + (kernel - 1) + output_padding + 1:
        the conv2d formula out = (in + 2 * padding - kernel) // stride + 1, solved for in.

    Shapes:
        Plain ints (one side of the image).

    Args:
        size: the input's side; kernel, stride, padding, output_padding: the layer's.

    Returns:
        The output's side, an int.

    Numerics:
        Exact integer arithmetic (no division).

    Reference:
        torch.nn.ConvTranspose2d (its "Shape" section); Dumoulin & Visin 2016.
    """
    raise NotImplementedError


class Generator(nn.Module):
    """DCGAN's G for 32x32 images: noise (N, nz) to images (N, nc, 32, 32) in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 1):
        """Keep self.nz; build self.main, an nn.Sequential of the 11 layers in forward."""
        raise NotImplementedError

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Noise to images: z.reshape(N, nz, 1, 1) through self.main.

        Math:
            kernel 4 everywhere, bias=False (the BatchNorm after it has its own beta):
            ConvTranspose2d(nz, 4 ngf, 4, stride 1, padding 0), BatchNorm2d, ReLU  -> 4x4
            ConvTranspose2d(4 ngf, 2 ngf, 4, stride 2, padding 1), BatchNorm2d, ReLU -> 8x8
            ConvTranspose2d(2 ngf, ngf, 4, stride 2, padding 1), BatchNorm2d, ReLU  -> 16x16
            ConvTranspose2d(ngf, nc, 4, stride 2, padding 1), Tanh                  -> 32x32

        Shapes:
            z: (N, nz), viewed as (N, nz, 1, 1); returns (N, nc, 32, 32).

        Args:
            z: noise. The constructor's nz: noise size; ngf: the width of the last hidden
            layer; nc: image channels.

        Returns:
            The images, in z's dtype.

        Numerics:
            tanh keeps the images in [-1, 1], the range of the real images.

        Reference:
            Radford et al. 2015, figure 1; the PyTorch DCGAN tutorial's Generator.
        """
        raise NotImplementedError


class Discriminator(nn.Module):
    """DCGAN's D for 32x32 images: images (N, nc, 32, 32) to one logit each, (N,)."""

    def __init__(self, ndf: int = 64, nc: int = 1):
        """Build self.main, an nn.Sequential of the 9 layers in forward."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images to logits: self.main, then reshape(-1).

        Math:
            kernel 4 everywhere, bias=False:
            Conv2d(nc, ndf, 4, stride 2, padding 1), LeakyReLU(0.2)               -> 16x16
            Conv2d(ndf, 2 ndf, 4, stride 2, padding 1), BatchNorm2d, LeakyReLU(0.2) -> 8x8
            Conv2d(2 ndf, 4 ndf, 4, stride 2, padding 1), BatchNorm2d, LeakyReLU(0.2) -> 4x4
            Conv2d(4 ndf, 1, 4, stride 1, padding 0)                              -> 1x1

        Shapes:
            x: (N, nc, 32, 32); returns (N,).

        Args:
            x: images. The constructor's ndf: the width of the first layer; nc: channels.

        Returns:
            Logits (no sigmoid: the losses take logits).

        Numerics:
            No BatchNorm on the first layer: the paper found it made training unstable.
            LeakyReLU lets gradients through for negative inputs, which G needs.

        Reference:
            Radford et al. 2015, section 3; the PyTorch DCGAN tutorial's Discriminator.
        """
        raise NotImplementedError


def weights_init(net: nn.Module, generator: torch.Generator) -> None:
    """DCGAN's initialisation of every layer of net, in place.

    Math:
        Conv2d and ConvTranspose2d weights ~ N(0, 0.02^2) (std 0.02);
        BatchNorm2d weight (gamma) ~ N(1, 0.02^2), bias (beta) = 0.

    Shapes:
        Any net; visit its layers with net.modules().

    Args:
        net: a Generator or Discriminator; generator: the only source of randomness
            (tensor.normal_(mean, std, generator=generator)).

    Returns:
        None (the parameters change in place).

    Numerics:
        Change parameters inside torch.no_grad(). normal_'s second argument is a standard
        deviation, not a variance.

    Reference:
        Radford et al. 2015, section 4; the tutorial's weights_init; torch.nn.init.normal_.
    """
    raise NotImplementedError


def make_optimizers(G, D, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)):
    """One Adam per player, with the paper's settings.

    Math:
        opt_d = Adam(D.parameters(), lr, betas); opt_g = Adam(G.parameters(), lr, betas).

    Shapes:
        Not applicable.

    Args:
        G, D: the players; lr, betas: Adam's settings (the paper: 2e-4 and beta1 = 0.5;
            Adam's default beta1 = 0.9 made training oscillate).

    Returns:
        (opt_d, opt_g).

    Numerics:
        Two optimizers: one over both players would step D with G's loss.

    Reference:
        Radford et al. 2015, section 4; torch.optim.Adam.
    """
    raise NotImplementedError


def train_step(G, D, opt_d, opt_g, real, z) -> tuple[float, float]:
    """One DCGAN iteration: a discriminator step, then a non-saturating generator step.

    Math:
        fake = G(z)
        D:  d_loss = mean softplus(-D(real)) + mean softplus(D(fake.detach()))
            (BCE with real labelled 1, fake 0); opt_d.zero_grad(); backward; opt_d.step()
        G:  g_loss = mean softplus(-D(fake)) = -mean log D(G(z)) (the same fakes, through
            the updated D); opt_g.zero_grad(); backward; opt_g.step()

    Shapes:
        real: (N, nc, 32, 32); z: (M, nz).

    Args:
        G, D, opt_d, opt_g: the players and their optimizers; real, z: leave them unchanged.

    Returns:
        (d_loss, g_loss) as Python floats.

    Numerics:
        Pass real and fake through D as two separate batches: BatchNorm then normalises
        each with its own statistics (one concatenated batch gives D other numbers).

    Reference:
        The PyTorch DCGAN tutorial, "Training Loop"; gan kata (d_step, g_step).
    """
    raise NotImplementedError


def train_dcgan(G, D, images, steps, batch_size, generator, lr=2e-4, betas=(0.5, 0.999)):
    """Train G and D with make_optimizers and train_step; the losses of every step.

    Math:
        opt_d, opt_g = make_optimizers(G, D, lr, betas); then `steps` times, drawing random
        numbers in exactly this order:
          idx = torch.randint(0, len(images), (batch_size,), generator=generator)
          z = torch.randn(batch_size, G.nz, generator=generator, dtype=images.dtype)
          train_step(G, D, opt_d, opt_g, images[idx], z)

    Shapes:
        images: (n, nc, 32, 32) in [-1, 1].

    Args:
        G, D: the players; images: the real data; steps, batch_size, lr, betas: the schedule;
        generator: every random draw goes through it.

    Returns:
        {"d_loss": [steps floats], "g_loss": [steps floats]}.

    Numerics:
        Batches are drawn with replacement (randint), so no epoch bookkeeping is needed.

    Reference:
        The PyTorch DCGAN tutorial, "Training Loop".
    """
    raise NotImplementedError


def modulated_conv2d(x, weight, style, demodulate: bool = True, eps: float = 1e-8):
    """StyleGAN2's modulated convolution: each sample convolved with its own scaled weights.

    Math:
        w'[n, o, i, a, b] = style[n, i] * weight[o, i, a, b]     (scale INPUT channel i)
        demodulate: w''[n, o] = w'[n, o] / sqrt(sum_{i, a, b} w'[n, o, i, a, b]^2 + eps)
        out[n] = conv2d(x[n], w''[n], padding=k // 2)
        All samples at once: x as (1, N*C_in, H, W), weights as (N*C_out, C_in, k, k),
        F.conv2d(..., groups=N): group n sees only sample n's channels and weights.

    Shapes:
        x: (N, C_in, H, W); weight: (C_out, C_in, k, k), k odd; style: (N, C_in).
        Returns (N, C_out, H, W).

    Args:
        x, weight, style: as above; demodulate: normalise each output channel's kernel;
        eps: keeps the division finite for an all-zero kernel.

    Returns:
        The output, in x's dtype.

    Numerics:
        With demodulation, unit-variance independent inputs give unit-variance outputs,
        and scaling the style by c > 0 changes nothing. Use reshape, not view: x may be
        non-contiguous.

    Reference:
        Karras et al. 2020 (StyleGAN2), section 2.2, eq. 1 and 3; F.conv2d(groups=...).
    """
    raise NotImplementedError


def adain(x, scale, bias, eps: float = 1e-5):
    """Adaptive instance normalisation: each channel's mean and std replaced by the style's.

    Math:
        mu[n, c] = mean over (H, W) of x[n, c]; var[n, c] = biased variance over (H, W);
        out = scale[n, c] * (x - mu) / sqrt(var + eps) + bias[n, c].

    Shapes:
        x: (N, C, H, W); scale, bias: (N, C). Returns (N, C, H, W).

    Args:
        x: feature maps; scale, bias: the style (one pair per sample and channel).

    Returns:
        The restyled maps, in x's dtype.

    Numerics:
        Biased variance (divide by H*W), like instance norm; eps inside the sqrt keeps a
        constant channel finite (it becomes bias).

    Reference:
        Huang & Belongie 2017, eq. 8; F.instance_norm followed by the style.
    """
    raise NotImplementedError
