"""Chapter 08 checks: each accepts two different right answers, diagnoses typical wrong ones by their mistake id,
and fails an answer that hands the work to dlcore's reference (or, for the loader, to torch's DataLoader)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.exercises import ch08
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted, implementation
from dlcore.training import torch_loop
from tests.helpers import not_done


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


# ---------------------------------------------------------------- 8.1 a Dataset and a loader

class DatasetA(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x = torch.tensor(x, dtype=torch.float32)
        self.y = torch.tensor(y, dtype=torch.int64)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index], self.y[index]


class LoaderA:
    def __init__(self, dataset, batch_size, shuffle=False, seed=0):
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            examples = [self.dataset[int(i)] for i in order[start:start + self.batch_size]]
            yield torch.stack([x for x, _ in examples]), torch.stack([y for _, y in examples])


class DatasetB:
    """Not a torch Dataset subclass; numpy rows turned into tensors per item."""

    def __init__(self, x, y):
        self.rows = np.asarray(x, dtype=np.float32)
        self.labels = np.asarray(y, dtype=np.int64)

    def __len__(self):
        return self.labels.shape[0]

    def __getitem__(self, index):
        return torch.from_numpy(self.rows[index]), torch.tensor(self.labels[index])


class LoaderB:
    """A NumPy generator for the order, batches gathered by index lists."""

    def __init__(self, dataset, batch_size, shuffle=False, seed=0):
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        indices = self.rng.permutation(len(self.dataset)) if self.shuffle else np.arange(len(self.dataset))
        for batch in range(len(self)):
            pairs = [self.dataset[int(i)] for i in indices[batch * self.batch_size:(batch + 1) * self.batch_size]]
            yield torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


@pytest.mark.parametrize("dataset_class, loader_class", [(DatasetA, LoaderA), (DatasetB, LoaderB)])
def test_data_pipeline_right_answers_pass_and_are_used(dataset_class, loader_class):
    assert ch08.check_data_pipeline(dataset_class, loader_class).passed
    assert implementation("ArrayDataset", torch_loop.ArrayDataset, label="8.1", quiet=True) is dataset_class
    assert accepted("MiniBatchLoader") is loader_class


@pytest.mark.parametrize("mistake", [m.id for m in ch08.LOADER_MISTAKES])
def test_data_pipeline_mistakes_are_diagnosed(mistake):
    with pytest.raises(ExerciseFailed) as caught:
        ch08.check_data_pipeline(partial(ch08._FlawedDataset, flaw=mistake), partial(ch08._FlawedLoader, flaw=mistake))
    assert caught.value.mistake == mistake
    assert accepted("MiniBatchLoader") is None


class LoaderWithoutIndices(LoaderA):
    """Batches of the dataset's own tensors sliced directly: it never shuffles the pairs apart, but labels
    drawn in another order than the features are caught."""

    def __iter__(self):
        n = len(self.dataset)
        features = torch.randperm(n, generator=self.generator)
        labels = torch.randperm(n, generator=self.generator)
        for start in range(0, n, self.batch_size):
            yield (torch.stack([self.dataset[int(i)][0] for i in features[start:start + self.batch_size]]),
                   torch.stack([self.dataset[int(i)][1] for i in labels[start:start + self.batch_size]]))


def test_data_pipeline_unpaired_batches_fail():
    with pytest.raises(ExerciseFailed, match="every example once per epoch, with its own label"):
        ch08.check_data_pipeline(DatasetA, LoaderWithoutIndices)


def test_data_pipeline_that_delegates_fails():
    class TorchLoader:
        def __init__(self, dataset, batch_size, shuffle=False, seed=0):
            generator = torch.Generator().manual_seed(seed)
            self.loader = torch.utils.data.DataLoader(dataset, batch_size, shuffle=shuffle, generator=generator)

        def __len__(self):
            return len(self.loader)

        def __iter__(self):
            return iter(self.loader)

    class CourseDataset(torch_loop.ArrayDataset):
        pass

    for dataset_class, loader_class in [(DatasetA, TorchLoader), (CourseDataset, LoaderA)]:
        with pytest.raises(ExerciseFailed) as caught:
            ch08.check_data_pipeline(dataset_class, loader_class)
        assert caught.value.mistake == "delegates-to-reference"


def test_data_pipeline_not_done():
    class Stub:
        def __init__(self, *args, **kwargs):
            not_done()

    with pytest.raises(NotImplementedError, match="Exercise 8.1 is not done yet"):
        ch08.check_data_pipeline(Stub, LoaderA)


# ---------------------------------------------------------------- 8.2 an epoch and an evaluation

def train_epoch_a(model, loader, optimizer, device):
    model.train()
    total, count = 0.0, 0
    for x_batch, y_batch in loader:
        x_batch, y_batch = x_batch.to(device), y_batch.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    return total / count


def evaluate_a(model, loader, device):
    model.eval()
    losses, hits, count = [], 0, 0
    with torch.no_grad():
        for x_batch, y_batch in loader:
            logits = model(x_batch.to(device))
            y_batch = y_batch.to(device)
            losses.append(F.cross_entropy(logits, y_batch, reduction="none"))
            hits += int((logits.argmax(1) == y_batch).sum())
            count += len(y_batch)
    return torch.cat(losses).mean().item(), hits / count


def train_epoch_b(model, loader, optimizer, device):
    """model.zero_grad() instead of the optimizer's; per-example losses summed."""
    model.train(True)
    sums = []
    sizes = []
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        model.zero_grad(set_to_none=True)
        per_example = F.cross_entropy(model(inputs), targets, reduction="none")
        per_example.mean().backward()
        optimizer.step()
        sums.append(per_example.detach().sum())
        sizes.append(len(targets))
    return float(torch.stack(sums).sum() / sum(sizes))


