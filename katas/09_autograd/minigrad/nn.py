"""nn.py: Modules that find their Parameters, name them as torch does, and save and load them.

A Module is a plain Python object whose attributes hold Parameters, other Modules, or lists
and dicts of them. Walking those attributes gives every parameter a dotted name
(`layers.0.weight`); state_dict() saves under those names and load_state_dict() reads them,
so a torch checkpoint (converted to ndarrays) loads into the equivalent minigrad model.
The layers are thin: each owns its Parameters and calls functional (F) or ops for the maths,
so autograd gives every backward pass for free.

Reference: torch.nn.Module (torch/nn/modules/module.py), torch.nn.Linear, Conv2d, Embedding,
LayerNorm, Dropout, LSTM; micrograd's nn.py.
"""

from __future__ import annotations

import numpy as np

from . import functional as F  # noqa: F401 - the layers you write call F.linear, F.conv2d, ...
from . import ops  # noqa: F401 - and ops (ops.stack in LSTM)
from .tensor import Tensor, no_grad  # noqa: F401 - no_grad: for load_state_dict's copies


class Parameter(Tensor):
    """A Tensor that is a model's weight: requires grad, and Modules register it."""

    def __init__(self, data, requires_grad: bool = True, name: str | None = None):
        super().__init__(data, requires_grad=requires_grad, name=name)


class Module:
    """The base of every layer and model: forward(), parameters by name, train/eval, state.

    Math:
        Registration: an attribute holding a Parameter, a Module, or a list/tuple/dict of
        them (at any depth) belongs to the module. Names are dotted paths, torch's:
        `stem.weight`, `layers.0.bias` (a list's items are named 0, 1, ...), `heads.a.weight`
        (a dict's by their keys). Order: a module's own Parameters first, then each child's,
        both in the order the attributes were first assigned (vars(self) keeps that order).
    Shapes:
        state_dict(): {name: ndarray copy of that parameter}, same shapes as the parameters.
    Args:
        state (load_state_dict): {name: ndarray (or Tensor)}; strict: refuse missing and
        unexpected keys (a shape mismatch is refused even when not strict, as in torch).
    Returns:
        named_parameters(): (name, Parameter) pairs; parameters(): the Parameters alone;
        children(): the Modules held directly, in attribute order (a list's or dict's items
        count, in their order); modules(): self, then every module below it, depth first;
        train()/eval(): self; load_state_dict(): (missing_keys, unexpected_keys), two lists.
    Numerics:
        load_state_dict copies INTO the existing arrays (p.data[...] = value, under no_grad)
        after checking shapes: NumPy would broadcast a (1,) array into (4,) silently, and an
        optimizer holding p must see the new values. Keep each parameter's dtype. Errors are
        RuntimeErrors naming each key (and, for a size mismatch, both shapes as tuples).
        zero_grad() sets grad = None on every parameter at any depth.
    Reference:
        torch.nn.Module: named_parameters, state_dict, load_state_dict, train, eval, zero_grad.
    """

    training: bool = True  # a class default, so a subclass need not call super().__init__()

    def forward(self, *args, **kwargs):
        """The computation: every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def named_parameters(self, prefix: str = ""):
        """(dotted name, Parameter) pairs, torch's names in torch's order."""
        raise NotImplementedError

    def parameters(self):
        """Every Parameter of this module and its children, once each."""
        for _, p in self.named_parameters():
            yield p

    def children(self):
        """The Modules held directly: in attributes, lists and dicts (not their children)."""
        raise NotImplementedError

    def modules(self):
        """This module and every module below it, depth first."""
        raise NotImplementedError

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every child, at any depth; return self."""
        raise NotImplementedError

    def eval(self) -> Module:
        """Evaluation mode: train(False)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (grad = None)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """name -> a copy of the parameter's array, in torch's names and order."""
        raise NotImplementedError

    def load_state_dict(self, state: dict, strict: bool = True):
        """Copy arrays into the parameters in place; refuse missing/unexpected/misshapen keys."""
        raise NotImplementedError


class Linear(Module):
    """A fully connected layer: y = x W^T + b.

    Math:
        y = x @ W.T + b (F.linear). Init as torch: W and b uniform in [-k, k], k = 1/sqrt(in).
    Shapes:
        x (N, *, in) -> y (N, *, out); weight (out, in), bias (out,) or None.
    Args:
        in_features, out_features; bias: whether to add b; rng: np.random.Generator for the
        init (default np.random.default_rng()); dtype: the parameters' dtype.
    Returns:
        forward: a Tensor (N, *, out).
    Numerics:
        Draw with rng.uniform and cast to dtype (float32 by default).
    Reference:
        torch.nn.Linear (kaiming_uniform_(a=sqrt(5)) gives exactly k = 1/sqrt(in)).
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float32):
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """x @ W.T + b."""
        raise NotImplementedError


