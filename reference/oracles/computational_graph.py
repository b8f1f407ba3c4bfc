"""Oracle for 01_fundamentals/computational_graph: the same graph as torch float64 tensors."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from checker import strategies as cs

TORCH_OPS = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
}


def build(graph, inputs) -> dict[str, torch.Tensor]:
    """One 0-d float64 tensor per node; inputs are leaves with requires_grad."""
    t: dict[str, torch.Tensor] = {}
    for name, op, *args in graph:
        if op == "input":
            t[name] = torch.tensor(float(inputs[name]), dtype=torch.float64, requires_grad=True)
        elif op == "pow":
            t[name] = torch.pow(t[args[0]], args[1])
        else:
            t[name] = TORCH_OPS[op](*(t[a] for a in args))
    return t


def forward(graph, inputs) -> dict[str, np.ndarray]:
    """torch's value of every node, as 0-d float64 arrays."""
    return {name: np.array(v.item()) for name, v in build(graph, inputs).items()}


def backward(graph, inputs, output: str) -> dict[str, np.ndarray]:
    """d output / d node for every node (0 where torch says the node is unused)."""
    t = build(graph, inputs)
    names = list(t)
    grads = torch.autograd.grad(t[output], [t[n] for n in names], allow_unused=True)
    return {n: np.array(0.0 if g is None else g.item()) for n, g in zip(names, grads)}


# Each op in plain Python floats, or None where it would leave a tame range.
TAME = {
    "add": lambda a, b, p: a + b,
    "sub": lambda a, b, p: a - b,
    "mul": lambda a, b, p: a * b,
    "div": lambda a, b, p: a / b if abs(b) >= 0.1 else None,
    "exp": lambda a, b, p: math.exp(a) if a < 4 else None,
    "log": lambda a, b, p: math.log(a) if a > 0.1 else None,
    "tanh": lambda a, b, p: math.tanh(a),
    "relu": lambda a, b, p: max(a, 0.0),
    "sigmoid": lambda a, b, p: 1 / (1 + math.exp(-a)),
    "pow": lambda a, b, p: a**p if a > 0.1 or (p == int(p) and abs(a) > 0.1) else None,
}


@st.composite
def graphs(draw, max_ops: int = 8):
    """Hypothesis strategy: (graph, inputs), a random graph in topological order over 1-3
    inputs. Any node may be used twice (x * x). An op that would leave a tame range (log of
    <= 0.1, division by |b| < 0.1, |value| > 50) becomes tanh, so values and gradients stay
    finite and well conditioned."""
    values = {f"x{i}": draw(cs.floats(-2, 2)) for i in range(draw(st.integers(1, 3)))}
    graph: list[tuple] = [(name, "input") for name in values]
    inputs = dict(values)
    for i in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(sorted(TAME)))
        a, b = draw(st.sampled_from(list(values))), draw(st.sampled_from(list(values)))
        p = draw(st.sampled_from([2.0, 3.0, -1.0, 0.5]))
        v = TAME[op](values[a], values[b], p)
        if v is None or abs(v) > 50:
            op, v = "tanh", math.tanh(values[a])
        args = (a, p) if op == "pow" else (a, b) if op in ("add", "sub", "mul", "div") else (a,)
        graph.append((f"n{i}", op, *args))
        values[f"n{i}"] = v
    return graph, inputs
