"""The one helper that compares a learner's result with torch's, and explains.

Order of checks: type, shape, dtype, values. A failure says what was called,
what came back, what torch gave, where the worst element is, and the likely
mistake when a cheap test can tell.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from checker import context
from checker.tolerances import tolerance

# ----------------------------------------------------------------------------- describing


def describe(value) -> str:
    """Short description of a value: 'float32 (4, 7)', 'int 3', 'Tensor float64 (2,)'."""
    if isinstance(value, np.ndarray):
        layout = "" if value.flags.c_contiguous or value.ndim < 2 else ", non-contiguous"
        return f"{value.dtype} {tuple(value.shape)}{layout}"
    if type(value).__module__.startswith("torch"):
        return (
            f"torch.Tensor {str(getattr(value, 'dtype', '')).replace('torch.', '')} "
            f"{tuple(getattr(value, 'shape', ()))}"
        )
    if isinstance(value, (bool, numbers.Number)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"{type(value).__name__}[{inner}]"
    if isinstance(value, Mapping):
        return (
            "dict{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in list(value.items())[:6]) + "}"
        )
    if value is None:
        return "None"
    text = repr(value)
    return text if len(text) < 40 else type(value).__name__


def _fn_name(fn) -> str:
    qual = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if not isinstance(qual, str):  # a callable object, e.g. an nn.Module: its class name
        qual = type(fn).__name__
    return qual.rsplit("<locals>.", 1)[-1]


def _short(value) -> str:
    """An argument as it appears in the call line: small values in full, arrays by name."""
    if isinstance(value, (bool, numbers.Number, str)) or value is None:
        return repr(value)
    return describe(value)


def describe_call(fn, args, kwargs) -> str:
    """'mlp_forward(X, weights, biases, activation='relu')': arrays by name, small values shown."""
    names = _arg_names(fn, args)
    parts = [
        _short(a) if isinstance(a, (bool, numbers.Number, str)) or a is None else n
        for n, a in zip(names, args)
    ]
    parts += [
        f"{k}={_short(v) if isinstance(v, (bool, numbers.Number, str)) or v is None else k}"
        for k, v in kwargs.items()
    ]
    return f"{_fn_name(fn)}({', '.join(parts)})"


# ----------------------------------------------------------------------------- calling


def _arrays_in(value, name: str):
    """(name, array) for every ndarray or tensor inside value (lists, tuples, dicts)."""
    if isinstance(value, np.ndarray) or _is_tensor(value):
        yield name, value
    elif _is_own_tensor(value):
        yield name, value.data  # a Tensor of the learner's own library (09_autograd)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            if not isinstance(v, _SCALARS):  # a 30k-word vocabulary holds no arrays
                yield from _arrays_in(v, f"{name}[{i}]")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(v, _SCALARS):
                yield from _arrays_in(v, f"{name}[{k!r}]")


_SCALARS = (str, bytes, int, float, bool, type(None))


def _is_own_tensor(value) -> bool:
    # read the instance's own attributes: getattr on a kata proxy would resolve them
    attrs = getattr(value, "__dict__", None) or {}
    return isinstance(attrs.get("data"), np.ndarray) and "grad_fn" in attrs


def _is_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _snapshot(value) -> np.ndarray | None:
    """A NumPy copy of an array or tensor's values (None where NumPy cannot hold them)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    try:
        return value.detach().cpu().numpy().copy()
    except (TypeError, RuntimeError):  # bfloat16, sparse, meta tensors
        return None


def _arg_names(fn, args) -> list[str]:
    import inspect

    target = getattr(fn, "forward", fn) if not inspect.isroutine(fn) else fn  # nn.Module
    try:
        params = [
            name
            for name, p in inspect.signature(target).parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in range(len(args))]


def _describe_inputs(watched) -> str:
    """'x: float32 (4, 7), W: ...'; a container of more than 4 arrays (a cache) in a few words."""
    groups: dict[str, list] = {}
    for label, arr, _ in watched:
        groups.setdefault(label.split("[", 1)[0], []).append((label, arr))
    parts = []
    for top, members in groups.items():
        if len(members) > 4:
            parts.append(f"{top}: {len(members)} arrays")
        else:
            parts += [f"{label}: {describe(arr)}" for label, arr in members]
    return ", ".join(parts)


