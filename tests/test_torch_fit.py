"""The shared batch iterator and PyTorch fit loop (dlcore.training.batches, dlcore.training.torch_fit).

Equality here is exact (torch.equal, ==): the loop must take the same steps, draw the same random
numbers and do the same float operations, in the same order, as the loop written out by hand.
Chapters 09, 13, 15 and the tests of their modules print numbers that depend on it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dlcore.errors import ShapeError
from dlcore.training.batches import index_batches, num_batches
from dlcore.training.torch_fit import fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

N, D, K = 37, 5, 3  # 37 examples: batches of 8 leave a last batch of 5


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn((N, D), generator=g, dtype=torch.float64)
    y = torch.randint(0, K, (N,), generator=g)
    return x, y


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(D, 7), nn.Tanh(), nn.Linear(7, K)).double()


def by_hand(model, x, y, optimizer, *, num_epochs, batch_size, rng, clip=None):
    """The loop as chapters wrote it before: permutation, slices, step, epoch mean of loss x batch size."""
    losses = []
    for _ in range(num_epochs):
        order = rng.permutation(N) if isinstance(rng, np.random.Generator) else torch.randperm(N, generator=rng)
        total = 0.0
        for start in range(0, N, batch_size):
            index = order[start:start + batch_size]
            loss = nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            total += loss.item() * len(index)
        losses.append(total / N)
    return losses


# ---------------------------------------------------------------- the batch iterator

@pytest.mark.parametrize("kind", ["numpy", "torch", "none"])
@pytest.mark.parametrize("num_examples, batch_size", [(37, 8), (32, 8), (5, 1), (3, 10), (1, 1)])
def test_batches_cover_every_index_once_per_epoch(kind, num_examples, batch_size):
    rng = {"numpy": np.random.default_rng(1), "torch": torch.Generator().manual_seed(1), "none": None}[kind]
    for _ in range(3):  # three epochs, three different orders (when shuffled)
        batches = list(index_batches(num_examples, batch_size, rng))
        assert len(batches) == num_batches(num_examples, batch_size) == -(-num_examples // batch_size)
        assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
        together = np.concatenate([np.asarray(b) for b in batches])
        assert sorted(together.tolist()) == list(range(num_examples))
        assert isinstance(batches[0], torch.Tensor) == (kind == "torch")
        if kind == "none":
            assert together.tolist() == list(range(num_examples))


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_drop_last_leaves_out_only_the_short_last_batch(kind):
    rng = np.random.default_rng(2) if kind == "numpy" else torch.Generator().manual_seed(2)
    batches = list(index_batches(37, 8, rng, drop_last=True))
    assert [len(b) for b in batches] == [8, 8, 8, 8] and num_batches(37, 8, drop_last=True) == 4
    kept = np.concatenate([np.asarray(b) for b in batches])
    assert len(set(kept.tolist())) == 32 and kept.max() < 37
    assert list(index_batches(3, 10, rng, drop_last=True)) == []


def test_batches_draw_one_permutation_when_called():
    rng, twin = np.random.default_rng(3), np.random.default_rng(3)
    batches = index_batches(20, 6, rng)  # drawn here, before the first batch is asked for
    expected = twin.permutation(20)
    assert rng.random() == twin.random()  # both generators have taken exactly one permutation
    assert np.array_equal(np.concatenate(list(batches)), expected)
    g, g_twin = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    assert torch.equal(torch.cat(list(index_batches(20, 6, g))), torch.randperm(20, generator=g_twin))
    assert torch.equal(g.get_state(), g_twin.get_state())


@pytest.mark.parametrize("call, error, message", [
    (lambda: index_batches(10, 0), ValueError, "index_batches: batch_size must be a positive integer, got 0"),
    (lambda: index_batches(10, 2.0), TypeError, "index_batches: batch_size must be a positive integer"),
    (lambda: index_batches(-1, 2), ValueError, "index_batches: num_examples must be an int >= 0"),
    (lambda: index_batches(10, 2, 42), TypeError, "index_batches: rng must be a numpy Generator"),
    (lambda: index_batches(10, 2, np.random.RandomState(0)), TypeError, "got RandomState"),
])
def test_batches_reject_bad_arguments_by_name(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(")):
        call()


# ---------------------------------------------------------------- the fit loop

@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("optimizer_name, clip", [("adam", None), ("sgd", None), ("adam", 0.5)])
def test_fit_takes_the_same_steps_as_the_loop_written_out(data, kind, optimizer_name, clip):
    x, y = data
    results = []
    for use_fit in (False, True):
        model = make_model()
        optimizer = (torch.optim.Adam(model.parameters(), lr=1e-2) if optimizer_name == "adam"
                     else torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
        rng = np.random.default_rng(5) if kind == "numpy" else torch.Generator().manual_seed(5)
        if use_fit:
            losses = fit(model, optimizer, lambda index: nn.functional.cross_entropy(model(x[index]), y[index]), N,
                         num_epochs=3, batch_size=8, rng=rng, clip_grad_norm=clip)["loss"]
        else:
            losses = by_hand(model, x, y, optimizer, num_epochs=3, batch_size=8, rng=rng, clip=clip)
        results.append((losses, [p.detach().clone() for p in model.parameters()]))
    (hand_losses, hand_params), (fit_losses, fit_params) = results
    assert fit_losses == hand_losses  # exactly, not approximately
    assert all(torch.equal(a, b) for a, b in zip(hand_params, fit_params))
    assert fit_losses[-1] < fit_losses[0]  # and it learns


def test_fit_keeps_draws_made_inside_batch_loss_in_order(data):
    """A batch loss that draws from the loop's own generator (noise, a VAE's z) gets the same numbers."""
    x, y = data
    runs = []
    for use_fit in (False, True):
        model, g = make_model(1), torch.Generator().manual_seed(6)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

        def batch_loss(index):
            noisy = x[index] + 0.1 * torch.randn(x[index].shape, generator=g, dtype=x.dtype)
            return nn.functional.cross_entropy(model(noisy), y[index])

        if use_fit:
            losses = fit(model, optimizer, batch_loss, N, num_epochs=2, batch_size=10, rng=g)["loss"]
        else:
            losses = []
            for _ in range(2):
                total = 0.0
                for index in torch.randperm(N, generator=g).split(10):
                    loss = batch_loss(index)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(index)
                losses.append(total / N)
        runs.append((losses, g.get_state()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])


def test_fit_averages_every_term_of_a_dict_over_the_examples(data):
    x, y = data
    model = make_model(2)
    seen = []

    def batch_loss(index):
        seen.append(len(index))
        loss = nn.functional.cross_entropy(model(x[index]), y[index])
        return {"size": torch.tensor(float(len(index))), "loss": loss, "twice": 2 * loss.detach()}

    history = fit(model, torch.optim.SGD(model.parameters(), lr=0.01), batch_loss, N, num_epochs=2, batch_size=8,
                  rng=np.random.default_rng(0))
    assert list(history) == ["loss", "size", "twice"]  # "loss" first
    assert seen == [8, 8, 8, 8, 5] * 2
    assert history["size"] == [(4 * 64 + 25) / N] * 2  # sum of (batch size x batch size) / N
    assert history["twice"] == pytest.approx([2 * v for v in history["loss"]], rel=1e-15)


def test_fit_calls_the_hooks_around_each_epoch_in_training_mode(data):
    x, y = data
    model = make_model(3)
    calls = []

    def batch_loss(index):
        calls.append(("batch", model.training))
        return nn.functional.cross_entropy(model(x[index]), y[index])

    def start(epoch):
        calls.append(("start", epoch))

    def end(epoch):
        calls.append(("end", epoch))
        model.eval()  # as an evaluation would; the next epoch must train again

    fit(model, torch.optim.SGD(model.parameters(), lr=0.01), batch_loss, N, num_epochs=2, batch_size=20,
        rng=np.random.default_rng(0), epoch_start=start, epoch_end=end)
    assert calls == [("start", 1), ("batch", True), ("batch", True), ("end", 1),
                     ("start", 2), ("batch", True), ("batch", True), ("end", 2)]


def test_fit_drop_last_trains_on_full_batches_only(data):
    x, y = data
    model = make_model(4)
    sizes = []

    def batch_loss(index):
        sizes.append(len(index))
        return nn.functional.cross_entropy(model(x[index]), y[index])

    history = fit(model, torch.optim.SGD(model.parameters(), lr=0.01), batch_loss, N, num_epochs=1, batch_size=8,
                  rng=np.random.default_rng(0), drop_last=True)
    assert sizes == [8, 8, 8, 8] and len(history["loss"]) == 1


def _bad_fit(data, **changes):
    x, y = data
    model = make_model()
    arguments = dict(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                     batch_loss=lambda index: nn.functional.cross_entropy(model(x[index]), y[index]),
                     num_examples=N, num_epochs=1, batch_size=8, rng=np.random.default_rng(0))
    arguments.update(changes)
    return fit(**arguments)


@pytest.mark.parametrize("changes, error, message", [
    (dict(batch_size=0), ValueError, "fit: batch_size must be a positive integer, got 0"),
    (dict(num_epochs=1.5), TypeError, "fit: num_epochs must be a positive integer, got float 1.5"),
    (dict(num_examples=0), ValueError, "fit: num_examples must be a positive integer"),
    (dict(rng=None), TypeError, "fit: rng is None"),
    (dict(rng=0), TypeError, "fit: rng must be a numpy Generator"),
    (dict(optimizer="adam"), TypeError, "fit: optimizer must be a torch.optim optimizer"),
    (dict(model=lambda x: x), TypeError, "fit: model must be a torch.nn.Module"),
    (dict(batch_loss=3.0), TypeError, "fit: batch_loss must be a function"),
    (dict(epoch_end="print"), TypeError, "fit: epoch_end must be a function"),
    (dict(clip_grad_norm=0.0), ValueError, "fit: clip_grad_norm must be a finite number > 0"),
    (dict(batch_size=40, drop_last=True), ValueError, "fit: drop_last with batch_size 40 > num_examples 37"),
])
def test_fit_rejects_bad_arguments_by_name(data, changes, error, message):
    with pytest.raises(error, match=message):
        _bad_fit(data, **changes)


def test_fit_rejects_a_batch_loss_that_is_not_one_number(data):
    x, y = data
    model = make_model()
    per_example = lambda index: nn.functional.cross_entropy(model(x[index]), y[index], reduction="none")  # noqa: E731
    with pytest.raises(ShapeError, match=r"fit: batch_loss returned a loss of shape \(8,\); expected a scalar"):
        _bad_fit(data, model=model, batch_loss=per_example)
    with pytest.raises(ValueError, match="it needs a 'loss' entry"):
        _bad_fit(data, batch_loss=lambda index: {"kl": torch.tensor(0.0)})
    with pytest.raises(TypeError, match="got float"):
        _bad_fit(data, batch_loss=lambda index: 0.5)
