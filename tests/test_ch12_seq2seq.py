"""Chapter 12: the toy translation data and the GRU encoder-decoder."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
import torch

from dlcore.data.translation import (EOS, PAD, SOS, Vocabulary, batches, encode_pairs, format_date, make_dates,
                                     make_pairs, make_reversal, make_sorting, pad_sequences)
from dlcore.models.seq2seq import Seq2Seq, accuracy_by_length, exact_match, sequence_loss, train_seq2seq, translate


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_vocabulary_round_trip_and_errors():
    vocab = Vocabulary("hello")
    assert vocab.tokens[:3] == ("<pad>", "<sos>", "<eos>") and len(vocab) == 3 + 4
    ids = vocab.encode("hole")
    assert vocab.decode([SOS] + ids + [EOS, 5, PAD]) == "hole"
    with pytest.raises(ValueError, match=r"\['x', 'z'\] not in the vocabulary"):
        vocab.encode("zex")


def test_tasks_are_deterministic_and_correct():
    assert make_reversal(20, seed=3) == make_reversal(20, seed=3) != make_reversal(20, seed=4)
    for source, target in make_reversal(50, min_length=2, max_length=5, seed=0):
        assert target == source[::-1] and 2 <= len(source) <= 5
    for source, target in make_sorting(50, seed=0):
        assert target == "".join(sorted(source))
    for source, target in make_dates(200, seed=0):
        date = datetime.date.fromisoformat(target)
        assert source in {format_date(date, style) for style in ("long", "short", "us", "slash", "dotted")}
    assert format_date(datetime.date(2021, 3, 3), "long") == "3 March 2021"
    assert format_date(datetime.date(2021, 3, 3), "us") == "March 3, 2021"
    with pytest.raises(ValueError, match="unknown task"):
        make_pairs("translate", 3)


def test_encoding_padding_and_batches():
    data = encode_pairs([("abc", "cba"), ("a", "a"), ("ab", "ba")])
    assert data.source.tolist()[1] == [data.source_vocab.index["a"], PAD, PAD]
    assert data.source_lengths.tolist() == [3, 1, 2]
    assert data.target[0, 0] == SOS and data.target[0, 4] == EOS and data.target.shape == (3, 5)
    assert pad_sequences([[4], [5, 6]]).tolist() == [[4, 0], [5, 6]]
    first = next(batches(data.subset(np.array([1, 2])), 2))
    assert first.source.shape == (2, 2) and first.target.shape == (2, 4)  # trimmed to the longest in the batch
    sizes = [len(b) for b in batches(data, 2, rng=np.random.default_rng(0))]
    assert sizes == [2, 1]


@pytest.mark.parametrize("attention", [None, "additive", "dot"])
def test_shapes_padding_independence_and_decoding(attention):
    data = encode_pairs(make_reversal(6, seed=0))
    model = Seq2Seq(len(data.source_vocab), len(data.target_vocab), hidden_size=16, attention=attention).eval()
    source, lengths, target = (torch.from_numpy(a) for a in (data.source, data.source_lengths, data.target))
    logits, weights = model(source, lengths, target[:, :-1])
    assert logits.shape == (6, target.shape[1] - 1, len(data.target_vocab))
    if attention is None:
        assert weights is None
    else:
        assert weights.shape == (6, target.shape[1] - 1, source.shape[1])
        assert torch.allclose(weights.sum(-1), torch.ones(()).double().float())
        real = source != PAD
        assert torch.all(weights.masked_select(~real[:, None, :].expand_as(weights)) == 0)
    # extra <pad> columns change nothing
    wider = torch.cat([source, torch.zeros(6, 3, dtype=torch.int64)], dim=1)
    logits_wider, _ = model(wider, lengths, target[:, :-1])
    assert torch.allclose(logits, logits_wider, atol=1e-6)
    tokens, maps = model.greedy_decode(source, lengths, max_length=7)
    assert tokens.shape[0] == 6 and tokens.shape[1] <= 7
    assert (maps is None) == (attention is None)
    with pytest.raises(ValueError, match="max_length must be >= 1"):
        model.greedy_decode(source, lengths, max_length=0)


def test_seed_fixes_weights_without_touching_global_state():
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a, b = Seq2Seq(8, 9, seed=1), Seq2Seq(8, 9, seed=1)
    assert torch.rand(1) == before
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_sequence_loss_ignores_padding():
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[3, 4, PAD], [3, PAD, PAD]])
    manual = torch.nn.functional.cross_entropy(logits[targets != PAD], targets[targets != PAD])
    assert torch.allclose(sequence_loss(logits, targets), manual)


def test_training_learns_reversal_quickly():
    data = encode_pairs(make_reversal(600, min_length=2, max_length=4, alphabet="abcd", seed=0))
    model = Seq2Seq(len(data.source_vocab), len(data.target_vocab), embedding_size=16, hidden_size=32)
    history = train_seq2seq(model, data, num_epochs=8, batch_size=32, learning_rate=1e-2)
    assert history[-1] < 0.3 * history[0]
    assert exact_match(model, data).mean() > 0.8
    accuracy = accuracy_by_length(model, data)
    assert set(accuracy) == {2, 3, 4}
    outputs, maps = translate(model, ["abcd", "db"], data.source_vocab, data.target_vocab)
    assert outputs[0] == "dcba"
    assert maps[0].shape == (5, 4) and maps[1].shape[1] == 2
    assert np.allclose(maps[0].sum(1), 1.0, atol=1e-5)


def test_dtype_option_float64_twin_and_bad_values():
    data = encode_pairs(make_reversal(40, min_length=2, max_length=4, alphabet="abcd", seed=0))
    sizes = (len(data.source_vocab), len(data.target_vocab))
    single = Seq2Seq(*sizes, hidden_size=16, seed=3)
    double = Seq2Seq(*sizes, hidden_size=16, seed=3, dtype=torch.float64)
    assert {p.dtype for p in single.parameters()} == {torch.float32}
    assert {p.dtype for p in double.parameters()} == {torch.float64}
    # the twins start from the same weights: both are drawn in float64, one is then rounded to float32
    for p, q in zip(single.parameters(), double.parameters()):
        assert torch.equal(p, q.float())
    history = train_seq2seq(double, data, num_epochs=2, batch_size=16)
    assert all(np.isfinite(history))
    outputs, maps = translate(double, ["abc"], data.source_vocab, data.target_vocab)
    assert isinstance(outputs[0], str) and maps[0].dtype == np.float64
    for bad in (torch.float16, torch.int64, "float64"):
        with pytest.raises(ValueError, match="Seq2Seq: dtype must be torch.float32 or torch.float64"):
            Seq2Seq(*sizes, dtype=bad)


def test_initial_weights_do_not_depend_on_the_instruction_set():
    """Drawn through PyTorch's float32 kernels, some weights differed in their last bit under the plainest kernels."""
    from tests.baseline_kernels import tensors_under_baseline_kernels

    theirs = tensors_under_baseline_kernels("from dlcore.models.seq2seq import Seq2Seq\n"
                                            "tensors = list(Seq2Seq(13, 13, seed=0).parameters())")
    ours = [p.detach() for p in Seq2Seq(13, 13, seed=0).parameters()]
    assert len(ours) == len(theirs) and all(torch.equal(a, b) for a, b in zip(ours, theirs))


