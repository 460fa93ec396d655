"""Checks for chapter 08's exercises (PyTorch and MLPs in practice).

- 8.1 implement a Dataset and a mini-batch loader                       -> :func:`check_data_pipeline`
- 8.2 implement one training epoch and an evaluation                    -> :func:`check_training_loop`
- 8.3 implement saving and loading a checkpoint                         -> :func:`check_checkpoint`
- 8.4 derive the gradient of the article's half cross-entropy           -> :func:`check_half_ce_gradient`
- 8.5 predict what the article's XOR network (004 §5(1)) ends up saying -> :func:`check_half_ce_prediction`

The references of 8.1-8.3 are :mod:`dlcore.training.torch_loop`. The checks run the
learner's code on tiny problems, through a runner that turns what it did into numbers
(the weights it trained, the losses it returned, the modes the model was in at each
forward pass), so that each known mistake is a whole wrong result, recognised by
:func:`~dlcore.exercises.functions.check_function`. A check that passes accepts the
learner's code; the chapter's later cells ask for it with
:func:`~dlcore.exercises.learner.implementation`.
"""

from __future__ import annotations

import functools
import tempfile
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.training import torch_loop

__all__ = ["check_data_pipeline", "check_training_loop", "check_checkpoint", "check_half_ce_gradient",
           "reference_half_ce_gradient", "check_half_ce_prediction", "half_ce_truth", "REFERENCES"]


def reference_half_ce_gradient(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/ds of L = -sum_n y_n log sigma(s_n): -y (1 - sigma(s)), element by element."""
    return -y * (1.0 - _sigmoid(s))


# What each exercise rebuilds: none of these functions' code may be shown before the exercise.
REFERENCES = {
    "8.1": (torch_loop.ArrayDataset.__init__, torch_loop.ArrayDataset.__getitem__, torch_loop.MiniBatchLoader.__init__,
            torch_loop.MiniBatchLoader.__len__, torch_loop.MiniBatchLoader.__iter__),
    "8.2": (torch_loop.train_epoch, torch_loop.evaluate),
    "8.3": (torch_loop.save_checkpoint, torch_loop.load_checkpoint),
    "8.4": (reference_half_ce_gradient,),
}


def _torch_library_code() -> list[Callable]:
    """torch's own loader and dataset: what exercise 8.1 builds."""
    import torch

    data = torch.utils.data
    return [data.DataLoader.__init__, data.DataLoader.__iter__, data.TensorDataset.__getitem__]


# ---------------------------------------------------------------- 8.1 a Dataset and a mini-batch loader

def _run_loader(dataset_class, loader_class, x, y, batch_size, shuffle):
    """What a dataset and a loader over (x, y) do in two epochs, as numbers (the labels y are 0..N-1, so the
    labels of a batch say which examples it holds). Returns five arrays, see :data:`LOADER_OUTPUTS`."""
    import torch

    dataset = dataset_class(x, y)
    loader = loader_class(dataset, batch_size, shuffle=shuffle, seed=5)
    epochs = [list(loader) for _ in range(2)]
    count = len(y)
    orders, complete, paired = [], [], []
    for epoch in epochs:
        order = torch.cat([y_batch.reshape(-1) for _, y_batch in epoch]).to(torch.int64).numpy()
        rows = torch.cat([x_batch.reshape(len(x_batch), -1) for x_batch, _ in epoch]).double().numpy()
        complete.append(float(np.array_equal(np.sort(order), np.arange(count))))
        paired.append(float(complete[-1] == 1.0 and np.allclose(rows, x[order], atol=1e-6)))
        orders.append(order)
    first_x, first_y = epochs[0][0]
    lengths = np.array([len(dataset), len(loader)], dtype=np.float64)
    sizes = np.array([len(y_batch) for epoch in epochs for _, y_batch in epoch], dtype=np.float64)
    shuffled = [float(len(o) == count and not np.array_equal(o, np.arange(count))) for o in orders]
    same_order = float(len(orders[0]) == len(orders[1]) and np.array_equal(orders[0], orders[1]))
    dtypes = np.array([float(first_x.dtype == torch.float32), float(first_y.dtype == torch.int64)])
    return sizes, lengths, np.array(complete + paired), np.array([*shuffled, same_order]), dtypes


LOADER_OUTPUTS = ("the batch sizes of two epochs", "len(dataset) and len(loader)",
                  "every example once per epoch, with its own label (epoch 1, 2; then pairs kept in epoch 1, 2)",
                  "the order (epoch 1 shuffled, epoch 2 shuffled, epoch 2 in epoch 1's order)",
                  "the dtypes (features float32, labels int64)")


class _FlawedDataset:
    """:class:`~dlcore.training.torch_loop.ArrayDataset` with one plausible mistake."""

    def __init__(self, x, y, flaw=""):
        import torch

        self.x = torch.as_tensor(np.asarray(x), dtype=torch.float64 if flaw == "features-float64" else torch.float32)
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.float32 if flaw == "labels-float" else torch.int64)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, index):
        return self.x[index], self.y[index]


