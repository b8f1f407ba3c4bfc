"""Oracle for the vit kata: patches through F.unfold and F.conv2d, the encoder through
nn.TransformerEncoderLayer, attention rollout as a float64 NumPy loop, and the training
loop on MNIST. Options reproduce the slips learners make, for the tests' messages.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

# Attributes the tests read, as "<module>.<attribute>" paths; ViT's layout is timm's.
VIT_LAYOUT = ("patch_embed.proj", "cls_token", "pos_embed", "blocks", "norm", "head")
BLOCK_LAYOUT = ("norm1", "self_attn", "norm2", "linear1", "linear2")


def patchify(images: torch.Tensor, patch: int, order: str = "conv") -> torch.Tensor:
    """(N, P, C*p*p) patches. "conv": F.unfold's layout, rows of the grid first, each
    patch in (C, p, p) order. Slips: "channels_last" (p, p, C) as einops' 'b c (h p1)
    (w p2) -> b (h w) (p1 p2 c)'; "column_major" (the grid read column by column);
    "no_permute" (a reshape without the permute)."""
    N, C, H, W = images.shape
    p = patch
    if order == "conv":
        return F.unfold(images, kernel_size=p, stride=p).transpose(1, 2)  # (N, P, C*p*p)
    if order == "no_permute":
        return images.reshape(N, (H // p) * (W // p), C * p * p)
    x = images.reshape(N, C, H // p, p, W // p, p)
    axes = {"channels_last": (0, 2, 4, 3, 5, 1), "column_major": (0, 4, 2, 1, 3, 5)}[order]
    return x.permute(*axes).reshape(N, (H // p) * (W // p), C * p * p)


def conv_embed(images: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Patch embedding as a Conv2d(C, D, p, stride=p): weight (D, C, p, p) -> (N, P, D)."""
    p = weight.shape[-1]
    return F.conv2d(images, weight, bias, stride=p).flatten(2).transpose(1, 2)


def encoder_layer(block: nn.Module, norm_first: bool = True) -> nn.TransformerEncoderLayer:
    """The nn.TransformerEncoderLayer (pre-norm, GELU, no dropout) a block must equal;
    norm_first=False gives the post-norm slip."""
    attn = block.self_attn
    layer = nn.TransformerEncoderLayer(
        attn.embed_dim,
        attn.num_heads,
        block.linear1.out_features,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=norm_first,
        dtype=torch.float64,
    )
    return layer.train()  # train mode: torch's fused inference path stays out of the way


def run_layer(layer: nn.TransformerEncoderLayer, params: dict, x: torch.Tensor):
    """The layer's output and its per-head attention weights (N, heads, T, T)."""
    out = functional_call(layer, params, (x,))
    norm1 = {k.removeprefix("norm1."): v for k, v in params.items() if k.startswith("norm1.")}
    sa = {k.removeprefix("self_attn."): v for k, v in params.items() if k.startswith("self_attn.")}
    h = functional_call(layer.norm1, norm1, (x,))
    _, weights = functional_call(
        layer.self_attn, sa, (h, h, h), {"need_weights": True, "average_attn_weights": False}
    )
    return out, weights


def vit_params(model: nn.Module) -> dict[str, torch.Tensor]:
    """A float64 leaf copy of every parameter of model, with gradients on."""
    return {k: v.detach().clone().double().requires_grad_() for k, v in model.named_parameters()}


def vit_embed(
    params: dict[str, torch.Tensor],
    images: torch.Tensor,
    cls_at: str = "start",
    positions: bool = True,
) -> torch.Tensor:
    """The encoder's input (N, 1 + P, D), the patches embedded by a strided conv.

    Slips: cls_at="end" appends the class token; positions=False never adds pos_embed.
    """
    w = params["patch_embed.proj.weight"]  # (D, C*p*p)
    D, C = w.shape[0], images.shape[1]
    p = round((w.shape[1] // C) ** 0.5)
    weight = w.reshape(D, C, p, p)  # a conv kernel
    tokens = conv_embed(images.double(), weight, params["patch_embed.proj.bias"])
    cls = params["cls_token"].expand(len(images), -1, -1)  # (N, 1, D)
    x = torch.cat([cls, tokens] if cls_at == "start" else [tokens, cls], dim=1)
    return x + params["pos_embed"] if positions else x


def vit_forward(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    images: torch.Tensor,
    head: str = "cls",
    **slips,
):
    """Logits (N, classes) and per-layer attentions of a ViT laid out like model, from params.

    Slips: head="mean" reads the mean of the patch tokens; vit_embed's slips (the head
    still reads token 0).
    """
    x = vit_embed(params, images, **slips)
    attentions = []
    for i, block in enumerate(model.blocks):
        prefix = f"blocks.{i}."
        sub = {k.removeprefix(prefix): v for k, v in params.items() if k.startswith(prefix)}
        x, weights = run_layer(encoder_layer(block), sub, x)
        attentions.append(weights)
    summary = x[:, 0] if head == "cls" else x[:, 1:].mean(dim=1)
    summary = F.layer_norm(summary, summary.shape[-1:], params["norm.weight"], params["norm.bias"])
    return F.linear(summary, params["head.weight"], params["head.bias"]), attentions


def rollout(
    attentions,
    identity: bool = True,
    renormalise: bool = True,
    reverse: bool = False,
    fuse: str = "mean",
) -> np.ndarray:
    """Attention rollout in float64 NumPy, one layer at a time: R = A_L ... A_1 with
    A_l = rownorm(mean over heads + I). Slips: identity=False, renormalise=False,
    reverse=True (R = A_1 ... A_L), fuse="max" (the heads' maximum)."""
    layers = [np.asarray(a.detach() if hasattr(a, "detach") else a, np.float64) for a in attentions]
    N, _, T, _ = layers[0].shape
    result = np.broadcast_to(np.eye(T), (N, T, T)).copy()
    for a in layers:
        a = a.mean(axis=1) if fuse == "mean" else a.max(axis=1)  # (N, T, T)
        if identity:
            a = a + np.eye(T)
        if renormalise:
            a = a / a.sum(axis=-1, keepdims=True)
        pair = (result, a) if reverse else (a, result)
        result = np.einsum("nij,njk->nik", *pair)
    return result


def random_attention(rng: np.random.Generator, shape, scale: float = 2.0) -> np.ndarray:
    """Softmax rows of random scores: valid attention weights (N, heads, T, T)."""
    scores = scale * rng.standard_normal(shape)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------- training


def mnist_tensors(images: np.ndarray, labels: np.ndarray):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) standardised with MNIST's mean and std."""
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - 0.1307) / 0.3081, torch.from_numpy(np.asarray(labels, dtype=np.int64))


def fit(model, X, Y, *, epochs, batch_size, lr, weight_decay, rng) -> list[float]:
    """AdamW with a one-cycle schedule on cross-entropy; the mean loss of every epoch."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * -(-len(X) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    history = []
    for _ in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        losses = []
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    return history


@torch.no_grad()
def accuracy(model, X, Y, batch_size: int = 500) -> float:
    """Top-1 accuracy in eval mode."""
    model.eval()
    right = sum(
        (model(X[i : i + batch_size]).argmax(1) == Y[i : i + batch_size]).sum().item()
        for i in range(0, len(X), batch_size)
    )
    return right / len(X)