# ---------------------------------------------------------------- the copy/reversal sweep (section 3.1)


def test_reversal_labels_and_the_position_tagger_shapes():
    from dlcore.models.copy_reversal import PositionTagger, reversal_labels

    data = encode_pairs([("abc", "cba"), ("ba", "ab")])
    labels = reversal_labels(data)
    assert data.source_vocab.decode(labels[0].tolist()) == "cba" and data.source_vocab.decode(labels[1].tolist()) == "ab"
    assert labels[1, 2] == PAD
    logits = PositionTagger(len(data.source_vocab), seed=0)(torch.from_numpy(data.source))
    assert logits.shape == (2, 3, len(data.source_vocab)) and logits.dtype == torch.float64


def test_the_committed_copy_reversal_sweep_matches_a_rerun_of_one_seed():
    """dlcore/models/results/ch12_copy_reversal.json (python -m dlcore.models.copy_reversal): re-run copy, seed 0."""
    from dlcore.models.copy_reversal import SEEDS, TASKS, load_sweep, seq2seq_run

    sweep = load_sweep()
    assert set(sweep["seq2seq"]) == set(TASKS) and set(sweep["transformer"]["reverse"]) == {str(s) for s in SEEDS}
    rerun = seq2seq_run("copy", None, 0)
    stored = sweep["seq2seq"]["copy"]["None"]["0"]
    assert rerun["by_length"] == stored["by_length"] and rerun["overall"] == stored["overall"]
    assert abs(rerun["final_loss"] - stored["final_loss"]) < 1e-6
