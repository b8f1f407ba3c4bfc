"""architectures.py: classic CNNs in PyTorch, checked by parameter counts, shapes and outputs.

Parameter counts are facts (torchvision's published models). Blocks get reference weights
loaded by name (reference/oracles/architectures.py writes torchvision's definitions out) and
must give the same outputs in float64. Big networks are built on torch's meta device: shapes
without memory, so VGG-16's 138M parameters cost nothing here.
"""

import copy
import traceback
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from checker import assert_close, assert_true, context, describe, kata, note
from reference.oracles import architectures as ref

arch = kata("03_cnn/architectures")


def fail(message: str):
    __tracebackhide__ = True
    assert_true(False, message)


def signature(name, args, kwargs) -> str:
    return (
        f"{name}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])})"
    )


def attempt(fn, *args, **kwargs):
    """(fn(...), None), or (None, 'Error: message (your architectures.py, line N)')."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        raise
    except Exception as exc:
        mine = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(arch.path)]
        where = (
            f"\n  at your architectures.py line {mine[-1].lineno}: {mine[-1].line}" if mine else ""
        )
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0]}{where}"


def build(name: str, *args, meta: bool = False, **kwargs) -> nn.Module:
    """Call arch.<name>(*args, **kwargs); on the meta device if asked (CPU if that fails)."""
    __tracebackhide__ = True
    fn, desc = getattr(arch, name), signature(name, args, kwargs)
    context.current.call, context.current.inputs = desc, None
    model = None
    if meta:
        try:
            with torch.device("meta"):
                model = fn(*args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as exc:
            note(
                f"{desc} does not build on torch's meta device ({type(exc).__name__}: {exc}); "
                "the tests built it on the CPU instead, which is slow for big networks. "
                "Build layers from their sizes: no tensors run through them in __init__."
            )
    if model is None:
        model, error = attempt(fn, *args, **kwargs)
        if error:
            fail(f"{desc} raised {error}")
    assert_true(
        isinstance(model, nn.Module), f"{desc} returned {type(model).__name__}; return an nn.Module"
    )
    return model


def forward(model: nn.Module, x: torch.Tensor, desc: str) -> torch.Tensor:
    """model(x), with a message instead of a traceback when it fails or touches x."""
    __tracebackhide__ = True
    context.current.call, context.current.inputs = f"{desc}(x)", f"x: {describe(x)}"
    before = None if x.is_meta else x.clone()
    out, error = attempt(model, x)
    if error:
        fail(f"{desc}(x) on x of shape {tuple(x.shape)} raised {error}")
    assert_true(isinstance(out, torch.Tensor), f"{desc}(x) returned {describe(out)}, not a tensor")
    assert_true(
        before is None or torch.equal(x, before),
        f"{desc}(x) modified its input x in place (x += ... or an in-place ReLU on x?)",
    )
    return out


def check_shape(out, want: tuple, desc: str, why: str = ""):
    __tracebackhide__ = True
    assert_true(
        tuple(out.shape) == want,
        f"{desc}(x) returned shape {tuple(out.shape)}; expected {want}"
        + (f" ({why})" if why else ""),
    )


def load_reference(block: nn.Module, reference: nn.Module, desc: str):
    """Load the reference's (random) weights into the learner's block by name."""
    __tracebackhide__ = True
    mine, theirs = block.state_dict(), reference.state_dict()
    missing = [k for k in theirs if k not in mine]
    extra = [k for k in mine if k not in theirs]
    wrong = [
        f"{k}: yours {tuple(mine[k].shape)} | expected {tuple(theirs[k].shape)}"
        for k in theirs
        if k in mine and mine[k].shape != theirs[k].shape
    ]
    if missing or extra or wrong:
        lines = [
            f"{desc}'s layers do not match the spec (the test loads reference weights "
            "into your block by name, as torchvision checkpoints load):"
        ]
        for label, keys in (("missing", missing), ("not expected", extra), ("wrong shape", wrong)):
            if keys:
                lines.append(
                    f"  {label}: " + ", ".join(keys[:8]) + (" ..." if len(keys) > 8 else "")
                )
        fail("\n".join(lines))
    block.load_state_dict(theirs)


def compare_block(name, args, kwargs, x, train=False, mistakes=None):
    """Build the learner's block and the reference, share weights, compare the outputs."""
    __tracebackhide__ = True
    torch.manual_seed(0)
    block = build(name, *args, **kwargs).double()
    reference = ref.randomize_(getattr(ref, name)(*args, **kwargs).double())
    desc = signature(name, args, kwargs)
    load_reference(block, reference, desc)
    block.train(train), reference.train(train)
    desc += ".train()" if train else ".eval()"
    out = forward(block, x, desc)
    with torch.no_grad():
        want = reference(x.clone())
        found = {}
        for label, change in (mistakes or {}).items():
            wrong = copy.deepcopy(reference)
            change(wrong)
            found[label] = wrong(x.clone())
    check_shape(out, tuple(want.shape), desc)
    assert_close(out.detach().numpy(), want, tol="matmul", name="the output", mistakes=found)


