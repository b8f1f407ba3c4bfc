"""A modular layer library: Linear, ReLU, Sigmoid, Tanh and Sequential.

Implement with NumPy. Every layer has the same small API, like torch.nn modules:

    out = layer.forward(x)     computes the output and caches what backward needs
    dx = layer.backward(dout)  takes d loss / d out, returns d loss / d x, and sets
                               layer.grads[name] = d loss / d layer.params[name]
    layer.params, layer.grads  dicts of arrays ({} for layers without parameters)

A network is Sequential(Linear(784, 256, rng), ReLU(), Linear(256, 10, rng)); its
backward calls the layers' backward methods in reverse order. mnist_mlp trains
these layers, so keep the names and the API.

Dtype rule: a layer computes in its parameters' dtype (float64), so a float32
batch through Linear comes out float64; activations keep the dtype of x.

Run: pytest katas/01_fundamentals/test_layers.py
"""

import numpy as np


class Linear:
    """A fully connected layer, y = x @ W + b (torch.nn.Linear with W = weight.T)."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator):
        """Create W (in, out) and b (out,) like torch's nn.Linear, and zero gradients.

        Math:
            bound = 1 / sqrt(in_features)
            W ~ U(-bound, bound), b ~ U(-bound, bound)   (independent draws)

        Shapes:
            params["W"]: (in, out); params["b"]: (out,); grads: the same keys and shapes.

        Args:
            in_features, out_features: sizes of the input and output.
            rng: draw every random number from it (rng.uniform), never np.random.

        Returns:
            None; sets self.params = {"W": ..., "b": ...} and self.grads (zeros).

        Numerics:
            float64 parameters.

        Reference:
            torch.nn.Linear.reset_parameters (kaiming_uniform_ with a=sqrt(5) gives
            exactly this bound for the weight).
        """
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Affine map of a batch; caches x for backward.

        Math:
            out = x @ W + b

        Shapes:
            x: (N, in) -> out: (N, out).

        Args:
            x: a batch, one example per row (any memory layout; do not modify it).

        Returns:
            out, in the parameters' dtype.

        Numerics:
            Nothing special: one matrix product.

        Reference:
            torch.nn.Linear.forward (x @ weight.T + bias)
        """
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradients of the loss w.r.t. W, b (stored in self.grads) and x (returned).

        Math:
            dW = x.T @ dout;  db = sum of dout over the batch;  dx = dout @ W.T

        Shapes:
            dout: (N, out); dW: (in, out); db: (out,); dx: (N, in).

        Args:
            dout: d loss / d out for the batch of the last forward.

        Returns:
            dx. Sets self.grads["W"] and self.grads["b"], OVERWRITING the previous
            values (a second backward replaces them; it does not add to them).

        Numerics:
            A sum over the batch, not a mean: the loss already divides by N.

        Reference:
            torch autograd of nn.Linear: out.backward(dout) fills weight.grad (= dW.T),
            bias.grad and x.grad.
        """
        raise NotImplementedError


class ReLU:
    """max(x, 0), elementwise."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """ReLU of a batch; caches what backward needs.

        Math:
            out = max(x, 0)

        Shapes:
            x: any shape; out: the same.

        Args:
            x: input (not modified).

        Returns:
            out, x's dtype.

        Numerics:
            Exact.

        Reference:
            torch.nn.ReLU
        """
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Pass the gradient where the input was positive.

        Math:
            dx = dout * (x > 0)       (torch's convention: relu'(0) = 0)

        Shapes:
            dout: like the forward's x; dx: the same.

        Args:
            dout: d loss / d out.

        Returns:
            dx, dout's dtype.

        Numerics:
            Exact.

        Reference:
            torch autograd of nn.ReLU
        """
        raise NotImplementedError


class Sigmoid:
    """1 / (1 + exp(-x)), elementwise."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Sigmoid of a batch; caches its output for backward.

        Math:
            out = 1 / (1 + exp(-x))

        Shapes:
            x: any shape; out: the same.

        Args:
            x: input (not modified).

        Returns:
            out, x's dtype.

        Numerics:
            exp(-x) overflows to inf for x below about -709 (float64); 1 / (1 + inf) = 0
            is the right answer, so silence the warning rather than clip.

        Reference:
            torch.nn.Sigmoid
        """
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Chain rule through the sigmoid, with the cached output.

        Math:
            dx = dout * out * (1 - out),  out = sigmoid(x) from the forward

        Shapes:
            dout: like out; dx: the same.

        Args:
            dout: d loss / d out.

        Returns:
            dx.

        Numerics:
            Use the cached output: no second exp, no overflow.

        Reference:
            torch autograd of nn.Sigmoid
        """
        raise NotImplementedError


class Tanh:
    """tanh(x), elementwise."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Tanh of a batch; caches its output for backward.

        Math:
            out = tanh(x)

        Shapes:
            x: any shape; out: the same.

        Args:
            x: input (not modified).

        Returns:
            out, x's dtype.

        Numerics:
            np.tanh saturates to +-1 without overflow.

        Reference:
            torch.nn.Tanh
        """
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Chain rule through tanh, with the cached output.

        Math:
            dx = dout * (1 - out^2),  out = tanh(x) from the forward

        Shapes:
            dout: like out; dx: the same.

        Args:
            dout: d loss / d out.

        Returns:
            dx.

        Numerics:
            Exact up to rounding.

        Reference:
            torch autograd of nn.Tanh
        """
        raise NotImplementedError


class Sequential:
    """A chain of layers: Sequential(Linear(...), ReLU(), Linear(...))."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run x through every layer in order.

        Math:
            out = f_L(... f_2(f_1(x)))

        Shapes:
            x: (N, D_in) -> out: (N, D_out).

        Args:
            x: a batch (not modified).

        Returns:
            The last layer's output.

        Numerics:
            Whatever the layers do.

        Reference:
            torch.nn.Sequential
        """
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagate through every layer, last layer first.

        Math:
            d_L = dout;  d_{i-1} = layer_i.backward(d_i) for i = L, ..., 1

        Shapes:
            dout: (N, D_out) -> dx: (N, D_in).

        Args:
            dout: d loss / d out for the batch of the last forward.

        Returns:
            dx, the gradient w.r.t. the network's input. Every layer's grads are set.

        Numerics:
            Whatever the layers do.

        Reference:
            out.backward(dout) on a torch.nn.Sequential
        """
        raise NotImplementedError

    def params_and_grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every parameter array paired with its gradient array, in layer order.

        Math:
            [(W_1, dW_1), (b_1, db_1), (W_2, dW_2), ...]   (keys in each params' order)

        Shapes:
            Each pair: two arrays of the same shape.

        Args:
            None.

        Returns:
            A list of (param, grad) tuples holding the layers' OWN arrays (not copies):
            an optimizer updates param in place (p -= lr * g) and the layer sees it.
            Call it after backward to get the current gradients.

        Numerics:
            No computation.

        Reference:
            zip(model.parameters(), (p.grad for p in model.parameters()))
        """
        raise NotImplementedError
