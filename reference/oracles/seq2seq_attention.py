"""Oracle for 04_rnn/seq2seq_attention: attention in float64, known slips, the reversal task.

Scores: dot and general through torch.bmm, additive written out (torch has no op for
it); the context of dot and general attention: F.scaled_dot_product_attention with
scale=1.0. The model oracles reuse the learner's nn.Embedding / nn.GRU / nn.GRUCell /
nn.Linear submodules (torch's code) and redo everything else: packing, attention,
teacher forcing, greedy decoding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

PAD, BOS, EOS = 0, 1, 2
DIGIT0 = 3  # the token of digit d is DIGIT0 + d
VOCAB = 13

# ----------------------------------------------------------------------------- attention


def scores(method: str, q, k, params: dict, *, tanh: bool = True, transpose_W: bool = False):
    """(N, S) scores in float64. tanh=False and transpose_W=True reproduce two slips."""
    if method == "dot":
        return torch.bmm(k, q[:, :, None])[:, :, 0]
    if method == "general":
        W = params["W"].T if transpose_W else params["W"]
        return torch.bmm(k, (q @ W)[:, :, None])[:, :, 0]
    pre = (q @ params["W_q"])[:, None, :] + k @ params["W_k"]  # (N, S, A)
    return (torch.tanh(pre) if tanh else pre) @ params["v"]


def attend(s, values, mask=None, *, slip: str | None = None):
    """(context, weights). slip: "dim0" (softmax over the batch), "after" (padding zeroed
    after the softmax, no renormalising), "nomask" (padding ignored), "nan" (a row of only
    padding left as NaN)."""
    if mask is None or slip == "nomask":
        w = torch.softmax(s, dim=0 if slip == "dim0" else -1)
    elif slip == "after":
        w = torch.softmax(s, -1) * mask
    else:
        w = torch.softmax(s.masked_fill(~mask, float("-inf")), dim=0 if slip == "dim0" else -1)
        if slip != "nan":
            w = w.masked_fill(~mask, 0.0)
    return torch.bmm(w[:, None, :], values)[:, 0, :], w


def sdpa_context(method: str, q, k, v, mask, params: dict):
    """torch's scaled_dot_product_attention with scale=1.0 (dot; general with q @ W)."""
    query = q @ params["W"] if method == "general" else q
    m = None if mask is None else mask[:, None, :]  # (N, 1, S): True takes part
    return F.scaled_dot_product_attention(query[:, None, :], k, v, attn_mask=m, scale=1.0)[:, 0]


# ----------------------------------------------------------------------------- the model


def attention_params(model) -> dict:
    att = model.attention
    return {n: getattr(att, n) for n in ("W", "W_q", "W_k", "v") if hasattr(att, n)}


def encode(model, src, src_mask):
    """Each sequence alone, without padding, through model.encoder: (enc_out, h)."""
    N, S = src.shape
    H = 2 * model.encoder.hidden_size
    enc_out = torch.zeros(N, S, H, dtype=model.out.weight.dtype)
    hs = []
    for n in range(N):
        n_real = int(src_mask[n].sum())
        x = model.src_embed(src[n : n + 1, :n_real])  # (1, n_real, E)
        out, h_n = model.encoder(x)
        enc_out[n, :n_real] = out[0]
        hs.append(torch.cat([h_n[0, 0], h_n[1, 0]]))
    return enc_out, torch.stack(hs)


def decode_step(model, y_prev, h, enc_out, src_mask, *, query: str = "new"):
    """(logits, h, weights). query="old" is the slip of attending with the previous state."""
    h_new = model.decoder(model.tgt_embed(y_prev), h)
    q = h_new if query == "new" else h
    s = scores(model.attention.method, q, enc_out, attention_params(model))
    context, w = attend(s, enc_out, src_mask)
    att = torch.tanh(model.combine(torch.cat([context, h_new], -1)))
    return model.out(att), h_new, w


