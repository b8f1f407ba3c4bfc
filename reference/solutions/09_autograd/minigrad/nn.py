"""nn.py: Modules that find their Parameters, name them as torch does, and save and load them.

A Module is a plain Python object whose attributes hold Parameters, other Modules, or lists
and dicts of them. Walking those attributes gives every parameter a dotted name
(`layers.0.weight`), and those names are what state_dict() saves and load_state_dict() reads:
the same names as torch's, so a torch checkpoint loads into the equivalent minigrad model.
The layers are thin: they own their Parameters and call functional for the maths.

Reference: torch.nn.Module (torch/nn/modules/module.py), torch.nn.Linear, Conv2d, Embedding,
LayerNorm, Dropout, LSTM; micrograd's nn.py.
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from . import ops
from .tensor import Tensor, no_grad


class Parameter(Tensor):
    """A Tensor that is a model's weight: requires grad, and Modules register it."""

    def __init__(self, data, requires_grad: bool = True, name: str | None = None):
        super().__init__(data, requires_grad=requires_grad, name=name)


def _holds_modules(value) -> bool:
    """Whether a list, tuple or dict holds (at any depth) a Parameter or a Module."""
    items = value.values() if isinstance(value, dict) else value
    return any(
        isinstance(v, (Parameter, Module))
        or (isinstance(v, (list, tuple, dict)) and _holds_modules(v))
        for v in items
    )


def _walk(value, prefix: str):
    """(dotted name, Parameter) for every Parameter inside value, in torch's order."""
    if isinstance(value, Parameter):
        yield prefix, value
    elif isinstance(value, Module):
        yield from value._named_parameters_all(prefix + "." if prefix else "")
    elif isinstance(value, (list, tuple)):  # a ModuleList in torch: children named 0, 1, ...
        for i, v in enumerate(value):
            yield from _walk(v, f"{prefix}.{i}")
    elif isinstance(value, dict):  # a ModuleDict in torch: children named by their keys
        for key, v in value.items():
            yield from _walk(v, f"{prefix}.{key}")


def _modules_in(value):
    """The Modules directly inside an attribute (itself, or a list's or dict's items)."""
    if isinstance(value, Module):
        yield value
    elif isinstance(value, (list, tuple, dict)):
        for v in value.values() if isinstance(value, dict) else value:
            yield from _modules_in(v)


class Module:
    """The base of every layer and model: forward(), parameters by name, train/eval, state."""

    training: bool = True  # a class default, so a subclass need not call super().__init__()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- registration: read from the attributes, in the order they were first assigned --
    def _slots(self) -> list[tuple[str, object]]:
        """Attributes holding parameters: own Parameters first, then Modules and containers
        (torch stores them apart, in _parameters and _modules, and lists them in that order)."""
        own = [(k, v) for k, v in vars(self).items() if isinstance(v, Parameter)]
        subs = [
            (k, v)
            for k, v in vars(self).items()
            if isinstance(v, Module) or (isinstance(v, (list, tuple, dict)) and _holds_modules(v))
        ]
        return own + subs

    def _named_parameters_all(self, prefix: str = ""):
        """Every (name, Parameter), a shared one once per name (state_dict's view)."""
        for name, value in self._slots():
            yield from _walk(value, prefix + name)

    def named_parameters(self, prefix: str = ""):
        """(dotted name, Parameter) pairs; a Parameter shared by two layers comes once."""
        seen: set[int] = set()
        for name, p in self._named_parameters_all(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self):
        """Every Parameter of this module and its children, once each."""
        for _, p in self.named_parameters():
            yield p

    def children(self):
        """The Modules held directly: in attributes, lists and dicts (not their children)."""
        for _, value in self._slots():
            yield from _modules_in(value)

    def modules(self):
        """This module and every module below it, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    # --- modes and gradients ---------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every child (Dropout reads it)."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: train(False)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (grad = None, as torch's set_to_none)."""
        for p in self.parameters():
            p.grad = None

    # --- state -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """name -> a copy of the parameter's array, in torch's names and order."""
        return {name: p.data.copy() for name, p in self._named_parameters_all()}

    def load_state_dict(self, state: dict, strict: bool = True):
        """Copy arrays into the parameters, in place; refuse missing, unexpected and misshapen
        entries. Returns (missing_keys, unexpected_keys), as torch does."""
        own = dict(self._named_parameters_all())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        values = {}
        for name, p in own.items():
            if name not in state:
                continue
            value = state[name]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != p.shape:  # numpy would broadcast a (1,) array silently
                problems.append(
                    f"size mismatch for {name!r}: copying an array of shape {value.shape} "
                    f"from the state dict, the parameter in this model has shape {p.shape}"
                )
            values[name] = value
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        with no_grad():  # a copy into the same array: an optimizer holding p sees it
            for name, value in values.items():
                own[name][...] = value
        return missing, unexpected

    def __repr__(self) -> str:
        inner = "".join(
            f"\n  ({name}): " + repr(value).replace("\n", "\n  ")
            for name, value in self._slots()
            if isinstance(value, Module)
        )
        return f"{type(self).__name__}({self.extra_repr()}{inner}{chr(10) if inner else ''})"

    def extra_repr(self) -> str:
        return ""


def _uniform(rng, bound: float, shape, dtype) -> Parameter:
    return Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))


