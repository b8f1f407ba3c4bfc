"""layers.py: Linear, ReLU, Sigmoid, Tanh and Sequential, checked against torch.nn and autograd."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import layers as oracle

lay = kata("01_fundamentals/layers")
ACTIVATIONS = ("relu", "sigmoid", "tanh")
BACKWARD_MISTAKES = {  # what a known slip returns, so the message can name it
    "relu": lambda x, d: {"the mask taken from dout (dout > 0), not x > 0": d * (d > 0)},
    "sigmoid": lambda x, d: {"x * (1 - x) with the input, not the output": d * x * (1 - x)},
    "tanh": lambda x, d: {"1 - x**2 with the input, not the output": d * (1 - x**2)},
}


def activation(kind):  # your ReLU(), Sigmoid() or Tanh()
    return getattr(lay, {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}[kind])()


def network(sizes, kind, rng):
    """Your Sequential(Linear, act, ..., Linear) with known weights, and the oracle's spec."""
    __tracebackhide__ = True
    layers, spec = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = lay.Linear(a, b, np.random.default_rng(0))
        shapes = {k: np.shape(v) for k, v in layer.params.items()}
        assert_true(shapes == {"W": (a, b), "b": (b,)}, f"Linear({a}, {b}, rng).params must "
                    f"hold W ({a}, {b}) (rows of x: examples), b ({b},); got {shapes}")  # fmt: skip
        layer.params["W"][...] = rng.standard_normal((a, b)) / np.sqrt(a)  # in place, as SGD
        layer.params["b"][...] = rng.standard_normal(b)  # never zero: a lost bias shows
        layers.append(layer)
        spec.append(("linear", layer.params["W"].copy(), layer.params["b"].copy()))
        if i < len(sizes) - 2:
            layers.append(activation(kind))
            spec.append((kind,))
    return lay.Sequential(*layers), spec


def check_backward(layers, spec, x, dout, dx):
    """dx and every Linear's grads against autograd's."""
    __tracebackhide__ = True
    want_dx, want_grads = oracle.backward(spec, x, dout)
    assert_close(dx, want_dx, tol="grad", name="dx")
    for i, (m, (dW, db)) in enumerate(zip([m for m in layers if m.params], want_grads)):
        assert_close(m.grads["W"], dW, tol="grad", name=f"grads['W'] of Linear {i}",
                     mistakes={"dW added to the last backward's (+=)": 2 * dW})  # fmt: skip
        assert_close(m.grads["b"], db, tol="grad", name=f"grads['b'] of Linear {i}",
                     mistakes={"a mean over the batch, not the sum": db / len(x)})  # fmt: skip


@pytest.mark.parametrize("D_in, D_out", [(256, 64), (64, 256)])
def test_linear_init_is_torchs_uniform_drawn_from_rng(D_in, D_out):
    layer, again = (call(lay.Linear, D_in, D_out, np.random.default_rng(0)) for _ in range(2))
    same = np.array_equal(layer.params["W"], again.params["W"])
    assert_true(same, "Linear must draw from its rng (no np.random.*): same seed, same W")
    a = 1 / np.sqrt(D_in)
    for key, shape in (("W", (D_in, D_out)), ("b", (D_out,))):
        p, g = layer.params[key], layer.grads[key]
        assert_true(p.shape == shape and p.dtype == np.float64,
                    f"params[{key!r}]: want float64 {shape}, got {p.dtype} {p.shape}")  # fmt: skip
        assert_close(g, np.zeros(shape), name=f"grads[{key!r}] before any backward")
        assert_true(np.all(np.abs(p) <= a), f"params[{key!r}] must lie in [-1/sqrt(in), "
                    f"1/sqrt(in)] = +-{a:.4g}; it reaches {np.abs(p).max():.4g}")  # fmt: skip
        # U(-a, a) has mean 0 and variance a^2/3. The bounds are 6 standard errors of the sample
        # mean and of the sample variance (var(x^2) = 4a^4/45): a correct init never fails them.
        m, v, se = p.mean(), np.mean(p**2), 6 / np.sqrt(p.size)
        ok = abs(m) <= se * a / np.sqrt(3) and abs(v - a**2 / 3) <= se * a**2 * np.sqrt(4 / 45)
        assert_true(ok, f"params[{key!r}] should look like U(-{a:.4g}, {a:.4g}): mean 0, "
                    f"variance {a**2 / 3:.4g}; got mean {m:.4g}, variance {v:.4g}")  # fmt: skip


@pytest.mark.oracle
def test_linear_forward_matches_torch(rng):
    model, spec = network([4, 6], None, rng)
    x = rng.standard_normal((5, 4))
    assert_close(call(model.layers[0].forward, x), oracle.forward(spec, x), tol="matmul")


