"""cifar10.py: the binary format, normalisation, CifarNet, the training loop; then training.

The format is checked on records these tests write; the network by loading reference
weights into yours by name; the loop against torch's run on a copy of the same model.
The two training tests come last: generated images in CIFAR-10's format (always), and
real CIFAR-10 when it is in the cache (`python -m checker data cifar10`; skipped otherwise).
"""

import copy
import time

import numpy as np
import pytest
import torch
from torch import nn

from checker import assert_close, assert_raises, assert_true, call, describe, kata, note
from checker.datasets import DataError, cifar10_folder
from reference.oracles import cifar10 as oracle

c10 = kata("03_cnn/cifar10")
BATCHES = [f"data_batch_{i}.bin" for i in range(1, 6)]


def random_batch(rng, n):
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n)


def read(source):
    __tracebackhide__ = True
    result = call(c10.read_cifar_batch, source)
    assert_true(
        isinstance(result, tuple) and len(result) == 2,
        f"read_cifar_batch must return (images, labels); got {describe(result)}",
    )
    return result


def value_error(fn, *args, why):
    """The message of the ValueError fn(*args) must raise; a clear failure if it raises none."""
    __tracebackhide__ = True
    return str(assert_raises(ValueError, fn, *args, why=why))


def tensor_out(t, name, dtype=torch.float32):
    """A returned tensor as NumPy, after checking it is a tensor of the right dtype."""
    __tracebackhide__ = True
    assert_true(isinstance(t, torch.Tensor), f"{name} must be a torch.Tensor; got {describe(t)}")
    assert_true(t.dtype == dtype, f"{name} must be {dtype}; got {t.dtype}")
    return t.detach().numpy()


# ----------------------------------------------------------------------------- the format


@pytest.mark.oracle
@pytest.mark.parametrize("as_", ["str path", "Path", "bytes"])
def test_read_cifar_batch_gives_back_the_records_written(as_, rng, tmp_path):
    images, labels = random_batch(rng, 7)
    raw = oracle.batch_bytes(images, labels)
    (tmp_path / "data_batch_1.bin").write_bytes(raw)
    source = {
        "str path": str(tmp_path / "data_batch_1.bin"),
        "Path": tmp_path / "data_batch_1.bin",
        "bytes": raw,
    }[as_]
    got_images, got_labels = read(source)
    assert_close(
        got_images,
        images,
        name="images",
        mistakes={
            "pixels read as (32, 32, 3), channels last: the file stores each "
            "channel's 1,024 bytes together": oracle.read_channels_last(raw)
        },
    )
    assert_close(got_labels, labels.astype(np.int64), name="labels")
    assert_true(
        got_images.flags.writeable,
        "images must be writable: np.frombuffer over bytes "
        "is read-only (torch.from_numpy warns about it); copy it",
    )


@pytest.mark.edge
def test_each_channel_is_a_plane_stored_row_by_row():
    """Label 7, red plane 10, green 20, blue 30, except red at row 0, column 1 = 200 (byte 1 + 1)
    and blue at row 31, column 0 = 250 (byte 1 + 2048 + 31 * 32)."""
    record = bytearray([7] + [10] * 1024 + [20] * 1024 + [30] * 1024)
    record[1 + 1], record[1 + 2048 + 31 * 32] = 200, 250
    images, labels = read(bytes(record))
    want = np.empty((1, 3, 32, 32), np.uint8)
    want[0, 0], want[0, 1], want[0, 2] = 10, 20, 30
    want[0, 0, 0, 1], want[0, 2, 31, 0] = 200, 250
    assert_close(
        images,
        want,
        name="images",
        mistakes={"channels last": oracle.read_channels_last(bytes(record))},
    )
    assert_close(labels, np.array([7]), name="labels")


@pytest.mark.edge
def test_a_truncated_file_raises_a_clear_error(rng, tmp_path):
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(oracle.batch_bytes(*random_batch(rng, 3))[:-100])  # a download cut short
    why = "a file of 9,119 bytes is not a whole number of 3,073-byte records"
    said = value_error(c10.read_cifar_batch, path, why=why)
    assert_true(
        "truncated" in said and ("3073" in said or "3,073" in said),
        f"{why}: the ValueError must say 'truncated' and name the record size (3073), not "
        f"NumPy's reshape error. Yours said: {said}",
    )


@pytest.mark.edge
def test_a_label_above_9_is_refused_and_an_empty_file_is_empty():
    why = "label byte 42 is not a CIFAR-10 class (CIFAR-100 records begin with two label bytes)"
    value_error(c10.read_cifar_batch, bytes([42]) + bytes(3072), why=why)
    images, labels = read(b"")
    assert_close(images, np.zeros((0, 3, 32, 32), np.uint8), name="images of an empty file")
    assert_close(labels, np.zeros(0, np.int64), name="labels of an empty file")


