"""Regularization: L1/L2 and the Gaussian prior, weight decay, dropout, early stopping.

Implement with NumPy. Five ideas, each a few lines: norm penalties and their
gradients; L2 as a Gaussian prior (ridge = MAP); weight decay, which is L2 for SGD
but not for Adam; inverted dropout and MC dropout; early stopping that keeps the
best weights. Run: pytest katas/02_training/test_regularization.py
"""

import numpy as np


def l1_penalty(w: np.ndarray, lam: float) -> tuple[np.floating, np.ndarray]:
    """L1 penalty lam * sum|w| and its gradient with respect to w.

    Math:
        R(w) = lam * sum_i |w_i|;   dR/dw_i = lam * sign(w_i), with sign(0) = 0

    Shapes:
        w: any shape; the gradient has w's shape.

    Args:
        w: a weight array.
        lam: the penalty's strength (>= 0).

    Returns:
        (penalty, grad): a scalar of w's dtype (what np.sum returns) and an array
        like w.

    Numerics:
        |w| has no derivative at 0; torch's autograd uses 0 there (a weight already at
        zero gets no push), and so must you. Keep w's dtype.

    Reference:
        (lam * w.abs().sum()).backward() in torch: the value and w.grad
    """
    raise NotImplementedError


def l2_penalty(w: np.ndarray, lam: float) -> tuple[np.floating, np.ndarray]:
    """L2 penalty (lam / 2) * sum w^2 and its gradient with respect to w.

    Math:
        R(w) = (lam / 2) * sum_i w_i^2;   dR/dw = lam * w

    Shapes:
        w: any shape; the gradient has w's shape.

    Args:
        w: a weight array.
        lam: the penalty's strength (>= 0).

    Returns:
        (penalty, grad): a scalar of w's dtype and an array like w.

    Numerics:
        Keep w's dtype. The 1/2 makes the gradient lam * w: what weight_decay=lam adds
        to the gradient in torch.optim.SGD.

    Reference:
        (lam / 2 * (w ** 2).sum()).backward() in torch
    """
    raise NotImplementedError


def ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Ridge regression (least squares with an L2 penalty) in closed form.

    Math:
        w = argmin ||y - X w||^2 + lam ||w||^2 = (X^T X + lam I)^-1 X^T y

    Shapes:
        X: (N, D); y: (N,); returns w: (D,).

    Args:
        X: the design matrix, one example per row (no intercept column).
        y: the targets.
        lam: the penalty's strength (> 0, so that X^T X + lam I is invertible even
            when D > N).

    Returns:
        The minimizer w, X's dtype.

    Numerics:
        Solve the linear system (np.linalg.solve) rather than inverting the matrix.

    Reference:
        torch.linalg.solve(X.T @ X + lam * I, X.T @ y); sklearn.linear_model.Ridge
        with fit_intercept=False
    """
    raise NotImplementedError


def gaussian_posterior(
    X: np.ndarray, y: np.ndarray, sigma2: float, tau2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior of linear-regression weights under Gaussian noise and a Gaussian prior.

    Math:
        y = X w + eps,  eps ~ N(0, sigma2 I);  prior w ~ N(0, tau2 I)
        -log p(w | X, y) = ||y - X w||^2 / (2 sigma2) + ||w||^2 / (2 tau2) + const
        precision = X^T X / sigma2 + I / tau2;   cov = precision^-1
        mean = cov X^T y / sigma2       (the MAP estimate: ridge with lam = sigma2 / tau2)

    Shapes:
        X: (N, D); y: (N,); mean: (D,); cov: (D, D).

    Args:
        X, y: the data.
        sigma2: the noise variance.
        tau2: the prior variance of each weight.

    Returns:
        (mean, cov) of the Gaussian posterior, X's dtype.

    Numerics:
        The precision is symmetric positive definite (I / tau2 makes sure of it).

    Reference:
        The minimizer and inverse Hessian of the negative log posterior, via
        torch.autograd.functional.hessian (the test does exactly that)
    """
    raise NotImplementedError


