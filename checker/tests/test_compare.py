"""The comparison helper: checks in order (type, shape, dtype, values) and names mistakes."""

import numpy as np
import pytest
import torch

from checker import assert_close, call, context


def message_of(yours, expected, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        assert_close(yours, expected, **kwargs)
    return str(info.value)


def test_a_tensor_is_refused_before_anything_else():
    msg = message_of(torch.zeros(3), np.zeros(3))
    assert "torch.Tensor" in msg and "NumPy array" in msg


def test_shape_is_checked_before_values_with_a_keepdims_hint():
    msg = message_of(np.zeros((4, 1)), np.ones(4))
    assert "yours=(4, 1) | torch=(4,)" in msg and "keepdims" in msg


def test_a_transposed_shape_is_named():
    assert "reversed" in message_of(np.zeros((3, 2)), np.zeros((2, 3)))


def test_a_known_mistake_of_another_shape_is_named_with_the_shape():
    mistakes = {"the final sentinel left out": np.array([7.0, 1.0])}
    msg = message_of(np.array([7.0, 1.0]), np.array([7.0, 1.0, 9.0]), mistakes=mistakes)
    assert "wrong shape" in msg and "Likely mistake" in msg and "final sentinel" in msg


def test_dtype_promotion_is_named():
    msg = message_of(np.zeros(3), np.zeros(3, dtype=np.float32))
    assert "yours=float64 | torch=float32" in msg and "promoted" in msg


def test_values_report_counts_worst_index_and_window():
    expected = np.arange(12.0).reshape(3, 4)
    yours = expected.copy()
    yours[2, 1] += 0.5
    msg = message_of(yours, expected)
    assert "Mismatched elements: 1 / 12 (8.3%)" in msg
    assert "Greatest absolute difference: 0.5 at index (2, 1)" in msg
    assert "yours:" in msg and "torch:" in msg


def test_a_missing_scale_is_recognised_by_name():
    expected = np.random.default_rng(0).standard_normal((4, 5))
    msg = message_of(expected * 8, expected, factors={"N": 8})
    assert "constant factor" in msg and "N (N=8)" in msg


def test_a_flipped_sign_is_recognised():
    expected = np.random.default_rng(1).standard_normal(6)
    assert "sign flipped" in message_of(-expected, expected)


def test_a_known_mistake_is_recognised_from_the_tests_list():
    expected = np.array([0.1, 0.2, 0.7])
    msg = message_of(
        np.array([0.7, 0.2, 0.1]),
        expected,
        mistakes={"softmax over the wrong axis": np.array([0.7, 0.2, 0.1])},
    )
    assert "softmax over the wrong axis" in msg


def test_nan_where_torch_is_finite_is_named_first():
    msg = message_of(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert "nan" in msg and "overflow" in msg


def test_matching_values_pass_quietly():
    assert_close(np.array([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64))


def test_call_catches_in_place_modification_of_an_input():
    def scale(x):
        x *= 2
        return x

    with pytest.raises(AssertionError, match="modified its input x in place"):
        call(scale, np.ones(3))
    assert context.current.call == "scale(x)"


def test_a_last_bit_change_to_an_input_is_counted():
    def nudge(x):
        x[0] = np.nextafter(x[0], 2.0)
        return x.copy()

    with pytest.raises(AssertionError, match=r"\(1 of 3 elements changed\)"):
        call(nudge, np.ones(3))


def test_a_named_mistake_is_recognised_even_when_it_overflows():
    msg = message_of(
        np.array([1.0, np.inf]),
        np.array([1.0, 2.0]),
        mistakes={"exp without subtracting the max": np.array([1.0, np.inf])},
    )
    assert "inf" in msg and "exp without subtracting the max" in msg


def test_a_scalar_is_never_called_off_by_a_constant_factor():
    msg = message_of(np.float64(3.0), np.float64(2.0), factors={"N": 1.5})
    assert "constant factor" not in msg and "returned a result with wrong values" in msg


def test_a_numeric_factor_is_named_once_and_punctuated_once():
    expected = np.random.default_rng(2).standard_normal(5)
    msg = message_of(expected * 2, expected, factors={"2": 2})
    assert "which is 2: a missing or extra scaling." in msg and "?." not in msg


def test_relative_difference_is_not_reported_against_a_zero():
    msg = message_of(np.array([1.0, 0.5]), np.array([1.0, 0.0]))
    assert "e+30" not in msg and "torch's value is 0 wherever yours differs" in msg


def test_an_in_place_update_is_described_as_such():
    def step(p):
        p -= 1.0

    call(step, np.zeros(2), mutates=("p",))
    msg = message_of(np.zeros(2), np.ones(2), name="p", inplace=True)
    assert msg.startswith("After step(p), p came out with wrong values")


def test_assert_raises_names_what_was_expected():
    from checker import assert_raises

    def lenient(x):
        return x

    with pytest.raises(AssertionError, match="returned without raising ValueError: G must"):
        assert_raises(ValueError, lenient, np.ones(2), why="G must divide C")
    assert isinstance(assert_raises(ValueError, np.zeros, -1), ValueError)


def test_a_lazy_mistake_is_computed_only_when_needed():
    calls = []

    def slip():
        calls.append(1)
        return np.array([2.0, 1.0])

    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), mistakes={"swapped": slip})
    assert calls == []
    assert "swapped" in message_of(
        np.array([2.0, 1.0]), np.array([1.0, 2.0]), mistakes={"swapped": slip}
    )


def test_a_pytorch_kata_may_return_tensors():
    context.reset("debug_training")  # framework = "torch"
    try:
        assert_close(torch.ones(2, requires_grad=True) * 1.0, torch.ones(2), dtype=torch.float32)
        msg = message_of(torch.zeros(2), np.ones(2, dtype=np.float32))
        assert "wrong values" in msg
    finally:
        context.reset(None)


def test_a_module_call_is_described_by_its_class_and_forward_arguments():
    net = torch.nn.Linear(2, 3)
    call(net, torch.zeros(1, 2))
    assert context.current.call == "Linear(input)"


def test_call_catches_in_place_modification_of_a_tensor():
    def clamp_(t):
        return t.clamp_(min=0)

    with pytest.raises(AssertionError, match=r"modified its input t in place \(1 of 2"):
        call(clamp_, torch.tensor([-1.0, 2.0]))


def test_a_named_mistake_with_nan_where_torch_has_nan_too():
    expected = np.array([np.nan, 1.0, 2.0])
    msg = message_of(
        np.array([np.nan, 2.0, 1.0]), expected, mistakes={"classes swapped": [np.nan, 2.0, 1.0]}
    )
    assert "classes swapped" in msg


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_relayout_keeps_values_and_changes_the_memory_layout(layout, dtype):
    from checker import strategies as cs

    x = np.arange(12).reshape(3, 4).astype(dtype)
    y = cs.relayout(x, layout)
    assert np.array_equal(x, y) and y.dtype == x.dtype
    assert y.flags.c_contiguous == (layout == "contiguous")


def test_assert_png_names_what_was_written_and_why_it_is_not_a_png(tmp_path):
    from checker.compare import PNG_SIGNATURE, assert_png

    path = tmp_path / "plot.png"
    with pytest.raises(AssertionError, match="no file is there"):
        assert_png(path, "plot(path)")
    path.write_text("<svg/>")
    with pytest.raises(AssertionError, match="not a PNG"):
        assert_png(path, "plot(path)")
    header = PNG_SIGNATURE + b"\0\0\0\rIHDR" + (300).to_bytes(4, "big") + (200).to_bytes(4, "big")
    path.write_bytes(header + bytes(100))
    assert assert_png(path, "plot(path)") == (300, 200)
    with pytest.raises(AssertionError, match="300 x 200 pixels"):
        assert_png(path, "plot(path)", sides=(400, 2000))
