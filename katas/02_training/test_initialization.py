"""initialization.py: Xavier and He scales checked against torch.nn.init, and why they matter.

torch.nn.init only fills tensors, so the oracle reads each init's bound or std off torch's
own samples (reference/oracles/initialization.py). Your samples are random, so they are
held to confidence bands computed from their count: the sample std within 5 standard
errors of torch's std, the mean within 5 standard errors of 0, and uniform samples inside
[-bound, bound] and reaching within 20/n of it (missed with probability e^-20).
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import initialization as oracle

ini = kata("02_training/initialization")
INITS = ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"]
LINEAR, CONV = (200, 2000), (64, 16, 5, 5)  # fan_in != fan_out in both; a 5x5 receptive field


def scale_slips(name, shape, kwargs, want):
    """Known mistakes -> the bound/std they give, as multiples of torch's (for messages)."""
    kaiming, a = name.startswith("kaiming"), kwargs.get("a", 0.0)
    flip = {**kwargs, "mode": "fan_in" if kwargs.get("mode") == "fan_out" else "fan_out"}
    slips = {"the gain left out": oracle.torch_scale(
        name, shape, **({**kwargs, "nonlinearity": "linear"} if kaiming else {}))}  # fmt: skip
    if kaiming:
        slips["fan_in and fan_out swapped"] = oracle.torch_scale(name, shape, **flip)
    if len(shape) > 2:
        slips["conv fans without the kernel's receptive field"] = oracle.torch_scale(
            name, shape[:2], **kwargs)  # fmt: skip
    if kaiming and kwargs.get("nonlinearity", "leaky_relu") == "leaky_relu":
        slips["leaky ReLU gain sqrt(2 / (1 + a)) instead of sqrt(2 / (1 + a^2))"] = want * (
            (1 + a**2) / (1 + a)) ** 0.5  # fmt: skip
    if name.endswith("uniform"):
        slips["the uniform bound without sqrt(3): a = std instead of sqrt(3) * std"] = want / 3**0.5
    return {k: v / want for k, v in slips.items() if abs(v / want - 1) > 1e-9}


def check_type(w, name, shape, dtype):
    __tracebackhide__ = True
    got = f"{w.shape} {w.dtype}" if isinstance(w, np.ndarray) else type(w).__name__
    assert_true(isinstance(w, np.ndarray) and w.shape == shape and w.dtype == dtype,
                f"{name}{shape} must return an ndarray of shape {shape} and dtype "
                f"{np.dtype(dtype)}; got {got}")  # fmt: skip


def check_samples(w, name, shape, kwargs, dtype=np.float64):
    """w must look like n draws of torch's distribution: std, mean and (uniform) range."""
    __tracebackhide__ = True
    check_type(w, name, shape, dtype)
    want = oracle.torch_scale(name, shape, **kwargs)
    uniform = name.endswith("uniform")
    std = want / 3**0.5 if uniform else want  # U(-a, a) has std a / sqrt(3)
    n, x = w.size, w.astype(np.float64)
    # 5 standard errors of a sample std, relative: 5 sqrt(kurtosis - 1) / (2 sqrt(n))
    band = 5 * math.sqrt((1.8 if uniform else 3.0) - 1) / (2 * math.sqrt(n))
    ratio = x.std() / std
    named = [k for k, f in scale_slips(name, shape, kwargs, want).items()
             if abs(ratio / f - 1) <= band]  # fmt: skip
    assert_true(abs(ratio - 1) <= band,
                f"{name}{shape} with {kwargs or 'defaults'}: your samples have std {x.std():.6g}; "
                f"torch.nn.init.{name}_ gives std {std:.6g}"
                + (f" (bound {want:.6g})" if uniform else "")
                + f". Yours is {ratio:.4g} x torch's; with {n} samples it must be within "
                f"{band:.2%} (5 standard errors)."
                + "".join(f"\nLikely mistake: {k}." for k in named))  # fmt: skip
    assert_true(abs(x.mean()) <= 5 * std / math.sqrt(n),
                f"{name}{shape}: mean {x.mean():.4g}, but the distribution is centred on 0 "
                f"(|mean| <= {5 * std / math.sqrt(n):.3g} allowed). U(0, a), not "
                "U(-a, a)?")  # fmt: skip
    if uniform:
        top, slack = np.abs(x).max(), (1e-6 if dtype == np.float32 else 1e-12)  # f32 rounding
        assert_true(top <= want * (1 + slack), f"{name}{shape}: a sample {top:.6g} lies "
                    f"outside torch's bound {want:.6g}; samples of U(-bound, bound) "
                    "never do")  # fmt: skip
        assert_true(top >= want * (1 - 20 / n), f"{name}{shape}: your largest |sample| is "
                    f"{top:.6g}, but {n} draws of U(-{want:.6g}, {want:.6g}) come within "
                    f"{20 / n:.1e} of the bound (missed with probability e^-20): your "
                    "bound is too small")  # fmt: skip