@pytest.mark.oracle
def test_normalize_matches_torch(rng):
    images = rng.integers(0, 256, (8, 3, 32, 32), dtype=np.uint8)[::2]  # strided: 4 images
    out = tensor_out(call(c10.normalize, images), "normalize(images)")
    slips = {
        "pixels not divided by 255": oracle.normalize(images, scale=False),
        "divided by std before subtracting the mean": oracle.normalize(images, order="div"),
    }
    assert_close(
        out, oracle.normalize(images), dtype=np.float32, name="normalized images", mistakes=slips
    )
    mean, std = (0.5, 0.25, 0.1), (0.2, 0.3, 0.4)
    out = tensor_out(call(c10.normalize, images, mean, std), "normalize(images, mean, std)")
    assert_close(
        out,
        oracle.normalize(images, mean, std),
        dtype=np.float32,
        name="normalized images (other mean and std)",
    )


# ----------------------------------------------------------------------------- the network


def build(num_classes, width):
    __tracebackhide__ = True
    model = call(c10.CifarNet, num_classes=num_classes, width=width)
    assert_true(isinstance(model, nn.Module), f"CifarNet(...) is {describe(model)}, not a Module")
    return model


def test_cifarnet_has_the_documented_parameter_count():
    torch.manual_seed(0)
    mine = sum(p.numel() for p in build(7, 4).parameters())
    want = oracle.parameter_count(7, 4)
    assert_true(
        mine == want,
        f"CifarNet(num_classes=7, width=4) has {mine:,} parameters; the "
        f"architecture in the docstring has {want:,} (width 32: 288,746). Conv layers "
        "without bias (bias=False), BatchNorm after each, global average pooling then "
        "one Linear(4 * width, num_classes)?",
    )


@pytest.mark.oracle
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_cifarnet_with_reference_weights_matches_torch(mode, rng):
    torch.manual_seed(0)
    ref = oracle.CifarNet(7, 4).double()
    oracle.randomize_batchnorm(ref, torch.Generator().manual_seed(1))
    model = build(7, 4).double()
    try:
        model.load_state_dict(ref.state_dict())
    except RuntimeError as exc:
        assert_true(
            False,
            "Reference weights do not load into your CifarNet by name: name "
            "the parts self.features (an nn.Sequential of conv, bn, relu, conv, bn, relu, "
            "pool, ... in that order) and self.head.\n" + str(exc).split("\n\t", 1)[-1],
        )
    getattr(model, mode)(), getattr(ref, mode)()
    for shape in [(3, 3, 32, 32), (2, 3, 16, 24)] + ([(1, 3, 32, 32)] if mode == "eval" else []):
        x = torch.from_numpy(rng.standard_normal(shape))
        with torch.no_grad():
            out = call(model.forward, x)
            want = ref(x)
        assert_close(
            tensor_out(out, f"forward on {shape}", torch.float64),
            want,
            tol="matmul",
            name=f"the logits ({mode} mode, input {shape})",
        )


# ----------------------------------------------------------------------------- training loop


