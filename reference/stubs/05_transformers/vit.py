"""A Vision Transformer (ViT): patches as tokens, a class token, learned positions, rollout.

This kata is written in PyTorch. A ViT reads an image as a sentence of patches: cut
it into p x p squares, flatten each one, map it to a D-vector with one shared linear
layer, put a learned class token in front, add a learned vector per position, and run
a transformer encoder. The head classifies from the class token's final state alone.

Attention rollout (Abnar & Zuidema 2020) then asks: which patches did the class token
draw on, through all the layers? That needs each layer's attention weights, so you
write the encoder block yourself. nn.TransformerEncoderLayer calls its self_attn with
need_weights=False, so neither its output nor a forward hook on self_attn ever sees
the weights; your block calls nn.MultiheadAttention with need_weights=True and
average_attn_weights=False and returns the (N, heads, T, T) weights with its output.
Its sublayers carry nn.TransformerEncoderLayer's names, so the tests can load your
block's state_dict into one and compare.

The training test trains ViT() (patch 7: 16 patches, D = 64, 2 blocks, 4 heads) on
MNIST: 20,000 training images for 4 epochs when the full dataset is cached
(python -m checker data mnist), or the offline 5,000-image sample (4,000 to train on,
15 epochs) otherwise; it says which. It then draws one test digit's rollout map into
a PNG (pytest's tmp_path; the test prints where) and checks that the class token's
rollout rests mostly on the patches that hold the strokes.

Run: pytest katas/05_transformers/test_vit.py
"""

import torch
from torch import nn


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """Cut images into non-overlapping patch x patch squares and flatten each one.

    Math:
        Patch (i, j) covers rows i*p .. i*p+p-1 and columns j*p .. j*p+p-1. Patches
        come row by row over the grid: index i * (W / p) + j. Each patch is flattened
        in (channel, row, column) order, the order of a Conv2d weight (D, C, p, p), so
        element c*p*p + u*p + v is images[n, c, i*p + u, j*p + v].

    Shapes:
        images: (N, C, H, W) -> (N, P, C*p*p) with P = (H / p) * (W / p).

    Args:
        images: a batch of images; any memory layout.
        patch: the side p of a square patch.

    Returns:
        The patches, images' dtype.

    Numerics:
        Raise ValueError when H or W is not a multiple of p (no silent cropping).
        reshape -> permute -> reshape: a reshape alone puts the wrong pixels together.

    Reference:
        F.unfold(images, kernel_size=p, stride=p).transpose(1, 2) gives the same array.
    """
    raise NotImplementedError


