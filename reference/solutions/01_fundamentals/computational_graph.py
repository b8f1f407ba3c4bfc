"""Reverse-mode automatic differentiation over an explicit graph of scalar ops.

A graph is data: a list of nodes (name, op, *args). forward() stores every node's
value; backward() walks the nodes in reverse topological order and pushes each
node's gradient to the nodes it used, adding up the shares of a node used twice.
References: micrograd (engine.py, Value.backward); CS231n "Backprop, Intuitions".
"""

import numpy as np

BINARY_OPS = ("add", "sub", "mul", "div")
UNARY_OPS = ("exp", "log", "tanh", "relu", "sigmoid")

FORWARD = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
}


def _parents(node: tuple) -> list[str]:
    """The names of the nodes a node uses (pow's exponent is a number, not a node)."""
    name, op, *args = node
    return [args[0]] if op == "pow" else list(args)


def topological_order(graph):
    """Reorder the nodes so that every node comes after the nodes it uses (Kahn)."""
    by_name = {node[0]: node for node in graph}
    for node in graph:
        for parent in _parents(node):
            if parent not in by_name:
                raise ValueError(f"node {node[0]!r} uses {parent!r}, which is not in the graph")
    placed: set[str] = set()
    order = []
    pending = list(graph)
    while pending:
        # Every node whose arguments are all placed can go now.
        ready = [node for node in pending if all(p in placed for p in _parents(node))]
        if not ready:  # nothing can go: the pending nodes wait on each other
            raise ValueError(f"the graph has a cycle through {sorted(n[0] for n in pending)}")
        for node in ready:
            order.append(node)
            placed.add(node[0])
        pending = [node for node in pending if node[0] not in placed]
    return order


def forward(graph, inputs):
    """Evaluate every node of a graph in topological order."""
    values = {}
    for name, op, *args in graph:
        if op == "input":
            values[name] = np.float64(inputs[name])
        elif op == "pow":
            base, p = args
            values[name] = values[base] ** p
        else:
            values[name] = FORWARD[op](*(values[a] for a in args))
    return values


def _local_grads(op, args, out, values):
    """d out / d arg for each node argument, from the forward values."""
    if op == "add":
        return (1.0, 1.0)
    if op == "sub":
        return (1.0, -1.0)
    if op == "mul":
        a, b = (values[n] for n in args)
        return (b, a)
    if op == "div":
        a, b = (values[n] for n in args)
        return (1.0 / b, -a / b**2)
    if op == "pow":
        a, p = values[args[0]], args[1]
        return (p * a ** (p - 1),)
    x = values[args[0]]
    if op == "exp":
        return (out,)  # d e^x = e^x: already computed
    if op == "log":
        return (1.0 / x,)
    if op == "tanh":
        return (1.0 - out**2,)  # from the output t = tanh(x)
    if op == "relu":
        return (1.0 if x > 0 else 0.0,)  # relu'(0) = 0, as in torch
    if op == "sigmoid":
        return (out * (1.0 - out),)
    raise ValueError(f"unknown op {op!r}")


def backward(graph, values, output):
    """Gradient of the output with respect to every node, in one reverse pass."""
    grads = {node[0]: 0.0 for node in graph}
    grads[output] = 1.0
    # Reverse topological order: a node's gradient is complete (every consumer has
    # added its share) before the node passes it on to its own arguments.
    for node in reversed(graph):
        name, op, *args = node
        if op == "input":
            continue
        upstream = grads[name]
        for parent, local in zip(_parents(node), _local_grads(op, args, values[name], values)):
            grads[parent] += upstream * local  # += : a node used twice gets both shares
    return grads
