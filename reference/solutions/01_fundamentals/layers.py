"""A modular layer library: Linear, ReLU, Sigmoid, Tanh and Sequential.

Every layer has forward(x) (which caches what backward needs) and backward(dout)
(which returns dx and, for layers with parameters, overwrites self.grads). This
is the design of torch.nn and of CS231n's layer API: a network is a list of
layers, and backpropagation is calling their backward methods in reverse order.
References: CS231n assignment 2 (layers.py); micrograd's nn.py.

Dtype rule: a layer computes in its parameters' dtype (float64 here), so a
float32 batch through Linear comes out float64; the activations keep x's dtype.
"""

import numpy as np


class Linear:
    """y = x @ W + b, with W stored (in, out) so that rows of x are examples."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator):
        # torch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b alike,
        # so the output's scale does not grow with the number of inputs.
        bound = 1 / np.sqrt(in_features)
        self.params = {
            "W": rng.uniform(-bound, bound, size=(in_features, out_features)),  # (in, out)
            "b": rng.uniform(-bound, bound, size=out_features),  # (out,)
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.x = None

    def forward(self, x):
        self.x = x  # (N, in): backward needs it for dW
        return x @ self.params["W"] + self.params["b"]  # (N, out)

    def backward(self, dout):
        # dout: (N, out). Each example adds its share to dW and db: sum over the batch.
        # Assign (not +=): one backward gives the gradient of one forward.
        self.grads["W"] = self.x.T @ dout  # (in, N) @ (N, out) -> (in, out)
        self.grads["b"] = dout.sum(axis=0)  # (out,)
        return dout @ self.params["W"].T  # (N, out) @ (out, in) -> (N, in)


class ReLU:
    """y = max(x, 0); its gradient passes where x > 0 (torch's relu'(0) = 0)."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.mask = None

    def forward(self, x):
        self.mask = x > 0  # (N, D), reused by backward
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * self.mask  # the mask comes from the input, not from dout


class Sigmoid:
    """y = 1 / (1 + exp(-x)); backward uses the cached output: dy/dx = y (1 - y)."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.out = None

    def forward(self, x):
        # exp(-x) may overflow to inf for very negative x; 1 / inf = 0 is right.
        with np.errstate(over="ignore"):
            self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class Tanh:
    """y = tanh(x); dy/dx = 1 - y^2 with the cached output y."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.out = None

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out**2)


class Sequential:
    """Layers applied in order; backward visits them in reverse (the chain rule)."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def params_and_grads(self):
        # The layers' own arrays, not copies: an optimizer updates them in place.
        # Call it after backward: backward assigns new gradient arrays.
        return [
            (layer.params[name], layer.grads[name])
            for layer in self.layers
            for name in layer.params
        ]