F32 = np.float32
CASES = [  # name, shape, kwargs (the same names as torch's), dtype
    ("xavier_uniform", LINEAR, {}, np.float64),
    ("xavier_uniform", CONV, {"gain": nn.init.calculate_gain("tanh")}, np.float64),
    ("kaiming_uniform", LINEAR, {"nonlinearity": "relu"}, np.float64),
    ("kaiming_uniform", LINEAR, {"mode": "fan_out", "nonlinearity": "relu"}, np.float64),
    ("kaiming_uniform", CONV, {"a": 0.2}, np.float64),
    ("kaiming_uniform", LINEAR, {"a": math.sqrt(5)}, np.float64),  # nn.Linear's default init
    ("xavier_normal", LINEAR, {"gain": nn.init.calculate_gain("sigmoid")}, np.float64),
    ("xavier_normal", CONV, {}, np.float64),
    ("kaiming_normal", LINEAR, {"a": 0.2, "mode": "fan_out"}, np.float64),
    ("kaiming_normal", CONV, {"nonlinearity": "relu"}, np.float64),
    ("kaiming_normal", CONV, {"mode": "fan_out", "nonlinearity": "selu"}, np.float64),
] + [(name, CONV, {}, F32) for name in INITS]


def case_id(case):
    name, shape, kwargs, dtype = case
    kw = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in kwargs.items()]
    return "-".join([name, "conv" if len(shape) > 2 else "linear", *kw, np.dtype(dtype).name])


@pytest.mark.oracle
@pytest.mark.parametrize(("name", "shape", "kwargs", "dtype"), CASES, ids=map(case_id, CASES))
def test_samples_match_torchs_bound_and_std(name, shape, kwargs, dtype, rng):
    w = call(getattr(ini, name), shape, rng, **kwargs, dtype=dtype)
    check_samples(w, name, shape, kwargs, dtype)


GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu", None)]  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize(("nonlinearity", "param"), GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param):
    gain = call(ini.calculate_gain, nonlinearity, param)
    assert_true(isinstance(gain, (int, float, np.floating)), f"gain must be a float: {gain!r}")
    slope = 0.01 if param is None else param
    slips = {"sqrt(2 / (1 + slope)) instead of sqrt(2 / (1 + slope^2))": (2 / (1 + slope)) ** 0.5,
             "leaky_relu's default slope as 0 instead of 0.01": 2**0.5}  # fmt: skip
    assert_close(np.float64(gain), np.float64(nn.init.calculate_gain(nonlinearity, param)),
                 name=f"the gain for {nonlinearity!r}",
                 mistakes=slips if nonlinearity == "leaky_relu" else None)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(7, 3), (1, 1), (8, 4, 3), (16, 8, 3, 5), (4, 2, 3, 3, 3)])
def test_fans_match_torch(shape):
    fans = call(ini.fan_in_and_fan_out, shape)
    fan_in, fan_out = oracle.fans(shape)
    slips = {"fan_in and fan_out swapped": [fan_out, fan_in],
             "no receptive field: conv fans from the channels only":
                 [shape[1], shape[0]]}  # fmt: skip
    assert_close(np.asarray(fans), np.array([fan_in, fan_out]), name="(fan_in, fan_out)",
                 factors={"receptive field": int(np.prod(shape[2:]))}, mistakes=slips)  # fmt: skip


@pytest.mark.edge
def test_bad_names_and_one_dimensional_shapes_raise(rng):
    for fn, args, kwargs in [(ini.calculate_gain, ("swish",), {}),
                             (ini.kaiming_normal, ((4, 3), rng), {"mode": "fan_avg"}),
                             (ini.fan_in_and_fan_out, ((5,),), {})]:  # fmt: skip
        with pytest.raises(ValueError):
            call(fn, *args, **kwargs)


