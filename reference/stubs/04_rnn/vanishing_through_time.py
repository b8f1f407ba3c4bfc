"""Gradients through 100 steps: how far back does a tanh RNN, and an LSTM, still feel x_t?

Implement with NumPy. You write a short backpropagation through time for each cell (the
lstm kata's formulas, kept to the gradient with respect to the inputs) and plot the
gradient norms on a log scale. Run: pytest katas/04_rnn/test_vanishing_through_time.py
"""

import numpy as np


def input_gradient_norms(cell: str, params: dict[str, np.ndarray], xs: np.ndarray) -> np.ndarray:
    """The norm of d(loss at the last step)/d(x_t) for every step t, by BPTT.

    Math:
        from h_{-1} = 0 (and c_{-1} = 0 for the LSTM):
          rnn:  h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)
          lstm: torch's LSTM cell (gates i, f, g, o), as in the lstm kata
        L = sum over the batch and the units of h_{T-1}   (the last step's output only)
        norms[t] = ||dL/dx_t||_2, over the whole (N, D) gradient of step t

    Shapes:
        xs: (T, N, D); rnn: W_ih (H, D), W_hh (H, H), b_ih, b_hh (H,);
        lstm: W_ih (4H, D), W_hh (4H, H), b_ih, b_hh (4H,); returns (T,).

    Args:
        cell: "rnn" (tanh) or "lstm"; anything else raises ValueError.
        params: {"W_ih", "W_hh", "b_ih", "b_hh"}, laid out as nn.RNN's / nn.LSTM's
            weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0.
        xs: the input sequence, time first.

    Returns:
        norms, (T,), xs's dtype: norms[t] for step t (norms[T-1] is the last step).

    Numerics:
        Over 100 steps a tanh RNN's norms fall by 20+ orders of magnitude: still far
        above float64's smallest number, but do not take logs of them in float32.

    Reference:
        torch.autograd.grad(nn.RNN(...)(xs)[0][-1].sum(), xs), and the same with nn.LSTM
    """
    raise NotImplementedError


def plot_gradient_norms(norms_by_name: dict[str, np.ndarray], path) -> object:
    """Plot each network's norms against t on a log-scale y-axis; save the figure as a PNG.

    Math:
        one line per name: the points (t, norms[t]) for t = 0 .. T-1

    Shapes:
        each norms: (T,).

    Args:
        norms_by_name: e.g. {"tanh RNN": rnn_norms, "LSTM": lstm_norms}; the names label
            the lines (a legend).
        path: where to write the PNG.

    Returns:
        The matplotlib Figure (matplotlib.figure.Figure needs no display or pyplot).

    Numerics:
        On a linear axis everything 1e-3 below the largest value looks like zero; use
        ax.set_yscale("log"), where an exponential decay is a straight line.

    Reference:
        matplotlib: Axes.plot, Axes.set_yscale, Figure.savefig
    """
    raise NotImplementedError
