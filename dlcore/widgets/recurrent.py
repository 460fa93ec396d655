"""Recurrent networks step by step (chapter 11): two explorers.

- :class:`RecurrentExplorer`: feed a sequence (chosen from a list or typed) to an
  RNN, LSTM or GRU cell and move through time with a slider: the input, the
  hidden state at every step, and the gate activations at the chosen step.
- :class:`GradientFlowExplorer`: ||dL/dh_t|| for a loss on the last state, for
  the three cells side by side, as the sequence length, the size of the recurrent
  weights and the bias of the gate that keeps the old state change.

Both use the from-scratch kernels of dlcore.scratch (rnn, lstm, gru). By default the
weights are fixed and random, so what is shown is the architecture, not a trained
solution; ``RecurrentExplorer(weights=...)`` shows trained cells instead (chapter 11
passes the cells it trained on running parity).
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from dlcore.plots import COLORS, new_figure
from dlcore.scratch.cell_trace import MAX_STEPS, run_cell, sequence_values
from dlcore.scratch.gradient_flow import recurrent_weights, state_gradient_norms
from dlcore.scratch.lstm import lstm_cell_forward
from dlcore.widgets.base import Explorer

__all__ = ["RecurrentExplorer", "RecurrentState", "GradientFlowExplorer", "GradientFlowState", "SEQUENCES"]

HIDDEN = 8
SEQUENCES = {
    "parity bits 1011001110": "1011001110",
    "a sine wave": "sine",
    "a single pulse, then silence": "1000000000000000",
    "text: Beautiful is better than ugly.": "Beautiful is better than ugly.",
}
GATE_LABELS = {"rnn": ["h"], "lstm": ["i (input)", "f (forget)", "g (candidate)", "o (output)", "c (cell)"],
               "gru": ["r (reset)", "z (update)", "n (candidate)"]}
FLOOR, CEILING = 1e-16, 1e8  # plotted gradient norms are clipped to this range (log axis, never 0 or inf)


@dataclass(frozen=True)
class RecurrentState:
    """The sequence, the cell's hidden states and gates over time, and the chosen step."""

    kind: str
    source: str
    values: np.ndarray  # (T,)
    hidden: np.ndarray  # (T, Hh)
    gates: np.ndarray  # (T, rows, Hh)
    step: int


