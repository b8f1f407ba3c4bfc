"""A Vision Transformer (ViT): patches as tokens, a class token, learned positions, rollout.

A ViT cuts an image into p x p patches, flattens each one and maps it to a D-vector
with one shared linear layer (the same numbers as a Conv2d with kernel p and stride p),
prepends a learned class token, adds a learned vector per position, and runs a plain
transformer encoder. The class token's final state is the image's summary: the head
reads it alone. Attention rollout follows how much each token's final state draws on
each input token, through every layer, residual connections included.

References: Dosovitskiy et al., "An Image is Worth 16x16 Words" (ICLR 2021); Abnar &
Zuidema, "Quantifying Attention Flow in Transformers" (ACL 2020); timm's
vision_transformer.py (the names patch_embed, cls_token, pos_embed, blocks, norm, head).
"""

import torch
from torch import nn


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """Cut images into non-overlapping patch x patch squares and flatten each one."""
    N, C, H, W = images.shape
    if H % patch or W % patch:
        raise ValueError(f"image size {H}x{W} is not a multiple of the patch size {patch}")
    gh, gw = H // patch, W // patch  # the patch grid
    # split each image axis into (which patch, where inside the patch)
    x = images.reshape(N, C, gh, patch, gw, patch)  # (N, C, gh, p, gw, p)
    # grid axes first (row-major), then each patch in Conv2d's weight order (C, p, p)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (N, gh, gw, C, p, p)
    return x.reshape(N, gh * gw, C * patch * patch)  # (N, P, C*p*p)


class PatchEmbedding(nn.Module):
    """One shared linear map from each flattened patch to a D-vector (a strided conv)."""

    def __init__(self, in_channels: int, patch: int, dim: int):
        """Build self.proj = nn.Linear(in_channels * patch * patch, dim)."""
        super().__init__()
        self.patch = patch
        self.proj = nn.Linear(in_channels * patch * patch, dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.proj(patchify(images, self.patch))  # (N, P, D)


class EncoderBlock(nn.Module):
    """A pre-norm transformer encoder layer that also returns its attention weights."""

    def __init__(self, dim: int, heads: int, mlp_dim: int):
        """Build the sublayers, named as in nn.TransformerEncoderLayer."""
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.self_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.linear1 = nn.Linear(dim, mlp_dim)
        self.activation = nn.GELU()
        self.linear2 = nn.Linear(mlp_dim, dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.norm1(x)
        # need_weights=True hands back the softmax weights; one map per head, not averaged
        attended, weights = self.self_attn(
            h, h, h, need_weights=True, average_attn_weights=False
        )  # (N, T, D), (N, heads, T, T)
        x = x + attended
        x = x + self.linear2(self.activation(self.linear1(self.norm2(x))))
        return x, weights


class ViT(nn.Module):
    """Patch embedding, class token, positions, encoder blocks, a head on the class token."""

    def __init__(
        self,
        image_size: int = 28,
        patch: int = 7,
        in_channels: int = 1,
        num_classes: int = 10,
        dim: int = 64,
        depth: int = 2,
        heads: int = 4,
        mlp_dim: int = 128,
    ):
        """Build patch_embed, cls_token, pos_embed, blocks, norm and head."""
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image size {image_size} is not a multiple of the patch {patch}")
        num_patches = (image_size // patch) ** 2
        self.patch_embed = PatchEmbedding(in_channels, patch, dim)
        # small random starts, as in ViT: learned like any weight
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, 1 + num_patches, dim))
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, mlp_dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """The encoder's input: the class token, then the patch tokens, plus positions."""
        tokens = self.patch_embed(images)  # (N, P, D)
        cls = self.cls_token.expand(len(images), -1, -1)  # (N, 1, D): one vector, every image
        x = torch.cat([cls, tokens], dim=1)  # (N, 1 + P, D): the class token is token 0
        # attention ignores order: each position gets its own learned vector
        return x + self.pos_embed  # (N, 1 + P, D)

    def forward(self, images: torch.Tensor, return_attention: bool = False):
        x = self.embed(images)  # (N, T, D), T = 1 + P
        attentions = []
        for block in self.blocks:
            x, weights = block(x)
            attentions.append(weights)  # (N, heads, T, T)
        summary = self.norm(x[:, 0])  # (N, D): the class token's final state
        logits = self.head(summary)  # (N, num_classes)
        return (logits, attentions) if return_attention else logits


def attention_rollout(attentions: list[torch.Tensor]) -> torch.Tensor:
    """How much each token's final state draws on each input token, through all layers."""
    rollout = None
    for weights in attentions:  # first layer first
        a = weights.mean(dim=1)  # (N, T, T): average the heads
        # the residual connection passes each token on unchanged: add the identity
        a = a + torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
        a = a / a.sum(dim=-1, keepdim=True)  # each row a distribution again
        # a later layer mixes what the earlier layers already mixed: it goes on the left
        rollout = a if rollout is None else a @ rollout  # (N, T, T)
    return rollout


def rollout_map(rollout: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """The class token's row of the rollout, over the patches, laid out as the patch grid."""
    N = rollout.shape[0]
    return rollout[:, 0, 1:].reshape(N, *grid)  # row 0 = the class token; skip its own column


def plot_rollout(image: torch.Tensor, heatmap: torch.Tensor, path):
    """Draw the image, and the rollout map over it, side by side; save a PNG at path."""
    from matplotlib.figure import Figure  # no pyplot: no display, no global state

    H, W = image.shape
    gh, gw = heatmap.shape
    # each patch's value over all of its pixels: nearest-neighbour upsampling
    big = heatmap.repeat_interleave(H // gh, dim=0).repeat_interleave(W // gw, dim=1)  # (H, W)
    fig = Figure(figsize=(6, 3.2))
    left, right = fig.subplots(1, 2)
    left.imshow(image.detach().cpu().numpy(), cmap="gray")
    left.set_title("image")
    right.imshow(image.detach().cpu().numpy(), cmap="gray")
    right.imshow(big.detach().cpu().numpy(), cmap="inferno", alpha=0.6)
    right.set_title("attention rollout")
    for ax in (left, right):
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, format="png")
    return fig