class _FlawedLoader:
    """:class:`~dlcore.training.torch_loop.MiniBatchLoader` with one plausible mistake."""

    def __init__(self, dataset, batch_size, shuffle=False, seed=0, flaw=""):
        import torch

        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.flaw, self.seed = flaw, seed
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        if self.flaw in ("drops-last-batch", "length-floors"):
            return len(self.dataset) // self.batch_size
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        import torch

        count = len(self.dataset)
        if self.flaw == "same-order-every-epoch":
            self.generator = torch.Generator().manual_seed(self.seed)
        shuffle = self.shuffle and self.flaw != "shuffle-ignored"
        order = torch.randperm(count, generator=self.generator) if shuffle else torch.arange(count)
        end = count - count % self.batch_size if self.flaw == "drops-last-batch" else count
        for start in range(0, end, self.batch_size):
            xs, ys = zip(*[self.dataset[int(i)] for i in order[start:start + self.batch_size]])
            yield torch.stack(xs), torch.stack(ys)


def _loader_flaw(flaw: str):
    dataset = partial(_FlawedDataset, flaw=flaw)
    loader = partial(_FlawedLoader, flaw=flaw)
    return lambda x, y, batch_size, shuffle: _run_loader(dataset, loader, x, y, batch_size, shuffle)


LOADER_MISTAKES = [
    Mistake("length-floors", _loader_flaw("length-floors"),
            "len(loader) does not count the last, partial batch: it is the number of batches an epoch yields"),
    Mistake("drops-last-batch", _loader_flaw("drops-last-batch"),
            "the last, smaller batch is missing: when the batch size does not divide N, the remaining examples "
            "still form one more batch"),
    Mistake("same-order-every-epoch", _loader_flaw("same-order-every-epoch"),
            "every epoch comes in the same order: seed the generator once, in __init__, and draw a new "
            "permutation from it at the start of each epoch"),
    Mistake("shuffle-ignored", _loader_flaw("shuffle-ignored"),
            "with shuffle=True your batches still come in the dataset's order"),
    Mistake("features-float64", _loader_flaw("features-float64"),
            "your features are float64: the chapter's networks hold float32 weights, so x must be float32"),
    Mistake("labels-float", _loader_flaw("labels-float"),
            "your labels are floats: F.cross_entropy wants class indices of dtype int64 (torch.long)"),
]


def check_data_pipeline(dataset_class, loader_class) -> CheckResult:
    """Exercise 8.1: ``ArrayDataset(x, y)`` (a torch Dataset) and ``MiniBatchLoader(dataset, batch_size, shuffle, seed)``."""
    rng = np.random.default_rng(81)
    cases = [
        Case((rng.standard_normal((10, 2)), np.arange(10), 4, True),
             description="10 examples of 2 features, batch_size 4, shuffle=True, two epochs"),
        Case((rng.standard_normal((6, 3)), np.arange(6), 2, False),
             description="6 examples of 3 features, batch_size 2, shuffle=False, two epochs"),
        Case((rng.standard_normal((9, 2)), np.arange(9), 16, True),
             description="9 examples, batch_size 16 (one batch holds them all), shuffle=True, two epochs"),
    ]
    runner = partial(_run_loader, dataset_class, loader_class)
    reference = partial(_run_loader, torch_loop.ArrayDataset, torch_loop.MiniBatchLoader)
    result = check_function(
        "8.1", runner, reference, cases, name="ArrayDataset and MiniBatchLoader", outputs=LOADER_OUTPUTS,
        mistakes=LOADER_MISTAKES, guard_reference=False,
        forbid=[*REFERENCES["8.1"], *_torch_library_code()],
        hint="__getitem__ returns one example (x_i, y_i); __iter__ walks an order of the indices (a new random "
             "one per epoch when shuffling), batch_size indices at a time, and stacks their examples.",
        success="your dataset and loader feed the rest of the chapter.",
    )
    accept("ArrayDataset", dataset_class, "8.1")
    accept("MiniBatchLoader", loader_class, "8.1")
    return result