def call(fn, *args, mutates: tuple[str, ...] = (), **kwargs):
    """Call learner code, remember the call for messages, and check it left its inputs alone.

    mutates: argument names the function is meant to change in place (optimizer steps).
    """
    __tracebackhide__ = True
    names = _arg_names(fn, args)
    watched = [
        (label, arr, before)
        for name, value in list(zip(names, args)) + list(kwargs.items())
        if name not in mutates
        for label, arr in _arrays_in(value, name)
        if (before := _snapshot(arr)) is not None
    ]
    context.current.call = describe_call(fn, args, kwargs)
    context.current.inputs = _describe_inputs(watched)
    result = fn(*args, **kwargs)
    for label, arr, before in watched:
        arr = arr if isinstance(arr, np.ndarray) else _snapshot(arr)
        if arr is not None and arr.shape != before.shape:
            raise AssertionError(
                f"{context.current.call} resized its input {label} in place "
                f"(from {before.shape} to {arr.shape}). Inputs must be left as they were."
                + _footer()
            )
        if arr is not None and not np.array_equal(arr, before, equal_nan=before.dtype.kind in "fc"):
            same = (
                (arr == before) | (np.isnan(arr) & np.isnan(before))
                if arr.dtype.kind in "fc"
                else arr == before
            )
            changed = int(np.sum(~same))
            raise AssertionError(
                f"{context.current.call} modified its input {label} in place "
                f"({changed} of {before.size} elements changed).\n"
                "Inputs must be left as they were: compute into new arrays "
                "(x = x - m, not x -= m), or copy first." + _footer()
            )
    return result


# ----------------------------------------------------------------------------- comparing


def _footer() -> str:
    lines = []
    ctx = context.current
    if ctx.inputs:
        lines.append(
            f"Inputs: {ctx.inputs}" + (f"; seed {ctx.seed}" if ctx.seed is not None else "")
        )
    elif ctx.seed is not None:
        lines.append(f"Seed: {ctx.seed}")
    if ctx.kata:
        lines.append(f"Stuck? python -m checker hint {ctx.kata}")
    return ("\n" + "\n".join(lines)) if lines else ""


