"""approximation.py: a 1-H-1 tanh net's gradients vs autograd; it fits sin, better when wider."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import nonlinearity as oracle

apx = kata("01_fundamentals/approximation")
SETTINGS = dict(steps=5000, lr=0.05, n_points=64)  # the docstring's settings
GRID = np.linspace(-np.pi, np.pi, 64)[:, None]  # the training points
DENSE = np.linspace(-np.pi, np.pi, 1001)[:, None]  # and everything between them
SHAPES = {"W1": (1, "H"), "b1": ("H",), "W2": ("H", 1), "b2": (1,)}
# Same values, three memory layouts: row-major, column-major (a transpose's), strided.
NO_TANH_PRIME = "tanh's derivative left out (dz = dh instead of dh * (1 - h**2))"


def random_net(rng, n, hidden, dtype=np.float64):
    params = {
        "W1": rng.standard_normal((1, hidden)),
        "b1": rng.uniform(-3, 3, hidden),
        "W2": rng.standard_normal((hidden, 1)),
        "b2": rng.standard_normal(1),
    }
    x, y = rng.uniform(-np.pi, np.pi, (n, 1)), rng.standard_normal((n, 1))
    return {k: v.astype(dtype) for k, v in params.items()}, x.astype(dtype), y.astype(dtype)


def mse(params, x):
    """torch runs your params: the MSE against sin on x."""
    return float(np.mean((oracle.net_forward(params, x, "tanh") - np.sin(x)) ** 2))


def fit(hidden, rng):
    __tracebackhide__ = True
    params, history = call(apx.fit_sine, hidden, rng=rng, **SETTINGS)
    bad = np.flatnonzero(~np.isfinite(history))
    assert_true(
        not bad.size,
        f"Training {hidden} units diverged: mse_history is inf/NaN from step {bad[:1]}. "
        "Check the step (p - lr * grad, down the gradient) and the gradients' scale.",
    )
    return params, history


def check_grads(params, x, y, dtype=None):
    __tracebackhide__ = True
    _, grads = call(apx.loss_and_grads, params, x, y)
    _, want = oracle.loss_and_grads(params, x, y, "tanh")
    _, flat = oracle.loss_and_grads(params, x, y, "tanh_no_derivative")
    assert_true(
        isinstance(grads, dict) and set(grads) == set(SHAPES),
        f"grads must be a dict with keys {sorted(SHAPES)}; got {type(grads).__name__} "
        f"{sorted(grads) if isinstance(grads, dict) else ''}",
    )
    for name in ("W2", "b2", "W1", "b1"):  # in backward order: the first wrong one is the cause
        assert_close(
            grads[name],
            want[name],
            tol="grad",
            name=f"grads[{name!r}]",
            dtype=dtype,
            factors={"N": x.shape[0], "N/2": x.shape[0] / 2},
            mistakes={NO_TANH_PRIME: flat[name]},
        )


@pytest.mark.parametrize("hidden", [1, 8], ids=["one-unit", "eight-units"])
def test_init_net_has_the_documented_shapes(hidden, rng):
    params = call(apx.init_net, hidden, rng)
    want = {k: tuple(hidden if d == "H" else d for d in s) for k, s in SHAPES.items()}
    got = {k: np.shape(v) for k, v in params.items()} if isinstance(params, dict) else params
    assert_true(got == want, f"init_net({hidden}, rng) must return shapes {want}; got {got}")
    b1, b2 = params["b1"], params["b2"]
    assert_true(
        np.all(np.abs(b1) <= np.pi) and np.all(b2 == 0),
        f"b1 ~ uniform(-pi, pi) and b2 = 0, as documented; got b1={b1}, b2={b2}",
    )


@pytest.mark.oracle
def test_loss_matches_torch(rng):
    params, x, y = random_net(rng, 10, 6)
    loss, _ = call(apx.loss_and_grads, params, x, y)
    want, _ = oracle.loss_and_grads(params, x, y, "tanh")
    assert_close(loss, want, tol="reduction", name="loss", factors={"N": 10})


@pytest.mark.oracle
def test_grads_match_torch_autograd(rng):
    check_grads(*random_net(rng, 10, 6))


def test_grads_keep_float32(rng):
    check_grads(*random_net(rng, 7, 4, dtype=np.float32), dtype=np.float32)


@pytest.mark.property
@given(
    n=st.integers(1, 8),
    hidden=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    layout=cs.layouts(),
)
def test_grads_match_torch_for_any_sizes_and_layouts(n, hidden, seed, layout):
    params, x, y = random_net(np.random.default_rng(seed), n, hidden)
    check_grads(params, cs.relayout(x, layout), y)


@pytest.mark.oracle
def test_train_step_matches_torch_sgd(rng):
    params, x, y = random_net(rng, 12, 5)
    new_params, loss = call(apx.train_step, params, x, y, 0.1)
    want_loss, want = oracle.sgd_step(params, x, y, "tanh", 0.1)
    after = np.float64(oracle.loss_and_grads(want, x, y, "tanh")[0])
    late = {"the loss after the step (return the loss of the params you were given)": after}
    assert_close(loss, want_loss, tol="reduction", name="loss", mistakes=late)
    for name in SHAPES:
        ascent = {"p + lr * grad: a step up the gradient": 2 * params[name] - want[name]}
        assert_close(
            new_params[name], want[name], tol="grad", name=f"new_params[{name!r}]", mistakes=ascent
        )


@pytest.mark.edge
def test_one_tanh_unit_cannot_follow_sine(rng):
    """a * tanh(w x + c) + d is monotonic in x; sin on [-pi, pi] goes down, up, down."""
    params, _ = fit(1, rng)
    ys = np.sin(GRID[:, 0])
    bound = min(isotonic_mse(ys), isotonic_mse(-ys))  # the best any monotonic fit can do
    got = mse(params, GRID)
    assert_true(
        got >= bound - 1e-12,
        f"One tanh unit is monotonic, and the best monotonic fit of sin on the training "
        f"grid has MSE {bound:.4f}; torch ran your 1-unit net and got {got:.4g}, which is "
        "impossible: is the hidden layer tanh, and fit_sine fitting sin on [-pi, pi]?",
    )


def isotonic_mse(y):
    """MSE of the best non-decreasing fit to y (pool adjacent violators)."""
    blocks = []  # [mean, count] of pooled runs, kept non-decreasing
    for v in y:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m2, c2), (m1, c1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    fit = np.concatenate([np.full(c, m) for m, c in blocks])
    return float(np.mean((fit - y) ** 2))


def test_one_hidden_layer_fits_sine(rng):
    params, history = fit(32, rng)
    steps = SETTINGS["steps"]
    assert_true(
        np.shape(history) == (steps,),
        f"mse_history must hold one loss per step: shape ({steps},), got {np.shape(history)}",
    )
    on_grid, everywhere = mse(params, GRID), mse(params, DENSE)
    assert_true(
        everywhere < 1e-3,
        f"32 tanh units after {steps} steps (lr={SETTINGS['lr']}) should fit sin on "
        f"[-pi, pi] to MSE < 1e-3; torch ran your trained params: MSE {everywhere:.3g}. "
        f"Your history went {history[0]:.3g} -> {history[-1]:.3g}.",
    )
    assert_true(
        abs(history[-1] - on_grid) <= 0.05 * on_grid,
        f"mse_history[-1] = {history[-1]:.4g} should be the training MSE just before the "
        f"last step, close to the trained net's {on_grid:.4g} on the training points.",
    )


def test_wider_networks_fit_sine_better(rng):
    errors = {}
    for hidden in (2, 32):
        params, _ = fit(hidden, np.random.default_rng(rng.integers(2**32)))
        errors[hidden] = mse(params, DENSE)
    assert_true(
        errors[32] < errors[2],
        f"More units, more bends: 32 units should fit sin better than 2. MSE (torch ran "
        f"your params): 2 units {errors[2]:.3g}, 32 units {errors[32]:.3g}.",
    )