# ---------------------------------------------------------------- 8.2 one epoch of training, and an evaluation

def _spy_net_class():
    import torch
    from torch import nn

    class SpyNet(nn.Module):
        """A 2-5-3 tanh network that records, at each forward pass, its mode and whether autograd records."""

        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3))
            self.calls: list[tuple[bool, bool]] = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled()))
            return self.layers(x)

    return SpyNet


def _number(value) -> tuple[float, float]:
    """(the value as a float, 1.0 if it was a Python number already)."""
    import torch

    if isinstance(value, torch.Tensor):
        return float(value.detach()), 0.0
    return float(value), float(isinstance(value, (int, float)) and not isinstance(value, bool))


def _share(flags) -> float:
    return float(np.mean(flags)) if len(flags) else -1.0


def _run_loop(train_epoch, evaluate, seed, batch_size):
    """Two epochs of ``train_epoch`` on 10 examples (the model left in evaluation mode before each), then
    ``evaluate`` on 7 (the model left in training mode), as numbers: see :data:`LOOP_OUTPUTS`."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _spy_net_class()().double()
        x, y = torch.randn(10, 2, dtype=torch.float64), torch.randint(0, 3, (10,))
        x_test, y_test = torch.randn(7, 2, dtype=torch.float64), torch.randint(0, 3, (7,))
    batches = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, 10, batch_size)]
    test_batches = [(x_test[i:i + 4], y_test[i:i + 4]) for i in range(0, 7, 4)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.5)
    losses, floats, train_calls = [], [], []
    for _ in range(2):
        model.eval()  # so that a loop without model.train() trains in evaluation mode
        model.calls = []
        loss, is_float = _number(train_epoch(model, batches, optimizer, "cpu"))
        losses.append(loss)
        floats.append(is_float)
        train_calls += model.calls
    model.train()  # so that an evaluation without model.eval() evaluates in training mode
    model.calls = []
    test_loss, test_accuracy = evaluate(model, test_batches, "cpu")
    (test_loss, loss_float), (test_accuracy, accuracy_float) = _number(test_loss), _number(test_accuracy)
    weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()
    modes = np.array([_share([training for training, _ in train_calls]),
                      _share([not training for training, _ in model.calls]),
                      _share([not recording for _, recording in model.calls]),
                      min(floats), min(loss_float, accuracy_float)])
    return weights, np.array(losses), np.array([test_loss, test_accuracy]), modes


LOOP_OUTPUTS = ("the weights after two epochs", "the two epoch losses train_epoch returned",
                "evaluate's (loss, accuracy)",
                "the modes (training forwards in train mode, evaluation forwards in eval mode, evaluation forwards "
                "without a graph, train_epoch returned a float, evaluate returned floats)")


def _flawed_train_epoch(model, loader, optimizer, device, flaw=""):
    """:func:`~dlcore.training.torch_loop.train_epoch` with one plausible mistake."""
    import torch
    import torch.nn.functional as F

    if flaw != "no-train-mode":
        model.train()
    total, count, batch_means = 0.0, 0, []
    for x_batch, y_batch in loader:
        x_batch, y_batch = x_batch.to(device), y_batch.to(device)
        if flaw not in ("no-zero-grad", "zero-grad-after-backward"):
            optimizer.zero_grad()
        loss = F.cross_entropy(model(x_batch), y_batch)
        loss.backward()
        if flaw == "zero-grad-after-backward":
            optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
        batch_means.append(loss.item())
    if flaw == "last-batch-loss":
        return loss.item()
    if flaw == "mean-of-batch-means":
        return sum(batch_means) / len(batch_means)
    if flaw == "returns-tensor":
        return torch.tensor(total / count)
    return total / count


def _flawed_evaluate(model, loader, device, flaw=""):
    """:func:`~dlcore.training.torch_loop.evaluate` with one plausible mistake."""
    import contextlib

    import torch
    import torch.nn.functional as F

    if flaw != "no-eval-mode":
        model.eval()
    total, correct, count = 0.0, 0, 0
    with contextlib.nullcontext() if flaw == "evaluates-with-grad" else torch.no_grad():
        for x_batch, y_batch in loader:
            x_batch, y_batch = x_batch.to(device), y_batch.to(device)
            logits = model(x_batch)
            total += F.cross_entropy(logits, y_batch, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == y_batch).sum())
            count += len(y_batch)
    return total / count, (correct if flaw == "accuracy-count" else correct / count)


def _loop_flaw(flaw: str):
    train = partial(_flawed_train_epoch, flaw=flaw)
    evaluate = partial(_flawed_evaluate, flaw=flaw)
    return lambda seed, batch_size: _run_loop(train, evaluate, seed, batch_size)


LOOP_MISTAKES = [
    Mistake("no-zero-grad", _loop_flaw("no-zero-grad"),
            "your weights are those of a loop without optimizer.zero_grad(): backward() adds into .grad, so each "
            "step followed the sum of all gradients so far"),
    Mistake("zero-grad-after-backward", _loop_flaw("zero-grad-after-backward"),
            "your weights never change: the gradients are cleared between backward() and step(), so every step "
            "has nothing to apply"),
    Mistake("no-train-mode", _loop_flaw("no-train-mode"),
            "train_epoch trained a model left in evaluation mode: switch it to training mode at the start "
            "(dropout and batch norm behave differently in the two modes)"),
    Mistake("no-eval-mode", _loop_flaw("no-eval-mode"),
            "evaluate ran the model in training mode: switch it to evaluation mode first"),
    Mistake("evaluates-with-grad", _loop_flaw("evaluates-with-grad"),
            "evaluate built an autograd graph at every forward pass: nothing is trained there, so run it with "
            "recording switched off"),
    Mistake("last-batch-loss", _loop_flaw("last-batch-loss"),
            "train_epoch returned the loss of the epoch's last batch only: return the mean over all its examples"),
    Mistake("mean-of-batch-means", _loop_flaw("mean-of-batch-means"),
            "train_epoch returned the plain mean of the batch means: the last batch is smaller, so weight each "
            "batch's mean loss by its number of examples"),
    Mistake("returns-tensor", _loop_flaw("returns-tensor"),
            "train_epoch returned a tensor: return a Python float (.item()), which holds no graph or device memory"),
    Mistake("accuracy-count", _loop_flaw("accuracy-count"),
            "evaluate's accuracy is a count of correct predictions: divide by the number of examples"),
]


def check_training_loop(train_epoch, evaluate) -> CheckResult:
    """Exercise 8.2: ``train_epoch(model, loader, optimizer, device) -> float`` and
    ``evaluate(model, loader, device) -> (loss, accuracy)``, run on a small network that records its modes."""
    cases = [Case((8, 4), description="a 2-5-3 tanh network, 10 examples in batches of 4, 4 and 2, SGD with "
                                      "momentum, two epochs; then 7 test examples in batches of 4 and 3"),
             Case((9, 5), description="another network, 10 examples in batches of 5, two epochs; 7 test examples")]
    learner = partial(_run_loop, train_epoch, evaluate)
    reference = partial(_run_loop, torch_loop.train_epoch, torch_loop.evaluate)
    result = check_function(
        "8.2", learner, reference, cases, name="train_epoch and evaluate", outputs=LOOP_OUTPUTS,
        mistakes=LOOP_MISTAKES, guard_reference=False, forbid=[*REFERENCES["8.2"]],
        hint="per batch: move it to the device, clear the old gradients, forward, loss, backward, step; add the "
             "batch's loss times its size to a running total. evaluate: evaluation mode, no graph, sums over "
             "all batches.",
        success="your loop trains and evaluates the chapter's networks from here on.",
    )
    accept("train_epoch", train_epoch, "8.2")
    accept("evaluate", evaluate, "8.2")
    return result


# ---------------------------------------------------------------- 8.3 a checkpoint

def _run_resume(save_checkpoint, load_checkpoint, seed, epoch):
    """Train 3 steps (SGD, momentum 0.9), save, load into a fresh model and optimizer, train 2 more steps.

    Returns (the resumed model's weights, [the epoch load_checkpoint returned]); a correct pair gives
    the weights of 5 uninterrupted steps.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        fresh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        x, y = torch.randn(8, 3, dtype=torch.float64), torch.randint(0, 2, (8,))

    def train(net, optimizer, num_steps):
        for _ in range(num_steps):
            optimizer.zero_grad()
            F.cross_entropy(net(x), y).backward()
            optimizer.step()

    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    train(model, optimizer, 3)
    fresh_optimizer = torch.optim.SGD(fresh.parameters(), lr=0.2, momentum=0.9)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checkpoint.pt"
        save_checkpoint(path, model, optimizer, epoch)
        train(model, optimizer, 1)  # the original keeps training: the checkpoint must not change with it
        returned = load_checkpoint(path, fresh, fresh_optimizer, "cpu")
    train(fresh, fresh_optimizer, 2)
    weights = torch.cat([p.detach().reshape(-1) for p in fresh.parameters()]).numpy()
    return weights, np.array([-1.0 if returned is None else float(returned)])


def _flawed_save(path, model, optimizer, epoch, flaw=""):
    import torch

    state = {"model": model.state_dict(), "epoch": epoch}
    if flaw != "optimizer-not-saved":
        state["optimizer"] = optimizer.state_dict()
    torch.save(state, path)


def _flawed_load(path, model, optimizer, device, flaw=""):
    import torch

    checkpoint = torch.load(path, map_location=device, weights_only=True)
    if flaw != "model-not-loaded":
        model.load_state_dict(checkpoint["model"])
    if "optimizer" in checkpoint:
        optimizer.load_state_dict(checkpoint["optimizer"])
    return None if flaw == "epoch-not-returned" else checkpoint["epoch"]


def _resume_flaw(flaw: str):
    save, load = partial(_flawed_save, flaw=flaw), partial(_flawed_load, flaw=flaw)
    return lambda seed, epoch: _run_resume(save, load, seed, epoch)


CHECKPOINT_MISTAKES = [
    Mistake("optimizer-not-saved", _resume_flaw("optimizer-not-saved"),
            "the resumed run differs from an uninterrupted one the way a run without the optimizer's state does: "
            "SGD with momentum keeps a velocity per parameter, and it must be saved and loaded too"),
    Mistake("model-not-loaded", _resume_flaw("model-not-loaded"),
            "the resumed model kept its own random weights: load the saved state into the model you are given "
            "(assigning to the argument inside the function changes nothing outside it)"),
    Mistake("epoch-not-returned", _resume_flaw("epoch-not-returned"),
            "load_checkpoint returned None: return the epoch stored in the checkpoint, so the loop knows where "
            "to resume"),
]


def check_checkpoint(save_checkpoint, load_checkpoint) -> CheckResult:
    """Exercise 8.3: ``save_checkpoint(path, model, optimizer, epoch)`` and ``load_checkpoint(path, model,
    optimizer, device) -> epoch``: a run saved, loaded into fresh objects and resumed equals an uninterrupted one."""
    cases = [Case((83, 7), description="3 steps of SGD with momentum, saved at epoch 7, loaded into a fresh model "
                                       "and optimizer, 2 more steps"),
             Case((84, 0), description="another network, saved at epoch 0, resumed for 2 steps")]
    learner = partial(_run_resume, save_checkpoint, load_checkpoint)
    reference = partial(_run_resume, torch_loop.save_checkpoint, torch_loop.load_checkpoint)
    result = check_function(
        "8.3", learner, reference, cases, name="save_checkpoint and load_checkpoint",
        outputs=("the resumed model's weights", "the epoch returned"), mistakes=CHECKPOINT_MISTAKES,
        guard_reference=False, forbid=[*REFERENCES["8.3"]],
        hint="save one dictionary holding the model's and the optimizer's state dicts and the epoch; load it with "
             "weights_only=True and put each part back with load_state_dict.",
        success="a resumed run continues exactly where the saved one stopped.",
    )
    accept("save_checkpoint", save_checkpoint, "8.3")
    accept("load_checkpoint", load_checkpoint, "8.3")
    return result


# ---------------------------------------------------------------- 8.4 half cross-entropy gradient

def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * s))  # = 1 / (1 + exp(-s)) without overflow


