"""nn.py: Modules that register Parameters and name them like torch; every layer vs torch.nn."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import nn as oracle
from reference.oracles import tensor

mg = kata("09_autograd/nn")
f64 = np.float64
INPUTS = ("x", "h0", "c0")  # how messages name a module's inputs, in order


def wrap(x):
    """Float arrays become Tensors that require grad; tuples stay tuples; ints stay arrays."""
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    return mg.package.Tensor(x, requires_grad=True) if np.asarray(x).dtype.kind == "f" else x


def run(module, *inputs, **kw):
    """module(*inputs) through call(), float arrays passed as Tensors that require grad.

    Returns (output, the input Tensors in order); call() fails if the module changed an input.
    """
    __tracebackhide__ = True
    wrapped = [wrap(x) for x in inputs]
    out = call(module, *wrapped, **kw)
    return out, [t for t in oracle._flatten(wrapped) if isinstance(t, mg.package.Tensor)]


def check_out(out, want, name="the output", tol="matmul", dtype=None, mistakes=None):
    __tracebackhide__ = True
    assert_true(
        isinstance(out, mg.package.Tensor),
        f"{name} must be a minigrad Tensor (built with ops, so backward works); "
        f"got {type(out).__name__}",
    )
    assert_close(out.data, want, tol=tol, name=name, dtype=dtype, mistakes=mistakes)


def check_grad(t, want, what):
    __tracebackhide__ = True
    assert_true(
        t.grad is not None,
        f"after backward, {what}.grad is None: no gradient reached it. Build the forward "
        "pass from minigrad ops on the Parameter itself (not on a copy of its .data).",
    )
    assert_close(t.grad, want, tol="grad", name=f"{what}.grad", inplace=True)


def layer_matches_torch(mine, theirs, params, inputs, backward=False, mistakes=None):
    """mine(*inputs) vs theirs (torch, given mine's weights): the output, or every gradient.

    params: the attribute names of mine's Parameters (torch's names), or a dict
    {torch name: Parameter}.
    """
    __tracebackhide__ = True
    if not isinstance(params, dict):
        params = {n: getattr(mine, n, None) for n in params}
    for n, got in params.items():
        want = tuple(theirs.get_parameter(n).shape)
        assert_true(
            isinstance(got, mg.Parameter) and got.shape == want,
            f"{type(mine).__name__}'s {n} must be a Parameter of shape {want} (torch's); got "
            f"{type(got).__name__} {getattr(got, 'shape', '')}",
        )
    theirs = oracle.copy_into(theirs, {n: p.data for n, p in params.items()})
    out, xs = run(mine, *inputs)
    outs = oracle._flatten(out)
    seeds = [np.random.default_rng(7).standard_normal(o.shape) for o in outs]
    want = oracle.run(theirs, list(inputs), seeds)
    if not backward:
        for k, o in enumerate(outs):
            name = ("output", "h_n", "c_n")[k] if len(outs) == 3 else "the output"
            check_out(o, want[f"out{k}"], name, mistakes=mistakes if k == 0 else None)
        return
    loss = (outs[0] * seeds[0]).sum()
    for o, s in zip(outs[1:], seeds[1:]):
        loss = loss + (o * s).sum()
    loss.backward()
    for k, (name, x) in enumerate(zip(INPUTS, xs)):
        check_grad(x, want[f"in{k}"], name)
    for n, p in params.items():
        check_grad(p, want[n], f"{type(mine).__name__}'s {n}")


LINEAR = [(3, 4, True), (5, 5, True), (4, 2, False)]


@pytest.mark.oracle
@pytest.mark.parametrize("i,o,bias", LINEAR)
def test_linear_forward_matches_torch(i, o, bias, rng):
    lin = mg.Linear(i, o, bias=bias, rng=rng, dtype=f64)
    x = rng.standard_normal((6, i))
    b = lin.bias.data if bias else 0
    no_t = {"x @ W + b: W (out, in) used without .T": lambda: x @ lin.weight.data + b}
    names = ("weight", "bias") if bias else ("weight",)
    theirs = torch.nn.Linear(i, o, bias=bias)
    layer_matches_torch(lin, theirs, names, [x], mistakes=no_t if i == o else None)


@pytest.mark.oracle
@pytest.mark.parametrize("i,o,bias", LINEAR)
def test_linear_backward_matches_torch(i, o, bias, rng):
    lin = mg.Linear(i, o, bias=bias, rng=rng, dtype=f64)
    names = ("weight", "bias") if bias else ("weight",)
    x = rng.standard_normal((6, i))
    layer_matches_torch(lin, torch.nn.Linear(i, o, bias=bias), names, [x], backward=True)


def nets(rng, p=0.5):
    """The same model twice: minigrad's holds a plain list and dict, torch's a ModuleList and
    ModuleDict. Returns (mine, torch's with mine's weights, {torch name: my Parameter}, every
    module of mine), the last two from the layers as built, not from your registration."""
    nn = mg.package.nn
    sizes = ((4, 5), (5, 5), (5, 5), (5, 3))
    stem, l0, l1, ha = (nn.Linear(a, b, rng=rng, dtype=f64) for a, b in sizes)
    hb = nn.Linear(5, 3, bias=False, rng=rng, dtype=f64)
    scale = nn.Parameter(rng.standard_normal(5))
    tanh, drop_in = nn.Tanh(), nn.Dropout(p, rng=rng)
    seq = nn.Sequential(l1, tanh, drop_in)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = stem
            self.scale = scale  # assigned after stem, yet torch lists it first
            self.layers = [l0, seq]
            self.heads = {"a": ha, "b": hb}
            self.drop = nn.Dropout(p, rng=rng)

        def forward(self, x):
            h = self.stem(x) * self.scale
            for layer in self.layers:
                h = layer(h).tanh()
            h = self.drop(h)
            return self.heads["a"](h) + self.heads["b"](h)

    net = Net()
    params = {"scale": scale}
    linears = {"stem": stem, "layers.0": l0, "layers.1.0": l1, "heads.a": ha, "heads.b": hb}
    for prefix, lin in linears.items():
        params[f"{prefix}.weight"] = lin.weight
        if lin.bias is not None:
            params[f"{prefix}.bias"] = lin.bias
    theirs = oracle.copy_into(oracle.TorchNet(p), {n: v.data for n, v in params.items()})
    return net, theirs, params, [net, stem, l0, seq, l1, tanh, drop_in, ha, hb, net.drop]


def listing(pairs):
    return [(name, tuple(p.shape)) for name, p in pairs]


def test_named_parameters_match_torch_for_lists_and_dicts(rng):
    net, theirs, _, _ = nets(rng)
    mine = listing(call(net.named_parameters))
    want = listing(theirs.named_parameters())
    assert_true(
        mine == want,
        "named_parameters() must give torch's names, shapes and order (a module's own "
        "Parameters first, then each child's; a list's items are named 0, 1, ..., a dict's by "
        f"their keys).\n  yours: {mine}\n  torch: {want}",
    )
    params = list(net.parameters())
    assert_true(
        len(params) == len(want) and all(isinstance(p, mg.Parameter) for p in params),
        f"parameters() must yield the {len(want)} Parameters; got {len(params)}",
    )


def test_children_and_modules_walk_lists_and_dicts(rng):
    net, _, _, every = nets(rng)
    stem, l0, seq, l1, tanh, drop_in, ha, hb, drop = every[1:]

    def names(ms):
        return [type(m).__name__ for m in ms]

    for what, mine, want in (
        ("children()", call(net.children), [stem, l0, seq, ha, hb, drop]),
        ("modules()", call(net.modules), [net, stem, l0, seq, l1, tanh, drop_in, ha, hb, drop]),
    ):
        mine = list(mine)
        assert_true(
            [id(m) for m in mine] == [id(m) for m in want],
            f"{what} must give these modules, in this order (a list's and a dict's items count "
            f"as children; modules() goes depth first, from self):\n  yours: {names(mine)}\n"
            f"  want:  {names(want)}",
        )


def test_state_dict_matches_torch_sequential(rng):
    nn = mg.package.nn
    first = nn.Linear(3, 4, rng=rng)
    seq = nn.Sequential(first, nn.ReLU(), nn.Linear(4, 2, rng=rng))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    state = call(seq.state_dict)
    assert_true(isinstance(state, dict), f"state_dict() must return a dict; got {type(state)}")
    mine, want = listing(state.items()), listing(theirs.state_dict().items())
    assert_true(
        mine == want,
        f"state_dict() keys and shapes must be torch's, in its order.\n  yours: {mine}\n"
        f"  torch: {want}",
    )
    assert_true(
        all(isinstance(v, np.ndarray) for v in state.values()),
        "state_dict() values must be ndarrays",
    )
    assert_close(state["0.weight"], first.weight.data, name='state_dict()["0.weight"]')
    state["0.weight"][...] = 123.0
    assert_true(
        not np.any(first.weight.data == 123.0),
        "state_dict() must hold copies: changing it changed the model",
    )


def test_train_and_eval_reach_every_nested_module(rng):
    net, _, _, modules = nets(rng)
    for mode, switch in ((False, net.eval), (True, net.train), (False, net.eval)):
        got = call(switch)
        assert_true(got is net, f"{switch.__name__}() must return the module itself")
        wrong = [type(m).__name__ for m in modules if m.training is not mode]
        assert_true(
            not wrong,
            f"after {switch.__name__}(), these modules still have training={not mode}: "
            f"{wrong}. Switch every child, at any depth.",
        )


@pytest.mark.oracle
def test_dropout_in_eval_is_the_identity(rng):
    net, theirs, _, _ = nets(rng, p=0.9)
    net.eval()
    x = rng.standard_normal((4, 4))
    out, _ = run(net, x)
    check_out(out, theirs.eval()(tensor(x)), "the output in eval mode (Dropout must pass x on)")


def test_dropout_in_training_zeroes_and_rescales(rng):
    p = 0.2
    drop = mg.Dropout(p, rng=np.random.default_rng(1))
    x = rng.uniform(1, 2, (200, 100))
    out, (xt,) = run(drop, x)
    check_out(out, np.where(out.data == 0, 0.0, x / (1 - p)), "Dropout's output", tol="elementwise")
    kept = float(np.mean(out.data != 0))
    assert_true(
        abs(kept - (1 - p)) < 0.02,
        f"Dropout(p={p}) must keep each unit with probability 1 - p = {1 - p}; it kept "
        f"{kept:.3f} of them",
    )
    out.sum().backward()
    check_grad(xt, (out.data != 0) / (1 - p), "x")
    again, _ = run(drop, x)
    assert_true(
        not np.array_equal(again.data, out.data),
        "two calls drew the same mask: draw a fresh one from the rng on every call",
    )


@pytest.mark.edge
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_with_p_zero_keeps_all_and_p_one_drops_all(p, rng):
    x = rng.standard_normal((3, 4))
    out, _ = run(mg.Dropout(p, rng=rng), x)
    check_out(out, x * (1 - p), f"Dropout(p={p})'s output", tol="elementwise")


def test_zero_grad_clears_every_nested_parameter(rng):
    net, _, params, _ = nets(rng)
    out, _ = run(net, rng.standard_normal((2, 4)))
    out.sum().backward()
    call(net.zero_grad)
    left = [name for name, p in params.items() if p.grad is not None]
    assert_true(
        not left,
        f"zero_grad() left these grads set: {left}. Clear every Parameter of every child, at "
        "any depth (grad = None).",
    )


def test_load_state_dict_keeps_dtype_and_copies(rng):
    nn = mg.package.nn
    lin = nn.Linear(3, 2, rng=rng)  # float32 by default
    state = {"weight": rng.standard_normal((2, 3)), "bias": rng.standard_normal(2)}
    call(lin.load_state_dict, state)
    assert_true(
        lin.weight.dtype == np.float32,
        f"after loading float64 arrays, Linear's weight is {lin.weight.dtype}: copy INTO the "
        "parameter's own array (p.data[...] = value) so it keeps its dtype (float32)",
    )
    kw = dict(tol="elementwise", dtype=np.float32, inplace=True)
    assert_close(lin.weight.data, state["weight"], name="weight after loading", **kw)
    weight = state["weight"].copy()
    state["weight"] += 1.0
    assert_close(lin.weight.data, weight, name="weight after a change to the loaded array", **kw)


@pytest.mark.oracle
def test_load_state_dict_from_torch_gives_torch_outputs(rng):
    net, theirs, _, _ = nets(rng, p=0.0)  # no dropout: the same output in either mode
    for p in theirs.parameters():  # new weights: loading must replace all of mine
        torch.nn.init.normal_(p)
    state = {k: v.numpy().copy() for k, v in theirs.state_dict().items()}
    call(net.load_state_dict, state)
    x = rng.standard_normal((3, 4))
    out, _ = run(net, x)
    check_out(out, theirs.eval()(tensor(x)), "the output after loading torch's state_dict")


@pytest.mark.parametrize("case", ["missing", "unexpected", "shape"])
def test_load_state_dict_strict_errors_name_the_key(case, rng):
    nn = mg.package.nn
    seq = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 2, rng=rng))
    state = {k: np.ones(s) for k, s in (("0.weight", (4, 3)), ("0.bias", 4), ("2.weight", (2, 4)),
                                         ("2.bias", 2))}  # fmt: skip
    key, why, extra = {
        "missing": ("2.bias", "a key of the model is missing", ()),
        "unexpected": ("3.weight", "the state has a key the model lacks", ()),
        "shape": ("0.bias", "0.bias has shape (1,), the model's (4,)", ("(1,)", "(4,)")),
    }[case]
    if case == "missing":
        del state[key]
    elif case == "unexpected":
        state[key] = np.ones(2)
    else:
        state[key] = np.ones(1)  # NumPy would broadcast it into (4,) without a word
    err = assert_raises(RuntimeError, seq.load_state_dict, state, why=why)
    for part in (key, *extra):
        assert_true(part in str(err), f"the error must name {part!r}; it said: {err}")


def test_load_state_dict_not_strict_skips_missing_and_unexpected(rng):
    nn = mg.package.nn
    lin = nn.Linear(3, 2, rng=rng, dtype=f64)
    old_bias = lin.bias.data.copy()
    weight = rng.standard_normal((2, 3))
    got = call(lin.load_state_dict, {"weight": weight, "extra": np.ones(1)}, strict=False)
    assert_close(lin.weight.data, weight, tol="elementwise", name="weight", inplace=True)
    assert_close(lin.bias.data, old_bias, tol="elementwise", name="bias (missing)", inplace=True)
    assert_true(
        tuple(map(list, got)) == (["bias"], ["extra"]),
        f"load_state_dict must return (missing_keys, unexpected_keys); got {got}",
    )


@pytest.mark.oracle
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("C,F,k,stride,padding", [(2, 3, 3, 1, 1), (3, 2, 2, 2, 0)])
def test_conv2d_matches_torch(C, F, k, stride, padding, backward, rng):
    conv = mg.Conv2d(C, F, k, stride=stride, padding=padding, rng=rng, dtype=f64)
    theirs = torch.nn.Conv2d(C, F, k, stride=stride, padding=padding)
    x = rng.standard_normal((2, C, 5, 6))
    layer_matches_torch(conv, theirs, ("weight", "bias"), [x], backward=backward)


@pytest.mark.oracle
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_embedding_matches_torch(backward, rng):
    emb = mg.Embedding(7, 4, rng=rng, dtype=f64)
    idx = np.array([[1, 3, 1], [6, 0, 1]])  # repeated rows: their gradients add up
    layer_matches_torch(emb, torch.nn.Embedding(7, 4), ("weight",), [idx], backward=backward)


@pytest.mark.oracle
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("shape", [(5,), (3, 4)])
def test_layer_norm_matches_torch(shape, backward, rng):
    ln = mg.LayerNorm(shape, dtype=f64)
    for p in (ln.weight, ln.bias):  # random, so a mix-up of gamma and beta shows
        p.data = rng.standard_normal(shape)
    x = rng.standard_normal((2, 3, *shape)) * 3 + 1
    layer_matches_torch(ln, torch.nn.LayerNorm(shape), ("weight", "bias"), [x], backward)


SIMPLE = {
    "ReLU": (lambda: mg.ReLU(), torch.nn.ReLU()),
    "Tanh": (lambda: mg.Tanh(), torch.nn.Tanh()),
    "Sigmoid": (lambda: mg.Sigmoid(), torch.nn.Sigmoid()),
    "Flatten": (lambda: mg.Flatten(), torch.nn.Flatten()),
    "MaxPool2d(2)": (lambda: mg.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    "MaxPool2d(3, stride=1)": (lambda: mg.MaxPool2d(3, stride=1), torch.nn.MaxPool2d(3, 1)),
}


@pytest.mark.oracle
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("layer", list(SIMPLE))
def test_simple_layers_match_torch(layer, backward, rng):
    make, theirs = SIMPLE[layer]
    x = rng.standard_normal((2, 3, 4, 5))
    layer_matches_torch(make(), theirs, (), [x], backward=backward)


def lstms(rng, D, H, batch_first=True):
    lstm = mg.LSTM(D, H, batch_first=batch_first, rng=rng, dtype=f64)
    return lstm, torch.nn.LSTM(D, H, batch_first=batch_first)


def lstm_inputs(rng, N, T, D, H, with_hx):
    x = rng.standard_normal((N, T, D))
    hx = tuple(rng.standard_normal((1, N, H)) for _ in range(2)) if with_hx else None
    return x, hx


def lstm_slips(lstm, x, hx):
    def params():
        return {n: getattr(lstm, n).data for n in oracle.LSTM_PARAMS}

    return {
        "gates read as i, f, o, g (torch's order is i, f, g, o)":
            lambda: oracle.lstm_gates_swapped(params(), x, hx),
        "c = f * c + g: the input gate i is missing":
            lambda: oracle.lstm_by_hand(params(), x, hx, slip="no input gate"),
    }  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("hx", [False, True], ids=["hx=None", "hx given"])
def test_lstm_forward_matches_torch(hx, rng):
    lstm, theirs = lstms(rng, 3, 4)
    x, state = lstm_inputs(rng, 2, 5, 3, 4, hx)
    inputs = [x] if state is None else [x, state]
    layer_matches_torch(
        lstm, theirs, oracle.LSTM_PARAMS, inputs, mistakes=lstm_slips(lstm, x, state)
    )


@pytest.mark.oracle
@pytest.mark.parametrize("hx", [False, True], ids=["hx=None", "hx given"])
def test_lstm_backward_matches_torch(hx, rng):
    lstm, theirs = lstms(rng, 3, 4)
    x, state = lstm_inputs(rng, 2, 5, 3, 4, hx)
    inputs = [x] if state is None else [x, state]
    layer_matches_torch(lstm, theirs, oracle.LSTM_PARAMS, inputs, backward=True)


@pytest.mark.edge
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_lstm_with_one_step_and_one_example_matches_torch(backward, rng):
    lstm, theirs = lstms(rng, 2, 3)
    x, state = lstm_inputs(rng, 1, 1, 2, 3, True)
    layer_matches_torch(lstm, theirs, oracle.LSTM_PARAMS, [x, state], backward=backward)


@pytest.mark.edge
def test_lstm_time_major_when_not_batch_first(rng):
    lstm, theirs = lstms(rng, 3, 2, batch_first=False)
    x = rng.standard_normal((4, 2, 3))  # (T, N, D)
    layer_matches_torch(lstm, theirs, oracle.LSTM_PARAMS, [x])


def check_uniform(p, bound, what):
    __tracebackhide__ = True
    a = np.abs(p.data)
    assert_true(
        0.5 * bound < a.max() <= bound,
        f"{what} must be uniform in +-{bound:.4g} (torch's default init); its values reach "
        f"{a.max():.4g}",
    )


def test_init_follows_torchs_defaults(rng):
    nn = mg.package.nn
    lin, conv, lstm = nn.Linear(50, 40), nn.Conv2d(4, 6, 3, rng=rng), nn.LSTM(5, 8, rng=rng)
    for name, p in (("weight", lin.weight), ("bias", lin.bias)):
        check_uniform(p, 1 / np.sqrt(50), f"Linear(50, 40).{name} (bound 1/sqrt(in_features))")
        assert_true(
            isinstance(p, mg.Parameter) and p.dtype == np.float32 and p.requires_grad,
            f"Linear's {name} must be a float32 Parameter by default (requires grad)",
        )
    for name in ("weight", "bias"):
        check_uniform(getattr(conv, name), 1 / 6, f"Conv2d(4, 6, 3).{name} (1/sqrt(C*kh*kw))")
    for name in oracle.LSTM_PARAMS:
        check_uniform(getattr(lstm, name), 1 / np.sqrt(8), f"LSTM(5, 8).{name} (1/sqrt(H))")
    std = float(nn.Embedding(100, 20, rng=rng).weight.data.std())
    assert_true(0.9 < std < 1.1, f"Embedding weights must be N(0, 1); their std is {std:.3f}")
    ln = nn.LayerNorm(6)
    assert_true(
        np.all(ln.weight.data == 1) and np.all(ln.bias.data == 0),
        "LayerNorm starts with weight = 1 and bias = 0",
    )


def test_float32_in_float32_out(rng):
    lin = mg.Linear(3, 4, rng=rng)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    out, _ = run(lin, x)
    want = tensor(x) @ tensor(lin.weight.data).T + tensor(lin.bias.data)
    check_out(out, want, dtype=np.float32)


@pytest.mark.property
@settings(max_examples=15, deadline=None)
@given(N=st.integers(1, 3), T=st.integers(1, 3), D=st.integers(1, 3), H=st.integers(1, 3),
       layout=cs.layouts(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_mlp_and_lstm_match_torch_for_any_sizes_and_layouts(N, T, D, H, layout, seed):
    rng = np.random.default_rng(seed)
    nn = mg.package.nn
    first, last = nn.Linear(D, H, rng=rng, dtype=f64), nn.Linear(H, 2, rng=rng, dtype=f64)
    mlp = nn.Sequential(first, nn.Tanh(), last)
    theirs = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, 2))
    params = {
        f"{k}.{n}": getattr(m, n) for k, m in ((0, first), (2, last)) for n in ("weight", "bias")
    }
    x = cs.relayout(rng.standard_normal((N, D)), layout)
    layer_matches_torch(mlp, theirs, params, [x], backward=True)
    lstm, theirs = lstms(rng, D, H)
    xs = cs.relayout(rng.standard_normal((N, T, D)), layout)
    layer_matches_torch(lstm, theirs, oracle.LSTM_PARAMS, [xs], backward=True)