class RecurrentExplorer(Explorer):
    """Step through a sequence: input, hidden state over time, gates at the chosen step."""

    def __init__(self, sequence: str = "parity bits 1011001110", cell: str = "lstm", seed: int = 0,
                 lstm_cell=lstm_cell_forward, weights: dict | None = None,
                 bit_values: tuple[float, float] = (-1.0, 1.0), weights_label: str = "fixed random weights") -> None:
        """``weights``: {kind: (W_ih, W_hh, b_ih, b_hh)} with input size 1, e.g. cells trained on a task;
        only those kinds are offered. ``bit_values``: the inputs that '0' and '1' stand for (a trained cell
        needs the values it was trained on). ``weights_label`` says in the description where the weights
        come from."""
        self.lstm_cell = lstm_cell
        self.bit_values = bit_values
        self.weights_label = weights_label
        style = {"description_width": "initial"}
        self.sequence = widgets.Dropdown(options=list(SEQUENCES), value=sequence, description="sequence", style=style)
        self.text = widgets.Text(value="", placeholder="or type one: 0110... or words", description="your sequence",
                                 continuous_update=False, style=style)
        kinds = [(label, kind) for label, kind in (("RNN (Elman)", "rnn"), ("LSTM", "lstm"), ("GRU", "gru"))
                 if weights is None or kind in weights]
        self.cell = widgets.Dropdown(options=kinds, value=cell, description="cell", style=style)
        self.step = widgets.IntSlider(value=0, min=0, max=MAX_STEPS - 1, description="time step t", style=style)
        rng = np.random.default_rng(seed)
        if weights is None:
            weights = {kind: recurrent_weights(kind, 1, HIDDEN, recurrent_scale=1.2, memory_bias=1.0, rng=rng)
                       for kind in ("rnn", "lstm", "gru")}
        self.weights = dict(weights)
        self._build_figure()
        super().__init__(self.fig, [self.sequence, self.text, self.cell, self.step])
        self.watch(self.sequence, self.text, self.cell, self.step)
        self.update()

    def _build_figure(self) -> None:
        fig, (self.ax_in, self.ax_h, self.ax_g) = new_figure(nrows=3, width=5.6, height=5.4)
        fig.set_dpi(72)
        self.fig = fig
        self.input_line, = self.ax_in.plot([], [], "o-", color=COLORS["blue"], markersize=4)
        self.input_marker, = self.ax_in.plot([], [], "o", color=COLORS["red"], markersize=9)
        self.ax_in.set(title="Input x_t", xlabel="time step t", ylabel="x_t", ylim=(-1.15, 1.15))
        self.ax_h.grid(False)
        self.hidden_image = self.ax_h.imshow(np.zeros((HIDDEN, 1)), vmin=-1, vmax=1, cmap="RdBu_r", aspect="auto",
                                             interpolation="nearest")
        self.step_line = self.ax_h.axvline(0, color="black", linewidth=1.5)
        self.ax_h.set(title="Hidden state h_t over time (colour: -1 blue to +1 red)", xlabel="time step t",
                      ylabel="hidden unit")
        self.ax_g.grid(False)
        self.gate_image = self.ax_g.imshow(np.zeros((1, HIDDEN)), vmin=-1, vmax=1, cmap="RdBu_r", aspect="auto",
                                           interpolation="nearest")
        self.ax_g.set(xlabel="hidden unit")
        fig.colorbar(self.gate_image, ax=[self.ax_h, self.ax_g], shrink=0.8, label="value")

    def compute(self) -> RecurrentState:
        source = self.text.value.strip() or SEQUENCES[self.sequence.value]
        values = sequence_values(source, self.bit_values)
        if values.size == 0:
            values = np.zeros(1)
        kind = self.cell.value
        hidden, gates = run_cell(kind, values, self.weights[kind], self.lstm_cell)
        step = int(min(self.step.value, len(values) - 1))
        return RecurrentState(kind, source, values, hidden, gates, step)

    def draw(self, state: RecurrentState) -> None:
        T = len(state.values)
        steps = np.arange(T)
        self.input_line.set_data(steps, state.values)
        self.input_marker.set_data([state.step], [state.values[state.step]])
        self.ax_in.set_xlim(-0.5, T - 0.5)
        self.hidden_image.set_data(state.hidden.T)  # (T, Hh) -> (Hh, T): time runs left to right
        Hh = state.hidden.shape[1]
        self.hidden_image.set_extent((-0.5, T - 0.5, Hh - 0.5, -0.5))
        self.ax_h.set_xlim(-0.5, T - 0.5)
        self.ax_h.set_ylim(Hh - 0.5, -0.5)
        self.step_line.set_xdata([state.step, state.step])
        rows = state.gates[state.step]  # (rows, Hh)
        self.gate_image.set_data(rows)
        self.gate_image.set_extent((-0.5, Hh - 0.5, len(rows) - 0.5, -0.5))
        self.ax_g.set_xlim(-0.5, Hh - 0.5)
        self.ax_g.set_ylim(len(rows) - 0.5, -0.5)
        self.ax_g.set_yticks(range(len(rows)), GATE_LABELS[state.kind])
        what = {"rnn": "the RNN has no gates: its state h_t", "lstm": "LSTM gates and cell state",
                "gru": "GRU gates"}[state.kind]
        self.ax_g.set_title(f"At t = {state.step}: {what}")

    def describe(self, state: RecurrentState) -> str:
        h = state.hidden[state.step]
        text = (f"<b>{state.kind.upper()}</b> with {state.hidden.shape[1]} hidden units ({self.weights_label}), "
                f"{len(state.values)} steps. At t = {state.step}: input {state.values[state.step]:+.2f}, "
                f"mean |h_t| = {np.abs(h).mean():.2f}.")
        if state.kind == "lstm":
            f = state.gates[state.step][1]
            text += f" Forget gate mean {f.mean():.2f}: the share of c_(t-1) kept."
        elif state.kind == "gru":
            z = state.gates[state.step][1]
            text += f" Update gate mean {z.mean():.2f}: the share of h_(t-1) copied into h_t."
        if self.step.value > len(state.values) - 1:
            text += f" (The sequence ends at t = {len(state.values) - 1}.)"
        return text