def images(*shape, seed=0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ----------------------------------------------------------------------------- parameter counts

PUBLISHED = [  # name, kwargs, parameters, what has that many, reference model
    ("lenet5", {}, 61_706, "the classic LeNet-5", None),
    ("alexnet", {}, 61_100_840, "torchvision's AlexNet", ref.AlexNet),
    ("vgg16", {}, 138_357_544, "torchvision's VGG-16", ref.VGG),
    ("resnet18", {}, 11_689_512, "torchvision's ResNet-18", ref.resnet18),
    ("efficientnet", {}, 5_288_548, "torchvision's EfficientNet-B0", ref.efficientnet),
    (
        "efficientnet",
        {"depth_mult": 1.1},
        7_794_184,
        "torchvision's EfficientNet-B1",
        lambda: ref.efficientnet(1.0, 1.1),
    ),
    (
        "efficientnet",
        {"width_mult": 1.1, "depth_mult": 1.2},
        9_109_994,
        "torchvision's EfficientNet-B2",
        lambda: ref.efficientnet(1.1, 1.2),
    ),
]


def check_count(model, published, what, reference_shapes: Counter, desc):
    __tracebackhide__ = True
    total = sum(p.numel() for p in model.parameters())
    if total != published:
        mine = Counter(tuple(p.shape) for p in model.parameters())
        fmt = lambda c: ", ".join(f"{s} x{n}" for s, n in sorted(c.items())[:8]) or "none"  # noqa: E731
        fail(
            f"{desc} has {total:,} parameters; {what} has {published:,} "
            f"({total - published:+,}).\nParameter shapes only in yours: "
            f"{fmt(mine - reference_shapes)}\nOnly in the reference: "
            f"{fmt(reference_shapes - mine)}"
        )


@pytest.mark.parametrize(
    "name, kwargs, published, what, reference",
    PUBLISHED,
    ids=["lenet5", "alexnet", "vgg16", "resnet18", "b0", "b1", "b2"],
)
def test_network_has_the_published_parameter_count(name, kwargs, published, what, reference):
    model = build(name, meta=True, **kwargs)
    if reference is None:
        shapes = Counter(ref.LENET5_SHAPES)
    else:
        with torch.device("meta"):
            shapes = ref.shape_counter(reference())
    check_count(model, published, what, shapes, signature(name, (), kwargs))


def test_resnet50_from_your_bottleneck_has_25557032_parameters():
    """The test stacks your Bottleneck the way torchvision's ResNet-50 does."""
    context.current.call = "Bottleneck(...) x 16, in ResNet-50's stages"
    with torch.device("meta"):
        layers, in_ch = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)], 64
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
            for j in range(n):
                layers.append(arch.Bottleneck(in_ch, width, 2 if i > 0 and j == 0 else 1))
                in_ch = 4 * width
        model = nn.Sequential(*layers, nn.Linear(2048, 1000))
        shapes = ref.shape_counter(ref.resnet50())
    check_count(model, 25_557_032, "torchvision's ResNet-50", shapes, "ResNet-50")


# ----------------------------------------------------------------------------- output shapes

