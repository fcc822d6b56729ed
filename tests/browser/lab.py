"""Drive JupyterLab in headless Chromium: start a server, open a notebook, Run All, read back.

The facts this relies on (measured on JupyterLab 4.6 and Debian's Chromium):

- The app is exposed as ``window.jupyterapp`` (``--LabApp.expose_app_in_browser``), and
  running cells through its commands (``notebook:run-all-cells``) is reliable where key
  presses are not. The command's promise is not awaited inside ``page.evaluate`` (a long
  evaluate can be cut off); it records its result in ``window.__lectureRun``, which is polled.
- The status bar says "Idle" before the notebook's kernel session exists; a notebook is
  ready when its context is ready and its session's kernel is idle.
- Results are read from the notebook model (execution counts, ``outputs.toJSON()``), not
  from the DOM, because JupyterLab does not render off-screen cells. What the page *shows*
  for an image or a widget is read from the DOM after scrolling that cell into view.
- Each notebook opens in a workspace of its own (``/lab/workspaces/<name>/tree/...?reset``),
  so no tab or kernel of an earlier notebook comes back with it.

The server serves a fresh copy of ``notebooks/`` (and ``assets/``), never the committed
files: autosave is off as well, but a copy cannot be written back by accident.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from .notebook_checks import (
    IMAGE,
    WIDGET,
    Cell,
    DomOutput,
    NotebookRun,
    Output,
    plot_cells,
    widget_cells,
)

ROOT = Path(__file__).resolve().parents[2]

# Headless Chromium with no background traffic (the suite runs without a network: these
# flags stop Chromium's own connections, which would otherwise be refused many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--disable-dev-shm-usage", "--no-default-browser-check",
    "--metrics-recording-only", "--disable-breakpad",
]
VIEWPORT = {"width": 1280, "height": 1000}
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ENV = "LECTURE_CHROMIUM"
INSTALL_HINT = (
    "Install Chromium: on Debian/Ubuntu `sudo apt-get install chromium` (the emoji font "
    "package fonts-noto-color-emoji makes the screenshots complete), or point "
    f"{CHROMIUM_ENV}=/path/to/chromium at a Chromium or Chrome binary. Playwright's own "
    "`playwright install` is not needed (and downloads from outside the package registries)."
)

# JupyterLab settings for the tests: no news or update prompts, no extension manager, no
# autosave (the tests must never write a notebook), and kernels stop with their notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"kernelShutdown": True},
}


class LabError(AssertionError):
    """JupyterLab or the notebook's kernel did not get where a test needed it."""


class KernelStartTimeout(LabError):
    """The notebook's kernel did not start in time (a rare hang when kernels start at once).

    The Makefile reruns a test once on this error and on no other.
    """


def find_chromium() -> str | None:
    """The Chromium to drive: ``$LECTURE_CHROMIUM``, else the first on PATH, else None.

    ``LECTURE_CHROMIUM=none`` means none, as if no Chromium were installed (the browser
    tests are then skipped, or fail with CI=true). Raises :class:`LabError` if
    ``$LECTURE_CHROMIUM`` names a file that is not executable.
    """
    chosen = os.environ.get(CHROMIUM_ENV, "").strip()
    if chosen.lower() == "none":
        return None
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            raise LabError(f"{CHROMIUM_ENV}={chosen!r} is not an executable file.")
        return chosen
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the server


