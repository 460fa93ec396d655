"""One notebook in a JupyterLab page: open it, Run All, read its cells, move its explorers.

JupyterLab is driven through its application object (exposed by the test
server with ``--LabApp.expose_app_in_browser``) for opening and running, and
through the DOM like a learner (keyboard on a slider handle, a choice in a
dropdown, a click) for widgets. Every wait is on an explicit state, nothing
sleeps for a fixed time, and each wait has a generous limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tests.browser.server import LabServer


@dataclass
class CellReport:
    """One code cell as JupyterLab's model holds it after Run All."""

    index: int
    source: str
    tags: list[str]
    execution_count: int | None
    errors: list[tuple[str, str]]  # (ename, evalue)
    explorers: int  # explorer widgets among the outputs

    @property
    def is_check(self) -> bool:
        return "exercise-check" in self.tags

    def describe(self) -> str:
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        return f"cell {self.index} ({first[:70]!r})"


@dataclass
class WidgetMove:
    """What moving one explorer's control did."""

    explorer: int
    control: str
    changed: bool


# JavaScript run in the page. `window.jupyterapp` is JupyterLab itself.
# Promises awaited in the page are raced against a timer: Playwright's evaluate() has no timeout.
_WITHIN = """const within = (ms, what, promise) => Promise.race([promise, new Promise((_, reject) =>
  setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms))]);"""

_OPEN = """async ([path, ms]) => {
  %s
  const app = window.jupyterapp;
  await within(ms, 'JupyterLab start-up', Promise.all([app.started, app.restored]));
  const panel = await within(ms, 'opening ' + path,
    app.commands.execute('docmanager:open', {path, factory: 'Notebook'}));
  await within(ms, 'loading ' + path, Promise.all([panel.context.ready, panel.sessionContext.ready]));
  app.shell.activateById(panel.id);
  // Count each comm message the kernel has finished with (its 'idle' status):
  // after one, the widget updates it caused have reached the page.
  window.dlcoreLab = {panel, commIdle: 0, run: null};
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    if (msg.header.msg_type === 'status' && msg.content.execution_state === 'idle'
        && msg.parent_header && msg.parent_header.msg_type === 'comm_msg') {
      window.dlcoreLab.commIdle += 1;
    }
  });
  return panel.id;
}""" % _WITHIN