class Linear(Module):
    """y = x W^T + b, with W (out, in) and b (out,) uniform in +-1/sqrt(in) (torch's default)."""

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float32):
        rng = np.random.default_rng() if rng is None else rng
        self.in_features, self.out_features = in_features, out_features
        # torch: kaiming_uniform_(a=sqrt(5)) gives the bound gain * sqrt(3 / fan_in) = 1/sqrt(in)
        bound = 1 / np.sqrt(in_features)
        self.weight = _uniform(rng, bound, (out_features, in_features), dtype)
        self.bias = _uniform(rng, bound, (out_features,), dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class Conv2d(Module):
    """A 2-D convolution: weight (F, C, kh, kw) and bias (F,) uniform in +-1/sqrt(C*kh*kw)."""

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
        rng = np.random.default_rng() if rng is None else rng
        kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
        self.stride, self.padding = stride, padding
        bound = 1 / np.sqrt(in_channels * kh * kw)  # fan_in: every input a filter sees
        self.weight = _uniform(rng, bound, (out_channels, in_channels, kh, kw), dtype)
        self.bias = _uniform(rng, bound, (out_channels,), dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)


class Embedding(Module):
    """A lookup table: row i of weight (V, E) is token i's vector; weight ~ N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim, rng=None, dtype=np.float32):
        rng = np.random.default_rng() if rng is None else rng
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim)).astype(dtype))

    def forward(self, indices) -> Tensor:
        indices = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
        return F.embedding(indices, self.weight)


class LayerNorm(Module):
    """Normalise over the last dims, then scale by weight (ones) and shift by bias (zeros)."""

    def __init__(self, normalized_shape, eps=1e-5, dtype=np.float32):
        shape = (normalized_shape,) if np.isscalar(normalized_shape) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = Parameter(np.ones(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(shape, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, eps=self.eps)


class Dropout(Module):
    """In training, zero each unit with probability p and scale the rest by 1/(1-p)."""

    def __init__(self, p=0.5, rng=None):
        self.p = p
        self.rng = np.random.default_rng() if rng is None else rng

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x  # evaluation: every unit, unscaled (the scaling happened in training)
        if self.p == 1:
            return x * 0.0  # nothing kept; 1/(1-p) would divide by zero
        mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype)  # 1 = kept, P = 1 - p
        return F.dropout(x, mask, self.p)


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): keep the batch axis, flatten the rest."""

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))


class MaxPool2d(Module):
    """The max over each kernel_size window, windows stride apart (stride defaults to kernel)."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride)


class Sequential(Module):
    """Modules applied in order; registered as attributes "0", "1", ... like torch's."""

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            setattr(self, str(i), m)  # the names torch gives: 0.weight, 2.bias, ...

    def __iter__(self):
        return iter(self.children())

    def __len__(self) -> int:
        return len(list(self.children()))

    def __getitem__(self, i: int) -> Module:
        return list(self.children())[i]

    def forward(self, x: Tensor) -> Tensor:
        for m in self.children():
            x = m(x)
        return x


class LSTM(Module):
    """One LSTM layer over a sequence, built from ops (autograd does backpropagation in time).

    Gates, in torch's order i, f, g, o (the four row blocks of the weights):
        a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        (N, 4H)
        i, f, o = sigmoid(a blocks 0, 1, 3); g = tanh(a block 2)
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
    """

    def __init__(self, input_size, hidden_size, batch_first=True, rng=None, dtype=np.float32):
        rng = np.random.default_rng() if rng is None else rng
        self.input_size, self.hidden_size, self.batch_first = input_size, hidden_size, batch_first
        H, bound = hidden_size, 1 / np.sqrt(hidden_size)  # torch: every weight in +-1/sqrt(H)
        self.weight_ih_l0 = _uniform(rng, bound, (4 * H, input_size), dtype)
        self.weight_hh_l0 = _uniform(rng, bound, (4 * H, H), dtype)
        self.bias_ih_l0 = _uniform(rng, bound, (4 * H,), dtype)
        self.bias_hh_l0 = _uniform(rng, bound, (4 * H,), dtype)

    def forward(self, x: Tensor, hx=None):
        if not self.batch_first:
            x = x.transpose(0, 1)  # (T, N, I) -> (N, T, I)
        N, T, _ = x.shape
        H = self.hidden_size
        if hx is None:
            h = Tensor(np.zeros((N, H), dtype=self.weight_hh_l0.dtype))
            c = Tensor(np.zeros((N, H), dtype=self.weight_hh_l0.dtype))
        else:
            h, c = (v if isinstance(v, Tensor) else Tensor(v) for v in hx)
            h, c = h.reshape(N, H), c.reshape(N, H)  # (1, N, H) -> (N, H)
        # The input's share of every gate, for all steps in one matmul.
        ax = x @ self.weight_ih_l0.T + self.bias_ih_l0  # (N, T, 4H)
        outputs = []
        for t in range(T):
            a = ax[:, t] + h @ self.weight_hh_l0.T + self.bias_hh_l0  # (N, 4H)
            i = a[:, 0:H].sigmoid()
            f = a[:, H : 2 * H].sigmoid()
            g = a[:, 2 * H : 3 * H].tanh()
            o = a[:, 3 * H : 4 * H].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            outputs.append(h)
        out = ops.stack(outputs, dim=1)  # (N, T, H)
        if not self.batch_first:
            out = out.transpose(0, 1)  # (T, N, H)
        return out, (h.reshape(1, N, H), c.reshape(1, N, H))
