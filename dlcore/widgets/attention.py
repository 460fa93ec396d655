"""AttentionExplorer: type an input, see the decoded output and where the decoder looked (chapter 12).

The heatmap has one row per output character (the last row is <eos>) and one column per input
character; row t holds the attention weights alpha_t of the step that produced output t
(each row sums to 1). A model trained on reversal should light up the anti-diagonal; on
dates, the output's year digits look at the input's year, and so on.

Pass a trained :class:`~dlcore.models.seq2seq.Seq2Seq` with attention and its vocabularies,
or nothing: the explorer then trains a small reversal model itself (about a second or two
of CPU time on strings of 3 to 8 letters a-j, bounded by :func:`~dlcore.models.seq2seq.train_small_model`'s defaults).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

import ipywidgets as widgets
import numpy as np

from dlcore.plots import new_figure
from dlcore.widgets.base import Explorer

__all__ = ["AttentionExplorer", "AttentionState", "MAX_INPUT_LENGTH"]

MAX_INPUT_LENGTH = 24  # longer inputs are cut (the models are trained on much shorter ones)
MAX_OUTPUT_LENGTH = 30
DEFAULT_EXAMPLES = ("abcdefgh", "badge", "abba", "jihgfedc", "aaabbbcc", "cafe", "abcdefghijabcdefghij")


@dataclass(frozen=True)
class AttentionState:
    """One input: what was kept of it, the model's output and the attention weights."""

    typed: str
    source: str  # typed, without the characters the model does not know, cut to MAX_INPUT_LENGTH
    dropped: str  # the characters that were removed (unknown to the model)
    output: str
    weights: np.ndarray  # (len(output) + 1, len(source)): rows = output characters then <eos>; (0, 0) if no input

    @property
    def row_labels(self) -> list[str]:
        return list(self.output) + ["<eos>"] if self.weights.shape[0] > len(self.output) else list(self.output)


class AttentionExplorer(Explorer):
    """Decode a typed (or chosen) input with an attention model and show its attention heatmap."""

    def __init__(self, model=None, source_vocab=None, target_vocab=None, examples: Sequence[str] | None = None,
                 *, seed: int = 0) -> None:
        if model is None:
            from dlcore.models.seq2seq import train_small_model

            model, data = train_small_model("reverse", seed=seed)
            source_vocab, target_vocab = data.source_vocab, data.target_vocab
        if source_vocab is None or target_vocab is None:
            raise ValueError("AttentionExplorer: pass the model's source_vocab and target_vocab with the model")
        if getattr(model, "attention", None) is None:
            raise ValueError("AttentionExplorer: the model has no attention, so there is no heatmap to show; "
                             "pass a Seq2Seq built with attention='additive' or 'dot'")
        self.model, self.source_vocab, self.target_vocab = model, source_vocab, target_vocab
        examples = list(examples or DEFAULT_EXAMPLES)
        style = {"description_width": "initial"}
        self.example = widgets.Dropdown(options=examples, value=examples[0], description="example", style=style)
        self.text = widgets.Text(value=examples[0], description="your input", continuous_update=False, style=style)
        self._cache: dict[str, AttentionState] = {}

        fig, self.ax = new_figure(width=5.6, height=4.4)
        fig.set_dpi(72)
        fig.set_layout_engine("none")
        self.ax.set_position([0.16, 0.12, 0.8, 0.76])
        self.ax.grid(False)
        self.heatmap = self.ax.imshow(np.zeros((1, 1)), vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto",
                                      interpolation="nearest")
        # no colour bar: its axis would double the drawing time of every redraw; the scale is fixed instead
        self.ax.set_xlabel("input character (key); colour: weight α from 0 (dark) to 1 (yellow)", fontsize=8)
        self.ax.tick_params(length=0)
        self.ax.set_ylabel("output character (query step)")
        self.message = self.ax.text(0.5, 0.5, "", transform=self.ax.transAxes, ha="center", va="center")
        super().__init__(fig, [self.example, self.text])
        self.example.observe(self._on_example, names="value")
        self.watch(self.text)
        self.update()

    def _on_example(self, change=None) -> None:
        if self.text.value == self.example.value:
            self.update()
        else:
            self.text.value = self.example.value  # the text box's observer redraws

    def compute(self) -> AttentionState:
        from dlcore.models.seq2seq import translate

        typed = str(self.text.value)
        if typed in self._cache:
            return self._cache[typed]
        kept = "".join(c for c in typed if c in self.source_vocab)
        dropped = "".join(sorted({c for c in typed if c not in self.source_vocab}))
        source = kept[:MAX_INPUT_LENGTH]
        if not source:
            state = AttentionState(typed, "", dropped, "", np.zeros((0, 0)))
        else:
            outputs, maps = translate(self.model, [source], self.source_vocab, self.target_vocab, MAX_OUTPUT_LENGTH)
            weights = np.nan_to_num(maps[0], nan=0.0)  # cannot happen with a real model; never plot NaN
            state = AttentionState(typed, source, dropped, outputs[0], weights)
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[typed] = state
        return state

    def draw(self, state: AttentionState) -> None:
        rows, cols = state.weights.shape
        empty = rows == 0 or cols == 0
        data = np.zeros((1, 1)) if empty else state.weights
        self.heatmap.set_data(data)
        self.heatmap.set_extent((-0.5, data.shape[1] - 0.5, data.shape[0] - 0.5, -0.5))
        self.ax.set_xlim(-0.5, data.shape[1] - 0.5)
        self.ax.set_ylim(data.shape[0] - 0.5, -0.5)
        self.ax.set_xticks(range(cols), list(state.source) if not empty else [])
        self.ax.set_yticks(range(rows), state.row_labels if not empty else [], fontsize=8)
        self.message.set_text("type characters the model knows" if empty else "")
        shown = state.output if len(state.output) <= 24 else state.output[:23] + "…"
        self.ax.set_title(f"'{state.source}' → '{shown}'" if not empty else "no input", fontsize=10)

    def describe(self, state: AttentionState) -> str:
        known = "".join(self.source_vocab.tokens[3:])
        parts = [f"output: <b>{html.escape(state.output) or '(nothing)'}</b>"]
        if state.dropped:
            parts.append(f"ignored (unknown to the model): <code>{html.escape(state.dropped)}</code>; "
                         f"known: <code>{html.escape(known)}</code>")
        if len(state.source) < len("".join(c for c in state.typed if c in self.source_vocab)):
            parts.append(f"input cut to {MAX_INPUT_LENGTH} characters")
        return "<br>".join(parts)
