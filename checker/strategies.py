"""Hypothesis strategies shared by every kata's property tests.

Values are finite, bounded and free of subnormals; shapes include size-1 sides;
arrays come in contiguous, transposed and strided layouts on purpose, because
learner code that assumes a layout (x.reshape after a .T, in-place tricks) breaks
on the others.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 5):
    """Array shapes; size-1 sides are drawn as readily as any other."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def floats(min_value: float = -5.0, max_value: float = 5.0, width: int = 64):
    return st.floats(
        min_value,
        max_value,
        width=width,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
    )


@st.composite
def arrays(
    draw,
    shape=None,
    dtype=np.float64,
    min_value: float = -5.0,
    max_value: float = 5.0,
    layouts: tuple[str, ...] = ("contiguous", "transposed", "strided"),
):
    """A float array of `shape` (a tuple or a strategy), in a drawn memory layout."""
    if shape is None:
        shape = shapes()
    if not isinstance(shape, tuple):
        shape = draw(shape)
    dtype = np.dtype(dtype)
    width = 32 if dtype == np.float32 else 64
    layout = draw(st.sampled_from(layouts))
    elements = floats(min_value, max_value, width)
    if layout == "transposed" and len(shape) >= 2:
        # Draw the transposed shape and view it back: same values, reversed strides.
        base = draw(hnp.arrays(dtype, shape[::-1], elements=elements, fill=st.nothing()))
        return base.T
    if layout == "strided" and len(shape) >= 1:
        wide = shape[:-1] + (2 * shape[-1],)
        base = draw(hnp.arrays(dtype, wide, elements=elements, fill=st.nothing()))
        return base[..., ::2]
    return draw(hnp.arrays(dtype, shape, elements=elements, fill=st.nothing()))


def labels(n: int, num_classes: int):
    """Integer class ids, shape (n,)."""
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, num_classes - 1))


def noncontiguous(x: np.ndarray) -> np.ndarray:
    """The same values as x, in a strided (non-contiguous) view."""
    wide = np.empty(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype)
    wide[..., ::2] = x
    wide[..., 1::2] = np.nan  # poison: reading the gaps shows up as NaN
    return wide[..., ::2]


LAYOUTS = ("contiguous", "transposed", "strided")


def layouts():
    """One of LAYOUTS: the same values in another memory layout (see relayout)."""
    return st.sampled_from(LAYOUTS)


def relayout(x: np.ndarray, layout: str) -> np.ndarray:
    """x's values in a memory layout: "contiguous" (x itself), "transposed" (reversed
    strides, column-major for 2-D) or "strided" (a view with gaps; NaN in the gaps of a
    float array, so code that reads them shows it)."""
    if layout == "contiguous":
        return x
    if layout == "transposed":
        return np.ascontiguousarray(x.T).T
    if layout == "strided":
        if x.ndim == 0:
            return x
        if x.dtype.kind in "fc":
            return noncontiguous(x)
        return np.repeat(x, 2, axis=-1)[..., ::2]
    raise ValueError(f"unknown layout {layout!r}; one of {LAYOUTS}")
