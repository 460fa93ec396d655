"""Properties of the from-scratch sequence models (a per-step classifier, a character-level LSTM): equal to
PyTorch's Embedding/RNN/LSTM/GRU/Linear stacks, one training step equal to torch.optim, bad input named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from dlcore.errors import ShapeError
from dlcore.scratch import char_lstm as CL
from dlcore.scratch import lstm as L
from dlcore.scratch import rnn as R
from dlcore.scratch import sequence_model as SM
from tests.property_kit import check_mutations, close, covers, rejects, torch_of
from tests.test_properties_recurrent import ATOL, KINDS, NAN, torch_layer

covers(
    CL.CharLSTM, CL.train_char_lstm, CL.char_lstm_loss, CL.sample_char_lstm,
    SM.SequenceClassifier, SM.per_step_accuracy, SM.train_sequence_classifier,
)


def torch_classifier(model, kind):
    recurrent = torch_layer(kind, dict(x=np.zeros((1, 1, model.recurrent.input_size)),
                                       h0=np.zeros((1, model.recurrent.hidden_size)),
                                       **dict(zip(("W_ih", "W_hh", "b_ih", "b_hh"), model.recurrent.weights()))))
    head = torch.nn.Linear(model.head.W.shape[0], model.head.W.shape[1]).double()
    with torch.no_grad():
        head.weight.copy_(torch_of(model.head.W.value.T))
        head.bias.copy_(torch_of(model.head.b.value))
    return recurrent, head


@pytest.mark.parametrize("kind", KINDS)
@given(T=st.integers(1, 4), N=st.integers(2, 4), D=st.integers(1, 3), K=st.integers(2, 3), seed=st.integers(0, 99))
def test_sequence_classifier_and_one_training_step_equal_torch(kind, T, N, D, K, seed):
    rng = np.random.default_rng(seed)
    model = SM.SequenceClassifier(kind, D, 3, K, rng=np.random.default_rng(seed))
    X, y = rng.normal(size=(N, T, D)), rng.integers(0, K, size=(N, T))
    recurrent, head = torch_classifier(model, kind)
    logits_t = head(recurrent(torch_of(X.transpose(1, 0, 2)))[0])  # (T, N, K)
    close(model(X.transpose(1, 0, 2)), logits_t, atol=ATOL)
    close(SM.per_step_accuracy(model, X, y), (logits_t.argmax(2).numpy() == y.T).mean(axis=1))
    dlogits = rng.normal(size=(T, N, K))
    x_t = torch_of(X.transpose(1, 0, 2), True)
    (head(recurrent(x_t)[0]) * torch_of(dlogits)).sum().backward()
    close(model.backward(dlogits), x_t.grad, atol=ATOL)

    # one step of training: the same batch, loss, clipped gradient and Adam step as torch.optim
    model.zero_grad()
    recurrent, head = torch_classifier(model, kind)
    params = list(recurrent.parameters()) + list(head.parameters())
    for p in params:
        p.grad = None
    batch = np.random.default_rng(seed + 1).choice(N, size=2, replace=False)
    logits_t = head(recurrent(torch_of(X[batch].transpose(1, 0, 2)))[0])
    loss_t = F.cross_entropy(logits_t.reshape(-1, K), torch.from_numpy(y[batch].T.reshape(-1)))
    loss_t.backward()
    norm_t = torch.nn.utils.clip_grad_norm_(params, 0.5)
    torch.optim.Adam(params, lr=0.01).step()
    history = SM.train_sequence_classifier(model, X, y, num_steps=1, batch_size=2, learning_rate=0.01, max_norm=0.5,
                                           rng=np.random.default_rng(seed + 1))
    assert history["loss"][0] == pytest.approx(loss_t.item(), rel=1e-10)
    assert history["grad_norm"][0] == pytest.approx(norm_t.item(), rel=1e-10)
    close(model.recurrent.weight_hh_l0.value, recurrent.weight_hh_l0, atol=ATOL)
    close(model.head.W.value, head.weight.T, atol=ATOL)


TEXT = "the cat sat on the mat; the rat ate the cat."


def torch_char_lstm(model):
    V, E = model.embedding.weight.shape
    embedding = torch.nn.Embedding(V, E).double()
    lstm = torch.nn.LSTM(E, model.hidden_size).double()
    head = torch.nn.Linear(model.hidden_size, V).double()
    with torch.no_grad():
        embedding.weight.copy_(torch_of(model.embedding.weight.value))
        for key, value in zip(R.PARAMETER_NAMES, model.weights()):
            getattr(lstm, key).copy_(torch_of(value))
        head.weight.copy_(torch_of(model.head.W.value.T))
        head.bias.copy_(torch_of(model.head.b.value))
    return lambda ids, state=None: _torch_logits(embedding, lstm, head, ids, state), [embedding, lstm, head]


def _torch_logits(embedding, lstm, head, ids, state):
    out, state = lstm(embedding(torch.from_numpy(ids)), state)
    return head(out), state


@given(T=st.integers(1, 4), N=st.integers(1, 3), E_=st.integers(1, 3), Hh=st.integers(1, 3), seed=st.integers(0, 99))
def test_char_lstm_equals_torch_embedding_lstm_linear(T, N, E_, Hh, seed):
    vocabulary = CL.build_vocabulary(TEXT)
    V = len(vocabulary)
    model = CL.CharLSTM(V, E_, Hh, rng=np.random.default_rng(seed))
    ids = np.random.default_rng(seed + 1).integers(0, V, size=(T, N))
    reference, modules = torch_char_lstm(model)
    logits_t, _ = reference(ids)
    logits, (h, c), caches = model.run(ids, L.lstm_cell_forward)
    close(logits, logits_t, atol=ATOL)
    dlogits = np.random.default_rng(seed + 2).normal(size=logits.shape)
    (logits_t * torch_of(dlogits)).sum().backward()
    model.zero_grad()
    model.backward(dlogits, caches, L.lstm_cell_backward)
    embedding, lstm, head = modules
    close(model.embedding.weight.grad, embedding.weight.grad, atol=ATOL)
    for key in R.PARAMETER_NAMES:
        close(getattr(model, key).grad, getattr(lstm, key).grad, atol=ATOL)
    close(model.head.W.grad, head.weight.grad.T, atol=ATOL)


@given(seed=st.integers(0, 99), streams=st.integers(1, 3), warmup=st.integers(0, 3), temperature=st.sampled_from(
    [0.0, 0.5, 2.0]))
def test_char_lstm_training_loss_and_sampling_follow_their_formulas(seed, streams, warmup, temperature):
    model, vocabulary, losses = CL.train_char_lstm(TEXT, L.lstm_cell_forward, L.lstm_cell_backward, hidden_size=3,
                                                   embedding_dim=2, seq_len=4, batch_size=2, num_steps=1,
                                                   learning_rate=0.05, max_norm=0.5, seed=seed)
    # the first loss: the same initial model and window as a fresh generator of that seed draws, scored by torch
    rng = np.random.default_rng(seed)
    start = CL.CharLSTM(len(vocabulary), 2, 3, rng=rng)
    x, y = CL.make_char_windows(CL.encode(TEXT, vocabulary), 4, 2, seed=rng)
    reference, modules = torch_char_lstm(start)
    logits_t, _ = reference(x.T)
    loss_t = F.cross_entropy(logits_t.reshape(-1, len(vocabulary)), torch.from_numpy(y.T.reshape(-1)))
    assert losses == [pytest.approx(loss_t.item(), rel=1e-10)]
    params = [p for m in modules for p in m.parameters()]
    loss_t.backward()
    torch.nn.utils.clip_grad_norm_(params, 0.5)
    torch.optim.Adam(params, lr=0.05).step()
    close(model.weight_hh_l0.value, modules[1].weight_hh_l0, atol=ATOL)
    close(model.embedding.weight.value, modules[0].weight, atol=ATOL)

    # held-out loss: streams read side by side, the first `warmup` predictions of each not counted
    reference, _ = torch_char_lstm(model)
    ids = CL.encode(TEXT, vocabulary)
    T = (ids.size - 1) // streams
    inputs, targets = ids[:T * streams].reshape(streams, T).T, ids[1:T * streams + 1].reshape(streams, T).T
    logits_t, _ = reference(inputs)
    expected = F.cross_entropy(logits_t[warmup:].reshape(-1, len(vocabulary)),
                               torch.from_numpy(targets[warmup:].reshape(-1)))
    loss = CL.char_lstm_loss(model, vocabulary, TEXT, L.lstm_cell_forward, num_streams=streams, warmup=warmup)
    assert loss == pytest.approx(expected.item(), rel=1e-10)

    # sampling: feed the prompt, then draw from softmax(logits / temperature) (argmax at temperature 0)
    text = CL.sample_char_lstm(model, vocabulary, "the", 4, L.lstm_cell_forward, temperature=temperature, seed=seed)
    rng, state, prompt = np.random.default_rng(seed), None, CL.encode("the", vocabulary).reshape(-1, 1)
    logits_t, state = reference(prompt)
    chars = []
    for _ in range(4):
        last = logits_t[-1, 0].detach().numpy()
        if temperature == 0:
            next_id = int(np.argmax(last))
        else:
            p = torch.softmax(torch.from_numpy(last / temperature), 0).numpy()
            next_id = int(rng.choice(len(vocabulary), p=p / p.sum()))
        chars.append(vocabulary[next_id])
        logits_t, state = reference(np.array([[next_id]]), state)
    assert text == "the" + "".join(chars)


# ---------------------------------------------------------------- bad input


def test_models_and_training_name_the_bad_argument():
    rng = np.random.default_rng(0)
    check_mutations(lambda input_size, hidden_size, num_classes: SM.SequenceClassifier(
        "gru", input_size, hidden_size, num_classes, rng=rng), dict(input_size=2, hidden_size=3, num_classes=2))
    rejects(lambda: SM.SequenceClassifier("transformer", 2, 3, 2, rng=rng), "kind")
    rejects(lambda: SM.SequenceClassifier("rnn", 2, 3, 2, rng=None), "rng", kinds=(TypeError,))
    model = SM.SequenceClassifier("lstm", 2, 3, 2, rng=rng)
    X, y = rng.normal(size=(6, 4, 2)), rng.integers(0, 2, size=(6, 4))
    check_mutations(lambda X, y: SM.per_step_accuracy(model, X, y), dict(X=X, y=y), accepts={"X": NAN})
    rejects(lambda: SM.per_step_accuracy(model, X, y[:, :1]), "y")  # once: broadcast to a (T,) accuracy
    rejects(lambda: SM.per_step_accuracy(model, X, y.astype(float)), "y", kinds=(TypeError,))
    rejects(lambda: SM.per_step_accuracy(model, X[:, :0], y[:, :0]), "X")
    model(X.transpose(1, 0, 2))
    rejects(lambda: model.backward(np.ones((4, 6, 3))), "dlogits")
    train = dict(X=X, y=y, num_steps=1, batch_size=2, learning_rate=0.01, max_norm=1.0)
    check_mutations(lambda **kw: SM.train_sequence_classifier(model, **kw, rng=np.random.default_rng(0)), train,
                    accepts={"X": NAN})
    rejects(lambda: SM.train_sequence_classifier(model, X, y, batch_size=7, rng=rng), "batch_size")
    rejects(lambda: SM.train_sequence_classifier(model, X, y, batch_size=2, rng=0), "rng", kinds=(TypeError,))

    check_mutations(lambda vocab_size, embedding_dim, hidden_size: CL.CharLSTM(
        vocab_size, embedding_dim, hidden_size, rng=rng), dict(vocab_size=5, embedding_dim=2, hidden_size=3))
    rejects(lambda: CL.CharLSTM(5, 2, 3, rng=None), "rng", kinds=(TypeError,))
    cell = (L.lstm_cell_forward, L.lstm_cell_backward)
    options = dict(hidden_size=3, embedding_dim=2, seq_len=4, batch_size=2, num_steps=1, learning_rate=0.05,
                   max_norm=1.0, seed=0)
    check_mutations(lambda **kw: CL.train_char_lstm(TEXT, *cell, **kw), options, accepts={"seed": ("zero",)})
    rejects(lambda: CL.train_char_lstm("abc", *cell, seq_len=4), "text")  # once: named make_char_windows' ids
    rejects(lambda: CL.train_char_lstm(TEXT, *cell, vocabulary="abc"), "vocabulary")
    rejects(lambda: CL.train_char_lstm(TEXT, "lstm", cell[1]), "cell_forward", kinds=(TypeError,))
    model, vocabulary, _ = CL.train_char_lstm(TEXT, *cell, **options)
    check_mutations(lambda **kw: CL.char_lstm_loss(model, vocabulary, TEXT, cell[0], **kw),
                    dict(num_streams=2, warmup=1), accepts={"warmup": ("zero",)})
    rejects(lambda: CL.char_lstm_loss(model, vocabulary, TEXT, cell[0], num_streams=8, warmup=5), "text")
    rejects(lambda: CL.char_lstm_loss(model, vocabulary[:-1], TEXT, cell[0]), "vocabulary")
    rejects(lambda: CL.char_lstm_loss(cell, vocabulary, TEXT, cell[0]), "model", kinds=(TypeError,))
    check_mutations(lambda **kw: CL.sample_char_lstm(model, vocabulary, "the", cell_forward=cell[0], **kw),
                    dict(length=3, temperature=0.5, seed=1), accepts={"length": ("zero",), "seed": ("zero",)})
    rejects(lambda: CL.sample_char_lstm(model, vocabulary, "", 3, cell[0]), "prompt")  # once: IndexError
    rejects(lambda: CL.sample_char_lstm(model, vocabulary, "THE", 3, cell[0]), "prompt")
    rejects(lambda: CL.sample_char_lstm(model, vocabulary, "the", 3, cell[0], temperature=-1.0), "temperature")
    rejects(lambda: model.run(np.ones(3, dtype=int), cell[0]), "ids", kinds=(ShapeError,))