@pytest.mark.oracle
def test_linear_backward_matches_autograd(rng):
    model, spec = network([4, 6], None, rng)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 6))
    model.layers[0].forward(x)
    check_backward(model.layers, spec, x, dout, call(model.layers[0].backward, dout))


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])  # activations keep x's dtype
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_activation_forward_matches_torch(kind, dtype, rng):
    x, layer = (rng.standard_normal((5, 7)) * 3).astype(dtype), activation(kind)
    assert_true(layer.params == {} == layer.grads, f"{kind}: params and grads must be {{}}")
    assert_close(call(layer.forward, x), oracle.forward([(kind,)], x), name="out", dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_activation_backward_matches_autograd(kind, dtype, rng):
    (x, dout), layer = (rng.standard_normal((2, 5, 7)) * 3).astype(dtype), activation(kind)
    layer.forward(x)
    want_dx, _ = oracle.backward([(kind,)], x, dout)
    mistakes = BACKWARD_MISTAKES[kind](x.astype(np.float64), dout.astype(np.float64))
    assert_close(call(layer.backward, dout), want_dx, tol="grad", name="dx", dtype=dtype,
                 mistakes=mistakes)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_sequential_forward_matches_torch(kind, rng):
    model, spec = network([6, 5, 4, 3], kind, rng)
    x = rng.standard_normal((7, 6))
    assert_close(call(model.forward, x), oracle.forward(spec, x), tol="matmul", name="out")


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_sequential_backward_matches_autograd(kind, rng):
    model, spec = network([6, 5, 4, 3], kind, rng)
    x, dout = rng.standard_normal((7, 6)), rng.standard_normal((7, 3))
    model.forward(x)
    check_backward(model.layers, spec, x, dout, call(model.backward, dout))


def test_params_and_grads_are_the_layers_own_arrays_in_order(rng):
    model, spec = network([4, 5, 3], "relu", rng)
    x = rng.standard_normal((6, 4))
    model.forward(x)
    model.backward(rng.standard_normal((6, 3)))
    pairs = call(model.params_and_grads)
    want = [(m.params[k], m.grads[k]) for m in model.layers[::2] for k in ("W", "b")]
    assert_true(isinstance(pairs, list) and len(pairs) == 4, "params_and_grads() must list 4 "
                f"(param, grad) pairs for two Linears; got {len(pairs)}")  # fmt: skip
    for i, ((p, g), (wp, wg)) in enumerate(zip(pairs, want)):
        assert_true(p is wp and g is wg, f"pair {i} must hold the layer's own arrays (W1, b1, "
                    "W2, b2 in order), not copies: an optimizer updates them in place")  # fmt: skip
    pairs[1][0][...] += 1.0  # what an optimizer does to b1: the model must see it
    spec[0] = ("linear", spec[0][1], spec[0][2] + 1.0)
    assert_close(model.forward(x), oracle.forward(spec, x), tol="matmul", name="out after b1 += 1")


@pytest.mark.edge
def test_a_second_backward_overwrites_the_grads(rng):
    model, spec = network([4, 5, 3], "tanh", rng)
    x, dout = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    for _ in range(2):
        model.forward(x)
        dx = call(model.backward, dout)
    check_backward(model.layers, spec, x, dout, dx)


@pytest.mark.edge
def test_one_example_batch_and_relu_at_zero(rng):
    model, spec = network([3, 4, 2], "relu", rng)
    x, dout = np.array([[0.0, -1.0, 2.0]]), rng.standard_normal((1, 2))
    model.layers[0].params["b"][:2] = -(x @ spec[0][1])[0, :2]  # two pre-activations exactly 0
    spec[0] = ("linear", spec[0][1], model.layers[0].params["b"].copy())
    assert_close(call(model.forward, x), oracle.forward(spec, x), tol="matmul", name="out")
    check_backward(model.layers, spec, x, dout, call(model.backward, dout))  # relu'(0) = 0


@pytest.mark.edge
def test_sigmoid_saturates_without_nan():
    x, layer = np.array([[-800.0, -40.0, 0.0, 40.0, 800.0]]), lay.Sigmoid()
    assert_close(call(layer.forward, x), oracle.forward([("sigmoid",)], x), name="out")
    want_dx, _ = oracle.backward([("sigmoid",)], x, np.ones_like(x))
    assert_close(call(layer.backward, np.ones_like(x)), want_dx, tol="grad", name="dx")


@st.composite
def nets(draw):
    """Your network and torch's for drawn sizes (1 included), x in a drawn layout, and dout."""
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    model, spec = network(sizes, draw(st.sampled_from(ACTIVATIONS)), rng)
    x = rng.standard_normal((draw(st.integers(1, 6)), sizes[0]))
    x = cs.relayout(x, draw(cs.layouts()))
    return model, spec, x, cs.noncontiguous(rng.standard_normal((len(x), sizes[-1])))


@pytest.mark.property
@given(nets())
def test_sequential_forward_matches_torch_for_any_sizes_and_layouts(net):
    model, spec, x, _ = net
    assert_close(call(model.forward, x), oracle.forward(spec, x), tol="matmul", name="out")


@pytest.mark.property
@given(nets())
def test_sequential_backward_matches_autograd_for_any_sizes_and_layouts(net):
    model, spec, x, dout = net
    model.forward(x)
    check_backward(model.layers, spec, x, dout, call(model.backward, dout))