def teacher_forced(model, src, src_mask, tgt, *, shift: bool = True, h0: str = "encoder"):
    """(logits (N, L, V), weights (N, L, S)); shift=False feeds tgt[t] at step t (a slip),
    h0="zeros" starts the decoder from zeros (a slip)."""
    enc_out, h = encode(model, src, src_mask)
    if h0 == "zeros":
        h = torch.zeros_like(h)
    inputs = torch.cat([torch.full_like(tgt[:, :1], BOS), tgt[:, :-1]], 1) if shift else tgt
    logits, weights = [], []
    for t in range(tgt.shape[1]):
        lg, h, w = decode_step(model, inputs[:, t], h, enc_out, src_mask)
        logits.append(lg)
        weights.append(w)
    return torch.stack(logits, 1), torch.stack(weights, 1)


@torch.no_grad()
def greedy(model, src, src_mask, max_len: int, *, pad_after_eos: bool = True):
    """Greedy decoding from BOS: (tokens (N, max_len), weights (N, max_len, S))."""
    enc_out, h = encode(model, src, src_mask)
    y = torch.full((src.shape[0],), BOS, dtype=torch.int64)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    tokens, weights = [], []
    for _ in range(max_len):
        logits, h, w = decode_step(model, y, h, enc_out, src_mask)
        y = logits.argmax(-1)
        tokens.append(torch.where(done & pad_after_eos, PAD, y))
        weights.append(w)
        done = done | (y == EOS)
    return torch.stack(tokens, 1), torch.stack(weights, 1)


def greedy_pad(tokens, keep_eos: bool = True):
    """tokens with PAD after each row's first EOS (keep_eos=False: the EOS too, a slip)."""
    eos = (tokens == EOS).long()
    seen = eos.cumsum(1)  # EOS tokens at or before t
    pad = seen > 0 if not keep_eos else (seen - eos) > 0  # strictly after the first EOS
    return tokens.masked_fill(pad, PAD)


def sequence_accuracy(pred, target) -> float:
    """Rows whose every non-PAD target position is matched."""
    return float(((pred == target) | (target == PAD)).all(1).double().mean())


# ----------------------------------------------------------------------------- the task


def make_reversal(n: int, rng: np.random.Generator, min_len: int = 1, max_len: int = 8):
    """n random digit strings and their reversals, padded.

    Returns src (n, max_len) int64, src_mask (n, max_len) bool (True: a real token),
    tgt (n, max_len + 1) int64: the reversed digits, then EOS, then PAD.
    """
    lengths = rng.integers(min_len, max_len + 1, n)
    digits = rng.integers(0, 10, (n, max_len)) + DIGIT0
    src = np.full((n, max_len), PAD, dtype=np.int64)
    tgt = np.full((n, max_len + 1), PAD, dtype=np.int64)
    for i, length in enumerate(lengths):
        src[i, :length] = digits[i, :length]
        tgt[i, :length] = digits[i, :length][::-1]
        tgt[i, length] = EOS
    src_t = torch.from_numpy(src)
    return src_t, src_t != PAD, torch.from_numpy(tgt)


def as_text(tokens) -> list[str]:
    """Token ids as labels: digits, '<s>', '</s>', '_' for PAD."""
    names = {PAD: "_", BOS: "<s>", EOS: "</s>"}
    return [names.get(int(t), str(int(t) - DIGIT0)) for t in tokens]


def fit(model, forward, src, src_mask, tgt, *, steps, batch_size, lr, rng) -> list[float]:
    """Adam with a one-cycle schedule on cross-entropy (PAD ignored) of forward(model, ...)
    = teacher-forced logits (N, L, V). Returns the mean loss of every 100 steps."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    history, losses = [], []
    model.train()
    for step in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(src), batch_size))
        logits, _ = forward(src[idx], src_mask[idx], tgt[idx])
        loss = F.cross_entropy(logits.flatten(0, 1), tgt[idx].flatten(), ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % 100 == 0:
            history.append(float(np.mean(losses)))
            losses = []
    return history