SHAPES = [  # name, kwargs, input shape, output shape
    ("lenet5", {}, (1, 1, 32, 32), (1, 10)),
    ("lenet5", {"num_classes": 3}, (2, 1, 32, 32), (2, 3)),
    ("alexnet", {}, (2, 3, 224, 224), (2, 1000)),
    ("alexnet", {"num_classes": 7}, (1, 3, 64, 64), (1, 7)),
    ("vgg16", {"num_classes": 7}, (1, 3, 224, 224), (1, 7)),
    ("vgg16", {}, (2, 3, 64, 96), (2, 1000)),
    ("resnet18", {}, (2, 3, 224, 224), (2, 1000)),
    ("resnet18", {"num_classes": 7}, (1, 3, 64, 64), (1, 7)),
    ("efficientnet", {}, (1, 3, 224, 224), (1, 1000)),
    (
        "efficientnet",
        {"width_mult": 1.1, "depth_mult": 1.2, "num_classes": 7},
        (2, 3, 64, 64),
        (2, 7),
    ),
]


@pytest.mark.parametrize("name, kwargs, shape, want", SHAPES)
def test_network_output_shape(name, kwargs, shape, want):
    model = build(name, meta=True, **kwargs).eval()
    device = next(model.parameters()).device
    out = forward(model, torch.empty(shape, device=device), signature(name, (), kwargs) + ".eval()")
    check_shape(out, want, signature(name, (), kwargs))


def test_small_networks_run_on_real_float32_data():
    """Not just shapes: real numbers through LeNet-5, ResNet-18 and B0 (small inputs, CPU)."""
    torch.manual_seed(0)
    for name, shape in (
        ("lenet5", (1, 1, 32, 32)),
        ("resnet18", (2, 3, 32, 32)),
        ("efficientnet", (1, 3, 32, 32)),
    ):
        model = build(name, num_classes=5).eval()
        with torch.no_grad():
            out = forward(model, torch.rand(shape), f"{name}(num_classes=5).eval()")
        check_shape(out, (shape[0], 5), name)
        assert_true(
            out.dtype == torch.float32 and bool(torch.isfinite(out).all()),
            f"{name}: float32 input gave {out.dtype} output, finite: "
            f"{bool(torch.isfinite(out).all())}",
        )


# ----------------------------------------------------------------------------- LeNet, VGG


@pytest.mark.oracle
@pytest.mark.parametrize("batch", [1, 3])
def test_lenet5_matches_torch(batch):
    model = build("lenet5").double()
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert_true(
        shapes == ref.LENET5_SHAPES,
        f"lenet5()'s parameters, in order, have shapes {shapes}; expected "
        f"{ref.LENET5_SHAPES} (conv1 weight, bias, conv2 ..., fc3 bias)",
    )
    gen = torch.Generator().manual_seed(batch)
    params = [
        torch.randn(s, generator=gen, dtype=torch.float64) / np.sqrt(np.prod(s[1:]) or 1)
        for s in shapes
    ]
    with torch.no_grad():
        for p, value in zip(model.parameters(), params):
            p.copy_(value)
    x = images(batch, 1, 32, 32)
    out = forward(model, x, "lenet5()")
    relu = ref.lenet5_forward(x, params, act=torch.relu)
    maxp = ref.lenet5_forward(x, params, pool=torch.nn.functional.max_pool2d)
    assert_close(
        out.detach().numpy(),
        ref.lenet5_forward(x, params),
        tol="matmul",
        name="the logits",
        mistakes={"ReLU instead of tanh": relu, "max pooling instead of average pooling": maxp},
    )