def prepare_root(root: Path) -> Path:
    """A fresh copy of the course for the server to serve: notebooks/ and assets/ under ``root``."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    ignore = shutil.ignore_patterns("outputs", ".ipynb_checkpoints", "__pycache__")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=ignore)
    if (ROOT / "assets").is_dir():
        shutil.copytree(ROOT / "assets", root / "assets", ignore=ignore)
    return root


class LabServer:
    """A JupyterLab server on a free loopback port, serving ``root``, with its own settings.

    Its configuration, data, runtime, settings and workspaces folders all live in
    ``workdir``, so nothing of the user's Jupyter set-up leaks in and nothing is left in it.
    The kernels get the test suite's environment (offline, build/ caches, guards) except
    ``MPLBACKEND``: as for a student, plots go through the inline backend.
    """

    def __init__(self, root: Path, workdir: Path, env: dict[str, str] | None = None):
        self.root, self.workdir = Path(root), Path(workdir)
        self.env = dict(os.environ if env is None else env)
        self.token = uuid.uuid4().hex
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "server.log"

    # The server's own folders: a fresh, empty Jupyter set-up each time.
    def _environment(self) -> dict[str, str]:
        env = dict(self.env)
        for var in ("MPLBACKEND", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTERLAB_DIR",
                    "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
            env.pop(var, None)
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime")):
            env[var] = str(self.workdir / sub)
        return env

    def _write_settings(self) -> Path:
        settings = self.workdir / "settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        return settings

    def start(self, timeout: float = 120) -> LabServer:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        settings = self._write_settings()
        for attempt in range(3):  # a port taken between free_port() and the bind: try another
            self.port = free_port()
            args = [
                sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                f"--port={self.port}", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class="
                "jupyterlab.handlers.announcements.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={self.workdir / 'workspaces'}",
            ]
            if hasattr(os, "getuid") and os.getuid() == 0:
                args.append("--allow-root")
            with open(self.log_path, "a") as log:
                self.proc = subprocess.Popen(args, cwd=self.root, env=self._environment(),
                                             stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_until_up(timeout):
                return self
            self.stop()
            if attempt == 2:
                break
        raise LabError(f"JupyterLab did not start; its log ({self.log_path}) ends with:\n"
                       + self.log_tail())

    def _wait_until_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.api("GET", "api/status")
                return True
            except OSError:
                time.sleep(0.3)
        return False

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10, body: dict | None = None):
        """Call the server's REST API; returns the decoded JSON (or None for no content)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url(path), method=method, data=data,
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback
        with opener.open(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start_session(self, path: str, timeout: float = 120) -> str:
        """Start the kernel of the notebook at ``path`` (what JupyterLab does when it opens
        the notebook; the page then joins this session). Returns the session's id."""
        session = self.api("POST", "api/sessions", timeout=timeout, body={
            "path": path, "name": Path(path).name, "type": "notebook",
            "kernel": {"name": "python3"}})
        return session["id"]

    def shutdown_session(self, session_id: str) -> None:
        """Stop one notebook's kernel (best effort: the server stops all of them at the end)."""
        try:
            self.api("DELETE", f"api/sessions/{session_id}", timeout=30)
        except OSError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server and its kernels (its whole process group)."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.proc = None


# --------------------------------------------------------------------------- the page

_READY = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.context.isReady) return false;
  const s = w.sessionContext;
  return !!(s && s.session && s.session.kernel && s.session.kernel.status === 'idle');
}"""

_STATE = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const dialogs = [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText.slice(0, 200));
  if (!w || !w.sessionContext) return {app: !!app, widget: w ? w.title.label : null, dialogs};
  const s = w.sessionContext;
  const k = s.session && s.session.kernel;
  return {app: true, widget: w.title.label, ready: w.context && w.context.isReady,
          kernel: k ? k.status : null, dialogs};
}"""

_RUN_ALL = """() => {
  window.__lectureRun = null;
  const started = performance.now();
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__lectureRun = {ok: ok, ms: performance.now() - started}; },
    err => { window.__lectureRun = {ok: false, error: String(err)}; });
}"""

_RUNNING_CELL = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const i = nb.widgets.findIndex(c => c.model.type === 'code' && c.model.executionState === 'running');
  return i;
}"""

_MODEL = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return nb.widgets.map((c, index) => {
    const m = c.model;
    const cell = {index, cell_type: m.type, source: m.sharedModel.getSource(),
                  execution_count: null, outputs: []};
    if (m.type !== 'code') return cell;
    cell.execution_count = m.executionCount;
    cell.outputs = m.outputs.toJSON().map(o => ({
      output_type: o.output_type,
      mimetypes: Object.keys(o.data || {}),
      ename: o.ename || '', evalue: o.evalue || '',
      traceback: (o.traceback || []).slice(-8),
      text: (Array.isArray(o.text) ? o.text.join('') : (o.text || '')).slice(-2000),
    }));
    return cell;
  });
}"""

# The DOM of one cell's outputs, one entry per output (JupyterLab renders one
# .jp-OutputArea-child per output of the model).
_DOM = """(index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  if (!cell.outputArea) return [];
  const children = [...cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child')];
  return children.map(child => {
    const images = [...child.querySelectorAll('img')]
      .filter(img => img.complete && img.naturalWidth > 0).length;
    const views = [...child.querySelectorAll('.jupyter-widgets')];
    const control = views.some(el => [...el.classList].some(c => c.startsWith('widget-'))
                                     && el.getBoundingClientRect().height > 0);
    const errorWidget = child.querySelector('.jupyter-widgets-error-widget');
    const text = child.innerText || '';
    let widget_error = '';
    if (errorWidget) widget_error = 'an error view: ' + (errorWidget.innerText || '').slice(0, 200);
    else if (text.includes('Error displaying widget')) widget_error = text.slice(0, 300);
    else if (views.length && !control) widget_error = text.slice(0, 300);
    return {images, widget_rendered: control && !widget_error, widget_error,
            text: text.slice(0, 300)};
  });
}"""

