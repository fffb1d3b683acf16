"""The dashboard in a real browser: Debian's Chromium, driven by Playwright.

Starts ``python -m sim.dashboard`` on a free loopback port, opens the page, clicks Step
three times and checks the step counter, plays the run past 2021 and pauses it, then
checks the scenario label, that the network and the plots drew and that each is shown
large enough for its smallest text to be at least 10 px on screen. Any browser console
error, any page error, any failed request and any request leaving this machine fails
the test (the dashboard must work offline). A screenshot is saved (to
``$DASHBOARD_SCREENSHOT`` if set: ``make screenshot`` uses it for the picture in
docs/how-to/dashboard.md).
The server is stopped by the test.

A second test opens a notebook in JupyterLab, started with the offline settings
``make notebooks`` uses, runs the cell that shows the dashboard inline and steps it.

Needs ``/usr/bin/chromium`` (apt ``chromium``); skipped without it, except under CI,
where its absence is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from sim.dashboard.plots import SMALLEST_TEXT_PX
from sim.scenarios import SCENARIOS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
START_TIMEOUT = 120.0  # seconds for the server to answer (asset fetch on a cold cache)
UI_TIMEOUT = 60_000  # milliseconds for the page to react
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright not installed (pip install -e '.[dev]')"
    if reason and os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {reason}")
    if reason:
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(command: list[str], url: str, log_path: Path,
           env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``command`` in a process group of its own; return once ``url`` answers."""
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.poll() is not None:
            pytest.fail(f"{command[2:4]} exited with {server.returncode}:\n"
                        f"{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            _stop(server)
            pytest.fail(f"{url} did not answer within {START_TIMEOUT:.0f} s:\n"
                        f"{log_path.read_text()[-3000:]}")
        time.sleep(0.5)


@pytest.fixture
def dashboard_url(tmp_path: Path) -> Iterator[str]:
    """A dashboard server of its own, on loopback; stopped (whole process group) after."""
    _require_browser()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    server = _serve([sys.executable, "-m", "sim.dashboard", "--host", "127.0.0.1",
                     "--port", str(port)], url, tmp_path / "server.log")
    try:
        yield url
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    assert server.poll() is not None, "the dashboard server did not stop"
    # nothing of the group may survive (solara runs as the launcher's child)
    try:
        os.killpg(server.pid, 0)
    except ProcessLookupError:
        return
    os.killpg(server.pid, signal.SIGKILL)


@contextmanager
def _watched_page() -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page, and the list of problems it reports as they happen: console
    errors, page errors, failed requests, HTTP errors, requests leaving this machine."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []

    def outside(request) -> None:
        address = urlparse(request.url)
        if address.scheme in ("http", "https", "ws", "wss") and \
                address.hostname not in LOOPBACK:
            problems.append(f"request leaving this machine: {request.url}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_FLAGS)
        try:
            # tall enough for the screenshot to show every picture of the dashboard
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.on("console", lambda message: problems.append(
                f"console {message.type}: {message.text}") if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(
                f"request failed: {request.url} ({request.failure})"))
            page.on("response", lambda response: problems.append(
                f"HTTP {response.status}: {response.url}") if response.status >= 400 else None)
            page.on("request", outside)
            yield page, problems
        finally:
            browser.close()


def test_dashboard_steps_in_chromium_offline(dashboard_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    started = time.perf_counter()
    with _watched_page() as (page, problems):
        page.goto(dashboard_url)
        counter = page.locator(".step-counter")
        expect(counter).to_contain_text("step 0 of 52", timeout=UI_TIMEOUT)
        loaded = time.perf_counter() - started
        network = page.locator(".network-view img")
        expect(network).to_be_visible(timeout=UI_TIMEOUT)
        first_network = network.get_attribute("src")

        step = page.get_by_role("button", name="Step", exact=True)
        for quarter, expected in enumerate(("2018Q1", "2018Q2", "2018Q3"), start=1):
            step.click()
            expect(counter).to_contain_text(f"Quarter {expected} - step {quarter} of 52",
                                            timeout=UI_TIMEOUT)
        stepped = time.perf_counter() - started - loaded

        # play until 2021 (at least 16 quarters), pause: the counter stops
        page.get_by_role("button", name="▶", exact=True).click()
        page.wait_for_function(
            "() => { const m = document.querySelector('.step-counter')"
            "?.innerText.match(/step (\\d+) of/); return m && Number(m[1]) >= 16; }",
            timeout=3 * UI_TIMEOUT)  # 13 or more frames of five pictures each
        page.get_by_role("button", name="❚❚", exact=True).click()
        # a quarter already under way may still land (a frame takes about a second):
        # wait until the counter has held for 2 s, then it must hold 3 s more
        paused_at = counter.inner_text()
        for _ in range(5):
            page.wait_for_timeout(2000)
            now, paused_at = paused_at, counter.inner_text()
            if now == paused_at:
                break
        page.wait_for_timeout(3000)
        assert counter.inner_text() == paused_at, "the run went on after pause"

        label = page.locator(".scenario-label").inner_text()
        assert label.removeprefix("Scenario: ") in SCENARIOS, label
        expect(page.locator(".scenario-chart img")).to_be_visible()
        for view in (".network-view img", ".indices-view img", ".scenario-chart img",
                     ".capability-view img", ".moves-view img"):
            image = page.locator(view)
            size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
            box = image.bounding_box()
            assert size[0] > 200 and size[1] > 100, f"{view} not drawn: {size}"
            assert box and box["width"] > 200, f"{view} not shown: {box}"
            # the PNG may be shown smaller than drawn: its smallest text on screen
            on_screen = SMALLEST_TEXT_PX * box["width"] / size[0]
            assert on_screen >= 10, f"{view}: smallest text {on_screen:.1f} px on screen"
        assert network.get_attribute("src") != first_network, "network not redrawn"

        screenshot = Path(os.environ.get("DASHBOARD_SCREENSHOT") or
                          tmp_path / "dashboard.png")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))
        seen = list(problems)  # before closing, which ends connections on purpose
    print(f"\npage ready in {loaded:.1f} s; three steps in {stepped:.1f} s; paused at "
          f"{paused_at!r}; screenshot {screenshot}")
    assert not seen, "\n".join(seen)


# --- the dashboard inline in JupyterLab (make notebooks), offline too ----------------------
@pytest.fixture
def jupyterlab_notebook(tmp_path: Path) -> Iterator[str]:
    """JupyterLab on loopback with the offline settings ``make notebooks`` uses, serving
    a notebook whose one cell shows the dashboard; its address. Stopped after."""
    _require_browser()
    import nbformat

    from sim.dashboard import assets

    cache = assets.cache_dir()
    assets.cache_assets(cache)
    root = tmp_path / "lab"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from sim.dashboard.app import DashboardModel, dashboard\n"
        "dashboard(DashboardModel(scale=0.1, coupling=0.3, rng=1))")]
    # the server's own interpreter (this venv's) as the kernel, so no kernel dialog
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, root / "dashboard.ipynb")
    # Jupyter's own settings and state kept in the test's folder
    env = {**os.environ, **assets.offline_environment(cache)}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR",
                 "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp_path / name.lower())
    port = _free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1",
               f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    server = _serve(command, f"http://127.0.0.1:{port}/api", tmp_path / "lab.log", env)
    try:
        yield f"http://127.0.0.1:{port}/lab/tree/dashboard.ipynb"
    finally:
        _stop(server)


def test_dashboard_inline_in_jupyterlab_offline(jupyterlab_notebook: str) -> None:
    from playwright.sync_api import expect

    with _watched_page() as (page, problems):
        page.goto(jupyterlab_notebook)
        # once the kernel is idle, Run > Run All Cells
        expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(
            timeout=UI_TIMEOUT)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        output = page.locator(".jp-OutputArea").first
        counter = output.locator(".step-counter")
        expect(counter).to_contain_text("step 0 of 52", timeout=UI_TIMEOUT)
        # inline, the controls sit in a drawer behind the app bar's menu button
        output.locator(".v-app-bar__nav-icon").first.click()
        page.get_by_role("button", name="Step", exact=True).click()
        expect(counter).to_contain_text("Quarter 2018Q1 - step 1 of 52", timeout=UI_TIMEOUT)
        size = output.locator(".network-view img").evaluate(
            "img => [img.naturalWidth, img.naturalHeight]")
        assert size[0] > 200 and size[1] > 100, f"network not drawn: {size}"
        seen = list(problems)
    assert not seen, "\n".join(seen)