def _to_numpy(value):
    if type(value).__module__.startswith("torch"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _fmt_index(idx) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ("," if len(idx) == 1 else "") + ")"


def _window(yours: np.ndarray, expected: np.ndarray, idx: tuple) -> str:
    """A few elements around idx, along the last axis, yours above torch's."""
    if yours.ndim == 0:
        return f"  yours: {yours!r}\n  torch: {expected!r}"
    lead = idx[:-1]
    j = idx[-1]
    lo, hi = max(0, j - 3), min(yours.shape[-1], j + 4)
    opts = dict(precision=6, suppress_small=False, max_line_width=140)
    row_y = np.array2string(yours[lead][lo:hi], **opts)
    row_e = np.array2string(expected[lead][lo:hi], **opts)
    where = f"[{', '.join(map(str, lead)) + ', ' if lead else ''}{lo}:{hi}]"
    return f"Around the worst element, {where}:\n  yours: {row_y}\n  torch: {row_e}"


def _close(a, b, rtol, atol) -> bool:
    """Elementwise close, where nan matches nan and inf matches inf of the same sign."""
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= atol + rtol * np.abs(b)
    return bool(np.all(near | (a == b) | (np.isnan(a) & np.isnan(b))))


def _matching_mistakes(yours, mistakes) -> list[str]:
    """Labels of known mistakes whose result yours reproduces exactly, nan and inf included."""
    found = []
    for label, alt in (mistakes or {}).items():
        alt = alt() if callable(alt) else alt
        if alt is None:  # the test found this mistake does not apply here
            continue
        alt = _to_numpy(alt).astype(np.float64)
        if alt.shape == yours.shape and np.allclose(
            yours, alt, rtol=1e-5, atol=1e-8, equal_nan=True
        ):
            found.append(f"your result equals what a common mistake gives: {label}")
    return found


def likely_mistakes(yours, expected, rtol, atol, factors=None, mistakes=None) -> list[str]:
    """Cheap tests that recognise common mistakes from the numbers alone."""
    found: list[str] = []
    rtol, atol = max(rtol, 1e-6), max(atol, 1e-8)  # these are diagnoses, not verdicts
    for label, alt in (mistakes or {}).items():
        alt = alt() if callable(alt) else alt
        if alt is None:  # the test found this mistake does not apply here
            continue
        alt = _to_numpy(alt).astype(np.float64)
        if alt.shape == yours.shape and _close(yours, alt, rtol * 10, atol * 10):
            found.append(f"your result equals what a common mistake gives: {label}")
    if found:
        return found
    if np.allclose(yours, -expected, rtol=rtol, atol=atol) and np.any(np.abs(expected) > atol):
        found.append(
            "sign flipped: yours is -1 x torch's (gradient of the wrong sign? "
            "ascent instead of descent?)"
        )
        return found
    denom = float(np.sum(expected * expected))
    if denom > 0 and yours.size > 1:  # any two scalars differ by 'a constant factor'
        c = float(np.sum(yours * expected)) / denom
        if (
            abs(c - 1) > 1e-3
            and abs(c) > 1e-12
            and _close(yours, c * expected, rtol * 10, atol * 10)
        ):
            text = f"off by a constant factor: yours = {c:.6g} x torch's"
            for name, f in (factors or {}).items():
                for shape, val in (
                    (f"{name}", f),
                    (f"1/{name}", 1 / f),
                    (f"sqrt({name})", f**0.5),
                    (f"1/sqrt({name})", f**-0.5),
                ):
                    if val != 1 and abs(c - val) <= 1e-6 * max(1, abs(val)):
                        given = "" if name == f"{f:g}" else f" ({name}={f:g})"
                        text += f", which is {shape}{given}: a missing or extra scaling"
                        break
            found.append(text)
            return found
    if yours.size > 1:
        offset = yours - expected
        if (
            np.ptp(offset) <= atol * 10 + rtol * np.max(np.abs(expected))
            and abs(offset.flat[0]) > atol
        ):
            found.append(f"off by a constant offset of {offset.flat[0]:.6g} everywhere")
            return found
    if yours.ndim >= 2 and yours.shape[-1] == yours.shape[-2] and yours.shape[-1] > 1:
        if _close(np.swapaxes(yours, -1, -2), expected, rtol, atol):
            found.append("transposed: yours equals torch's with the last two axes swapped")
            return found
    for axis in range(yours.ndim):
        n = yours.shape[axis]
        if n < 3:
            continue
        head = [slice(None)] * yours.ndim
        tail = [slice(None)] * yours.ndim
        head[axis], tail[axis] = slice(1, None), slice(None, -1)
        if _close(yours[tuple(head)], expected[tuple(tail)], rtol, atol) or _close(
            yours[tuple(tail)], expected[tuple(head)], rtol, atol
        ):
            found.append(f"shifted by one step along axis {axis}")
            return found
    return found


def _shape_hint(ys: tuple, es: tuple) -> str:
    if ys == es[::-1] and len(ys) >= 2:
        return "Your shape is torch's reversed: a transpose too many (or too few)?"
    if len(ys) == len(es) + 1 and 1 in ys:
        squeezed = list(ys)
        squeezed.remove(1)
        if tuple(squeezed) == es:
            return "You kept an extra axis of size 1 (keepdims=True where torch drops it?)."
    if len(es) == len(ys) + 1 and 1 in es:
        squeezed = list(es)
        squeezed.remove(1)
        if tuple(squeezed) == ys:
            return "You dropped an axis of size 1 that torch keeps (keepdims=True needed?)."
    if len(ys) == 2 and ys[0] == ys[1] and len(es) == 1 and es[0] == ys[0]:
        return "An (N,) array broadcast against (N, 1) gives (N, N): check the shapes you combine."
    if len(ys) == len(es) and np.prod(ys) == np.prod(es):
        return "Same number of elements, different layout: a reshape where a transpose was meant?"
    if len(ys) < len(es):
        return "Fewer axes than torch: did you sum or average over an axis that must stay?"
    return ""


def _np_dtype(dtype) -> np.dtype:
    """np.dtype of a NumPy or torch dtype (torch.float32 -> float32)."""
    if type(dtype).__module__.startswith("torch"):
        return np.dtype(str(dtype).removeprefix("torch."))
    return np.dtype(dtype)


def _kata_framework() -> str:
    """The current kata's framework ("numpy" or "torch"); numpy when unknown."""
    name = context.current.kata
    if not name:
        return "numpy"
    try:
        from checker.catalog import course

        return course().kata(name).framework
    except Exception:  # noqa: BLE001 - a message helper must not fail on metadata
        return "numpy"


def assert_close(
    yours,
    expected,
    *,
    tol: str = "elementwise",
    name: str = "the result",
    dtype=None,
    factors: Mapping[str, float] | None = None,
    mistakes: Mapping[str, object] | None = None,
    inplace: bool = False,
) -> None:
    """Fail with a teaching message unless yours matches torch's result.

    expected: the oracle's answer (ndarray or tensor, float64). dtype: the dtype the
    learner must return (default: expected's). factors: sizes a missing scale might be
    (N, d_k). mistakes: label -> what a known mistake would return, computed by the test
    (or a function of no arguments computing it, called only when yours is wrong).
    inplace: yours is an argument the call updates in place (an optimizer's parameters),
    not something it returned.
    """
    __tracebackhide__ = True
    ctx = context.current
    if inplace:
        subject = name if name != "the result" else "the updated array"
        head = f"After {ctx.call}, {subject} came out" if ctx.call else f"{subject} came out"
    else:
        what = f"{ctx.call} returned" if ctx.call else "Your code returned"
        head = f"{what} {name}" if name != "the result" else f"{what} a result"
    expected = _to_numpy(expected)
    want_dtype = _np_dtype(dtype) if dtype is not None else expected.dtype

    # 1. type (a PyTorch kata returns tensors: compare their values)
    if type(yours).__module__.startswith("torch") and _kata_framework() == "torch":
        if getattr(yours, "requires_grad", False):
            yours = yours.detach()
        yours = yours.cpu().numpy()
    if type(yours).__module__.startswith("torch"):
        raise AssertionError(
            f"{head} as a torch.Tensor; return a NumPy array "
            "(torch is the oracle here, not a tool)." + _footer()
        )
    scalar_ok = expected.ndim == 0 and isinstance(yours, (numbers.Real, np.generic))
    if not isinstance(yours, np.ndarray) and not scalar_ok:
        raise AssertionError(
            f"{head}: {describe(yours)}; torch gave an ndarray "
            f"{describe(expected.astype(want_dtype))}. Return a NumPy array." + _footer()
        )
    if scalar_ok:
        yours = np.asarray(yours, dtype=np.asarray(yours).dtype)
    # 2. shape
    if yours.shape != expected.shape:
        hint = _shape_hint(tuple(yours.shape), tuple(expected.shape))
        try:  # a known mistake may give a different shape (a sentinel too many)
            named = _matching_mistakes(np.asarray(yours, dtype=np.float64), mistakes)
        except Exception:  # a diagnosis must never hide the shape message
            named = []
        raise AssertionError(
            f"{head} with the wrong shape: yours={tuple(yours.shape)} | "
            f"torch={tuple(expected.shape)}"
            + (f"\n{hint}" if hint else "")
            + "".join(f"\nLikely mistake: {m}." for m in named)
            + _footer()
        )
    # 3. dtype (a Python float for a float64 scalar is fine)
    if yours.dtype != want_dtype and not (scalar_ok and want_dtype == np.float64):
        extra = ""
        if want_dtype == np.float32 and yours.dtype == np.float64:
            extra = (
                "\nThe input was float32: something promoted it to float64 "
                "(a float64 array or np.float64 constant mixed in?)."
            )
        elif np.issubdtype(yours.dtype, np.integer) and np.issubdtype(want_dtype, np.floating):
            extra = (
                "\nIntegers where floats were expected: an integer division or np.zeros(..., int)?"
            )
        raise AssertionError(
            f"{head} with the wrong dtype: yours={yours.dtype} | "
            f"torch={want_dtype}" + extra + _footer()
        )
    # 4. values
    rtol, atol = tolerance(tol, want_dtype)
    y = yours.astype(np.float64)
    e = expected.astype(np.float64)
    bad_y = ~np.isfinite(y)
    if np.any(bad_y & np.isfinite(e)):
        idx = np.unravel_index(np.argmax(bad_y & np.isfinite(e)), y.shape)
        kinds = ", ".join(k for k, m in (("nan", np.isnan(y)), ("inf", np.isinf(y))) if m.any())
        raise AssertionError(
            f"{head} with {kinds} where torch's values are finite: "
            f"{int(np.sum(bad_y & np.isfinite(e)))} of {y.size} elements, first at index "
            f"{_fmt_index(idx)} (torch: {e[idx]:.6g}).\nLikely an overflow (exp of a large "
            "number?) "
            "or a log/division of zero: see the Numerics part of the docstring.\n"
            + _window(y, e, idx)
            + "".join(f"\nLikely mistake: {m}." for m in _matching_mistakes(y, mistakes))
            + _footer()
        )
    both_special = ~np.isfinite(e) & (np.isnan(y) & np.isnan(e) | (y == e))
    diff = np.where(both_special, 0.0, np.abs(y - e))
    diff = np.nan_to_num(diff, nan=np.inf)
    allowed = atol + rtol * np.abs(np.nan_to_num(e, nan=0.0, posinf=0.0, neginf=0.0))
    wrong = diff > allowed
    if not np.any(wrong):
        return
    n_wrong = int(np.sum(wrong))
    abs_idx = np.unravel_index(np.argmax(diff), y.shape) if y.ndim else ()
    nonzero = wrong & (np.abs(np.nan_to_num(e)) > 0)
    if np.any(nonzero):
        rel = np.where(nonzero, diff / np.where(nonzero, np.abs(np.nan_to_num(e)), 1.0), 0.0)
        rel_idx = np.unravel_index(np.argmax(rel), y.shape) if y.ndim else ()
        rel_line = (
            f"Greatest relative difference: {rel[rel_idx]:.6g} at index {_fmt_index(rel_idx)} "
            f"(up to {rtol:g} allowed)"
        )
    else:
        rel_line = "Greatest relative difference: none (torch's value is 0 wherever yours differs)"
    lines = [
        f"{head} with wrong values.",
        f"Mismatched elements: {n_wrong} / {y.size} ({100 * n_wrong / max(y.size, 1):.1f}%)",
        f"Greatest absolute difference: {diff[abs_idx]:.6g} at index {_fmt_index(abs_idx)} "
        f"(up to {atol:g} allowed)",
        rel_line,
        _window(y, e, abs_idx),
    ]
    for mistake in likely_mistakes(y, e, rtol, atol, factors, mistakes):
        end = "" if mistake.endswith(("?", ".", "!", ")")) else "."
        lines.append(f"Likely mistake: {mistake}{end}")
    raise AssertionError("\n".join(lines) + _footer())


def assert_raises(exc: type[BaseException], fn, *args, why: str = "", **kwargs):
    """Call learner code and fail with a teaching message unless it raises exc.

    why: what the input is and why it must be refused ("G = 2 does not divide C = 3").
    Returns the exception, for further checks on its message.
    """
    __tracebackhide__ = True
    try:
        call(fn, *args, **kwargs)
    except NotImplementedError as err:  # a RuntimeError too: the stub must not pass for one
        if exc is NotImplementedError:
            return err
        raise
    except exc as err:
        return err
    except Exception as err:  # noqa: BLE001 - reported, not swallowed
        raise AssertionError(
            f"{context.current.call} raised {type(err).__name__}: {err}; expected "
            f"{exc.__name__}" + (f" ({why})" if why else "") + "." + _footer()
        ) from err
    raise AssertionError(
        f"{context.current.call} returned without raising {exc.__name__}"
        + (f": {why}" if why else "")
        + "."
        + _footer()
    )


def assert_true(condition: bool, message: str) -> None:
    """Fail with message (and the usual footer) unless condition holds."""
    __tracebackhide__ = True
    if not condition:
        raise AssertionError(message + _footer())


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(
    path, what: str, min_bytes: int = 100, sides: tuple[int, int] = (1, 100_000)
) -> tuple[int, int]:
    """Fail unless `what` (the learner's call, in words) wrote a real PNG at path.

    min_bytes: smaller files hold no picture worth the name (an empty figure is ~1-5 kB).
    sides: the smallest and largest width and height allowed. Returns (width, height).
    """
    __tracebackhide__ = True
    path = Path(path)
    if not path.is_file():
        raise AssertionError(f"{what} must write a PNG at {path}; no file is there." + _footer())
    data = path.read_bytes()
    if data[:8] != PNG_SIGNATURE:
        raise AssertionError(
            f"{what} wrote {path.name}, but it is not a PNG (it starts {data[:8]!r}): save with "
            "fig.savefig(path) or an image writer, format png." + _footer()
        )
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    low, high = sides
    if len(data) < min_bytes or not (low <= width <= high and low <= height <= high):
        raise AssertionError(
            f"{what} wrote a PNG of {len(data)} bytes, {width} x {height} pixels; expected at "
            f"least {min_bytes} bytes and sides from {low} to {high} pixels." + _footer()
        )
    return width, height
