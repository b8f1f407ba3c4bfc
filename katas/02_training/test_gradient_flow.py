"""gradient_flow.py: per-layer gradients against autograd, a verdict, torch's clipping, a plot."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_png, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import gradient_flow as oracle

gf = kata("02_training/gradient_flow")


def mlp(rng, sizes, scale=None, dtype=np.float64):
    """Weights (D_i, D_{i+1}) with std scale(D_i) (default 1/sqrt(D_i)), random biases."""
    scale = scale or (lambda fan_in: 1 / np.sqrt(fan_in))
    weights = [(rng.standard_normal((a, b)) * scale(a)).astype(dtype)
               for a, b in zip(sizes[:-1], sizes[1:])]  # fmt: skip
    return weights, [(0.5 * rng.standard_normal(b)).astype(dtype) for b in sizes[1:]]


def batch(rng, n, sizes, loss, dtype=np.float64):
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    if loss == "mse":
        return X, rng.standard_normal((n, sizes[-1])).astype(dtype)
    return X, rng.integers(0, sizes[-1], n)


def check_grads(X, y, weights, biases, activation, loss, dtype=np.float64):
    """Compare layer by layer from the last: the first mismatch is where backward goes wrong."""
    __tracebackhide__ = True
    dWs, dbs = call(gf.layer_gradients, X, y, weights, biases, activation=activation, loss=loss)
    want_W, want_b = oracle.layer_gradients(X, y, weights, biases, activation, loss)
    L = len(weights)
    assert_true(len(dWs) == L and len(dbs) == L, "layer_gradients must return one dW and one "
                f"db per layer ({L}); got {len(dWs)} and {len(dbs)}")  # fmt: skip
    factors = {"N": X.shape[0], "C": weights[-1].shape[1], "2": 2}
    for i in reversed(range(L)):
        where = ("the last layer (check d loss / d out)" if i == L - 1 else f"layer {i} (the "
                 "layers above match: check dz @ W.T and this layer's act'(z))")  # fmt: skip
        for name, mine, want in (
            (f"dWs[{i}]", dWs[i], want_W[i]),
            (f"dbs[{i}]", dbs[i], want_b[i]),
        ):
            assert_close(mine, want, tol="grad", name=f"{name}, {where}", dtype=dtype,
                         factors=factors)  # fmt: skip


CASES = [(a, loss) for a in ("sigmoid", "tanh", "relu") for loss in ("mse", "cross_entropy")]


@pytest.mark.oracle
@pytest.mark.parametrize(("activation", "loss"), CASES)
def test_layer_gradients_match_autograd(activation, loss, rng):
    sizes = [5, 7, 6, 4, 3]
    X, y = batch(rng, 8, sizes, loss)
    check_grads(X, y, *mlp(rng, sizes), activation, loss)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_layer_gradients_keep_float32(loss, rng):
    sizes = [4, 6, 3]
    X, y = batch(rng, 6, sizes, loss, np.float32)
    check_grads(X, y, *mlp(rng, sizes, dtype=np.float32), "sigmoid", loss, dtype=np.float32)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_grad_norms_match_autograd(dtype, rng):
    sizes = [6, 8, 8, 8, 2]
    X, y = batch(rng, 10, sizes, "mse", dtype)
    weights, biases = mlp(rng, sizes, dtype=dtype)
    norms = call(gf.layer_grad_norms, X, y, weights, biases, activation="sigmoid", loss="mse")
    want = oracle.layer_grad_norms(X, y, weights, biases, "sigmoid", "mse")
    slips = {"the norms of the weights, not of their gradients": list(map(np.linalg.norm, weights))}
    assert_close(norms, want, tol="grad", name="norms", dtype=dtype, mistakes=slips)


@pytest.mark.property
@given(n=st.integers(1, 5), sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
       activation=st.sampled_from(["sigmoid", "tanh", "relu"]),
       loss=st.sampled_from(["mse", "cross_entropy"]), seed=st.integers(0, 2**32 - 1),
       layout=cs.layouts())  # fmt: skip
def test_layer_gradients_match_autograd_for_any_sizes_and_layouts(n, sizes, activation, loss,
                                                                  seed, layout):  # fmt: skip
    rng = np.random.default_rng(seed)
    X, y = batch(rng, n, sizes, loss)
    weights, biases = mlp(rng, sizes)
    if layout == "transposed":
        X, weights[0] = np.ascontiguousarray(X.T).T, np.ascontiguousarray(weights[0].T).T
    elif layout == "strided":
        X, weights[-1] = cs.noncontiguous(X), cs.noncontiguous(weights[-1])
    check_grads(X, y, weights, biases, activation, loss)


@pytest.mark.edge
@pytest.mark.parametrize(("loss", "sizes"), [("mse", [3, 5, 2]), ("cross_entropy", [4, 3])])
def test_saturated_sigmoids_and_huge_logits_stay_finite(loss, sizes, rng):
    """Weights x400: z ~ +-1e3, so exp overflows in a naive sigmoid or an unshifted softmax.
    The cross-entropy case is one layer (no activation at all) and one example."""
    X, y = batch(rng, 4 if loss == "mse" else 1, sizes, loss)
    weights, biases = mlp(rng, sizes, scale=lambda fan_in: 400.0)
    with np.errstate(over="ignore"):
        check_grads(X, y, weights, biases, "sigmoid", loss)


DEEP = [8] + [64] * 9 + [4]  # 10 layers
NETS = {  # name: (activation, weight std as a function of fan_in, expected verdict)
    "deep sigmoid, Xavier-scaled": ("sigmoid", lambda d: 1 / np.sqrt(d), "vanishing"),
    "ReLU with He init": ("relu", lambda d: np.sqrt(2 / d), "healthy"),
    "ReLU with std 1.0": ("relu", lambda d: 1.0, "exploding"),
    "ReLU with std 0.01": ("relu", lambda d: 0.01, "vanishing"),
}


@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_deep_nets_get_the_right_verdict(net, loss, rng):
    """Margins over 300 seeds: sigmoid first/last <= 1e-5; He first/last >= 0.06 and
    max <= 60; std 1.0 max >= 2e6; std 0.01 max <= 1e-11 (thresholds 1e-2, 1e3, 1e-6)."""
    activation, scale, verdict = NETS[net]
    X, y = batch(rng, 32, DEEP, loss)
    weights, _ = mlp(rng, DEEP, scale)
    biases = [np.zeros(d) for d in DEEP[1:]]
    norms = call(gf.layer_grad_norms, X, y, weights, biases, activation=activation, loss=loss)
    shown = np.array2string(np.asarray(norms, dtype=float), precision=2)
    if activation == "sigmoid":  # the textbook picture, whatever the verdict says
        assert_true(norms[0] < 1e-3 * norms[-1], f"{net}: the first layer's gradient norm "
                    f"must be orders of magnitude below the last's; yours: {shown}")  # fmt: skip
    got = call(gf.classify_gradient_flow, norms)
    assert_true(got == verdict, f"{net} ({loss}), norms {shown}: expected {verdict!r}, "
                f"classify_gradient_flow said {got!r}")  # fmt: skip


RULE = [  # norms, verdict, why (defaults: ratio 100, high 1e3, low 1e-6)
    ([1.0, 2.0, 3.0], "healthy", "within a factor 100 and of moderate size"),
    ([1e-4, 0.5, 1.0], "vanishing", "first < last / 100"),
    ([500.0, 2.0, 1.0], "exploding", "first > 100 * last"),
    ([2e3, 3e3], "exploding", "max > 1e3, though the ratio is fine"),
    ([1e-8, 3e-8], "vanishing", "max < 1e-6, though the ratio is fine"),
    ([1.0, np.nan, 1.0], "exploding", "a nan norm: the backward pass overflowed"),
    ([np.inf, 1.0], "exploding", "an inf norm"),
    ([0.0, 1.0], "vanishing", "no gradient reaches the first layer"),
    ([0.0, 0.0], "vanishing", "no gradient at all"),
    ([0.7], "healthy", "one layer: first is last"),
]


@pytest.mark.edge
@pytest.mark.parametrize(("norms", "verdict", "why"), RULE)
def test_classify_follows_the_documented_rule(norms, verdict, why):
    got = call(gf.classify_gradient_flow, np.array(norms))
    assert_true(got == verdict, f"classify_gradient_flow({norms}) must be {verdict!r} "
                f"({why}); yours: {got!r}")  # fmt: skip


def clip_slips(grads, max_norm, p):
    """What common clipping slips give: ({mistake: total}, {mistake: clipped grads})."""
    gs = [np.asarray(g, dtype=np.float64) for g in grads]
    inf = p == np.inf
    norm = (lambda g: np.abs(g).max()) if inf else (lambda g: (np.abs(g) ** p).sum() ** (1 / p))
    total = max(map(norm, gs)) if inf else sum(norm(g) ** p for g in gs) ** (1 / p)
    totals = {"the norm after clipping, not the one before (torch's)":
              total * min(max_norm / (total + 1e-6), 1.0)}  # fmt: skip
    if inf:
        totals["the inf-norm as a sum of |g| instead of their max"] = sum(
            np.abs(g).sum() for g in gs
        )
    clipped = {"each array clipped by its own norm, not by one global norm":
               [g * min(max_norm / (norm(g) + 1e-6), 1.0) for g in gs]}  # fmt: skip
    if total > max_norm:
        clipped["scaled by max_norm / total, without torch's + 1e-6"] = [
            g * max_norm / total for g in gs]  # fmt: skip
    else:
        clipped["scaled up although the norm was below max_norm"] = [
            g * max_norm / (total + 1e-6) for g in gs]  # fmt: skip
    return totals, clipped


def check_clip(grads, max_norm, norm_type, dtype=np.float64):
    __tracebackhide__ = True
    want_total, want = oracle.clip_grad_norm(grads, max_norm, norm_type)
    totals, clipped = clip_slips(grads, max_norm, norm_type) if grads else ({}, {})
    arrays = list(grads)  # the same objects: clipping must reach them
    total = call(gf.clip_grad_norm_, grads, max_norm, norm_type, mutates=("grads",))
    total = float(total) if isinstance(total, (int, float, np.floating)) else total  # any real
    assert_close(total, np.float64(want_total), tol="reduction", name="the total norm",
                 dtype=np.float64, mistakes=totals)  # fmt: skip
    assert_true(all(a is b for a, b in zip(arrays, grads)), "clip_grad_norm_ replaced arrays "
                "in the list: scale each one in place (g *= coef), as torch does")  # fmt: skip
    for i, (g, w) in enumerate(zip(arrays, want)):
        named = {k: v[i] for k, v in clipped.items()  # a slip that changes nothing here is no clue
                 if k.startswith("scaled by") or not np.allclose(v[i], w, rtol=1e-5)}  # fmt: skip
        assert_close(g, w, tol="grad", name=f"grads[{i}]", dtype=dtype, inplace=True,
                     mistakes=named)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipped / left alone
def test_clip_grad_norm_matches_torch(norm_type, max_norm, rng):
    check_clip([rng.standard_normal(s) for s in [(4, 3), (3,), (3, 2)]], max_norm, norm_type)


def test_clip_grad_norm_keeps_float32(rng):
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(5, 4), (4,)]]
    check_clip(grads, 1.0, 2.0, dtype=np.float32)


@pytest.mark.property
@given(grads=st.lists(cs.arrays(min_value=-3, max_value=3), min_size=1, max_size=4),
       max_norm=st.floats(0.1, 10),
       norm_type=st.sampled_from([2.0, 1.0, float("inf")]))  # fmt: skip
def test_clip_grad_norm_matches_torch_for_any_shapes_and_layouts(grads, max_norm, norm_type):
    check_clip(grads, max_norm, norm_type)


@pytest.mark.edge
@pytest.mark.parametrize("case", ["tiny", "zero", "empty"])
def test_clip_edge_cases(case):
    """tiny: total 2e-6 vs max_norm 1e-7, where the 1e-6 halves the scale; zero: 0 + 1e-6."""
    if case == "tiny":
        check_clip([np.full(4, 1e-6)], 1e-7, 2.0)
    elif case == "zero":
        check_clip([np.zeros((2, 3)), np.zeros(3)], 1.0, 2.0)
    else:
        total = call(gf.clip_grad_norm_, [], 1.0, mutates=("grads",))
        assert_true(total == 0.0, f"an empty list has total norm 0.0 (torch); yours: {total!r}")


def test_plot_gradient_flow_writes_a_log_scale_png(tmp_path):
    norms, path = np.array([1e-7, 1e-5, 1e-3, 0.1, 2.0]), tmp_path / "flow.png"
    fig = call(gf.plot_gradient_flow, norms, path)
    assert_png(path, "plot_gradient_flow(norms, path)", min_bytes=100)
    axes = getattr(fig, "axes", [])
    assert_true(len(axes) >= 1 and axes[0].get_yscale() == "log", "the figure's y-axis must "
                "be log-scale (ax.set_yscale('log')): on a linear axis every layer below the "
                "largest one looks like zero")  # fmt: skip
    ys = [np.asarray(line.get_ydata(), dtype=float) for line in axes[0].get_lines()]
    ys += [np.array([p.get_height() for p in c]) for c in axes[0].containers]
    assert_true(any(y.shape == norms.shape and np.allclose(y, norms) for y in ys),
                f"the plot must show the norms: a line or bars with heights {norms}")  # fmt: skip
