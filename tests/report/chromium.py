"""A small DevTools-protocol driver for Debian's headless Chromium (tests and bench/report).

It opens a local file, records console errors, uncaught exceptions and every network request,
waits until the report says its charts are drawn, and takes a screenshot. Only the pinned
``websockets`` package is used: no browser download, no other automation stack.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = "/usr/bin/chromium"
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
    "--window-size=1366,900",
)
LOCAL = ("file:", "data:", "blob:", "about:")


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def network_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL)]


class Chromium:
    """One headless Chromium with a fresh profile; use as a context manager."""

    def __init__(self, binary: str = CHROMIUM) -> None:
        if not Path(binary).exists():
            raise RuntimeError(f"{binary} missing: apt-get install -y chromium")
        self.profile = tempfile.mkdtemp(prefix="segwise-chromium-")
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ws_url = None
        for line in self.proc.stderr:  # type: ignore[union-attr]
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                ws_url = found.group(1)
                break
        if ws_url is None:
            self.close()
            raise RuntimeError("chromium did not start its DevTools endpoint")
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(connect(ws_url, max_size=None, open_timeout=60))
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if getattr(self, "stack", None) is not None:
                self.stack.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        msg_id = next(self.ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv(timeout=120))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def open(self, path: Path, wait_s: float = 120) -> tuple[str, PageLog, float]:
        """Open ``path`` in a new tab; returns the session, the log and seconds to charts drawn.

        The time runs from navigation start to the page's own "all charts drawn" mark.
        """
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable", session=session)
        self.events.clear()
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        deadline = time.monotonic() + wait_s
        ready = None
        while time.monotonic() < deadline:
            ready = self.evaluate(session, "window.segwiseReadyMs || null")
            if ready is not None:
                break
            time.sleep(0.1)
        return session, self._log(), (ready / 1000.0 if ready is not None else float("nan"))

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, session: str, out: Path) -> Path:
        height = int(self.evaluate(session, "document.documentElement.scrollHeight"))
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1366, "height": min(height, 16000), "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        time.sleep(0.5)  # let responsive charts settle at the new size
        shot = self.send("Page.captureScreenshot", {"format": "png"}, session=session)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out

    def _log(self) -> PageLog:
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

    def page_log(self) -> PageLog:
        """Events seen so far (call after evaluating, to include late ones)."""
        return self._log()


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