HALF_CE_MISTAKES = [
    Mistake("full-cross-entropy", lambda s, y: _sigmoid(s) - y,
            "you returned sigma(s) - y, the gradient of the FULL cross-entropy; the article's loss has no "
            "(1 - y) log(1 - p) term"),
    Mistake("not-chained", lambda s, y: -y / _sigmoid(s),
            "you returned dL/dp = -y / p: chain it through p = sigma(s), whose derivative is sigma(s) (1 - sigma(s))"),
    Mistake("sign-flipped", lambda s, y: y * (1.0 - _sigmoid(s)),
            "the sign is flipped: L = -y log sigma(s) DEcreases as s grows, so its derivative is negative where y = 1"),
    Mistake("log-derivative", lambda s, y: -y * _sigmoid(s),
            "d log sigma(s) / ds is sigma'(s) / sigma(s): simplify it with sigma' = sigma (1 - sigma)"),
    Mistake("y-dropped", lambda s, y: -(1.0 - _sigmoid(s)) + 0.0 * y,
            "you dropped the factor y: rows with y = 0 contribute nothing to this loss"),
]


def check_half_ce_gradient(half_ce_gradient) -> CheckResult:
    """Exercise 8.4: ``half_ce_gradient(s, y)`` -> dL/ds for L = -sum y log sigma(s), same shape as s."""
    s = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    cases = [Case((s, np.array([1.0, 1.0, 1.0, 1.0, 1.0])), description="s = [-3, -0.5, 0, 0.5, 3], all y = 1"),
             Case((s, np.array([0.0, 1.0, 0.0, 1.0, 0.0])), description="the same s, y = [0, 1, 0, 1, 0]"),
             Case((np.array([[-800.0, 40.0]]), np.array([[1.0, 0.0]])),
                  description="large logits [[-800, 40]], shape (1, 2)")]
    return check_function("8.4", half_ce_gradient, reference_half_ce_gradient, cases, name="half_ce_gradient",
                          mistakes=HALF_CE_MISTAKES, hint="write p = sigma(s); L = -y log p; dL/ds = dL/dp * dp/ds",
                          warning_hint="compute sigma(s) without exp overflow, e.g. from tanh",
                          success="zero for every y = 0 row, and never positive: this loss asks every output to rise or "
                                  "stay (what a step on the shared weights does to each output is another matter)")


