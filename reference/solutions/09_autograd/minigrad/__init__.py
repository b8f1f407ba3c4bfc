"""minigrad: a small deep-learning library on NumPy that reads like PyTorch.

    import minigrad as mg
    from minigrad import nn, optim, functional as F

Built kata by kata in katas/09_autograd: tensor, ops, functional, nn, optim, data, errors.
"""

from . import data, errors, functional, nn, optim
from .ops import (
    add,
    cat,
    div,
    exp,
    log,
    matmul,
    max,
    mean,
    mul,
    neg,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    stack,
    sub,
    sum,
    tanh,
    transpose,
    where,
)
from .tensor import Function, Tensor, is_grad_enabled, no_grad

__all__ = [
    "Function", "Tensor", "add", "cat", "data", "div", "errors", "exp", "functional",
    "is_grad_enabled", "log", "matmul", "max", "mean", "mul", "neg", "nn", "no_grad", "optim",
    "permute", "pow", "relu", "reshape", "sigmoid", "stack", "sub", "sum", "tanh",
    "transpose", "where",
]  # fmt: skip