@dataclass(frozen=True)
class GradientFlowState:
    """||dL/dh_t|| for each cell kind, t = 0..T."""

    length: int
    recurrent_scale: float
    memory_bias: float
    norms: dict  # kind -> (T + 1,)


class GradientFlowExplorer(Explorer):
    """Gradient norm through time for RNN, LSTM and GRU with the same inputs and comparable weights."""

    def __init__(self, length: int = 50, recurrent_scale: float = 1.0, memory_bias: float = 0.0, seed: int = 0) -> None:
        style = {"description_width": "initial"}
        self.length = widgets.IntSlider(value=length, min=5, max=100, step=5, description="sequence length T",
                                        style=style)
        self.recurrent_scale = widgets.FloatSlider(value=recurrent_scale, min=0.25, max=4.0, step=0.25,
                                                   description="recurrent weight scale", style=style)
        self.memory_bias = widgets.FloatSlider(value=memory_bias, min=0.0, max=5.0, step=0.5,
                                               description="forget/update gate bias", style=style)
        self.seed = int(seed)
        self.inputs = np.random.default_rng(seed).standard_normal((100, 4, 2))  # (T_max, N, D)
        fig, self.ax = new_figure(width=6.4, height=3.8)
        fig.set_dpi(72)
        self.lines = {kind: self.ax.plot([], [], label=label, color=color)[0] for kind, label, color in
                      (("rnn", "RNN (Elman)", COLORS["red"]), ("lstm", "LSTM", COLORS["blue"]),
                       ("gru", "GRU", COLORS["green"]))}
        self.ax.set(yscale="log", ylim=(FLOOR, CEILING), title="Gradient reaching each step from a loss on h_T",
                    xlabel="time step t", ylabel="||dL/dh_t|| (mean over 4 sequences)")
        self.ax.axhline(1.0, color=COLORS["grey"], linewidth=1, linestyle=":")
        self.ax.legend(loc="lower right")
        super().__init__(fig, [self.length, self.recurrent_scale, self.memory_bias])
        self.watch(self.length, self.recurrent_scale, self.memory_bias)
        self.update()

    def compute(self) -> GradientFlowState:
        T, scale, bias = int(self.length.value), float(self.recurrent_scale.value), float(self.memory_bias.value)
        norms = {}
        with np.errstate(all="ignore"):
            for kind in ("rnn", "lstm", "gru"):
                weights = recurrent_weights(kind, 2, 16, recurrent_scale=scale, memory_bias=bias,
                                            rng=np.random.default_rng(self.seed))
                values = state_gradient_norms(kind, self.inputs[:T], weights)
                norms[kind] = np.clip(np.nan_to_num(values, nan=FLOOR, posinf=CEILING), FLOOR, CEILING)
        return GradientFlowState(T, scale, bias, norms)

    def draw(self, state: GradientFlowState) -> None:
        steps = np.arange(state.length + 1)
        for kind, line in self.lines.items():
            line.set_data(steps, state.norms[kind])
        self.ax.set_xlim(0, state.length)

    def describe(self, state: GradientFlowState) -> str:
        parts = [f"{kind.upper()}: {state.norms[kind][0]:.1e}" for kind in ("rnn", "lstm", "gru")]
        return (f"Gradient that reaches t = 0 from a unit gradient at t = {state.length}: " + ", ".join(parts) +
                ". A straight line on this log scale is geometric decay or growth. The bias slider acts on the "
                "LSTM's forget gate and the GRU's update gate; the RNN has neither.")