class PatchEmbedding(nn.Module):
    """One shared linear map from each flattened patch to a D-vector (a strided conv)."""

    def __init__(self, in_channels: int, patch: int, dim: int):
        """Build self.proj = nn.Linear(in_channels * patch * patch, dim); keep self.patch."""
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Embed every patch.

        Math:
            tokens = proj(patchify(images, p)). This is nn.Conv2d(C, D, kernel_size=p,
            stride=p) with conv.weight = proj.weight.reshape(D, C, p, p): the kernel
            visits each patch once and takes the same dot products.

        Shapes:
            images: (N, C, H, W) -> (N, P, D).

        Args:
            images: a batch of images, H and W multiples of p.

        Returns:
            The patch tokens.

        Numerics:
            ValueError (from patchify) for sizes that are not multiples of p.

        Reference:
            timm's PatchEmbed (a Conv2d, then flatten(2).transpose(1, 2)).
        """
        raise NotImplementedError


class EncoderBlock(nn.Module):
    """A pre-norm transformer encoder layer that also returns its attention weights."""

    def __init__(self, dim: int, heads: int, mlp_dim: int):
        """Build norm1, self_attn, norm2, linear1, activation, linear2 (see forward)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One encoder layer; returns its output and every head's attention weights.

        Math:
            Attributes, named as in nn.TransformerEncoderLayer: norm1, norm2 =
            nn.LayerNorm(dim); self_attn = nn.MultiheadAttention(dim, heads,
            batch_first=True); linear1 = nn.Linear(dim, mlp_dim); activation = nn.GELU();
            linear2 = nn.Linear(mlp_dim, dim). Pre-norm, no dropout:
              h = norm1(x);  a, weights = self_attn(h, h, h, need_weights=True,
                                                    average_attn_weights=False)
              x = x + a;  x = x + linear2(activation(linear1(norm2(x))))

        Shapes:
            x: (N, T, dim) -> (N, T, dim); weights: (N, heads, T, T), each row sums to 1.

        Args:
            x: the tokens.

        Returns:
            (x, weights).

        Numerics:
            Keep every head's weights (average_attn_weights=False): rollout averages them.

        Reference:
            nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout=0, activation="gelu",
            batch_first=True, norm_first=True): same parameters, same output.
        """
        raise NotImplementedError


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
        """Build patch_embed, cls_token, pos_embed, blocks, norm and head (see embed, forward)."""
        raise NotImplementedError

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """The encoder's input: the class token, then the patch tokens, plus positions.

        Math:
            Attributes: patch_embed = PatchEmbedding(in_channels, patch, dim);
            cls_token = nn.Parameter (1, 1, dim); pos_embed = nn.Parameter (1, 1 + P, dim),
            both started at 0.02 * torch.randn. Then
              x = cat([cls_token for every image, patch_embed(images)], dim=1) + pos_embed

        Shapes:
            images: (N, C, image_size, image_size) -> (N, T, dim), T = 1 + P.

        Args:
            images: a batch of images.

        Returns:
            The tokens; token 0 is the class token.

        Numerics:
            cls_token.expand(N, -1, -1) shares one learned vector across the batch.

        Reference:
            timm's VisionTransformer (_pos_embed with class_token=True).
        """
        raise NotImplementedError

    def forward(self, images: torch.Tensor, return_attention: bool = False):
        """Class logits for a batch of images (and every layer's attention weights).

        Math:
            blocks = nn.ModuleList of depth EncoderBlock(dim, heads, mlp_dim); norm =
            nn.LayerNorm(dim); head = nn.Linear(dim, num_classes).
              x = embed(images);  x, w_l = blocks[l](x) for l = 0 .. depth-1
              logits = head(norm(x[:, 0]))      (the class token only)

        Shapes:
            images: (N, C, H, W) -> logits (N, num_classes); w_l: (N, heads, T, T).

        Args:
            images: a batch of images.
            return_attention: also return the list [w_0, ..., w_{depth-1}].

        Returns:
            logits, or (logits, attentions) when return_attention is True.

        Numerics:
            The head reads token 0 alone: the class token must learn to gather the image.

        Reference:
            Dosovitskiy et al. 2021, equations 1-4.
        """
        raise NotImplementedError


def attention_rollout(attentions: list[torch.Tensor]) -> torch.Tensor:
    """How much each token's final state draws on each input token, through all layers.

    Math:
        For each layer l (first to last): A_l = mean over heads of w_l; add the identity
        for the residual path, A_l = A_l + I, and renormalise each row to sum to 1.
        rollout = A_{L-1} @ ... @ A_1 @ A_0 (later layers on the left).

    Shapes:
        attentions: L tensors (N, heads, T, T) -> (N, T, T).

    Args:
        attentions: every layer's weights, first layer first (ViT.forward's list).

    Returns:
        rollout[n, i, j]: the share of token i's final state that came from input token j.
        Every row is non-negative and sums to 1. The input's dtype.

    Numerics:
        Do not modify the inputs (no in-place +=).

    Reference:
        Abnar & Zuidema, "Quantifying Attention Flow in Transformers" (2020), section 3.
    """
    raise NotImplementedError


def rollout_map(rollout: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """The class token's row of the rollout, over the patches, laid out as the patch grid.

    Math:
        map[n] = rollout[n, 0, 1:] reshaped to grid (row-major, as patchify orders patches).

    Shapes:
        rollout: (N, T, T), T = 1 + gh * gw -> (N, gh, gw).

    Args:
        rollout: attention_rollout's result.
        grid: (gh, gw), the patch grid: (H / p, W / p).

    Returns:
        How much the class token drew on each patch (the class token's own share left out).

    Numerics:
        Row 0 (what the class token took in), not column 0 (what the others took from it).

    Reference:
        jacobgil/vit-explain's rollout: mask = result[0, 0, 1:].
    """
    raise NotImplementedError


def plot_rollout(image: torch.Tensor, heatmap: torch.Tensor, path):
    """Draw the image, and the rollout map over it, side by side; save a PNG at path.

    Math:
        Upsample heatmap to the image's size, each value over its whole patch
        (repeat_interleave by H / gh and W / gw). Left: imshow(image, cmap="gray");
        right: the image, then imshow(upsampled heatmap, alpha=0.6) on top.

    Shapes:
        image: (H, W); heatmap: (gh, gw).

    Args:
        image: one grey image.
        heatmap: rollout_map's result for that image.
        path: where to write the PNG.

    Returns:
        The matplotlib Figure.

    Numerics:
        matplotlib.figure.Figure (not pyplot): no window opens, nothing global.

    Reference:
        matplotlib's Axes.imshow; Figure.savefig(path, format="png").
    """
    raise NotImplementedError
