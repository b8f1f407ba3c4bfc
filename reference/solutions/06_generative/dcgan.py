"""DCGAN's generator and discriminator, its training step, and StyleGAN2's weight
modulation and AdaIN.

DCGAN replaces the GAN's MLPs with convolutions: the generator upsamples noise with
transposed convolutions (kernel 4, stride 2, padding 1 doubles the size), BatchNorm and
ReLU, ending in tanh; the discriminator mirrors it with strided convolutions and
LeakyReLU(0.2), without BatchNorm on its first layer. StyleGAN steers a generator with a
style vector per sample: AdaIN replaces each channel's statistics with the style's, and
StyleGAN2 moves the same idea into the weights (modulation, then demodulation).
References: Radford et al. 2015, "Unsupervised Representation Learning with Deep
Convolutional GANs", section 3; the PyTorch DCGAN tutorial; Huang & Belongie 2017 (AdaIN);
Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN", section 2.2.
"""

import torch
import torch.nn.functional as F
from torch import nn


def conv_transpose_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """The side of ConvTranspose2d's output: conv2d's size formula solved for the input."""
    return (size - 1) * stride - 2 * padding + (kernel - 1) + output_padding + 1


class Generator(nn.Module):
    """DCGAN's G for 32x32 images: noise (N, nz) to images (N, nc, 32, 32) in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 1):
        super().__init__()
        self.nz = nz
        # BatchNorm follows every ConvT but the last, so those need no bias of their own.
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),  # 1x1 -> 4x4
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # 4x4 -> 8x8
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),  # 8x8 -> 16x16
            nn.BatchNorm2d(ngf),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # 16x16 -> 32x32
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))  # (N, nz, 1, 1) -> (N, nc, 32, 32)


class Discriminator(nn.Module):
    """DCGAN's D for 32x32 images: images (N, nc, 32, 32) to one logit each, (N,)."""

    def __init__(self, ndf: int = 64, nc: int = 1):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # 32 -> 16; no BatchNorm on the input layer
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # 16 -> 8
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),  # 8 -> 4
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),  # 4 -> 1: one logit
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).reshape(-1)  # (N, 1, 1, 1) -> (N,) logits, no sigmoid


def weights_init(net: nn.Module, generator: torch.Generator) -> None:
    """DCGAN's initialisation, in place: conv weights N(0, 0.02), BatchNorm N(1, 0.02) and 0."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_(0.0, 0.02, generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.normal_(1.0, 0.02, generator=generator)
                m.bias.zero_()


def make_optimizers(G, D, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)):
    """Two Adams, one per player: (opt_d, opt_g)."""
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    return opt_d, opt_g


def train_step(G, D, opt_d, opt_g, real, z) -> tuple[float, float]:
    """One DCGAN iteration: a D step on a real and a fake batch, then a non-saturating G step."""
    fake = G(z)  # (N, nc, 32, 32)
    # 1. D: real -> 1, fake -> 0. Real and fake go through D as two separate batches, so
    # BatchNorm normalises each with its own statistics (as in the DCGAN tutorial).
    opt_d.zero_grad()
    d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
    d_loss.backward()
    opt_d.step()
    # 2. G: the same fakes through the updated D, labelled "real": -mean log D(G(z)).
    opt_g.zero_grad()
    g_loss = F.softplus(-D(fake)).mean()
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def train_dcgan(G, D, images, steps, batch_size, generator, lr=2e-4, betas=(0.5, 0.999)):
    """Train both players on random batches of images; the losses of every step."""
    opt_d, opt_g = make_optimizers(G, D, lr, betas)
    history = {"d_loss": [], "g_loss": []}
    for _ in range(steps):
        idx = torch.randint(0, images.shape[0], (batch_size,), generator=generator)
        z = torch.randn(batch_size, G.nz, generator=generator, dtype=images.dtype)
        d_loss, g_loss = train_step(G, D, opt_d, opt_g, images[idx], z)
        history["d_loss"].append(d_loss)
        history["g_loss"].append(g_loss)
    return history


def modulated_conv2d(x, weight, style, demodulate=True, eps=1e-8):
    """StyleGAN2's modulated convolution: each sample convolved with its own scaled weights."""
    N, C_in, H, W = x.shape
    C_out, _, k, _ = weight.shape
    # 1. Modulate: sample n scales input channel i of the kernel by style[n, i].
    w = weight[None] * style[:, None, :, None, None]  # (N, C_out, C_in, k, k)
    # 2. Demodulate: rescale each output channel's kernel to unit norm, so that unit-variance
    # inputs give unit-variance outputs whatever the style.
    if demodulate:
        w = w * torch.rsqrt((w * w).sum(dim=(2, 3, 4), keepdim=True) + eps)
    # 3. One grouped convolution for the whole batch: sample n is group n.
    x = x.reshape(1, N * C_in, H, W)  # (1, N*C_in, H, W)
    w = w.reshape(N * C_out, C_in, k, k)
    out = F.conv2d(x, w, padding=k // 2, groups=N)  # (1, N*C_out, H', W')
    return out.reshape(N, C_out, out.shape[2], out.shape[3])


def adain(x, scale, bias, eps=1e-5):
    """Adaptive instance normalisation: each channel's mean and std replaced by the style's."""
    mean = x.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)  # biased, as instance norm
    normed = (x - mean) / torch.sqrt(var + eps)
    return scale[:, :, None, None] * normed + bias[:, :, None, None]