@pytest.mark.oracle
@pytest.mark.parametrize(
    "num_convs, shape", [(1, (1, 3, 6, 6)), (2, (2, 3, 8, 5)), (3, (1, 3, 5, 7))]
)
def test_vgg_block_matches_torch_and_halves_the_size(num_convs, shape):
    block = build("vgg_block", 3, 4, num_convs).double()
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert_true(
        len(convs) == num_convs and all(c.kernel_size == (3, 3) for c in convs),
        f"vgg_block(3, 4, {num_convs}) has {len(convs)} convs with kernel sizes "
        f"{[c.kernel_size for c in convs]}; expected {num_convs} 3x3 convs",
    )
    x = images(*shape)
    out = forward(block, x, f"vgg_block(3, 4, {num_convs})")
    check_shape(
        out,
        (shape[0], 4, shape[2] // 2, shape[3] // 2),
        f"vgg_block(3, 4, {num_convs})",
        "the block ends with a 2x2 max pool, which halves H and W",
    )
    want = ref.vgg_block_forward(x, [c.weight for c in convs], [c.bias for c in convs])
    assert_close(out.detach().numpy(), want, tol="matmul", name="the output")


# ----------------------------------------------------------------------------- ResNet


def no_final_relu(r):
    r.variant = "no-final-relu"


def relu_before_add(r):
    r.variant = "relu-before-add"


BASIC = [(8, 8, 1), (8, 16, 2), (8, 8, 2), (8, 16, 1)]  # identity; projections for both reasons


@pytest.mark.oracle
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("cin, cout, stride", BASIC)
def test_basic_block_matches_torch(cin, cout, stride, train):
    compare_block(
        "BasicBlock",
        (cin, cout),
        {"stride": stride},
        images(2, cin, 7, 6),
        train,
        mistakes={
            "no ReLU after the addition": no_final_relu,
            "ReLU before the addition, none after": relu_before_add,
        },
    )


@pytest.mark.property
@given(
    n=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    cin=st.sampled_from([1, 3, 4]),
    cout=st.sampled_from([1, 4]),
    stride=st.sampled_from([1, 2]),
    layout=st.sampled_from(["contiguous", "transposed", "channels_last"]),
)
def test_basic_block_matches_torch_for_any_size_and_layout(n, h, w, cin, cout, stride, layout):
    x = images(n, cin, h, w)
    if layout == "transposed":
        x = images(n, cin, w, h).transpose(2, 3)  # non-contiguous view
    elif layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    compare_block("BasicBlock", (cin, cout), {"stride": stride}, x)


@pytest.mark.oracle
@pytest.mark.parametrize("cin, width, stride", [(16, 4, 1), (8, 4, 1), (16, 4, 2)])
def test_bottleneck_matches_torch(cin, width, stride):
    compare_block("Bottleneck", (cin, width), {"stride": stride}, images(2, cin, 6, 5))


def test_skip_connections_keep_the_gradient_alive_through_40_blocks():
    """40 BasicBlocks at torch's default init, in eval mode (BN = identity at its initial
    statistics). Without skips the input gradient vanishes; with them it stays O(1)."""
    torch.manual_seed(0)
    nets = [
        nn.Sequential(*[arch.BasicBlock(16, 16, skip=s) for _ in range(40)]).double().eval()
        for s in (False, True)
    ]
    torch.manual_seed(1)
    for m in nets[0].modules():  # the same default init, whatever the blocks' own init does
        if isinstance(m, (nn.Conv2d, nn.BatchNorm2d)):
            m.reset_parameters()
    load_reference(nets[1], nets[0], "BasicBlock(16, 16) (the skip=True twin)")
    x, gains = images(4, 16, 8, 8), []
    for net, desc in zip(nets, ("plain (skip=False)", "residual (skip=True)")):
        xi = x.clone().requires_grad_(True)
        out = forward(net, xi, f"40 x BasicBlock(16, 16), {desc}")
        g = images(*out.shape, seed=1)
        out.backward(g)
        gains.append(float(xi.grad.norm() / g.norm()))
    # measured over init seeds 0-5: plain 1e-34 to 5e-33, residual 0.80 to 1.04
    assert_true(
        gains[0] < 1e-6 and gains[1] > 0.1,
        f"|d loss/d x| / |d loss/d out|: plain net {gains[0]:.3g}, residual net "
        f"{gains[1]:.3g}; expected the plain one to vanish (< 1e-6) and the residual one "
        "to survive (> 0.1). skip=False must drop the shortcut; skip=True must add it.",
    )


# ----------------------------------------------------------------------------- Inception, MBConv


@pytest.mark.oracle
def test_inception_matches_torch():
    compare_block("Inception", (12, 4, 6, 8, 2, 4, 3), {}, images(2, 12, 7, 5))


def test_inception_3a_gives_256_channels_and_164064_parameters():
    block = build("Inception", *ref.INCEPTION_3A, meta=True).eval()
    with torch.device("meta"):
        shapes = ref.shape_counter(ref.Inception(*ref.INCEPTION_3A))
        out = forward(block, torch.empty(1, 192, 28, 28), "Inception(192, 64, 96, 128, 16, 32, 32)")
    check_shape(out, (1, 256, 28, 28), "Inception(192, 64, 96, 128, 16, 32, 32)")
    check_count(block, 164_064, "inception (3a) with BN", shapes, "inception (3a)")


@pytest.mark.oracle
def test_squeeze_excitation_matches_torch():
    compare_block("SqueezeExcitation", (8, 2), {}, images(2, 8, 5, 3))


def no_residual(r):
    r.use_residual = False


@pytest.mark.oracle
@pytest.mark.parametrize(
    "args", [(16, 16, 3, 1, 6), (16, 24, 5, 2, 6), (32, 16, 3, 1, 1), (8, 8, 5, 1, 1)]
)
def test_mbconv_matches_torch(args):
    compare_block(
        "MBConv",
        args,
        {},
        images(2, args[0], 9, 7),
        mistakes={"the residual connection left out": no_residual},
    )


@pytest.mark.parametrize("phi", [0, 1, 2.5, 7])
def test_compound_scaling_matches_the_formula(phi):
    context.current.call = f"compound_scaling({phi})"
    got = np.array(arch.compound_scaling(phi), dtype=np.float64)
    a, b, g = 1.2, 1.1, 1.15
    assert_close(
        got,
        np.array(ref.compound_scaling(phi)),
        tol="elementwise",
        name="(depth, width, resolution)",
        mistakes={
            "base and exponent swapped (phi ** alpha)": [phi**a, phi**b, phi**g],
            "width and resolution swapped": [a**phi, g**phi, b**phi],
        },
    )


@pytest.mark.property
@given(phi=st.floats(0, 8), a=st.floats(1, 2), b=st.floats(1, 2), g=st.floats(1, 2))
def test_compound_scaling_grows_flops_by_alpha_beta2_gamma2_per_step(phi, a, b, g):
    d, w, r = arch.compound_scaling(phi, a, b, g)
    flops = d * w**2 * r**2
    assert_true(
        np.isclose(flops, (a * b**2 * g**2) ** phi, rtol=1e-12),
        f"compound_scaling({phi}, {a}, {b}, {g}) = ({d}, {w}, {r}): d w^2 r^2 = {flops}, "
        f"not (alpha beta^2 gamma^2)^phi = {(a * b**2 * g**2) ** phi}",
    )


@pytest.mark.property
@given(filters=st.integers(1, 1500), width=st.floats(0.1, 4.0), divisor=st.sampled_from([4, 8]))
def test_round_filters_matches_the_reference_rule(filters, width, divisor):
    got = arch.round_filters(filters, width, divisor)
    want = ref.make_divisible(filters * width, divisor)
    assert_true(
        got == want and isinstance(got, int),
        f"round_filters({filters}, {width}, {divisor}) returned {got!r}; expected {want}",
    )


@pytest.mark.edge
@pytest.mark.parametrize(
    "filters, width, want, mistake",
    [
        (16, 0.7, 16, "11.2 rounds to 8, more than 10% down: add one divisor"),
        (3, 1.0, 8, "never fewer than divisor channels"),
        (320, 1.1, 352, ""),
        (112, 1.1, 120, ""),
        (32, 1.0, 32, ""),
    ],
)
def test_round_filters_pinned(filters, width, want, mistake):
    got = arch.round_filters(filters, width)
    assert_true(
        got == want,
        f"round_filters({filters}, {width}) returned {got!r}; expected "
        f"{want}" + (f" ({mistake})" if mistake else ""),
    )


@pytest.mark.edge
@pytest.mark.parametrize(
    "repeats, depth, want",
    [(1, 1.1, 2), (2, 1.2, 3), (3, 1.2, 4), (4, 1.0, 4), (5, 1.2, 6), (1, 1.0, 1)],
)
def test_round_repeats_rounds_up(repeats, depth, want):
    got = arch.round_repeats(repeats, depth)
    assert_true(
        got == want and isinstance(got, int),
        f"round_repeats({repeats}, {depth}) returned {got!r}; expected {want} = "
        f"ceil({repeats} * {depth}) (rounding up, as an int)",
    )
