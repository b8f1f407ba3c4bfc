"""Oracle for the gpt kata: GPT written out as float64 functions of a model's weights.

The functions read weights by their names in the learner's state_dict (wte.weight,
h.0.attn.c_attn.weight, ...) and redo the model with torch.nn.functional: attention as
an explicit masked softmax (checked against F.scaled_dot_product_attention), and keyword
switches that reproduce the mistakes learners make, so that a test can name them. Also:
the corpus (Tiny Shakespeare when cached, else Python's pydoc topics), the unigram
baseline, the training loop and the loss plot of the training test.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from checker.datasets import DataError, load_text

# ----------------------------------------------------------------------------- weights


def weights(module, prefix: str = "") -> dict[str, torch.Tensor]:
    """module.state_dict() detached, as float64, names after `prefix.` (tied ones twice)."""
    dot = f"{prefix}." if prefix else ""
    return {dot + k: v.detach().clone().double() for k, v in module.state_dict().items()}


def linear(p, name, x):
    return F.linear(x, p[f"{name}.weight"], p.get(f"{name}.bias"))


def layer_norm(p, name, x):
    E = x.shape[-1]
    return F.layer_norm(x, (E,), p[f"{name}.weight"], p.get(f"{name}.bias"), eps=1e-5)


# ----------------------------------------------------------------------------- attention


def attention(
    p,
    name,
    x,
    n_head,
    past=None,
    diagonal=0,
    causal=True,
    scale=None,
    bottom_right=True,
    sdpa=False,
    heads_by_view=False,
    softmax_dim=-1,
):
    """CausalSelfAttention at `name` on x (B, T, E); returns (y, (k, v)).

    diagonal=1 lets each position see the next one; causal=False drops the mask;
    scale replaces 1/sqrt(head size); bottom_right=False aligns the mask top-left (what
    is_causal=True does when there are more keys than queries); sdpa=True computes
    the attention with F.scaled_dot_product_attention instead of the explicit softmax;
    heads_by_view=True cuts heads with view(B, nh, T, hs), which mixes positions up;
    softmax_dim=-2 normalises over the queries instead of the keys.
    """
    B, T, E = x.shape
    hs = E // n_head
    q, k, v = linear(p, f"{name}.c_attn", x).split(E, dim=2)
    if heads_by_view:
        q, k, v = (t.reshape(B, n_head, T, hs) for t in (q, k, v))
    else:
        q, k, v = (t.reshape(B, T, n_head, hs).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
    if past is not None:
        k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)  # (B, nh, S, hs)
    S = k.shape[2]
    shift = (S - T if bottom_right else 0) + diagonal
    allowed = torch.ones(T, S, dtype=torch.bool).tril(shift) if causal else None
    scale = 1 / math.sqrt(hs) if scale is None else scale
    if sdpa:
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=scale)
    else:
        scores = q @ k.transpose(-2, -1) * scale  # (B, nh, T, S)
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        y = torch.softmax(scores, dim=softmax_dim) @ v  # (B, nh, T, hs)
    y = y.transpose(1, 2).reshape(B, T, E)
    return linear(p, f"{name}.c_proj", y), (k, v)


def block(p, name, x, n_head, past=None, post_norm=False, gelu="none", **att):
    """A pre-norm block (post_norm=True: the original transformer's order; gelu="tanh":
    GPT-2's approximate GELU)."""
    if post_norm:
        a, present = attention(p, f"{name}.attn", x, n_head, past, **att)
        x = layer_norm(p, f"{name}.ln_1", x + a)
        return layer_norm(p, f"{name}.ln_2", x + mlp(p, f"{name}.mlp", x, gelu)), present
    a, present = attention(p, f"{name}.attn", layer_norm(p, f"{name}.ln_1", x), n_head, past, **att)
    x = x + a
    return x + mlp(p, f"{name}.mlp", layer_norm(p, f"{name}.ln_2", x), gelu), present


def mlp(p, name, x, gelu="none"):
    hidden = F.gelu(linear(p, f"{name}.c_fc", x), approximate=gelu)
    return linear(p, f"{name}.c_proj", hidden)


# ----------------------------------------------------------------------------- the model


def gpt(
    p,
    config,
    idx,
    cache=None,
    positions=True,
    offset=True,
    final_norm=True,
    tied=True,
    **att,
):
    """Logits (B, T, V) and the new cache of GPT(config) with weights p, on idx (B, T).

    positions=False leaves out the position embedding; offset=False numbers a cached
    call's positions from 0; final_norm=False skips ln_f; tied=False scores with
    lm_head.weight instead of wte.weight (an untied head).
    """
    T = idx.shape[1]
    past_len = 0 if cache is None else cache[0][0].shape[2]
    start = past_len if offset else 0
    x = F.embedding(idx, p["wte.weight"])
    if positions:
        x = x + p["wpe.weight"][start : start + T]
    new_cache = []
    for i in range(config.n_layer):
        x, present = block(
            p, f"h.{i}", x, config.n_head, None if cache is None else cache[i], **att
        )
        new_cache.append(present)
    if final_norm:
        x = layer_norm(p, "ln_f", x)
    head = p["wte.weight"] if tied else p["lm_head.weight"]
    return x @ head.T, new_cache


def loss(p, config, idx, targets, **kw):
    logits, _ = gpt(p, config, idx, **kw)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def greedy(p, config, idx, max_new_tokens, pick=torch.argmax):
    """Greedy decoding, the context cropped to the last block_size tokens.

    pick=torch.argmin takes the least likely token (top-k keeping the smallest, k = 1).
    """
    for _ in range(max_new_tokens):
        logits, _ = gpt(p, config, idx[:, -config.block_size :])
        idx = torch.cat([idx, pick(logits[:, -1], -1, keepdim=True)], dim=1)
    return idx


def next_token_probs(logits, temperature, top_k=None, largest=True):
    """The distribution generate() samples from, given the last position's logits (V,).

    largest=False keeps the top_k smallest logits instead (a learner's slip).
    """
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), largest=largest).values[-1]
        logits = logits.masked_fill(logits < kth if largest else logits > kth, float("-inf"))
    return torch.softmax(logits, dim=-1)