def sgd_step(
    w: np.ndarray, g: np.ndarray, lr: float, weight_decay: float, decoupled: bool = False
) -> np.ndarray:
    """One plain SGD step with weight decay: through the gradient (L2) or decoupled.

    Math:
        L2 (decoupled=False):        w <- w - lr * (g + weight_decay * w)
        decoupled (decoupled=True):  w <- w * (1 - lr * weight_decay) - lr * g
        (For plain SGD the two are the same update: that is the point.)

    Shapes:
        w, g: the same shape; returns the new w, same shape.

    Args:
        w: the weights; g: the loss gradient at w (without any penalty).
        lr: the learning rate; weight_decay: the decay coefficient.
        decoupled: where the decay enters (see Math).

    Returns:
        The new weights (a new array; w is not modified).

    Numerics:
        Keep w's dtype.

    Reference:
        torch.optim.SGD(params, lr, weight_decay=weight_decay)
    """
    raise NotImplementedError


def adam_step(
    w: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: int,
    lr: float,
    weight_decay: float,
    decoupled: bool = False,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step with weight decay: Adam + L2 (decoupled=False) or AdamW (True).

    Math:
        Adam + L2:  g <- g + weight_decay * w            (then the Adam update)
        AdamW:      w <- w * (1 - lr * weight_decay)     (then the Adam update on g)
        Adam:       m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
                    m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)
                    w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    Shapes:
        w, g, m, v: the same shape; the returned arrays too.

    Args:
        w: the weights; g: the loss gradient at w (without any penalty).
        m, v: first and second moment estimates (zeros before the first step).
        t: the step number, 1 for the first step.
        lr, weight_decay, betas=(b1, b2), eps: as in torch.optim.Adam.
        decoupled: False for Adam + L2, True for AdamW.

    Returns:
        (w, m, v) after the step (new arrays; the inputs are not modified).

    Numerics:
        eps is added to sqrt(v_hat), outside the square root, as torch does.

    Reference:
        torch.optim.Adam(params, lr, betas, eps, weight_decay) and
        torch.optim.AdamW(params, lr, betas, eps, weight_decay)
    """
    raise NotImplementedError


def dropout_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator) -> np.ndarray:
    """A dropout keep-mask: True (keep) with probability 1 - p, independently per element.

    Math:
        mask_i ~ Bernoulli(1 - p)

    Shapes:
        returns a bool array of `shape`.

    Args:
        shape: the shape of the activations to drop.
        p: the probability to DROP a unit (torch's convention; the dropout paper's p
            is the probability to keep).
        rng: where all the randomness comes from (same seed, same mask).

    Returns:
        A boolean array, True where the unit is kept.

    Numerics:
        rng.random(shape) gives uniforms in [0, 1); compare them with p.

    Reference:
        The mask torch.nn.functional.dropout draws internally (it keeps a unit with
        probability 1 - p)
    """
    raise NotImplementedError


def dropout_forward(x: np.ndarray, p: float, mask: np.ndarray, training: bool = True) -> np.ndarray:
    """Inverted dropout: drop the masked units, scale the kept ones by 1 / (1 - p).

    Math:
        training:  out = x * mask / (1 - p)      (so that E[out] = x)
        eval:      out = x                       (no mask, no scaling)

    Shapes:
        x, mask: the same shape; out: x's shape and dtype.

    Args:
        x: activations.
        p: the drop probability, 0 <= p <= 1.
        mask: a keep-mask from dropout_mask (True = keep); ignored at eval.
        training: False at evaluation time.

    Returns:
        The dropped-out activations. At eval, x's values unchanged (returning x itself
        is fine, as torch does).

    Numerics:
        p = 1 drops everything: return zeros (1 / (1 - p) is inf, and 0 * inf = nan).

    Reference:
        torch.nn.functional.dropout(x, p, training), with the mask made explicit:
        x * mask / (1 - p)
    """
    raise NotImplementedError


def dropout_backward(dout: np.ndarray, p: float, mask: np.ndarray) -> np.ndarray:
    """Gradient of dropout_forward in training mode with respect to x.

    Math:
        dx = dout * mask / (1 - p)

    Shapes:
        dout, mask: the same shape; dx: dout's shape and dtype.

    Args:
        dout: gradient of the loss with respect to dropout_forward's output.
        p: the drop probability used in the forward pass.
        mask: the SAME mask the forward pass used.

    Returns:
        dx, the gradient with respect to x.

    Numerics:
        p = 1: zeros, as in the forward pass.

    Reference:
        torch.autograd through x * mask / (1 - p)
    """
    raise NotImplementedError


def mc_dropout_predict(
    X: np.ndarray,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    p: float,
    T: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """MC dropout: the mean and variance of T stochastic forward passes of a ReLU MLP.

    Math:
        For each pass t: h = X; for every layer but the last:
            h = dropout(relu(h @ W_i + b_i), p, mask_i[t]);
        out_t = h @ W_last + b_last
        mean = (1/T) sum_t out_t;   var = (1/T) sum_t (out_t - mean)^2

    Shapes:
        X: (N, D); W_i: (D_i, D_{i+1}); b_i: (D_{i+1},); mean, var: (N, C).
        Run the T passes as one batch with a leading T axis: (T, N, H_i).

    Args:
        X: a batch of inputs.
        weights, biases: the network (ReLU between layers, linear output).
        p: the drop probability, applied after every hidden ReLU (not to X, not to
            the output).
        T: the number of stochastic passes.
        rng: draw the masks with dropout_mask((T, N, H_i), p, rng), one call per
            hidden layer, in layer order (the test replays the same calls).

    Returns:
        (mean, var): the predictive mean and the variance over the T samples
        (population variance, ddof=0), X's dtype.

    Numerics:
        With p = 0 every pass is the same: var is exactly 0.

    Reference:
        Gal & Ghahramani (2016); in torch: model.train() at prediction time, T
        forward passes, torch.stack(outs).mean(0) and .var(0, correction=0)
    """
    raise NotImplementedError


class EarlyStopping:
    """Stop when the validation loss has not improved for `patience` epochs; keep the best weights.

    Use it in a training loop:

        stopper = EarlyStopping(patience=5, min_delta=1e-3)
        for epoch in range(max_epochs):
            train_one_epoch(weights)                   # updates weights in place
            if stopper.step(val_loss, weights):
                break
        best_epoch = stopper.restore(weights)
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        # Add the state you need: the best loss so far, its epoch, a snapshot of its
        # weights, how many epochs since the last improvement.

    def step(self, val_loss: float, weights: list[np.ndarray]) -> bool:
        """Record one epoch's validation loss (mode "min"); True when training should stop.

        Math:
            improvement  <=>  val_loss < best - min_delta   (strictly: a gain of exactly
                              min_delta is not an improvement; NaN never is)
            improvement: best = val_loss; remember this epoch and its weights; wait = 0
            otherwise:   wait += 1;  stop when wait >= patience
            best starts at +inf, so the first epoch always improves. Epochs count from
            0 (the first call to step).

        Shapes:
            weights: a list of arrays of any shapes.

        Args:
            val_loss: this epoch's validation loss.
            weights: the model's current weights. Training goes on updating these very
                arrays in place after step returns.

        Returns:
            True if training should stop now, else False.

        Numerics:
            Keep a COPY of the best weights: a reference to the list would change with
            every later update.

        Reference:
            lightning.pytorch.callbacks.EarlyStopping(mode="min", patience, min_delta)
            and keras.callbacks.EarlyStopping(restore_best_weights=True)
        """
        raise NotImplementedError

    def restore(self, weights: list[np.ndarray]) -> int:
        """Copy the best weights back into `weights`, in place; return the best epoch.

        Math:
            weights[i][...] = best_weights[i]   for every i

        Shapes:
            weights: the same shapes step saw.

        Args:
            weights: the model's arrays, overwritten in place (like load_state_dict).

        Returns:
            The epoch (0-based) whose weights were restored.

        Numerics:
            Write into the arrays (w[...] = best); rebinding a name changes nothing for
            the caller.

        Reference:
            keras.callbacks.EarlyStopping(restore_best_weights=True);
            model.load_state_dict(best_state) in torch
        """
        raise NotImplementedError
