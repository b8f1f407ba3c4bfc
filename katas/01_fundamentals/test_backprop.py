"""backprop.py: a two-layer net's loss and gradients by hand, checked against torch.autograd."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import backprop as oracle

bp = kata("01_fundamentals/backprop")
PARAMS = ("W1", "b1", "W2", "b2")


def random_net(rng, N, D, H, C, dtype=np.float64, scale=1.0):
    """X, y, W1, b1, W2, b2 with weights scaled by 1/sqrt(fan-in); scale multiplies W2."""
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, N)
    W1 = rng.standard_normal((D, H)) / np.sqrt(D)
    b1 = rng.standard_normal(H) * 0.5
    W2 = rng.standard_normal((H, C)) / np.sqrt(H) * scale
    b2 = rng.standard_normal(C) * 0.5
    return [a.astype(dtype) if a is not y else a for a in (X, y, W1, b1, W2, b2)]


def loss_mistakes(args, reg):
    """What the loss would be after known slips (float64, from torch's loss)."""
    want, _ = oracle.two_layer_net(*args, reg=reg)
    W1, W2 = args[2].astype(np.float64), args[4].astype(np.float64)
    half = 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))
    return {"the regularisation term without its 0.5": want + half} if reg else {}


def grad_mistakes(args, reg, want):
    """name -> {mistake: what that gradient would be}, built from torch's gradients."""
    X, _, W1, _, W2, _ = (np.asarray(a, dtype=np.float64) for a in args)
    N, W = X.shape[0], {"W1": W1, "W2": W2}
    unmasked = want["dh"]  # d loss / d h: what dz becomes when the ReLU mask is forgotten
    out = {}
    for k in PARAMS:
        reg_part = reg * W[k] if k in W else 0.0
        out[k] = {"dscores not divided by N": (want[k] - reg_part) * N + reg_part}
        if k in W and reg:
            out[k]["the regularisation gradient as 0.5 * reg * W"] = want[k] - 0.5 * reg_part
            out[k]["the regularisation gradient left out"] = want[k] - reg_part
        if k.startswith("b"):
            out[k]["the mean over the batch instead of the sum"] = want[k] / N
    out["W1"]["no ReLU mask: dW1 = X.T @ dh"] = X.T @ unmasked + reg * W1
    out["b1"]["no ReLU mask: db1 = sum of dh"] = unmasked.sum(axis=0)
    return out


def check_loss(args, reg=0.0, dtype=np.float64):
    __tracebackhide__ = True
    loss, _ = call(bp.two_layer_net, *args, reg=reg)
    want, _ = oracle.two_layer_net(*args, reg=reg)
    assert_close(loss, want, tol="reduction", name="loss", dtype=dtype,
                 mistakes=loss_mistakes(args, reg))  # fmt: skip


def check_grads(args, reg=0.0, dtype=np.float64, mistakes=None):
    __tracebackhide__ = True
    _, grads = call(bp.two_layer_net, *args, reg=reg)
    _, want = oracle.two_layer_net(*args, reg=reg)
    mistakes = mistakes or grad_mistakes(args, reg, want)
    keys = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
    assert_true(isinstance(grads, dict) and set(grads) == set(PARAMS),
                f"grads must be a dict with keys {list(PARAMS)}; got {keys}")  # fmt: skip
    for k in PARAMS:
        assert_close(grads[k], want[k], tol="grad", name=f'grads["{k}"]', dtype=dtype,
                     factors={"N": args[0].shape[0]}, mistakes=mistakes.get(k))  # fmt: skip


CASES = [(np.float64, 0.0), (np.float64, 0.3), (np.float32, 0.0), (np.float32, 0.3)]


@pytest.mark.oracle
@pytest.mark.parametrize(("dtype", "reg"), CASES)
def test_loss_matches_torch(dtype, reg, rng):
    check_loss(random_net(rng, 8, 5, 7, 4, dtype), reg, dtype)


@pytest.mark.oracle
@pytest.mark.parametrize(("dtype", "reg"), CASES)
def test_gradients_match_torch(dtype, reg, rng):
    check_grads(random_net(rng, 8, 5, 7, 4, dtype), reg, dtype)


sizes = dict(
    n=st.integers(1, 6), d=st.integers(1, 5), h=st.integers(1, 5), c=st.integers(2, 5),
    reg=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 2**32 - 1),
    layout=cs.layouts(),
)  # fmt: skip


def drawn_net(n, d, h, c, seed, layout):
    """A net of the drawn sizes with X and W2 in the drawn memory layout."""
    args = random_net(np.random.default_rng(seed), n, d, h, c)
    for i in (0, 4):  # X and W2
        if layout == "transposed":
            args[i] = np.ascontiguousarray(args[i].T).T  # same values, column-major strides
        elif layout == "strided":
            args[i] = cs.noncontiguous(args[i])
    return args


@pytest.mark.property
@given(**sizes)
def test_loss_matches_torch_for_any_sizes_and_layouts(n, d, h, c, reg, seed, layout):
    check_loss(drawn_net(n, d, h, c, seed, layout), reg)


@pytest.mark.property
@given(**sizes)
def test_gradients_match_torch_for_any_sizes_and_layouts(n, d, h, c, reg, seed, layout):
    check_grads(drawn_net(n, d, h, c, seed, layout), reg)


@pytest.mark.edge
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_logits_give_a_finite_loss(dtype, rng):
    """Scores around 1e3: exp overflows unless each row's max is subtracted first."""
    check_loss(random_net(rng, 6, 4, 5, 3, dtype, scale=1e3), 0.0, dtype)


@pytest.mark.edge
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_logits_give_finite_gradients(dtype, rng):
    check_grads(random_net(rng, 6, 4, 5, 3, dtype, scale=1e3), 0.0, dtype)


@pytest.mark.edge
def test_a_hidden_unit_at_exactly_zero_passes_no_gradient(rng):
    """Unit 0 has zero weights and bias: z = 0 for every example, and torch's relu'(0) = 0."""
    args = random_net(rng, 6, 4, 5, 3)
    args[2][:, 0], args[3][0] = 0.0, 0.0
    X = args[0]
    _, want = oracle.two_layer_net(*args, reg=0.3)
    dW1, db1 = want["W1"].copy(), want["b1"].copy()
    dW1[:, 0], db1[0] = X.T @ want["dh"][:, 0], want["dh"][:, 0].sum()
    at_zero = "relu'(0) = 1 (z >= 0 where torch uses z > 0)"
    check_grads(args, 0.3, mistakes={"W1": {at_zero: dW1}, "b1": {at_zero: db1}})


def absent_class(rng):
    """No example has the last class; its score still gets gradient (its p goes down)."""
    args = random_net(rng, 7, 3, 4, 5)
    args[1] = args[1] % 4  # classes 0-3 only; C = 5
    return args


def one_example_one_unit(rng):
    args = random_net(rng, 1, 3, 1, 2)
    args[3][:] = 2.0  # keep the single hidden unit active, so gradient reaches W1
    return args


SMALL_EDGES = {"absent-class": absent_class, "N=1,H=1": one_example_one_unit}


@pytest.mark.edge
@pytest.mark.parametrize("edge", SMALL_EDGES)
def test_edge_case_loss_matches_torch(edge, rng):
    check_loss(SMALL_EDGES[edge](rng), 0.2)


@pytest.mark.edge
@pytest.mark.parametrize("edge", SMALL_EDGES)
def test_edge_case_gradients_match_torch(edge, rng):
    check_grads(SMALL_EDGES[edge](rng), 0.2)