@torch.inference_mode()
def evaluate_b(model, loader, device):
    model.train(False)
    x = torch.cat([xb for xb, _ in loader]).to(device)
    y = torch.cat([yb for _, yb in loader]).to(device)
    logits = model(x)
    return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).float().mean().item()


@pytest.mark.parametrize("train_epoch, evaluate", [(train_epoch_a, evaluate_a), (train_epoch_b, evaluate_b)])
def test_training_loop_right_answers_pass_and_are_used(train_epoch, evaluate):
    assert ch08.check_training_loop(train_epoch, evaluate).passed
    assert implementation("train_epoch", torch_loop.train_epoch, label="8.2", quiet=True) is train_epoch
    assert accepted("evaluate") is evaluate


@pytest.mark.parametrize("mistake", [m.id for m in ch08.LOOP_MISTAKES])
def test_training_loop_mistakes_are_diagnosed(mistake):
    with pytest.raises(ExerciseFailed) as caught:
        ch08.check_training_loop(partial(ch08._flawed_train_epoch, flaw=mistake),
                                 partial(ch08._flawed_evaluate, flaw=mistake))
    assert caught.value.mistake == mistake
    assert accepted("train_epoch") is None


def test_training_loop_spy_sees_each_mode_mistake_alone():
    """The model's recorded modes, not the numbers, reveal these: the trained weights are the right ones."""
    def no_train_mode(model, loader, optimizer, device):
        total, count = 0.0, 0
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x_batch), y_batch)
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(y_batch), count + len(y_batch)
        return total / count

    with pytest.raises(ExerciseFailed, match="left in evaluation mode") as caught:
        ch08.check_training_loop(no_train_mode, evaluate_a)
    assert caught.value.mistake == "no-train-mode"

    def with_graph(model, loader, device):
        model.eval()
        x = torch.cat([xb for xb, _ in loader])
        y = torch.cat([yb for _, yb in loader])
        logits = model(x)
        return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).double().mean().item()

    with pytest.raises(ExerciseFailed, match="built an autograd graph"):
        ch08.check_training_loop(train_epoch_a, with_graph)


def test_training_loop_that_delegates_fails():
    def delegates(model, loader, optimizer, device):
        return torch_loop.train_epoch(model, loader, optimizer, device)

    with pytest.raises(ExerciseFailed, match="course's own version") as caught:
        ch08.check_training_loop(delegates, evaluate_a)
    assert caught.value.mistake == "delegates-to-reference"


def test_training_loop_not_done_and_crash():
    with pytest.raises(NotImplementedError, match="Exercise 8.2 is not done yet"):
        ch08.check_training_loop(not_done, evaluate_a)
    with pytest.raises(ExerciseFailed, match="raised"):
        ch08.check_training_loop(lambda model, loader, optimizer, device: model(loader), evaluate_a)


# ---------------------------------------------------------------- 8.3 a checkpoint

def save_a(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, path)


def load_a(path, model, optimizer, device):
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]


def save_b(path, model, optimizer, epoch):
    """A list instead of a dict, opened file object."""
    with open(path, "wb") as file:
        torch.save([epoch, model.state_dict(), optimizer.state_dict()], file)


def load_b(path, model, optimizer, device):
    epoch, model_state, optimizer_state = torch.load(str(path), weights_only=True)
    model.load_state_dict(model_state)
    optimizer.load_state_dict(optimizer_state)
    model.to(device)
    return int(epoch)


