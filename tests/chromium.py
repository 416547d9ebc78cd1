"""A small DevTools-protocol driver for Debian's headless Chromium (tests and bench/report).

One browser with a throwaway profile and no background traffic, driven with CDP commands over
one websocket (no webdriver, no browser download: only the pinned ``websockets`` package). A
``Page`` is one tab of it: open a local file and wait until the report says its charts are drawn
(``open_file``), or navigate a site, type into it and read its network responses; it records
console errors, uncaught exceptions and every request, and takes screenshots.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)
LOCAL = ("file:", "data:", "blob:", "about:")
START_TIMEOUT_S = 60


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def network_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL)]


class Chromium:
    """One headless Chromium with a fresh profile; use as a context manager (or ``close``).

    ``events`` collects the CDP events seen while waiting for replies, of every page."""

    def __init__(self, width: int = 1366, height: int = 900) -> None:
        binary = chromium_binary()
        if binary is None:
            raise RuntimeError("chromium not installed: apt-get install -y chromium")
        self.width = width
        self.profile = Path(tempfile.mkdtemp(prefix="segwise-chromium-"))
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.stack = contextlib.ExitStack()
        try:
            ws_url = self._devtools_url()
            self.ws = self.stack.enter_context(connect(ws_url, max_size=None, open_timeout=60))
        except BaseException:
            self.close()
            raise
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def _devtools_url(self) -> str:
        """The browser's websocket, from the port file Chromium writes into its profile."""
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.1)
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.stack.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 120,
    ) -> dict:
        msg_id = next(self.ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for a while (network responses arrive without being asked for)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def first_page(self) -> Page:
        """The tab Chromium opened with its window (``--window-size`` is its viewport)."""
        targets = self.send("Target.getTargets")["targetInfos"]
        return self._attach(next(t["targetId"] for t in targets if t["type"] == "page"))

    def new_page(self) -> Page:
        """A new tab."""
        return self._attach(self.send("Target.createTarget", {"url": "about:blank"})["targetId"])

    def _attach(self, target: str) -> Page:
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, session["sessionId"])
        for domain in ("Runtime", "Log", "Network", "Page"):
            page.send(f"{domain}.enable")
        return page


class Page:
    """One tab: commands go to its session, ``events`` are the ones of this tab."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, session=self.session)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for e in self.browser.events if e.get("sessionId") == self.session]

    def pump(self, seconds: float) -> None:
        self.browser.pump(seconds)

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def open_file(self, path: Path, wait_s: float = 120) -> float:
        """Open a local report; seconds from navigation start to its own "all charts drawn"
        mark (``window.segwiseReadyMs``), NaN if it never came. The log starts here."""
        self.browser.events.clear()
        self.navigate(path.resolve().as_uri())
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            ready = self.evaluate("window.segwiseReadyMs || null")
            if ready is not None:
                return ready / 1000.0
            time.sleep(0.1)
        return float("nan")

    def wait_for(self, expression: str, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            self.pump(0.5)
        raise AssertionError(f"timed out waiting for {what}")

    def type_into(self, selector: str, text: str) -> None:
        """Focus an input and type as a user does (real input events, so React sees them)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", {"text": text})

    def response_body(self, request_id: str) -> str:
        body = self.send("Network.getResponseBody", {"requestId": request_id})
        raw = body["body"]
        return base64.b64decode(raw).decode() if body.get("base64Encoded") else raw

    def screenshot(self, out: Path, full_page: bool = False) -> Path:
        """The viewport, or (``full_page``) the whole page at the browser's width (at most
        16000 px high)."""
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": self.browser.width, "height": min(height, 16000),
                 "deviceScaleFactor": 1, "mobile": False},
            )  # fmt: skip
            time.sleep(0.5)  # let responsive charts settle at the new size
        shot = self.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}
        )
        out.write_bytes(base64.b64decode(shot["data"]))
        return out

    def log(self) -> PageLog:
        """Console errors, exceptions and requests seen so far (call after evaluating, to
        include late ones)."""
        log = PageLog()
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                log.console_errors.append(json.dumps(params.get("args"))[:500])
            elif method == "Runtime.exceptionThrown":
                log.console_errors.append(json.dumps(params.get("exceptionDetails"))[:500])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                log.console_errors.append(params["entry"].get("text", "")[:500])
            elif method == "Network.requestWillBeSent":
                log.requests.append(params["request"]["url"])
        return log


# Every chart container holds a drawn Plotly figure with marks: bars, points, lines, heat-map
# images or Sankey links. Returned per container id, so a failure names the chart.
CHART_MARKS_JS = """
(() => Array.from(document.querySelectorAll('.chart')).map(el => ({
  id: el.id,
  svg: el.querySelectorAll('svg.main-svg').length,
  marks: el.querySelectorAll(
    'g.trace path.point, g.trace.bars path, g.trace path.js-line, .heatmaplayer image, '
    + 'g.trace.heatmap image, .sankey-link, .sankey-node').length,
  title: (el.querySelector('.gtitle') || {}).textContent || ''
})))()
"""
