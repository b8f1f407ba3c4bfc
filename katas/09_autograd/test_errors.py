"""errors.py: each mistake a user makes is refused where torch refuses it, with a message that
names the tensors (name or the op that made them), their shapes, and the fix; the fix works
(its gradients equal torch's). Last: the section README's example script trains."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import tensor

mg = kata("09_autograd/errors")
README = Path(__file__).parent / "README.md"


def torch_says(fn) -> str:
    """What torch raises for the same mistake (the oracle: this IS a mistake)."""
    try:
        fn()
    except RuntimeError as err:
        return str(err).splitlines()[0]
    raise AssertionError("test bug: torch accepts this, so it is no mistake")


def says(err, theirs: str, must: str, *needles: str) -> str:
    """Fail unless the message of err contains every needle; returns the message."""
    __tracebackhide__ = True
    msg = str(err)
    missing = [n for n in needles if n not in msg]
    assert_true(
        not missing,
        f"the {type(err).__name__} raised lacks "
        f"{', '.join(map(repr, missing))}: it must {must}.\n  yours: {msg}\n"
        f"  torch: {theirs}",
    )
    return msg


def leaves(rng, shape=(3,)):
    """'weights' (requires grad) and 'features' (does not), in minigrad and in torch."""
    w, x = rng.normal(size=shape), rng.normal(size=shape)
    T = mg.package.Tensor
    mine = T(w, requires_grad=True, name="weights"), T(x, name="features")
    return (*mine, tensor(w, grad=True), tensor(x))


def test_describe_gives_the_name_or_the_op_then_shape_and_dtype(rng):
    pkg = mg.package
    w = pkg.Tensor(rng.normal(size=(4, 5)).astype(np.float32), requires_grad=True, name="weights")
    made = pkg.ops.mul(w, 2.0)  # an unnamed tensor made by Mul
    plain = pkg.Tensor(np.float64(1.5))  # 0-d, no name, no op
    for t, who, what in [
        (w, "weights", "a float32 (4, 5) tensor named 'weights'"),
        (made, "Mul", "weights * 2, unnamed, made by Mul"),
        (plain, "", "a 0-d float64 tensor with no name and no grad_fn"),
    ]:
        text = call(mg.describe, t)
        assert_true(isinstance(text, str), f"describe returned {type(text).__name__}, not str")
        needles = [n for n in (who, str(tuple(t.shape)), str(t.dtype)) if n]
        missing = [n for n in needles if n not in text]
        assert_true(
            not missing,
            f"describe(t) for {what} returned {text!r}: it lacks "
            f"{', '.join(map(repr, missing))}. Name the tensor (t.name, else the "
            "class name of t.grad_fn), then give its shape as a tuple and its dtype.",
        )


def test_matmul_shape_error_names_both_operands_left_first_matches_torch(rng):
    T = mg.package.Tensor
    x = T(rng.normal(size=(2, 3)), name="features")
    w = T(rng.normal(size=(4, 5)), requires_grad=True, name="weights")
    theirs = torch_says(lambda: tensor(x.data) @ tensor(w.data))
    why = "3 != 4, a bad argument: a ValueError, as in NumPy (torch raises RuntimeError)"
    err = assert_raises(ValueError, mg.package.ops.matmul, x, w, why=why)
    needles = ("features", "weights", "(2, 3)", "(4, 5)", "float64")
    msg = says(err, theirs, "name both tensors, their shapes and dtypes", *needles)
    assert_true(
        msg.find("features") < msg.find("weights") and msg.find("(2, 3)") < msg.find("(4, 5)"),
        "the message names the right operand first, or gives each tensor the "
        f"other's shape: x @ w is 'features' (2, 3) times 'weights' (4, 5).\n  yours: {msg}",
    )


@st.composite
def mismatched(draw):
    """Shapes (a, b) that matmul refuses: the inner sizes differ (batch dims agree)."""
    k = draw(st.integers(1, 4))
    k2 = draw(st.integers(1, 4).filter(lambda v: v != k))
    batch = draw(cs.shapes(min_dims=0, max_dims=2, max_side=3))
    m, p = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["matrix", "1-D left", "1-D right"]))
    a = (k,) if kind == "1-D left" else batch + (m, k)
    b = (k2,) if kind == "1-D right" else batch + (k2, p)
    return a, b


@settings(deadline=None, max_examples=25)
@given(shapes=mismatched(), layout=cs.layouts(), seed=st.integers(0, 2**16))
def test_matmul_error_names_any_shapes_left_first(shapes, layout, seed):
    rng = np.random.default_rng(seed)
    a, b = (cs.relayout(rng.normal(size=s), layout) for s in shapes)
    theirs = torch_says(lambda: torch.matmul(tensor(a), tensor(b)))
    T = mg.package.Tensor
    err = assert_raises(ValueError, mg.package.ops.matmul, T(a), T(b), why="inner sizes differ")
    sa, sb = str(tuple(a.shape)), str(tuple(b.shape))
    msg = says(err, theirs, "give both shapes as tuples", sa, sb)
    assert_true(
        msg.find(sb, msg.find(sa) + len(sa)) >= 0,
        f"the message must give the left shape {sa} before the right {sb}.\n  yours: {msg}",
    )


@pytest.mark.edge
@pytest.mark.parametrize(
    "sa, sb", [((3,), (4,)), ((1, 1), (2, 1)), ((), (2, 2))], ids=["vectors", "ones", "scalar"]
)
def test_matmul_error_on_vectors_size_one_sides_and_scalars(rng, sa, sb):
    T = mg.package.Tensor
    a, b = T(rng.normal(size=sa), name="left"), T(rng.normal(size=sb), name="right")
    theirs = torch_says(lambda: torch.matmul(tensor(a.data), tensor(b.data)))
    err = assert_raises(ValueError, mg.package.ops.matmul, a, b, why="the operands do not fit")
    says(err, theirs, "name both tensors and both shapes", "left", "right", str(sa), str(sb))


def test_backward_on_a_nonscalar_names_its_shape_and_both_fixes_matches_torch(rng):
    w, x, tw, tx = leaves(rng, (2, 3))
    y = w * x
    theirs = torch_says(lambda: (tw * tx).backward())
    err = assert_raises(RuntimeError, y.backward, why="y has 6 elements and no grad was given")
    msg = says(err, theirs, "name the shape and the fixes as code", "(2, 3)", "backward(grad")
    assert_true(
        "sum()" in msg or "mean()" in msg,
        "the message must suggest reducing to a "
        f"scalar first, as code: loss.sum() or loss.mean().\n  yours: {msg}",
    )
    # both fixes work, and give torch's gradient
    call(y.sum().backward)
    (tw * tx).sum().backward()
    assert_close(w.grad, tw.grad, tol="grad", name="weights.grad after y.sum().backward()")
    g = rng.normal(size=(2, 3))
    w.grad, tw.grad = None, None
    call((w * x).backward, g)
    (tw * tx).backward(tensor(g))
    assert_close(w.grad, tw.grad, tol="grad", name="weights.grad after y.backward(g)")


def test_inplace_change_of_a_saved_input_names_it_the_op_and_both_versions(rng):
    w, x, tw, tx = leaves(rng)
    loss = (w * x).sum()  # Mul saves features for weights' gradient
    x.mul_(2.0)
    x.add_(1.0)  # features is now at version 2; Mul saved version 0

    tl = (tw * tx).sum()
    tx.mul_(2.0)  # tx requires no grad: torch allows the change, and backward refuses
    theirs = torch_says(tl.backward)
    err = assert_raises(RuntimeError, loss.backward, why="Mul saved features, then it changed")
    needles = ("features", "Mul", "version")
    msg = says(err, theirs, "name the tensor, the op that saved it and the versions", *needles)
    numbers = set(re.findall(r"\b\d+\b", msg))
    assert_true(
        {"0", "2"} <= numbers,
        "the message must give the version now (2: two "
        f"in-place changes) and the version Mul saved (0).\n  yours: {msg}",
    )


def test_inplace_change_of_a_leaf_that_requires_grad_names_it_and_no_grad(rng):
    w, _, tw, _ = leaves(rng)
    theirs = torch_says(lambda: tw.add_(1.0))
    err = assert_raises(RuntimeError, w.add_, 1.0, why="weights requires grad")
    says(err, theirs, "name the tensor and the fix", "weights", "no_grad")
    with mg.package.no_grad(), torch.no_grad():  # the fix works, as in torch
        call(w.add_, 1.0)
        tw.add_(1.0)
    assert_close(w.data, tw.detach(), tol="elementwise", name="weights after add_ in no_grad")


def test_second_backward_mentions_retain_graph_and_the_fix_works(rng):
    w, x, tw, tx = leaves(rng)
    loss = (w * x).sum()
    call(loss.backward)
    tl = (tw * tx).sum()
    tl.backward()
    theirs = torch_says(tl.backward)
    err = assert_raises(RuntimeError, loss.backward, why="the first backward freed the graph")
    says(err, theirs, "name the op and the fix", "Mul", "retain_graph")
    loss = (w * x).sum()  # the fix: gradients add up over both passes, as in torch
    call(loss.backward, retain_graph=True)
    call(loss.backward)
    tl = (tw * tx).sum()
    tl.backward(retain_graph=True)
    tl.backward()
    assert_close(w.grad, tw.grad, tol="grad", name="weights.grad after three backward passes")


def test_backward_without_requires_grad_names_it_and_both_causes(rng):
    w, x, tw, tx = leaves(rng, (2, 3))
    g = np.ones((2, 3))
    theirs = torch_says(lambda: (tx * 2.0).backward(tensor(g)))
    y = x * 2.0  # features does not require grad
    err = assert_raises(RuntimeError, y.backward, g, why="nothing in the graph requires grad")
    says(err, theirs, "name the tensor and both causes", "(2, 3)", "requires_grad", "no_grad")
    with mg.package.no_grad():
        y = w * 2.0  # weights does, but no graph is recorded here
    assert_raises(RuntimeError, y.backward, g, why="y was computed under no_grad()")


def example_script() -> str:
    """The first ```python block under a heading with 'Example' in the section README."""
    text = README.read_text(encoding="utf-8")
    heading = re.search(r"^#+ .*Example.*$", text, flags=re.M)
    assert_true(heading is not None, f"{README} has no heading with 'Example'")
    block = re.search(r"```python\n(.*?)```", text[heading.end() :], flags=re.S)
    assert_true(block is not None, f"{README} has no ```python block under its Example")
    return block.group(1)


def test_readme_example_reads_like_pytorch_and_its_loss_falls():
    source = example_script()
    like_torch = ("import minigrad as mg", "from minigrad import", " as F", "(nn.Module)")
    for needle in like_torch + ("zero_grad()", ".backward()", ".step()"):
        assert_true(needle in source, f"the README's example lacks {needle!r}")
    before, namespace = sys.modules.get("minigrad"), {"__name__": "readme_example"}
    sys.modules["minigrad"] = mg.package  # `import minigrad` gets the assembled package
    try:
        exec(compile(source, f"{README} (Example)", "exec"), namespace)  # noqa: S102
    finally:
        if before is None:
            del sys.modules["minigrad"]
        else:
            sys.modules["minigrad"] = before
    losses, accuracy = namespace.get("losses", []), namespace.get("accuracy", 0.0)
    assert_true(
        len(losses) >= 2 and losses[-1] < 0.25 * losses[0] and accuracy >= 0.9,
        f"the README example's loss per epoch, {np.round(losses, 3)}, must fall to a quarter "
        f"of the first epoch's, and its training accuracy ({accuracy:.0%}) reach 90% (the "
        "reference: about 5% of the first loss, 99-100%; chance is 33%)",
    )
