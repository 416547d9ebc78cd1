"""The shared Chromium driver (tests/chromium.py) on a page served from this machine: what the
Superset dashboard test does (log in by typing, read a JSON response the page fetched, a
screenshot of the window), without Docker."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.chromium import Chromium

PAGE = b"""<!doctype html><title>t</title>
<input id="username"><button id="go">go</button><pre id="out"></pre>
<script>
document.getElementById('go').onclick = () =>
  fetch('/api/data?who=' + encodeURIComponent(document.getElementById('username').value))
    .then(r => r.json()).then(j => { document.getElementById('out').textContent = j.hello; });
</script>"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/api/data"):
            body, kind = json.dumps({"hello": self.path.split("=", 1)[1]}).encode(), "json"
        else:
            body, kind = PAGE, "html"
        self.send_response(200)
        self.send_header("Content-Type", f"{'application' if kind == 'json' else 'text'}/{kind}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_page_types_fetches_and_reads_responses(site, tmp_path):
    with Chromium(width=800, height=600) as browser:
        page = browser.first_page()
        assert page.evaluate("innerWidth") == 800  # the window's size (less its frame)
        page.navigate(f"{site}/")
        page.wait_for("!!document.querySelector('#username')", 30, "the form")
        page.type_into("#username", "segwise")
        page.evaluate("document.getElementById('go').click()")
        assert page.wait_for("document.getElementById('out').textContent", 30, "the reply")
        page.pump(0.5)
        responses = [
            e["params"]
            for e in page.events
            if e.get("method") == "Network.responseReceived"
            and "/api/data" in e["params"]["response"]["url"]
        ]
        assert len(responses) == 1 and responses[0]["response"]["status"] == 200
        assert json.loads(page.response_body(responses[0]["requestId"])) == {"hello": "segwise"}
        shot = page.screenshot(tmp_path / "page.png")
        assert shot.read_bytes()[:4] == b"\x89PNG"
        assert page.log().console_errors == []