def tiny_net(seed=0):
    """Conv, BatchNorm (so train/eval mode matters), ReLU, pooling, Linear; float64."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    ).double()
    oracle.randomize_batchnorm(net, torch.Generator().manual_seed(seed + 1))
    return net


def tiny_data(rng, n=10):
    return torch.from_numpy(rng.standard_normal((n, 3, 6, 6))), torch.from_numpy(
        rng.integers(0, 3, n)
    )


@pytest.mark.oracle
def test_train_epoch_matches_torch(rng):
    """10 examples in batches of 4, 4 and 2; the model comes in eval mode, as after evaluate."""
    (x, y), net = tiny_data(rng), tiny_net()
    net.eval()
    model = copy.deepcopy(net)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    loss = call(c10.train_epoch, model, opt, x, y, 4, torch.Generator().manual_seed(3), sched)
    want, want_loss = oracle.run_epoch(net, x, y, 4, 3, scheduler_gamma=0.5)
    slips = {
        "gradients never zeroed (they pile up)": {"zero_grad": False},
        "batches in order: shuffle with torch.randperm(N, generator=generator)": {"shuffle": False},
        "trained in eval mode: call model.train() first": {"train_mode": False},
        "softmax before F.cross_entropy (it takes logits)": {"softmax": True},
    }
    wrong = {
        k: oracle.run_epoch(net, x, y, 4, 3, scheduler_gamma=0.5, **kw) for k, kw in slips.items()
    }
    lr = opt.param_groups[0]["lr"]
    assert_true(
        abs(lr - 0.05 * 0.5**3) < 1e-12,
        f"after 3 batches the scheduler must have "
        f"stepped 3 times (lr 0.05 * 0.5^3 = 0.00625); lr is {lr:g}: step it after every "
        "optimizer step, not once per epoch",
    )
    for (name, p), (_, q) in zip(model.named_parameters(), want.named_parameters()):
        assert_close(
            p.detach().numpy(),
            q.detach(),
            tol="grad",
            inplace=True,
            name=f"{name} after one epoch",
            mistakes={k: dict(m.named_parameters())[name].detach() for k, (m, _) in wrong.items()},
            dtype=np.float64,
        )
    _, batch_means = oracle.run_epoch(net, x, y, 4, 3, scheduler_gamma=0.5, weigh=False)
    assert_true(
        isinstance(loss, float), f"train_epoch must return a Python float; got {describe(loss)}"
    )
    assert_close(
        np.float64(loss),
        np.float64(want_loss),
        tol="reduction",
        name="the mean loss",
        mistakes={
            "the mean of the batch means (the last batch of 2 counts as much as "
            "a batch of 4)": np.float64(batch_means)
        },
    )


@pytest.mark.oracle
def test_evaluate_is_eval_mode_accuracy_and_changes_nothing(rng):
    net, (x, _) = tiny_net(seed=2), tiny_data(rng, 25)
    net.eval()
    with torch.no_grad():
        y = net(x).argmax(dim=1)  # labels the eval-mode model gets all right
        train_preds = net.train()(x).argmax(dim=1)
    net = tiny_net(seed=2)  # fresh running statistics, in train mode as after an epoch
    before = copy.deepcopy(net.state_dict())
    acc = call(c10.evaluate, net, x, y, batch_size=10)
    moved = [k for k, v in net.state_dict().items() if not torch.equal(v, before[k])]
    assert_true(
        not moved,
        f"evaluate() changed {', '.join(moved)}: BatchNorm in train mode "
        "updates its running statistics. Call model.eval() first.",
    )
    assert_close(
        np.float64(acc),
        np.float64(1.0),
        tol="reduction",
        name="the accuracy",
        mistakes={
            "predictions made in train mode (batch statistics)": np.float64(
                (train_preds == y).double().mean()
            )
        },
    )


@pytest.mark.oracle
def test_fit_matches_torch_sgd_nesterov_one_cycle(rng):
    (x, y), net = tiny_data(rng, 12), tiny_net(seed=4)
    model, start = copy.deepcopy(net), copy.deepcopy(net)
    kw = dict(epochs=3, batch_size=5, lr=0.2)
    losses = call(c10.fit, model, x, y, generator=torch.Generator().manual_seed(5), **kw)
    want = oracle.fit(net, x, y, generator=torch.Generator().manual_seed(5), **kw)
    slips = {
        "no weight decay (weight_decay=5e-4)": {"weight_decay": 0.0},
        "plain momentum (nesterov=True)": {"nesterov": False},
        "a constant learning rate (OneCycleLR, stepped every batch)": {"one_cycle": False},
    }
    wrong = {
        k: np.array(
            oracle.fit(copy.deepcopy(start), x, y, generator=torch.Generator().manual_seed(5),
                       **kw, **flags)
        )
        for k, flags in slips.items()
    }  # fmt: skip
    assert_true(
        isinstance(losses, list) and len(losses) == 3,
        f"fit must return a list with each epoch's loss (3 here); got {describe(losses)}",
    )
    assert_close(np.asarray(losses, dtype=np.float64), np.array(want), tol="grad",
                 name="the loss of each epoch", mistakes=wrong)  # fmt: skip
    for (name, p), (_, q) in zip(model.named_parameters(), net.named_parameters()):
        assert_close(
            p.detach().numpy(), q.detach(), tol="grad", name=f"{name} after fit", inplace=True
        )


# ----------------------------------------------------------------------------- training


def load_cifar(folder):
    """The six batches of a cifar-10-batches-bin folder, read by your read_cifar_batch."""
    parts = [c10.read_cifar_batch(folder / name) for name in BATCHES]  # direct: 150 MB of bytes
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = c10.read_cifar_batch(folder / "test_batch.bin")
    return x_train, y_train, x_test, y_test


def train_and_score(folder, width, epochs, batch_size, lr, channels_last=False):
    x_train, y_train, x_test, y_test = load_cifar(folder)
    x, xt = c10.normalize(x_train), c10.normalize(x_test)
    torch.manual_seed(0)
    model = c10.CifarNet(num_classes=10, width=width)
    if channels_last:  # the same numbers, laid out (N, H, W, C): oneDNN's convs run faster
        model = model.to(memory_format=torch.channels_last)
        x, xt = (t.contiguous(memory_format=torch.channels_last) for t in (x, xt))
    losses = c10.fit(
        model,
        x,
        torch.from_numpy(y_train),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        generator=torch.Generator().manual_seed(0),
    )
    return c10.evaluate(model, xt, torch.from_numpy(y_test)), losses


# Generated images (reference/oracles/cifar10.py: 5 shapes x 2 colours on noise), 500 to
# train, 200 to test, written as cifar-10-batches-bin. Measured with the reference solution
# over seeds 0-9 of data and weights: CifarNet(width=8), 12 epochs of 32, peak lr 0.1, reaches
# 0.94-1.00 (mean 0.99) in about 5 s on one thread. The bar, 0.85, is 18 images below the
# worst seed; chance is 0.10.
SYNTHETIC = {"width": 8, "epochs": 12, "batch_size": 32, "lr": 0.1, "bar": 0.85}


@pytest.mark.training
def test_your_pipeline_learns_generated_images_in_cifar_format(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    images, labels = oracle.synthetic_cifar(70, np.random.default_rng(0))
    for i, name in enumerate(BATCHES + ["test_batch.bin"]):  # 100 images per train batch
        part = slice(100 * i, 100 * (i + 1)) if i < 5 else slice(500, 700)
        (folder / name).write_bytes(oracle.batch_bytes(images[part], labels[part]))
    cfg = SYNTHETIC
    acc, losses = train_and_score(folder, cfg["width"], cfg["epochs"], cfg["batch_size"], cfg["lr"])
    note(
        f"cifar10 trained on 500 generated 32x32 images (10 classes of coloured shapes) written "
        f"in CIFAR-10's binary format: test accuracy {acc:.3f} (the bar: {cfg['bar']})."
    )
    assert_true(
        acc >= cfg["bar"],
        f"CifarNet(width=8) reached {acc:.3f} on the generated test "
        f"images; a correct pipeline reaches {cfg['bar']} (chance: 0.10). Loss per epoch: "
        f"{', '.join(f'{v:.3f}' for v in losses)}",
    )


# Real CIFAR-10: CifarNet(width=32, 288,746 parameters), 4 epochs of 128 at peak lr 0.1,
# channels-last. Timed on images of the same shape, one thread of the course's 2-core machine
# while other jobs shared it: 120-140 s per epoch, 11 s to evaluate, so about 10 minutes in
# all (channels-last saves a third). The accuracy is expected, NOT measured: CIFAR-10 could not
# be downloaded where this kata was written. Small BatchNorm VGG-style nets with a one-cycle
# schedule usually pass 80% within 4-5 epochs; the bar is the course's 75%. If a correct
# implementation misses it, the recipe here (not your code) needs more epochs.
REAL = {"width": 32, "epochs": 4, "batch_size": 128, "lr": 0.1, "bar": 0.75}


@pytest.mark.training
@pytest.mark.timeout(3600)
def test_cifar10_reaches_75_percent():
    try:
        folder = cifar10_folder()
    except DataError as exc:
        pytest.skip(f"the cached CIFAR-10 cannot be used: {exc}")
    if folder is None:
        note(
            "cifar10: real CIFAR-10 is not in the cache, so its 75% test was skipped (the "
            "generated-image test ran instead). Download it (163 MB) with: "
            "python -m checker data cifar10"
        )
        pytest.skip("CIFAR-10 is not downloaded: python -m checker data cifar10")
    cfg, start = REAL, time.monotonic()
    acc, losses = train_and_score(
        folder, cfg["width"], cfg["epochs"], cfg["batch_size"], cfg["lr"], channels_last=True
    )
    minutes = (time.monotonic() - start) / 60
    note(
        f"cifar10 trained on CIFAR-10 from {folder}: test accuracy {acc:.4f} in {minutes:.1f} "
        f"min (the bar: {cfg['bar']})."
    )
    assert_true(
        acc >= cfg["bar"],
        f"after {cfg['epochs']} epochs CifarNet(width=32) reached "
        f"{acc:.4f} on the 10,000 test images; the bar is {cfg['bar']}. Loss per epoch: "
        f"{', '.join(f'{v:.3f}' for v in losses)}. If every other test here passes, your code "
        "does what the reference does and this bar, never measured on the real data, is at "
        "fault: please report the numbers above.",
    )
