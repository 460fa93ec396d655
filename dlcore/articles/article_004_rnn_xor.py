"""Article 004, section 5(3): a PyTorch RNN on XOR, as given and corrected (chapter 11).

The article's program, in short::

    X = [[0,0],[0,1],[1,0],[1,1]]                      # a 2-D tensor (4, 2)
    rnn = nn.RNN(input_size=2, hidden_size=2, batch_first=True)
    r_output, h_n = rnn(x, h);  output = linear(r_output[:, -1, :])
    h_state = None
    for epoch in range(1000):
        outputs, h_state = model(inputs, h_state)      # the state of the last iteration goes back in
        loss.backward(); optimizer.step()

What goes wrong, in the order a learner meets it:

1. ``IndexError: too many indices for tensor of dimension 2``. nn.RNN reads a
   2-D input as ONE unbatched sequence (L, H_in): four time steps of two
   features, not four examples. Its output is then (4, 2) and ``[:, -1, :]``
   asks for a third axis that is not there. ``batch_first=True`` only swaps the
   first two axes of a 3-D input; it does not turn a 2-D tensor into a batch.
2. Made 3-D, (N, T, D) = (4, 1, 2), the first step trains, the second stops with
   ``RuntimeError: Trying to backward through the graph a second time``:
   ``h_state`` is the output of the previous iteration's graph, which
   ``backward()`` has already freed, so the new loss reaches back into it.
3. ``h_state.detach()`` silences the error but not the mistake: the four
   examples are unrelated sequences, yet each one starts from the state the
   previous epoch left for it, and the test (h = None) runs differently from
   training. With T = 1 the recurrence is not used at all: the model is an MLP.

The correct version treats each XOR pair as what a recurrent net should see, a
sequence of two bits, (N, T, D) = (4, 2, 1), starts every batch from h0 = 0,
and reads the answer from the last step.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ArticleRNN", "xor_tensors", "run_as_given", "run_with_batch_axis", "run_detached", "SequenceXOR",
           "train_fixed", "ArticleRun"]


def _torch():
    import torch

    return torch


def xor_tensors():
    """The article's data: inputs (4, 2) float32 and labels (4, 1)."""
    torch = _torch()
    return (torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32),
            torch.tensor([0, 1, 1, 0], dtype=torch.float32).view(-1, 1))


def _article_model():
    nn = _torch().nn

    class ArticleRNN(nn.Module):
        """The article's model, unchanged: an RNN (2 -> 2, batch_first) and a linear read-out of the last step."""

        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(input_size=2, hidden_size=2, batch_first=True)
            self.linear = nn.Linear(in_features=2, out_features=1)

        def forward(self, x, h):
            r_output, h_n = self.rnn(x, h)
            return self.linear(r_output[:, -1, :]), h_n

    return ArticleRNN


def ArticleRNN():  # noqa: N802 - a factory, so that importing this module does not import torch
    """A new instance of the article's model class."""
    return _article_model()()


@dataclass
class ArticleRun:
    """What a run of one version did: the error it stopped with (if any), at which epoch, and its accuracy."""

    error: str | None
    epoch: int | None
    accuracy: float | None
    losses: list[float]


def _loop(inputs_fn, state_fn, num_epochs: int, seed: int) -> ArticleRun:
    torch = _torch()
    torch.manual_seed(seed)
    model = ArticleRNN()
    criterion = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    inputs, labels = xor_tensors()
    h_state, losses = None, []
    for epoch in range(num_epochs):
        try:
            outputs, h_state = model(inputs_fn(inputs), h_state)
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
        except (IndexError, RuntimeError) as error:
            return ArticleRun(f"{type(error).__name__}: {str(error).splitlines()[0].split(' (or')[0]}", epoch, None,
                              losses)
        optimizer.step()
        h_state = state_fn(h_state)
        losses.append(loss.item())
    with torch.no_grad():
        result, _ = model(inputs_fn(inputs), None)
    accuracy = float((torch.round(torch.sigmoid(result)) == labels).float().mean())
    return ArticleRun(None, None, accuracy, losses)


def run_as_given(num_epochs: int = 1000, seed: int = 0) -> ArticleRun:
    """The article's loop as written: stops at epoch 0 with an IndexError (2-D input = one unbatched sequence)."""
    return _loop(lambda x: x, lambda h: h, num_epochs, seed)


def run_with_batch_axis(num_epochs: int = 1000, seed: int = 0) -> ArticleRun:
    """Input made (4, 1, 2): four sequences of one step. Stops at epoch 1: backward through a freed graph."""
    return _loop(lambda x: x.view(4, 1, 2), lambda h: h, num_epochs, seed)


def run_detached(num_epochs: int = 1000, seed: int = 0) -> ArticleRun:
    """As above with ``h_state.detach()``: runs, but carries each example's state into the next epoch."""
    return _loop(lambda x: x.view(4, 1, 2), lambda h: h.detach(), num_epochs, seed)


def _sequence_model():
    nn = _torch().nn

    class SequenceXOR(nn.Module):
        """XOR as a sequence task: read x1 then x2 (T = 2, D = 1), classify from the final hidden state."""

        def __init__(self, hidden_size: int = 8):
            super().__init__()
            self.rnn = nn.RNN(input_size=1, hidden_size=hidden_size, batch_first=True)
            self.linear = nn.Linear(hidden_size, 1)

        def forward(self, x):  # x: (N, T, 1); no state argument: every sequence starts from h0 = 0
            _, h_n = self.rnn(x)  # h_n: (1, N, Hh), the state after the last step
            return self.linear(h_n[0])  # (N, 1) logits

    return SequenceXOR


def SequenceXOR(hidden_size: int = 8):  # noqa: N802 - a factory, as ArticleRNN
    """A new instance of the corrected model."""
    return _sequence_model()(hidden_size)


def train_fixed(num_epochs: int = 300, seed: int = 0, learning_rate: float = 0.05):
    """Train the corrected model on the four XOR pairs as sequences of two bits.

    Returns:
        (model, ArticleRun) with the loss per epoch and the final accuracy.
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = SequenceXOR()
    criterion = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    inputs, labels = xor_tensors()
    sequences = inputs.unsqueeze(-1)  # (N, T) -> (N, T, D) = (4, 2, 1): two time steps of one bit
    losses = []
    for _ in range(num_epochs):
        loss = criterion(model(sequences), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        accuracy = float((model(sequences) > 0).float().eq(labels).float().mean())
    return model, ArticleRun(None, None, accuracy, losses)