@pytest.mark.edge
@pytest.mark.parametrize("name", INITS)
def test_inits_draw_only_from_the_rng_they_are_given(name):
    fn = getattr(ini, name)
    np.random.seed(0)
    first = call(fn, (30, 20), np.random.default_rng(7))
    np.random.seed(1)  # a different global state must change nothing
    again = call(fn, (30, 20), np.random.default_rng(7))
    other = call(fn, (30, 20), np.random.default_rng(8))
    assert_true(np.array_equal(first, again), f"{name} gave different weights for the same "
                "rng seed: draw from the rng argument, not np.random.*")  # fmt: skip
    assert_true(not np.array_equal(first, other), f"{name} ignored its rng: two seeds, one result")


@pytest.mark.property
@given(shape=cs.shapes(min_dims=2, max_dims=4, max_side=5), name=st.sampled_from(INITS),
       dtype=st.sampled_from([np.float64, np.float32]), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_any_shape_gets_torchs_fans_and_bound(shape, name, dtype, seed):
    # Inits take a shape, not an array, so memory layout does not apply; size-1 sides do.
    fans = np.asarray(call(ini.fan_in_and_fan_out, shape))
    assert_close(fans, np.array(oracle.fans(shape)), name="(fan_in, fan_out)")
    w = call(getattr(ini, name), shape, np.random.default_rng(seed), dtype=dtype)
    check_type(w, name, shape, dtype)
    bound = oracle.torch_scale(name, shape) * (1 if name.endswith("uniform") else 40)
    assert_true(np.all(np.abs(w) <= bound * (1 + 1e-6)),
                f"{name}{shape}: samples beyond torch's bound {bound:.6g}: "
                f"{w.ravel()[:6]}")  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_activation_stds_match_torch(activation, rng):
    X, weights = rng.standard_normal((8, 6)), []

    def init(shape, r):  # remembers every weight it hands out: torch replays them
        weights.append(r.standard_normal(shape) * 0.7)
        return weights[-1].copy()

    stds = call(ini.activation_stds, init, X, rng, n_layers=5, activation=activation)
    assert_true(len(weights) == 5, "activation_stds must call init once per layer (5 here); "
                f"it called it {len(weights)} times")  # fmt: skip
    transposed = oracle.activation_stds([w.T for w in weights], X, activation)
    assert_close(stds, oracle.activation_stds(weights, X, activation), tol="matmul", name="stds",
                 mistakes={"h @ W instead of h @ W.T (W is (out, in))": transposed})  # fmt: skip


def experiment(rng, init, activation, width=512):
    X = rng.standard_normal((32, width))  # unit-variance inputs
    return call(ini.activation_stds, init, X, rng, n_layers=50, activation=activation)


def show(stds):
    return ", ".join(f"layer {i + 1}: {stds[i]:.3g}" for i in (0, 9, 19, 29, 39, 49))


@pytest.mark.parametrize(("init_name", "activation", "width"),
                         [("kaiming_normal", "relu", 512),
                          ("xavier_uniform", "tanh", 256)])  # fmt: skip
def test_good_init_keeps_50_layers_steady(init_name, activation, width, rng):
    """Band: every layer within a factor of 5 of layer 1. A finite-width ReLU net's log-std
    takes a random walk (spread ~0.29 after 50 layers at width 512), and log 5 is 5.5 spreads:
    a correct init leaves the band with probability < 1e-7. tanh squashes large values,
    which damps the walk: width 256 is enough there."""
    gain, fn = nn.init.calculate_gain(activation), getattr(ini, init_name)
    kw = {"gain": gain} if init_name.startswith("xavier") else {"nonlinearity": activation}
    stds = experiment(rng, lambda s, r: fn(s, r, **kw), activation, width)
    ok = np.all((stds >= stds[0] / 5) & (stds <= stds[0] * 5)) and np.all(np.isfinite(stds))
    assert_true(ok, f"{init_name} ({kw}) with {activation}: the pre-activation std must stay "
                f"within 5x of layer 1's over 50 layers; yours: {show(stds)}")  # fmt: skip


@pytest.mark.parametrize(("scale", "verdict"), [(0.01, "vanish"), (1.0, "explode")])
def test_naive_scale_vanishes_or_explodes(scale, verdict, rng):
    stds = experiment(rng, lambda s, r: scale * r.standard_normal(s), "relu", width=128)
    ok = stds[-1] < 1e-6 * stds[0] if verdict == "vanish" else stds[-1] > 1e6 * stds[0]
    assert_true(ok, f"N(0, {scale}^2) weights with ReLU must make the std {verdict} over 50 "
                f"layers (by 6 orders of magnitude); yours: {show(stds)}")  # fmt: skip
