"""debug_training.py: a training script with seeded bugs; these tests describe the symptoms.

The first test runs the whole script; the others take one piece at a time, so each
failure points at one bug. Everything is seeded and runs on the CPU in a few seconds.
"""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from checker import assert_close, assert_true, call, kata

script = kata("02_training/debug_training")
SEEDS = (0, 1)  # the fixed script reaches 0.98-0.99 on seeds 0-9
TARGET = 0.95  # the stub's TARGET, held here so that lowering it there changes nothing


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: a second thread only adds overhead (and slows other test processes)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class RecordingSGD(torch.optim.SGD):
    """SGD that remembers the gradients it was given at every step (wherever zero_grad is)."""

    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.seen = []

    def step(self, closure=None):
        self.seen.append([p.grad.detach().clone().numpy() for p in self.param_groups[0]["params"]])
        return super().step(closure)


def small_net():
    """Linear-ReLU-Linear in float64, no dropout or BatchNorm: its gradients are deterministic."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3)).double()


def batch(rng, n=6):
    return torch.from_numpy(rng.standard_normal((n, 2))), torch.from_numpy(rng.integers(0, 3, n))


def torch_grads(model, loss_fn):
    model.zero_grad()
    loss = loss_fn(model)
    loss.backward()
    grads = [p.grad.detach().clone().numpy() for p in model.parameters()]
    model.zero_grad()
    return loss.item(), grads


@pytest.mark.parametrize("seed", SEEDS)
def test_the_script_reaches_95_percent_test_accuracy(seed):
    acc, history = call(script.run, seed)
    losses = ", ".join(f"{v:.3f}" for v in history["loss"])
    lrs = ", ".join(f"{v:.2g}" for v in history["lr"])
    assert_true(
        acc >= TARGET,
        f"run(seed={seed}) reached {acc:.3f} test accuracy; the target is {TARGET} "
        f"(chance is 0.5).\nTraining loss per epoch: {losses}\nLearning rate per epoch: {lrs}\n"
        "The other tests take the script apart: their messages point at each bug.",
    )


@pytest.mark.oracle
def test_train_step_matches_torch_cross_entropy_on_logits(rng):
    model, (xb, yb) = small_net(), batch(rng)
    want_loss, want = torch_grads(model, lambda m: F.cross_entropy(m(xb), yb))
    soft_loss, soft = torch_grads(model, lambda m: F.cross_entropy(F.softmax(m(xb), 1), yb))
    opt = RecordingSGD(model.parameters(), lr=0.0)
    loss = call(script.train_step, model, opt, xb, yb)
    probs = "the loss got probabilities, not logits (F.cross_entropy applies log_softmax itself)"
    assert_close(np.float64(loss), np.float64(want_loss), tol="reduction",
                 name="the loss", mistakes={probs: np.float64(soft_loss)})  # fmt: skip
    assert_true(len(opt.seen) == 1, f"train_step called opt.step() {len(opt.seen)} times, not once")
    for i, (g, w, s) in enumerate(zip(opt.seen[0], want, soft)):
        assert_close(g, w, tol="grad", name=f"the gradient of parameter {i} at opt.step()",
                     mistakes={probs: s}, inplace=True)  # fmt: skip


def test_gradients_do_not_accumulate_across_steps(rng):
    """lr = 0, so the weights never move: both steps must see the same gradient."""
    model, (xb, yb) = small_net(), batch(rng)
    opt = RecordingSGD(model.parameters(), lr=0.0)
    call(script.train_step, model, opt, xb, yb)
    call(script.train_step, model, opt, xb, yb)
    first, second = opt.seen
    for i, (g1, g2) in enumerate(zip(first, second)):
        assert_close(
            g2, g1, tol="grad", inplace=True,
            name=f"the gradient of parameter {i} at the second step (same batch, same weights)",
            mistakes={"gradients accumulate across steps: the second step applied the first "
                      "step's gradient plus its own (loss.backward() adds to .grad)": 2 * g1},
        )  # fmt: skip


@pytest.mark.property
@given(n=st.integers(1, 40), d=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_shuffle_keeps_every_label_with_its_input(n, d, seed):
    X = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, d)  # row j holds j
    y = torch.arange(n)  # label j: each row's label is its own index
    X0, y0 = X.clone(), y.clone()
    Xs, ys = call(script.shuffle, X, y, np.random.default_rng(seed))
    assert_true(torch.equal(X, X0) and torch.equal(y, y0), "shuffle modified X or y in place")
    assert_true(
        tuple(Xs.shape) == (n, d) and tuple(ys.shape) == (n,),
        f"shuffle returned shapes {tuple(Xs.shape)}, {tuple(ys.shape)}; want ({n}, {d}), ({n},)",
    )
    assert_true(
        sorted(ys.tolist()) == list(range(n)), "shuffle's labels are not a permutation of y"
    )
    wrong = int((Xs[:, 0].long() != ys).sum())
    assert_true(
        wrong == 0,
        f"After shuffling, labels no longer match their inputs: {wrong} of {n} examples carry "
        f"another example's label (here row j of X holds j and its label is j; after shuffle, "
        f"rows {Xs[:5, 0].long().tolist()} got labels {ys[:5].tolist()}).",
    )


def test_evaluate_does_not_change_the_model():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = call(script.build_model)
    X, y = call(script.make_moons, 200, rng)
    model.train()  # as it is right after a training epoch
    before = copy.deepcopy(model.state_dict())
    call(script.evaluate, model, X, y)
    moved = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert_true(
        not moved,
        f"evaluate() changed the model: {', '.join(moved)} moved. BatchNorm updates its "
        "running statistics in train mode: the model was evaluated in train mode (with "
        "dropout on, and normalised by the test batch's own statistics).",
    )


def test_evaluate_is_the_eval_mode_accuracy():
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    model = call(script.build_model)
    X, y = call(script.make_moons, 200, rng)
    model.train()
    reference = copy.deepcopy(model).eval()  # dropout off, BatchNorm on its running stats
    with torch.no_grad():
        want = (reference(X).argmax(1) == y).double().mean()
    accs = [call(script.evaluate, model, X, y) for _ in range(2)]
    assert_true(
        accs[0] == accs[1] == pytest.approx(float(want)),
        f"evaluate(model, X, y) gave {accs[0]:.4f}, then {accs[1]:.4f} on the same data; in "
        f"eval mode the model scores {float(want):.4f}. Dropout was active while evaluating "
        "(and BatchNorm used the batch's statistics): the model was in train mode.",
    )


def test_train_trains_in_train_mode():
    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    model = call(script.build_model)
    X, y = call(script.make_moons, 96, rng)
    model.eval()  # as it is after evaluate()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    assert_true(bool(bns), "build_model() must keep its nn.BatchNorm1d layer (it is not a bug)")
    bn = bns[0]
    before = bn.running_mean.clone()
    call(script.train, model, X, y, rng, epochs=1, batch_size=32)
    assert_true(
        not torch.equal(bn.running_mean, before),
        "After train(...) from a model in eval mode (as evaluate() leaves it), BatchNorm's "
        "running_mean never moved: the model trained in eval mode, with dropout off and "
        "BatchNorm frozen on its running statistics. Training must switch to train mode "
        "every epoch, since evaluating switches to eval mode.",
    )


def test_the_lr_schedule_steps_once_per_epoch():
    torch.manual_seed(3)
    rng = np.random.default_rng(3)
    model = call(script.build_model)
    X, y = call(script.make_moons, 96, rng)
    epochs, lr, step = 4, 0.1, 2  # 3 batches of 32 per epoch
    history = call(script.train, model, X, y, rng, epochs=epochs, lr=lr, lr_step=step)
    want = np.array([lr * script.LR_GAMMA ** (e // step) for e in range(epochs)])
    per_batch = np.array([lr * script.LR_GAMMA ** (3 * e // step) for e in range(epochs)])
    assert_close(
        np.array(history["lr"], dtype=np.float64), want, tol="elementwise",
        name='history["lr"] (StepLR with step_size=2 epochs, gamma=LR_GAMMA)',
        mistakes={"the scheduler stepped after every batch; StepLR's step_size counts "
                  "epochs, so it must step once per epoch": per_batch},
    )  # fmt: skip