class Conv2d(Module):
    """A 2-D convolution layer over F.conv2d.

    Math:
        out[n, f] = sum_c x[n, c] * weight[f, c] (cross-correlation) + bias[f].
        Init as torch: uniform in [-k, k], k = 1/sqrt(C * kh * kw) (the fan-in of one output).
    Shapes:
        x (N, C, H, W) -> (N, F, H_out, W_out); weight (F, C, kh, kw), bias (F,).
    Args:
        in_channels C, out_channels F, kernel_size (int or (kh, kw)), stride, padding
        (ints), bias, rng, dtype as in Linear.
    Returns:
        forward: a Tensor (N, F, H_out, W_out).
    Numerics:
        As Linear.
    Reference:
        torch.nn.Conv2d.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        bias=True,
        rng=None,
        dtype=np.float32,
    ):
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """F.conv2d with this layer's weight, bias, stride and padding."""
        raise NotImplementedError


class Embedding(Module):
    """A lookup table of vectors, one row per token id.

    Math:
        out[..., :] = weight[indices[...], :]; init weight ~ N(0, 1) as torch.
    Shapes:
        indices (any shape, integers) -> (*indices.shape, E); weight (V, E).
    Args:
        num_embeddings V, embedding_dim E, rng, dtype.
    Returns:
        forward: a Tensor (*indices.shape, E).
    Numerics:
        Repeated ids add their gradients into the same row (F.embedding does it).
    Reference:
        torch.nn.Embedding.
    """

    def __init__(self, num_embeddings, embedding_dim, rng=None, dtype=np.float32):
        raise NotImplementedError

    def forward(self, indices) -> Tensor:
        """F.embedding(indices, weight); indices an int ndarray (or Tensor)."""
        raise NotImplementedError


class LayerNorm(Module):
    """Layer normalisation over the last dims, with a learned scale and shift.

    Math:
        y = (x - mean) / sqrt(var + eps) * weight + bias, over the normalized_shape dims.
        Init: weight = 1, bias = 0.
    Shapes:
        x (*, *normalized_shape) -> same; weight, bias: normalized_shape.
    Args:
        normalized_shape: int or tuple; eps; dtype.
    Returns:
        forward: a Tensor of x's shape.
    Numerics:
        F.layer_norm does the maths (biased variance, eps inside the sqrt).
    Reference:
        torch.nn.LayerNorm.
    """

    def __init__(self, normalized_shape, eps=1e-5, dtype=np.float32):
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """F.layer_norm with this layer's shape, weight, bias and eps."""
        raise NotImplementedError


class Dropout(Module):
    """Randomly zero units while training; do nothing in evaluation.

    Math:
        training: y = x * mask / (1 - p), mask[j] = 1 with probability 1 - p (else 0),
        a fresh mask from self.rng on every call; eval (self.training False): y = x.
    Shapes:
        x (any) -> same; the mask has x's shape.
    Args:
        p: the probability of zeroing a unit; rng: np.random.Generator (default a new one).
    Returns:
        forward: a Tensor of x's shape.
    Numerics:
        p = 0 is the identity; p = 1 zeroes everything (1/(1-p) would divide by zero).
    Reference:
        torch.nn.Dropout (inverted dropout).
    """

    def __init__(self, p=0.5, rng=None):
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """F.dropout(x, mask, p) in training, x in eval."""
        raise NotImplementedError


class ReLU(Module):
    """max(x, 0), elementwise.

    Math: y = max(x, 0). Shapes: any -> same. Args: none. Returns: a Tensor.
    Numerics: none. Reference: torch.nn.ReLU.
    """

    def forward(self, x: Tensor) -> Tensor:
        """x.relu()."""
        raise NotImplementedError


