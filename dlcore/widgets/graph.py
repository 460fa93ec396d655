"""Computation-graph explorer (chapter 05): step through a forward and a backward pass node by node.

The graph is built by :mod:`dlcore.scratch.autograd` from one of a few small
expressions (two of them reuse a node) or a 2-2-1 network with its loss.
The sliders set the inputs; the "step" control moves through the forward
pass (each operation computes its value from its parents) and then the
backward pass in reverse topological order (each node, once its gradient is
complete, adds gradient times local slope into its parents). A gradient that
is still being summed is shown in grey as "so far".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from dlcore.scratch.autograd import Value, iter_backward, topological_order
from dlcore.widgets.base import Explorer

__all__ = ["GraphExplorer", "GraphState", "PRESETS", "graph_layout", "format_number"]

INPUT_RANGE = 30.0  # slider limits: wide enough to saturate sigmoids and overflow exp


def _neuron(x: Value, w: Value) -> Value:
    b = Value(-1.0, label="b")
    return (w * x + b).sigmoid()


def _network(x1: Value, x2: Value) -> Value:
    """2-2-1: h = tanh(x W1 + b1), y_hat = sigmoid(h W2 + b2), L = (y_hat - 1)^2, fixed weights."""
    weights = {"w11": 1.5, "w21": -2.0, "w12": -1.0, "w22": 2.5, "b1": 0.5, "b2": -0.5,
               "v1": -1.0, "v2": 1.5, "c": 1.0}
    p = {name: Value(value, label=name) for name, value in weights.items()}
    z1 = x1 * p["w11"] + x2 * p["w21"] + p["b1"]
    z2 = x1 * p["w12"] + x2 * p["w22"] + p["b2"]
    h1, h2 = z1.tanh(), z2.tanh()
    h1.label, h2.label = "h1", "h2"
    y_hat = (h1 * p["v1"] + h2 * p["v2"] + p["c"]).sigmoid()
    y_hat.label = "ŷ"
    target = Value(1.0, label="y")
    loss = (y_hat - target) ** 2
    loss.label = "L"
    return loss


@dataclass(frozen=True)
class Preset:
    build: Callable[..., Value]
    inputs: tuple[str, ...]
    defaults: tuple[float, ...]
    note: str


PRESETS: dict[str, Preset] = {
    "a + a (reused node)": Preset(lambda a: a + a, ("a",), (3.0,),
                                  "a feeds the + node twice, so it receives the gradient twice: 1 + 1 = 2."),
    "x*x + x (reused node)": Preset(lambda x: x * x + x, ("x",), (3.0,),
                                    "x is used three times; its gradient is the sum x + x + 1 = 2x + 1."),
    "neuron sigmoid(w*x + b)": Preset(_neuron, ("x", "w"), (1.0, 2.0),
                                      "A large |w x + b| saturates the sigmoid: its slope, and every gradient "
                                      "below it, goes to 0."),
    "(x + y) / y (division)": Preset(lambda x, y: (x + y) / y, ("x", "y"), (2.0, 4.0),
                                     "At y = 0 the forward pass itself is undefined."),
    "exp(x*y) (overflow)": Preset(lambda x, y: (x * y).exp(), ("x", "y"), (1.0, 2.0),
                                  "e^(x y) exceeds the largest float (1.8e308) once x y > 709.78."),
    "2-2-1 network with loss": Preset(_network, ("x1", "x2"), (1.0, -0.5),
                                      "The loss L = (ŷ − 1)² of a tanh/sigmoid network with fixed weights."),
}


def format_number(value: float | None) -> str:
    """A short, always printable number: '—' for not computed, '+inf'/'-inf', 'undefined' for nan."""
    if value is None:
        return "—"
    if math.isnan(value):
        return "undefined"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return f"{value:.3g}"


def _title(node: Value) -> str:
    op = {"**": f"**{node.exponent:g}" if node.exponent is not None else "**", "neg": "−"}.get(node.op, node.op)
    if not node.parents:
        return node.label or "const"
    return f"{node.label} = {op}" if node.label else op


def graph_layout(order: list[Value]) -> np.ndarray:
    """(n, 2) positions for the nodes of a topological order: x = depth, y spread within a column.

    An operation sits one column right of its deepest parent; a leaf sits just
    left of its first consumer. Columns are ordered from the output back,
    each node placed by the mean height of the nodes that use it, so that
    edges cross rarely.
    """
    index = {id(node): i for i, node in enumerate(order)}
    consumers: list[list[int]] = [[] for _ in order]
    depth = np.zeros(len(order), dtype=np.int64)
    for i, node in enumerate(order):
        for parent in node.parents:
            consumers[index[id(parent)]].append(i)
        if node.parents:
            depth[i] = 1 + max(depth[index[id(parent)]] for parent in node.parents)
    for i, node in enumerate(order):
        if not node.parents and consumers[i]:
            depth[i] = min(depth[c] for c in consumers[i]) - 1
    positions = np.zeros((len(order), 2))
    positions[:, 0] = depth
    for column in range(int(depth.max()), -1, -1):
        members = [i for i in range(len(order)) if depth[i] == column]
        keys = [np.mean([positions[c, 1] for c in consumers[i]]) if consumers[i] else 0.0 for i in members]
        ranked = [i for _, i in sorted(zip(keys, members), key=lambda pair: (-pair[0], pair[1]))]
        for rank, i in enumerate(ranked):
            positions[i, 1] = (len(ranked) - 1) / 2 - rank
    return positions


@dataclass
class GraphState:
    """Everything one redraw shows; tests read it instead of pixels."""

    preset: str
    inputs: dict
    titles: list[str]  # per node, in topological order
    edges: list[tuple[int, int]]  # (parent, child) node indices, one per use
    values: list[float | None]  # None: the forward pass has not reached it yet
    grads: list[float | None]  # None: no gradient has arrived yet
    final: list[bool]  # True once the backward pass has reached the node (its grad is complete)
    value_texts: list[str]
    grad_texts: list[str]
    step: int
    num_steps: int
    phase: str  # "inputs", "forward", "backward" or "error"
    current: int | None  # the node the last step processed
    contributions: dict  # parent index -> what the current backward step added
    error: str


class GraphExplorer(Explorer):
    """Draws a small computation graph and steps through its forward and backward passes."""

    def __init__(self, preset: str = "x*x + x (reused node)", step: int = 0) -> None:
        import ipywidgets as widgets

        from dlcore.plots import new_figure

        if preset not in PRESETS:
            raise ValueError(f"GraphExplorer: unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        slider = dict(min=-INPUT_RANGE, max=INPUT_RANGE, step=0.1, continuous_update=False,
                      readout_format=".1f", layout=widgets.Layout(width="280px"))
        self.preset = widgets.Dropdown(options=list(PRESETS), value=preset, description="graph",
                                       layout=widgets.Layout(width="330px"))
        self.input_a = widgets.FloatSlider(value=0.0, description="a", **slider)
        self.input_b = widgets.FloatSlider(value=0.0, description="b", **slider)
        self.step = widgets.IntSlider(value=0, min=0, max=1, description="step", continuous_update=True,
                                      layout=widgets.Layout(width="420px"))
        self.back_button, self.next_button, self.end_button = (
            widgets.Button(description=text) for text in ("◀ back", "step ▶", "to the end"))
        for button, delta in ((self.back_button, -1), (self.next_button, 1), (self.end_button, 10**6)):
            button.on_click(lambda _, delta=delta: self._move(delta))
        self._muted = False
        self._signature: tuple = ()
        fig, self.ax = new_figure(width=10.0, height=5.2)
        super().__init__(fig, [self.preset, self.input_a, self.input_b, self.step,
                               self.back_button, self.next_button, self.end_button])
        self.preset.observe(self._on_preset, names="value")
        self.watch(self.input_a, self.input_b, self.step)
        self._on_preset(step=step)

    # ---------------------------------------------------------------- logic

    def update(self, change=None) -> None:
        if not self._muted:
            super().update(change)

    def _on_preset(self, change=None, step: int = 0) -> None:
        spec = PRESETS[self.preset.value]
        self._muted = True
        try:
            for slider, name, default in zip((self.input_a, self.input_b), spec.inputs + ("",), spec.defaults + (0.0,)):
                slider.description = name or "(unused)"
                slider.disabled = not name
                slider.value = default
            order = topological_order(self._build(spec.defaults)[0])  # the structure does not depend on values
            self.step.max = len(order) + sum(1 for node in order if node.parents)  # forward, then backward steps
            self.step.value = min(max(int(step), 0), self.step.max)
        finally:
            self._muted = False
        self.update()

    def _move(self, delta: int) -> None:
        self.step.value = int(min(max(self.step.value + delta, 0), self.step.max))

    def _build(self, values: tuple[float, ...]) -> tuple[Value, list[Value]]:
        """The graph for these input values: (root, the input leaves)."""
        spec = PRESETS[self.preset.value]
        leaves = [Value(v, label=name) for name, v in zip(spec.inputs, values)]
        return spec.build(*leaves), leaves

    def compute(self) -> GraphState:
        spec = PRESETS[self.preset.value]
        inputs = dict(zip(spec.inputs, (float(self.input_a.value), float(self.input_b.value))))
        error = ""
        try:
            root, leaves = self._build(tuple(inputs.values()))
        except (ArithmeticError, ValueError) as problem:  # e.g. division by zero, exp overflow
            error = str(problem)
            root, leaves = self._build(spec.defaults)  # the same structure, for the drawing only
            for leaf, value in zip(leaves, inputs.values()):
                leaf.data = value
        order = topological_order(root)
        index = {id(node): i for i, node in enumerate(order)}
        edges = [(index[id(parent)], i) for i, node in enumerate(order) for parent in node.parents]
        operations = [i for i, node in enumerate(order) if node.parents]
        n_forward, n_nodes = len(operations), len(order)
        step = min(int(self.step.value), n_forward + n_nodes)
        values: list[float | None] = [node.data if not node.parents else None for node in order]
        grads: list[float | None] = [None] * n_nodes
        final = [False] * n_nodes
        current, contributions = None, {}
        if error:
            phase = "error"
        elif step <= n_forward:
            phase = "forward" if step else "inputs"
            for i in operations[:step]:
                values[i] = order[i].data
            current = operations[step - 1] if step else None
        else:
            phase = "backward"
            values = [node.data for node in order]
            before = [node.grad for node in order]
            for processed, node in enumerate(iter_backward(order[-1]), start=1):
                if processed == step - n_forward:
                    break
                before = [n.grad for n in order]
            after = [n.grad for n in order]
            current = index[id(node)]
            reached = {index[id(n)] for n in order[::-1][:step - n_forward]}
            touched = reached | {index[id(p)] for i in reached for p in order[i].parents}
            for i in touched:
                grads[i] = after[i]
                final[i] = i in reached
            contributions = {index[id(p)]: after[index[id(p)]] - before[index[id(p)]] for p in node.parents}
        return GraphState(
            self.preset.value, inputs, [_title(node) for node in order], edges, values, grads, final,
            [format_number(v) for v in values], [format_number(g) for g in grads], step,
            n_forward + n_nodes, phase, current, contributions, error,
        )

    # ---------------------------------------------------------------- drawing

    def _rebuild_artists(self, state: GraphState) -> None:
        """Make the node boxes and edges for a new graph structure (not on every step).

        Edges are one LineCollection and their arrowheads one scatter: a
        patch per arrow would cost more than the rest of the redraw.
        """
        from matplotlib.collections import LineCollection

        ax = self.ax
        ax.clear()
        order = topological_order(self._build(PRESETS[state.preset].defaults)[0])
        self._positions = graph_layout(order)
        x, y = self._positions[:, 0], self._positions[:, 1]
        span = max(1.0, float(x.max()))
        gap = (0.42 if len(order) <= 10 else 0.32) * (span + 1.2) / 9.5  # ~half a box, in x units
        curves, heads = [], []
        seen: dict[tuple[int, int], int] = {}
        t = np.linspace(0.0, 1.0, 25)[:, None]  # (25, 1) points along each edge
        for parent, child in state.edges:
            repeat = seen.get((parent, child), 0)
            seen[(parent, child)] = repeat + 1
            if state.edges.count((parent, child)) > 1:  # a reused node: one curved edge per use
                bend = 0.3 * (1 if repeat == 0 else -1)
            else:  # an edge skipping a column would run through the nodes in between
                bend = 0.45 if x[child] - x[parent] > 1 else 0.0
            start = self._positions[parent] + (gap, 0.0)
            end = self._positions[child] - (gap, 0.0)
            control = (start + end) / 2 + bend * np.array([0.0, 1.0 + 0.3 * abs(end[0] - start[0])])
            curve = (1 - t) ** 2 * start + 2 * t * (1 - t) * control + t**2 * end  # (25, 2) a quadratic Bezier
            curves.append(curve)
            heads.append(curve[-2])
        self._edges = LineCollection(curves, colors="#7f7f7f", linewidths=1.0, zorder=1)
        ax.add_collection(self._edges)
        self._heads = ax.scatter(*np.array(heads).reshape(-1, 2).T, marker=">", s=22, color="#7f7f7f", zorder=2)
        fontsize = 10 if len(order) <= 10 else 7
        self._boxes = [ax.text(px, py, "", ha="center", va="center", fontsize=fontsize, zorder=3,
                               bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#555555", lw=0.8))
                       for px, py in self._positions]
        ax.set_xlim(-0.6, span + 0.6)
        ax.set_ylim(float(y.min()) - 0.7, float(y.max()) + 0.7)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("depth in the graph: inputs on the left, the output on the right")
        self._signature = (state.preset, tuple(state.edges))

    def draw(self, state: GraphState) -> None:
        from dlcore.plots.style import COLORS

        if self._signature != (state.preset, tuple(state.edges)):
            self._rebuild_artists(state)
        inputs = {i for i, title in enumerate(state.titles) if title in state.inputs}
        leaves = set(range(len(state.titles))) - {child for _, child in state.edges}
        for i, box in enumerate(self._boxes):
            lines = [state.titles[i], f"v {state.value_texts[i]}"]
            if state.grads[i] is not None:
                lines.append(f"g {state.grad_texts[i]}" + ("" if state.final[i] else " so far"))
            box.set_text("\n".join(lines))
            patch = box.get_bbox_patch()
            computed = state.values[i] is not None
            # green: an input (slider); yellow: a constant; blue: a computed value; grey: not yet computed
            face = "#e5f5e0" if i in inputs else "#fff7bc" if i in leaves else "#deebf7" if computed else "#f0f0f0"
            if state.grads[i] is not None and state.final[i]:
                face = "#fde0dd"
            patch.set_facecolor(face)
            is_current = i == state.current
            patch.set_edgecolor(COLORS["orange"] if is_current else "#555555")
            patch.set_linewidth(2.2 if is_current else 0.8)
            box.set_color("black" if computed or state.grads[i] is not None else "#888888")
        colors, widths = [], []
        for parent, child in state.edges:
            active = child == state.current and state.phase in ("forward", "backward")
            colors.append((COLORS["blue"] if state.phase == "forward" else COLORS["red"]) if active else COLORS["grey"])
            widths.append(2.0 if active else 1.0)
        self._edges.set_colors(colors)
        self._edges.set_linewidths(widths)
        self._heads.set_color(colors)
        phase = {"inputs": "inputs set", "forward": "forward pass", "backward": "backward pass",
                 "error": "forward pass fails"}[state.phase]
        self.ax.set_title(f"{state.preset}: {phase} (step {state.step} of {state.num_steps})")

    def describe(self, state: GraphState) -> str:
        spec = PRESETS[state.preset]
        inputs = ", ".join(f"{name} = {value:g}" for name, value in state.inputs.items())
        head = f"<b>{state.preset}</b> at {inputs}. {spec.note}<br>"
        if state.phase == "error":
            return head + (f"<b>The forward pass is undefined here:</b> {state.error}. Move the sliders back; "
                           f"no gradient exists where the function itself does not.")
        if state.phase == "inputs":
            return head + "Step 0: only the leaves (inputs and constants) have values. Press <i>step</i>."
        i = state.current
        title = state.titles[i]
        if state.phase == "forward":
            parents = [p for p, child in state.edges if child == i]
            args = ", ".join(f"{state.titles[p]} = {state.value_texts[p]}" for p in parents)
            return head + (f"<b>Forward:</b> node <code>{title}</code> computes its value "
                           f"{state.value_texts[i]} from its parents ({args}). Blue: the edges it reads.")
        text = (f"<b>Backward:</b> node <code>{title}</code> has its complete gradient "
                f"g = d(output)/d(node) = {state.grad_texts[i]}")
        if state.contributions:
            parts = ", ".join(f"<code>{state.titles[p]}</code>.grad += {format_number(amount)}"
                              for p, amount in state.contributions.items())
            text += f"; it adds g × (local slope) into each parent: {parts}. Red: the edges it sends along."
        else:
            text += "; it is a leaf, so nothing is passed on."
        if state.step == state.num_steps:
            leaves = [f"d/d{state.titles[p]} = {state.grad_texts[p]}" for p in range(len(state.titles))
                      if state.titles[p] in state.inputs]
            text += "<br><b>Done:</b> " + ", ".join(leaves) + "."
        return head + text