# ----------------------------------------------------------------------------- data


CORPORA = {
    "tinyshakespeare": "Tiny Shakespeare (found in $DLKATAS_DATA)",
    "pydoc": "Python's pydoc topics, the help() text that ships with every Python (offline: "
    "Tiny Shakespeare is not cached; `python -m checker data tinyshakespeare` fetches it)",
}


def corpus() -> tuple[str, str]:
    """(key of CORPORA, text): Tiny Shakespeare when it is cached, else the pydoc topics."""
    try:
        return "tinyshakespeare", load_text("tinyshakespeare")
    except DataError:
        from pydoc_data.topics import topics

        return "pydoc", "\n".join(topics[name] for name in sorted(topics))


def encode(text: str) -> tuple[torch.Tensor, list[str]]:
    """Character ids (int64) and the vocabulary (the sorted distinct characters)."""
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    return torch.tensor([index[ch] for ch in text], dtype=torch.int64), vocab


def val_windows(ids: torch.Tensor, block_size: int, n: int):
    """n consecutive windows of ids and their next-token targets: (n, T) each."""
    x = ids[: n * block_size].view(n, block_size)
    y = ids[1 : n * block_size + 1].view(n, block_size)
    return x, y


def unigram_loss(train: torch.Tensor, targets: torch.Tensor, vocab_size: int) -> float:
    """Cross-entropy (nats/char) on targets of the train character frequencies (add-one)."""
    counts = torch.bincount(train, minlength=vocab_size).double() + 1
    return float(-torch.log(counts / counts.sum())[targets.reshape(-1)].mean())


@torch.no_grad()
def evaluate(model, x, y, batch_size=64) -> float:
    """Mean cross-entropy (nats/char) of model over the windows x with targets y."""
    total = 0.0
    for i in range(0, len(x), batch_size):
        logits, _ = model(x[i : i + batch_size])
        total += float(
            F.cross_entropy(logits.flatten(0, 1), y[i : i + batch_size].flatten(), reduction="sum")
        )
    return total / y.numel()


def train(model, get_batch, data, *, steps, batch_size, lr, generator, eval_fn=None, every=50):
    """AdamW with a linear warm-up and a cosine decay; [(step, train loss, val loss)]."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
        ),
    )
    history, running = [], []
    for step in range(1, steps + 1):
        model.train()
        x, y = get_batch(data, batch_size, model.config.block_size, generator=generator)
        _, batch_loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        batch_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running.append(batch_loss.item())
        if step % every == 0 or step == steps:
            val = eval_fn(model) if eval_fn else float("nan")
            history.append((step, sum(running) / len(running), val))
            running = []
    return history


def plot_losses(history, baseline, bar, path) -> None:
    """Training and validation loss against the step, with the unigram baseline and the bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, train_loss, val_loss = zip(*history)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=80)
    ax.plot(steps, train_loss, "o-", label="train (mean since the last point)")
    ax.plot(steps, val_loss, "s-", label="validation")
    ax.axhline(baseline, color="grey", ls="--", label=f"unigram baseline {baseline:.2f}")
    ax.axhline(bar, color="red", ls=":", label=f"the bar {bar:.2f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/char)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