class Tanh(Module):
    """tanh(x), elementwise.

    Math: y = tanh(x). Shapes: any -> same. Args: none. Returns: a Tensor.
    Numerics: none. Reference: torch.nn.Tanh.
    """

    def forward(self, x: Tensor) -> Tensor:
        """x.tanh()."""
        raise NotImplementedError


class Sigmoid(Module):
    """The logistic function, elementwise.

    Math: y = 1 / (1 + exp(-x)). Shapes: any -> same. Args: none. Returns: a Tensor.
    Numerics: ops.sigmoid is stable for large |x|. Reference: torch.nn.Sigmoid.
    """

    def forward(self, x: Tensor) -> Tensor:
        """x.sigmoid()."""
        raise NotImplementedError


class Flatten(Module):
    """Keep the batch axis, flatten the rest.

    Math: y[n] = x[n].ravel(). Shapes: (N, d1, d2, ...) -> (N, d1 * d2 * ...).
    Args: none. Returns: a Tensor. Numerics: none. Reference: torch.nn.Flatten().
    """

    def forward(self, x: Tensor) -> Tensor:
        """x.reshape(N, -1)."""
        raise NotImplementedError


class MaxPool2d(Module):
    """The maximum over each window.

    Math: y[n, c, i, j] = max of x[n, c] over the window at (i*stride, j*stride).
    Shapes: (N, C, H, W) -> (N, C, H_out, W_out).
    Args: kernel_size; stride (None: kernel_size). Returns: a Tensor.
    Numerics: F.max_pool2d. Reference: torch.nn.MaxPool2d.
    """

    def __init__(self, kernel_size, stride=None):
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """F.max_pool2d(x, kernel_size, stride)."""
        raise NotImplementedError


class Sequential(Module):
    """Modules applied in order, registered under the names "0", "1", ... as torch's.

    Math: y = m_k(... m_1(m_0(x))).
    Shapes: whatever the modules map.
    Args: *modules. Returns: forward: the last module's output.
    Numerics: none. Reference: torch.nn.Sequential (state_dict keys "0.weight", "2.bias").
    """

    def __init__(self, *modules: Module):
        raise NotImplementedError

    def __iter__(self):
        return iter(self.children())

    def __len__(self) -> int:
        return len(list(self.children()))

    def __getitem__(self, i: int) -> Module:
        return list(self.children())[i]

    def forward(self, x: Tensor) -> Tensor:
        """Apply each module in turn."""
        raise NotImplementedError


class LSTM(Module):
    """One LSTM layer over a whole sequence, from ops (autograd does backprop through time).

    Math:
        For t = 0 .. T-1, with the gate blocks in torch's order i, f, g, o:
        a = x_t W_ih^T + b_ih + h W_hh^T + b_hh                          (N, 4H)
        i = sigmoid(a[:, 0:H]), f = sigmoid(a[:, H:2H]),
        g = tanh(a[:, 2H:3H]), o = sigmoid(a[:, 3H:4H])
        c = f * c + i * g;  h = o * tanh(c);  output[:, t] = h
        Init: every weight and bias uniform in [-k, k], k = 1/sqrt(H).
    Shapes:
        x (N, T, I) (batch_first; (T, N, I) otherwise); hx = (h0, c0), each (1, N, H);
        weight_ih_l0 (4H, I), weight_hh_l0 (4H, H), bias_ih_l0 (4H,), bias_hh_l0 (4H,).
    Args:
        input_size I, hidden_size H, batch_first, rng, dtype; forward(x, hx=None):
        hx None means zeros.
    Returns:
        (output (N, T, H) (or (T, N, H)), (h_n (1, N, H), c_n (1, N, H))), all Tensors.
    Numerics:
        Compute x's share x @ W_ih.T + b_ih for all steps in one matmul; slice gates with
        a[:, lo:hi]; collect the h's and ops.stack them along dim 1.
    Reference:
        torch.nn.LSTM (num_layers=1), parameter names as torch's.
    """

    def __init__(self, input_size, hidden_size, batch_first=True, rng=None, dtype=np.float32):
        raise NotImplementedError

    def forward(self, x: Tensor, hx=None):
        """(output, (h_n, c_n))."""
        raise NotImplementedError