@pytest.mark.parametrize("save, load", [(save_a, load_a), (save_b, load_b)])
def test_checkpoint_right_answers_pass_and_are_used(save, load):
    assert ch08.check_checkpoint(save, load).passed
    assert implementation("save_checkpoint", torch_loop.save_checkpoint, label="8.3", quiet=True) is save
    assert accepted("load_checkpoint") is load


@pytest.mark.parametrize("mistake", [m.id for m in ch08.CHECKPOINT_MISTAKES])
def test_checkpoint_mistakes_are_diagnosed(mistake):
    with pytest.raises(ExerciseFailed) as caught:
        ch08.check_checkpoint(partial(ch08._flawed_save, flaw=mistake), partial(ch08._flawed_load, flaw=mistake))
    assert caught.value.mistake == mistake


def test_checkpoint_rebinding_the_model_is_diagnosed():
    def save_whole(path, model, optimizer, epoch):
        torch.save({"model": model, "optimizer": optimizer.state_dict(), "epoch": epoch}, path)

    def load_whole(path, model, optimizer, device):
        checkpoint = torch.load(path, weights_only=False)
        model = checkpoint["model"]  # noqa: F841 - the mistake shown: it rebinds the local name only
        optimizer.load_state_dict(checkpoint["optimizer"])
        return checkpoint["epoch"]

    with pytest.raises(ExerciseFailed) as caught:
        ch08.check_checkpoint(save_whole, load_whole)
    assert caught.value.mistake == "model-not-loaded"


def test_checkpoint_that_delegates_fails():
    def delegates(path, model, optimizer, epoch):
        torch_loop.save_checkpoint(path, model, optimizer, epoch)

    with pytest.raises(ExerciseFailed) as caught:
        ch08.check_checkpoint(delegates, load_a)
    assert caught.value.mistake == "delegates-to-reference"


def test_checkpoint_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 8.3 is not done yet"):
        ch08.check_checkpoint(not_done, load_a)


# ---------------------------------------------------------------- 8.4 half cross-entropy gradient

def _sigmoid(s):
    return 0.5 * (1 + np.tanh(0.5 * s))


def test_half_ce_gradient_right_answers_pass():
    assert ch08.check_half_ce_gradient(lambda s, y: -y * (1 - _sigmoid(s))).passed
    assert ch08.check_half_ce_gradient(lambda s, y: -y * _sigmoid(-s)).passed  # 1 - sigma(s) = sigma(-s)


@pytest.mark.parametrize("mistake", [m.id for m in ch08.HALF_CE_MISTAKES])
def test_half_ce_gradient_mistakes_are_diagnosed(mistake):
    wrong = next(m for m in ch08.HALF_CE_MISTAKES if m.id == mistake)
    with pytest.raises(ExerciseFailed) as caught:
        ch08.check_half_ce_gradient(lambda s, y: wrong.compute(s, y))
    assert caught.value.mistake == mistake


def test_half_ce_gradient_overflow_is_caught():
    with pytest.raises(ExerciseFailed, match="warned"):
        ch08.check_half_ce_gradient(lambda s, y: -y * (1 - 1 / (1 + np.exp(-s))))


def test_half_ce_gradient_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 8.4 is not done yet"):
        ch08.check_half_ce_gradient(not_done)


# ---------------------------------------------------------------- 8.5 prediction

def test_half_ce_prediction_truth_is_all_ones():
    labels, probabilities = ch08.half_ce_truth()
    assert labels == (1, 1, 1, 1)
    assert all(p > 0.5 for p in probabilities)
    assert ch08.check_half_ce_prediction(lambda: (1, 1, 1, 1)).passed
    assert ch08.check_half_ce_prediction(lambda: [1, 1, 1, 1]).passed


@pytest.mark.parametrize("prediction, mistake", [((0, 1, 1, 0), "learns-xor"), ((0, 0, 0, 0), "all-zero"),
                                                 ((0, 1, 1, 1), "only-positives-up")])
def test_half_ce_prediction_mistakes_are_diagnosed(prediction, mistake):
    with pytest.raises(ExerciseFailed) as caught:
        ch08.check_half_ce_prediction(lambda: prediction)
    assert caught.value.mistake == mistake
    assert "0.95" not in str(caught.value)  # a wrong prediction is not told the answer


@pytest.mark.parametrize("prediction, message", [((1, 1, 1), "shape"), ("1111", "has shape"),
                                                 ((1, 0, 0, 1), "is not right")])
def test_half_ce_prediction_malformed_or_unknown(prediction, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch08.check_half_ce_prediction(lambda: prediction)


def test_half_ce_prediction_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 8.5 is not done yet"):
        ch08.check_half_ce_prediction(not_done)