_KERNEL_READY = """() => {
  const kernel = window.dlcoreLab.panel.sessionContext.session?.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""

# Run All: JupyterLab resolves its own promise at the first error (and marks the
# cells still queued as idle), so completion is counted on the kernel's messages
# instead: every execute request ends with an execute_reply on the shell channel
# and an 'idle' status on iopub, aborted ones included.
_RUN_ALL = """() => {
  const lab = window.dlcoreLab;
  const kernel = lab.panel.sessionContext.session.kernel;
  const expected = lab.panel.content.widgets.filter(
    (cell) => cell.model.type === 'code' && cell.model.sharedModel.getSource().trim() !== '').length;
  const run = lab.run = {expected, sent: 0, replies: 0, idle: 0, aborted: 0, kernel, started: performance.now()};
  kernel.anyMessage.connect((_, {msg, direction}) => {
    const type = msg.header.msg_type;
    if (direction === 'send' && type === 'execute_request') run.sent += 1;
    if (direction === 'recv' && type === 'execute_reply') {
      run.replies += 1;
      if (msg.content.status === 'aborted') run.aborted += 1;
    }
    if (direction === 'recv' && type === 'status' && msg.content.execution_state === 'idle'
        && msg.parent_header && msg.parent_header.msg_type === 'execute_request') run.idle += 1;
  });
  window.jupyterapp.shell.activateById(lab.panel.id);
  // widgetId names this notebook, so the command does not depend on which widget has the focus.
  window.jupyterapp.commands.execute('notebook:run-all-cells', {widgetId: lab.panel.id});
  return expected;
}"""

_RUN_FINISHED = """() => {
  const lab = window.dlcoreLab;
  const run = lab.run;
  if (run.kernel.status === 'dead' || run.kernel.connectionStatus === 'disconnected') return 'kernel died';
  if (run.sent === 0 && performance.now() - run.started > 60000) return 'Run All sent no cell to the kernel';
  if (run.sent < run.expected || run.replies < run.sent || run.idle < run.sent) return false;
  // All replies are in; wait for JupyterLab to have written the last counts into its model.
  const pending = lab.panel.content.widgets.some((cell) => cell.model.type === 'code'
    && cell.model.sharedModel.getSource().trim() !== '' && cell.model.executionCount === null);
  return run.aborted > 0 || !pending ? 'finished' : false;
}"""

_CELLS = """() => window.dlcoreLab.panel.content.widgets.map((cell, index) => {
  const model = cell.model;
  if (model.type !== 'code') return null;
  const outputs = model.outputs.toJSON();
  return {
    index, source: model.sharedModel.getSource(), tags: model.getMetadata('tags') || [],
    execution_count: model.executionCount,
    errors: outputs.filter((o) => o.output_type === 'error').map((o) => [o.ename, o.evalue]),
    // An explorer (dlcore.widgets.base.Explorer) shows as a live widget with a still image beside it.
    explorers: outputs.filter((o) => o.data && o.data['application/vnd.jupyter.widget-view+json']
      && o.data['image/png']).length,
  };
}).filter((cell) => cell !== null)"""

# Explorers: a widget box with an image as a direct child (dlcore.widgets.base.Explorer).
_MARK_EXPLORERS = """(expected) => {
  const root = document.getElementById(window.dlcoreLab.panel.id);
  const boxes = [...root.querySelectorAll('.jp-OutputArea-output .widget-vbox')]
    .filter((box) => [...box.children].some((child) => child.matches('img.widget-image[src]')));
  if (boxes.length < expected) return false;  // not all rendered yet
  boxes.forEach((box, index) => box.setAttribute('data-dlcore-explorer', String(index)));
  return boxes.length;
}"""

_EXPLORER_SNAPSHOT = """(index) => {
  const box = document.querySelector(`[data-dlcore-explorer="${index}"]`);
  const image = [...box.children].find((child) => child.matches('img.widget-image'));
  const html = [...box.children].filter((child) => child.matches('.widget-html'))
    .map((child) => child.innerText).join('\\n');
  return {src: image.getAttribute('src') || '', html};
}"""

_EXPLORER_CHANGED = """([index, before, commIdleBefore, settledMs]) => {
  const box = document.querySelector(`[data-dlcore-explorer="${index}"]`);
  const image = [...box.children].find((child) => child.matches('img.widget-image'));
  const html = [...box.children].filter((child) => child.matches('.widget-html'))
    .map((child) => child.innerText).join('\\n');
  if ((image.getAttribute('src') || '') !== before.src || html !== before.html) return 'changed';
  // The kernel has handled the control's message and time has passed for its
  // updates to be drawn, and nothing changed: this control is a no-op here.
  const lab = window.dlcoreLab;
  if (lab.commIdle > commIdleBefore) {
    lab.settledSince = lab.settledSince || performance.now();
    if (performance.now() - lab.settledSince > settledMs) return 'unchanged';
  }
  return false;
}"""

_SHUTDOWN = """async () => {
  %s
  const lab = window.dlcoreLab;
  if (lab && lab.panel && lab.panel.sessionContext.session) {
    await within(30000, 'kernel shutdown', lab.panel.sessionContext.shutdown());
  }
}""" % _WITHIN


class LabNotebook:
    """One notebook open in one JupyterLab page."""

    LOAD_TIMEOUT_MS = 120_000
    KERNEL_TIMEOUT_MS = 120_000
    RUN_TIMEOUT_MS = 300_000
    CONTROL_TIMEOUT_MS = 60_000  # a widget callback is ~0.1 s; this is for a loaded CI machine
    SETTLED_MS = 2_000

    def __init__(self, page, server: LabServer, path: str, workspace: str) -> None:
        self.page = page
        self.server = server
        self.path = path
        self.workspace = workspace

    def open(self) -> None:
        """Load JupyterLab in a fresh workspace, open the notebook, wait for its kernel."""
        page = self.page
        page.goto(self.server.url(f"lab/workspaces/{self.workspace}?reset"), wait_until="domcontentloaded",
                  timeout=self.LOAD_TIMEOUT_MS)
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=self.LOAD_TIMEOUT_MS)
        page.set_default_timeout(60_000)
        page.evaluate(_OPEN, [self.path, self.LOAD_TIMEOUT_MS])
        page.wait_for_function(_KERNEL_READY, timeout=self.KERNEL_TIMEOUT_MS, polling=250)

    def run_all(self) -> list[CellReport]:
        self.page.evaluate(_RUN_ALL)
        outcome = self.page.wait_for_function(_RUN_FINISHED, timeout=self.RUN_TIMEOUT_MS, polling=250).json_value()
        if outcome != "finished":
            raise AssertionError(f"{self.path}: Run All did not finish: {outcome}")
        return [CellReport(**cell) for cell in self.page.evaluate(_CELLS)]

    def explorers(self, expected: int) -> int:
        """Wait until the ``expected`` explorers have rendered, mark them on the page, count them."""
        if expected == 0:
            return 0
        handle = self.page.wait_for_function(_MARK_EXPLORERS, arg=expected, timeout=self.LOAD_TIMEOUT_MS, polling=250)
        return handle.json_value()

    def explorer(self, index: int):
        return self.page.locator(f'[data-dlcore-explorer="{index}"]')

    def _wait_for_output(self, index: int, before: dict, comm_idle_before: int) -> bool:
        self.page.evaluate("() => { window.dlcoreLab.settledSince = null; }")
        handle = self.page.wait_for_function(
            _EXPLORER_CHANGED, arg=[index, before, comm_idle_before, self.SETTLED_MS],
            timeout=self.CONTROL_TIMEOUT_MS, polling=100)
        return handle.json_value() == "changed"

    def _controls(self, index: int) -> list[tuple[str, object]]:
        """The explorer's own controls, sliders first, then dropdowns, then buttons."""
        box = self.explorer(index)
        controls = []
        sliders = box.locator(".widget-slider")
        for k in range(sliders.count()):
            controls.append(("slider", sliders.nth(k)))
        dropdowns = box.locator(".widget-dropdown select")
        for k in range(dropdowns.count()):
            controls.append(("dropdown", dropdowns.nth(k)))
        buttons = box.locator("button.widget-button")
        for k in range(buttons.count()):
            controls.append(("button", buttons.nth(k)))
        return controls

    def _press_slider(self, slider) -> str:
        """Move a slider one step with the keyboard; return a description of the move."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout  # late: collection must not need it

        label = slider.locator(".widget-label").first.inner_text().strip()
        handle = slider.locator(".noUi-handle").first
        # The readout shows the value at the widget's precision; noUiSlider's aria-valuenow is
        # rounded to one decimal, so both are watched (a slider may have no readout).
        state = """(slider) => [slider.querySelector('.noUi-handle').getAttribute('aria-valuenow'),
                                slider.querySelector('.noUi-handle').getAttribute('aria-valuetext'),
                                (slider.querySelector('.widget-readout') || {}).innerText || '']"""
        before = slider.evaluate(state)
        key = "ArrowLeft" if before[0] == handle.get_attribute("aria-valuemax") else "ArrowRight"
        for _ in range(3):  # focus can be taken by JupyterLab between the focus and the key press
            handle.focus()
            handle.press(key)
            try:
                self.page.wait_for_function(f"([slider, before]) => JSON.stringify(({state})(slider)) !== before",
                                            arg=[slider.element_handle(), json.dumps(before)], timeout=5_000,
                                            polling=100)
                after = slider.evaluate(state)
                return f"slider {label!r}: {before[2] or before[1]} -> {after[2] or after[1]} ({key})"
            except PlaywrightTimeout:
                continue
        raise AssertionError(f"{self.path}: pressing {key} on slider {label!r} did not move it")

    def move_controls(self, index: int) -> WidgetMove:
        """Move the explorer's controls one by one until its figure or summary changes."""
        box = self.explorer(index)
        box.scroll_into_view_if_needed()
        tried = []
        for kind, control in self._controls(index):
            # A control an explorer disables has no effect in its current state.
            disabled = control.evaluate("(el) => el.disabled === true || !!el.querySelector('[disabled]')")
            if disabled or not control.is_visible():
                continue
            before = self.page.evaluate(_EXPLORER_SNAPSHOT, index)
            comm_idle = self.page.evaluate("() => window.dlcoreLab.commIdle")
            if kind == "slider":
                what = self._press_slider(control)
            elif kind == "dropdown":
                current = control.input_value()
                values = control.locator("option").evaluate_all("(options) => options.map((o) => o.value)")
                choice = next((value for value in values if value != current), None)
                if choice is None:
                    continue
                control.select_option(value=choice)
                label = control.evaluate("(el) => el.parentElement.querySelector('.widget-label')?.innerText || ''")
                what = f"dropdown {label.strip()!r}: {current!r} -> {choice!r}"
            else:
                what = f"button {control.inner_text().strip()!r}"
                control.click()
            changed = self._wait_for_output(index, before, comm_idle)
            tried.append(what)
            if changed:
                return WidgetMove(index, what, True)
        return WidgetMove(index, "; ".join(tried) or "no control found", False)

    def screenshot(self, path: Path, index: int | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if index is not None:
            self.explorer(index).scroll_into_view_if_needed()
        self.page.screenshot(path=str(path))

    def shutdown_kernel(self) -> None:
        try:
            self.page.evaluate(_SHUTDOWN)
        except Exception:  # noqa: BLE001 - the server's teardown ends the kernel anyway
            pass