# ---------------------------------------------------------------- 8.5 what the half cross-entropy learns

@functools.lru_cache(maxsize=1)
def half_ce_truth() -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Train the article's 5(1) network once (seed 0): its labels and probabilities on the four XOR rows."""
    from dlcore.articles.article_004_keras_xor import train_xor

    run = train_xor("tf1_as_given", num_runs=1, seed=0)
    return tuple(int(v) for v in run.predictions[0]), tuple(round(float(p), 3) for p in run.outputs[0])


PREDICTION_MISTAKES = [
    Mistake("learns-xor", lambda: (0, 1, 1, 0),
            "you predicted that it learns XOR: nothing in -sum y log p involves the rows with y = 0, so nothing "
            "pushes their output down"),
    Mistake("all-zero", lambda: (0, 0, 0, 0),
            "you predicted everything 0: minimising -y log p makes log p larger, i.e. p closer to 1, for the "
            "y = 1 rows"),
    Mistake("only-positives-up", lambda: (0, 1, 1, 1),
            "you kept 00 at 0: the y = 0 rows have no term in the loss, but they share every weight (and the "
            "output bias) with the y = 1 rows, and in this network the steps that raise the y = 1 outputs raise "
            "theirs too"),
]


def check_half_ce_prediction(predict_labels) -> CheckResult:
    """Exercise 8.5: the four labels (for inputs 00, 01, 10, 11) the article's 5(1) network outputs after training."""
    prediction = learner_call("8.5", predict_labels)
    truth, probabilities = half_ce_truth()
    return check_value("8.5", prediction, truth, name="your four labels (for 00, 01, 10, 11)",
                       mistakes=PREDICTION_MISTAKES,
                       hint="follow the gradient of exercise 8.4 for a y = 1 row and for a y = 0 row",
                       success=f"the trained network gives p = {list(probabilities)}, labels {truth}")