_SCROLL_TO = """async (index) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  await nb.scrollToItem(index, 'start');
  const cell = nb.widgets[index];
  cell.node.scrollIntoView({block: 'start'});
  cell.node.setAttribute('data-lecture-cell', String(index));
}"""


def _wait(page, predicate, timeout: float, interval: float = 0.25):
    """Call ``predicate()`` until it returns something truthy or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(interval * 1000)


def open_notebook(page, server: LabServer, path: str, *, timeout: float = 120,
                  timings: dict | None = None) -> None:
    """Open ``path`` (relative to the server root) in a fresh workspace; wait for its kernel.

    Raises :class:`KernelStartTimeout` if the kernel is not idle within ``timeout`` seconds.
    With ``timings``, records there how long the page took to show the app ("page", s).
    """
    timings = {} if timings is None else timings
    workspace = "t" + uuid.uuid4().hex[:12]
    start = time.monotonic()
    # The kernel starts while the page loads JupyterLab, not after (in the background:
    # the page waits for the kernel either way, and reports when it does not come).
    threading.Thread(target=_start_session_quietly, args=(server, path), daemon=True).start()
    page.goto(server.url(f"lab/workspaces/{workspace}/tree/{path}?reset"),
              wait_until="domcontentloaded", timeout=timeout * 1000)
    try:
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget",
                               timeout=timeout * 1000, polling=100)
        timings["page"] = time.monotonic() - start
        page.wait_for_function(_READY, arg=path, timeout=timeout * 1000, polling=250)
    except Exception as error:  # playwright's TimeoutError
        state = page.evaluate(_STATE)
        raise KernelStartTimeout(
            f"{path}: the notebook and its kernel were not ready after {timeout:.0f} s "
            f"(page state: {state}); the server log ends with:\n{server.log_tail(15)}"
        ) from error
    # The file browser is of no use here: give the notebook the page's whole width.
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")


def _start_session_quietly(server: LabServer, path: str) -> None:
    try:
        server.start_session(path)
    except OSError:  # JupyterLab starts the kernel itself when it opens the notebook
        pass


def session_id(page) -> str | None:
    return page.evaluate("""() => { const w = window.jupyterapp.shell.currentWidget;
        return w && w.sessionContext && w.sessionContext.session ? w.sessionContext.session.id
                                                                  : null; }""")


def run_all_cells(page, *, timeout: float = 240) -> dict:
    """Run every cell through JupyterLab's "Run All" command; wait for it and the kernel."""
    page.evaluate(_RUN_ALL)
    done = _wait(page, lambda: page.evaluate("() => window.__lectureRun"), timeout)
    if not done:
        running = page.evaluate(_RUNNING_CELL)
        where = f"cell {running + 1} was still running" if running >= 0 else "no cell was running"
        raise LabError(f"Run All did not finish within {timeout:.0f} s ({where}).")
    idle = _wait(page, lambda: page.evaluate(_READY, page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.context.path")), 60)
    if not idle:
        raise LabError(f"The kernel did not go idle after Run All: {page.evaluate(_STATE)}")
    return done


def read_model(page) -> list[Cell]:
    cells = []
    for raw in page.evaluate(_MODEL):
        outputs = [Output(**o) for o in raw.pop("outputs")]
        cells.append(Cell(**raw, outputs=outputs))
    return cells


def scroll_to_cell(page, index: int) -> None:
    page.evaluate(_SCROLL_TO, index)


def cell_locator(page, index: int):
    """A Playwright locator for cell ``index`` (0-based), after scrolling it into view."""
    scroll_to_cell(page, index)
    return page.locator(f"[data-lecture-cell='{index}']")


def inspect_outputs(page, cell: Cell, *, timeout: float = 15) -> list[DomOutput]:
    """Scroll ``cell`` into view and read what the page shows for each of its outputs.

    Waits (up to ``timeout`` s) until every image output shows a loaded image and every
    widget output shows a rendered view or an error, then reads the final state.
    """
    scroll_to_cell(page, cell.index)

    def settled():
        dom = page.evaluate(_DOM, cell.index)
        if len(dom) != len(cell.outputs):
            return None
        for output, shown in zip(cell.outputs, dom, strict=True):
            if WIDGET in output.mimetypes and not (shown["widget_rendered"]
                                                   or shown["widget_error"]):
                return None
            if IMAGE in output.mimetypes and WIDGET not in output.mimetypes \
                    and shown["images"] < 1:
                return None
        return dom

    dom = _wait(page, settled, timeout) or page.evaluate(_DOM, cell.index)
    return [DomOutput(**d) for d in dom]


def screenshot_cell(page, index: int, path: Path) -> Path:
    """A PNG of cell ``index`` as the page shows it (input and outputs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    locator = cell_locator(page, index)
    page.wait_for_timeout(150)  # let the scroll settle and lazy content paint
    viewport = page.viewport_size
    box = locator.bounding_box()
    # A cell taller than the notebook panel would be cut off (and the status bar drawn over
    # it): make the window tall enough for the whole cell, then put it back.
    needed = int(box["height"]) + 250 if box else 0
    if needed > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": min(needed, 8000)})
        page.wait_for_timeout(300)
        locator = cell_locator(page, index)
        page.wait_for_timeout(150)
    try:
        locator.screenshot(path=str(path), animations="disabled")
    finally:
        if page.viewport_size != viewport:
            page.set_viewport_size(viewport)
    return path


_EXECUTE = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '', error = null;
  future.onIOPub = msg => {
    const t = msg.header.msg_type;
    if (t === 'stream') out += msg.content.text;
    if (t === 'error') error = msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return {out, error};
}"""


def kernel_output(page, code: str) -> str:
    """Run ``code`` in the open notebook's kernel (not in a cell); return what it printed."""
    result = page.evaluate(_EXECUTE, code)
    if result["error"]:
        raise LabError(f"Running {code!r} in the kernel raised {result['error']}")
    return result["out"]


def run_notebook(page, server: LabServer, path: str, shots: Path | None = None, *,
                 kernel_timeout: float = 120, run_timeout: float = 240) -> NotebookRun:
    """Open ``path`` in JupyterLab, Run All, and read back every cell and what the page shows.

    With ``shots``, saves PNG screenshots there: ``notebook.png`` (the page after the run,
    scrolled to the set-up's output, which names the mode) and ``cell-NNN.png`` (NNN
    counts from 1) for every plot or widget cell, every other cell with an image output, every
    cell that raised and every widget that did not render. (Other widget outputs, such as
    progress bars, are checked in the page but not photographed.) The kernel keeps running (widget drivers use it); stop it with
    ``server.shutdown_session(session_id(page))``.
    """
    timings = {}
    start = time.monotonic()
    open_notebook(page, server, path, timeout=kernel_timeout, timings=timings)
    timings["open"] = time.monotonic() - start
    start = time.monotonic()
    result = run_all_cells(page, timeout=run_timeout)
    timings["run_all"] = time.monotonic() - start
    start = time.monotonic()
    cells = read_model(page)
    for cell in cells:
        if any(IMAGE in o.mimetypes or WIDGET in o.mimetypes for o in cell.outputs):
            cell.dom = inspect_outputs(page, cell)
    run = NotebookRun(path=path, cells=cells, run_all=result, timings=timings)
    timings["inspect"] = time.monotonic() - start
    if shots is not None:
        start = time.monotonic()
        if shots.exists():
            shutil.rmtree(shots)
        shots.mkdir(parents=True)
        # The set-up's output, which says which mode the notebook ran in ("Mode: ...").
        setup = next((c.index for c in cells if any("Mode:" in o.text for o in c.outputs)),
                     None)
        if setup is None:  # no set-up output: the first code cell
            scroll_to_cell(page, next((c.index for c in cells if c.cell_type == "code"), 0))
        else:
            outputs = cell_locator(page, setup).locator(".jp-OutputArea-output")
            outputs.last.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        page.screenshot(path=str(shots / "notebook.png"))
        wanted = {c.index for c in plot_cells(run) + widget_cells(run)}
        for cell in cells:
            broken = cell.dom is not None and any(
                WIDGET in o.mimetypes and not d.widget_rendered
                for o, d in zip(cell.outputs, cell.dom, strict=False))
            if cell.index in wanted or cell.errors or cell.has(IMAGE) or broken:
                screenshot_cell(page, cell.index, shots / f"cell-{cell.index + 1:03d}.png")
        timings["screenshots"] = time.monotonic() - start
    return run
