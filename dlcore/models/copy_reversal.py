"""The seed sweep behind chapter 12's comparison of copying and reversal, and of a Transformer encoder.

Run ``python -m dlcore.models.copy_reversal`` (several minutes on one core) to rebuild
``results/ch12_copy_reversal.json``, which the chapter loads. Everything is float64, like the
chapter's printed runs, so a test re-runs one seed and must find the same numbers.

    GRU encoder-decoders (the chapter's section 3 settings: 2500 random strings of 3 to 14 letters
    a-j, hidden size 64, 5 epochs of Adam at 5e-3), without and with additive attention, on two
    tasks: copying (output = input) and reversal (output = input reversed); seeds 0, 1, 2.

    A Transformer encoder on reversal (:class:`PositionTagger`: learned position embeddings, two
    pre-norm ``nn.TransformerEncoderLayer`` blocks of 4 heads, width 64; one prediction per
    position, the character that belongs there), the same data, 10 epochs of Adam at 1e-3;
    seeds 0, 1, 2.

Test strings: 1200 new ones, seed 1. Accuracy is exact match (the whole string right).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from dlcore.data.translation import PAD, EncodedPairs, batches, encode_pairs, make_reversal
from dlcore.models.seq2seq import Seq2Seq, exact_match, train_seq2seq
from dlcore.results import read_results, write_results

__all__ = ["RESULTS", "SEEDS", "TASKS", "task_data", "seq2seq_run", "PositionTagger", "reversal_labels",
           "transformer_run", "run_sweep", "load_sweep"]

RESULTS = Path(__file__).with_name("results") / "ch12_copy_reversal.json"
SEEDS = (0, 1, 2)
TASKS = ("copy", "reverse")
SEQ2SEQ_SETTINGS = {"hidden_size": 64, "num_epochs": 5, "batch_size": 64, "learning_rate": 5e-3}
TRANSFORMER_SETTINGS = {"embed_size": 64, "num_heads": 4, "ff_size": 128, "num_layers": 2, "num_epochs": 10,
                        "batch_size": 64, "learning_rate": 1e-3}


def task_data(task: str) -> tuple[EncodedPairs, EncodedPairs]:
    """(train, test) pairs of the chapter's reversal strings, or of the same strings copied."""
    if task not in TASKS:
        raise ValueError(f"task_data: task must be one of {TASKS}, got {task!r}")
    train = make_reversal(2500, min_length=3, max_length=14, seed=0)
    test = make_reversal(1200, min_length=3, max_length=14, seed=1)
    if task == "copy":
        train, test = [(s, s) for s, _ in train], [(s, s) for s, _ in test]
    train_data = encode_pairs(train)
    return train_data, encode_pairs(test, train_data.source_vocab, train_data.target_vocab)


def seq2seq_run(task: str, attention: str | None, seed: int) -> dict:
    """Train one GRU encoder-decoder; its exact-match accuracy by input length and overall."""
    train, test = task_data(task)
    model = Seq2Seq(len(train.source_vocab), len(train.target_vocab), hidden_size=SEQ2SEQ_SETTINGS["hidden_size"],
                    attention=attention, seed=seed, dtype=torch.float64)
    losses = train_seq2seq(model, train, num_epochs=SEQ2SEQ_SETTINGS["num_epochs"],
                           batch_size=SEQ2SEQ_SETTINGS["batch_size"],
                           learning_rate=SEQ2SEQ_SETTINGS["learning_rate"], seed=seed)
    correct = exact_match(model, test)
    by_length = {int(n): float(correct[test.source_lengths == n].mean()) for n in np.unique(test.source_lengths)}
    overall = float(correct.mean())
    return {"by_length": {str(n): round(a, 6) for n, a in by_length.items()}, "overall": round(overall, 6),
            "final_loss": round(losses[-1], 6), "parameters": sum(p.numel() for p in model.parameters())}


class PositionTagger(nn.Module):
    """A Transformer encoder that predicts one token per input position (torch.nn layers, float64).

    x = embed(tokens) + P[position] (learned), two pre-norm encoder blocks that may not attend to
    <pad>, then a linear layer to the vocabulary.
    """

    def __init__(self, vocab_size: int, *, embed_size: int = 64, num_heads: int = 4, ff_size: int = 128,
                 num_layers: int = 2, max_length: int = 32, seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD, dtype=torch.float64)
            self.position = nn.Embedding(max_length, embed_size, dtype=torch.float64)
            layer = nn.TransformerEncoderLayer(embed_size, num_heads, ff_size, dropout=0.0, batch_first=True,
                                               norm_first=True, dtype=torch.float64)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.output = nn.Linear(embed_size, vocab_size, dtype=torch.float64)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (N, T) int64 -> logits (N, T, V)."""
        x = self.embedding(tokens) + self.position(torch.arange(tokens.shape[1]))
        return self.output(self.encoder(x, src_key_padding_mask=tokens == PAD))


def reversal_labels(data: EncodedPairs) -> np.ndarray:
    """(N, Ts): at position i of a string of length L, its character L - 1 - i; <pad> after the end."""
    labels = np.full_like(data.source, PAD)
    for n, length in enumerate(data.source_lengths):
        labels[n, :length] = data.source[n, :length][::-1]
    return labels


def transformer_run(seed: int) -> dict:
    """Train one :class:`PositionTagger` on reversal; its exact-match accuracy by length and overall."""
    s = TRANSFORMER_SETTINGS
    train, test = task_data("reverse")
    model = PositionTagger(len(train.source_vocab), embed_size=s["embed_size"], num_heads=s["num_heads"],
                           ff_size=s["ff_size"], num_layers=s["num_layers"], seed=seed)
    tagged = EncodedPairs(train.source, train.source_lengths, reversal_labels(train), train.source_vocab,
                          train.source_vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=s["learning_rate"])
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(s["num_epochs"]):
        for batch in batches(tagged, s["batch_size"], rng=rng):
            tokens = torch.from_numpy(batch.source)
            wanted = torch.from_numpy(batch.target[:, :tokens.shape[1]])
            loss = nn.functional.cross_entropy(model(tokens).flatten(0, 1), wanted.flatten(), ignore_index=PAD)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(test.source)).argmax(-1).numpy()
    correct = ((predicted == reversal_labels(test)) | (test.source == PAD)).all(axis=1)
    by_length = {int(n): float(correct[test.source_lengths == n].mean()) for n in np.unique(test.source_lengths)}
    return {"by_length": {str(n): round(a, 6) for n, a in by_length.items()}, "overall": round(float(correct.mean()), 6),
            "final_loss": round(loss.item(), 6), "parameters": sum(p.numel() for p in model.parameters())}


def run_sweep() -> dict:
    torch.set_num_threads(1)
    return {
        "made_by": "python -m dlcore.models.copy_reversal",
        "seq2seq_settings": SEQ2SEQ_SETTINGS,
        "transformer_settings": TRANSFORMER_SETTINGS,
        "seq2seq": {task: {str(attention): {str(seed): seq2seq_run(task, attention, seed) for seed in SEEDS}
                           for attention in (None, "additive")} for task in TASKS},
        "transformer": {"reverse": {str(seed): transformer_run(seed) for seed in SEEDS}},
    }


def load_sweep(path: Path = RESULTS) -> dict:
    """The committed results (see the module's docstring for how they were made)."""
    return read_results(path)


if __name__ == "__main__":
    written = write_results(run_sweep(), RESULTS, compact=True)
    print(f"wrote {written} ({written.stat().st_size} bytes)")
