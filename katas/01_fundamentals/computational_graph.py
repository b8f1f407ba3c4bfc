"""Reverse-mode automatic differentiation over an explicit graph of scalar ops.

A graph is data: a list of nodes, each a tuple (name, op, *args), where args name
earlier nodes. One forward pass stores every node's value; one backward pass, in
reverse topological order, gives d output / d node for every node at once. This is
what torch.autograd and micrograd do.
Run: pytest katas/01_fundamentals/test_computational_graph.py

    graph = [
        ("x", "input"),
        ("y", "input"),
        ("a", "mul", "x", "y"),     # a = x * y
        ("b", "add", "a", "x"),     # b = a + x   (x is used twice: its gradients add up)
        ("c", "tanh", "b"),         # c = tanh(b)
        ("d", "pow", "c", 3.0),     # d = c ** 3  (the exponent is a number, not a node)
    ]
"""

import numpy as np

# Ops and the node arguments they take (pow also takes its constant exponent).
BINARY_OPS = ("add", "sub", "mul", "div")  # (name, op, a, b): a + b, a - b, a * b, a / b
UNARY_OPS = ("exp", "log", "tanh", "relu", "sigmoid")  # (name, op, a)
# ("p", "pow", "a", 3.0): p = a ** 3.0;  ("x", "input"): a leaf, its value comes from inputs.


def topological_order(graph: list[tuple]) -> list[tuple]:
    """Reorder the nodes so that every node comes after the nodes it uses.

    Math:
        A topological order of a directed acyclic graph: for every edge u -> v (v uses
        u), u comes before v. Kahn's algorithm: repeatedly take a node whose arguments
        are all placed. It exists iff the graph has no cycle.

    Shapes:
        graph: a list of V node tuples in any order; returns a list of the same V tuples.

    Args:
        graph: nodes (name, op, *args) as in the module docstring, in any order.

    Returns:
        A new list holding the same node tuples, each after every node it names.

    Numerics:
        Raise ValueError on a cycle (a node that depends on itself, directly or not)
        and on an argument that names no node. The input list is not modified.

    Reference:
        torch.autograd builds this order as you compute (each tensor's grad_fn);
        graphlib.TopologicalSorter does the same job for any graph.
    """
    raise NotImplementedError


def forward(graph: list[tuple], inputs: dict[str, float]) -> dict[str, np.float64]:
    """Evaluate every node of a graph in topological order.

    Math:
        add a + b; sub a - b; mul a * b; div a / b; pow a ** p (p a constant);
        exp e^a; log ln a; tanh; relu max(a, 0); sigmoid 1 / (1 + e^-a).

    Shapes:
        Every value is a scalar (a float or np.float64).

    Args:
        graph: nodes (name, op, *args) in topological order.
        inputs: the value of every "input" node, by name.

    Returns:
        {name: value} for every node of the graph (inputs included).

    Numerics:
        float64 throughout. Work with np.float64 values (np.exp, np.log, np.tanh):
        log of a non-positive number gives nan/-inf as in torch, not a Python error.

    Reference:
        The same expression written with torch float64 tensors.
    """
    raise NotImplementedError


def backward(graph: list[tuple], values: dict[str, float], output: str) -> dict[str, float]:
    """Gradient of one node (the output) with respect to every node, in one reverse pass.

    Math:
        grad[output] = 1, every other grad starts at 0. Walk the nodes in reverse
        topological order; a node n = f(a, b) passes grad[n] * df/da to a:
            grad[a] += grad[n] * df/da      (+=: a node used twice gets both shares)
        Local derivatives: add (1, 1); sub (1, -1); mul (b, a); div (1/b, -a/b^2);
        pow p * a^(p-1); exp e^a; log 1/a; tanh 1 - tanh(a)^2; relu 1 if a > 0 else 0;
        sigmoid s(1 - s) with s = sigmoid(a).

    Shapes:
        Every value and gradient is a scalar.

    Args:
        graph: nodes (name, op, *args) in topological order.
        values: forward(graph, inputs): the value of every node.
        output: the name of the node to differentiate.

    Returns:
        {name: d output / d name} for every node: 1 for the output itself, 0 for nodes
        the output does not depend on.

    Numerics:
        Reuse the forward values: tanh' and sigmoid' are cheapest from the node's own
        output. relu'(0) = 0, as in torch. values is not modified.

    Reference:
        torch.autograd.grad(out, [every node's tensor], allow_unused=True).
    """
    raise NotImplementedError
