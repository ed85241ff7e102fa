"""Headless Chromium driven over the DevTools protocol: load a page, collect console errors and
every network request, measure the layout and take a full-page screenshot."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str:
    """The browser binary; skips (fails under CI) when there is none."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    message = "headless Chromium not installed (Debian: apt-get install -y chromium); the browser test needs it"
    if os.environ.get("CI"):
        pytest.fail(message + " and CI is set")
    pytest.skip(message)


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""
    values: dict[str, Any] = field(default_factory=dict)  # results of the `evaluate` expressions


class Browser:
    """One headless Chromium with a DevTools endpoint, for the duration of a `with` block."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.proc: subprocess.Popen | None = None
        self.ws_url = ""

    def __enter__(self) -> Browser:
        self.profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if port_file.is_file() and port_file.read_text().strip():
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode} before opening DevTools")
            time.sleep(0.1)
        else:
            raise RuntimeError("chromium did not open its DevTools port within 30 s")
        port = int(port_file.read_text().split()[0])
        for _ in range(50):
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                self.ws_url = pages[0]["webSocketDebuggerUrl"]
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("chromium has no page target")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def visit(self, url: str, width: int, height: int, mobile: bool = False,
              evaluate: dict[str, str] | None = None) -> PageVisit:
        """Load `url` at the given viewport; return what the page logged, requested and looked like,
        and the value of each JavaScript expression in `evaluate` (run after the fonts loaded)."""
        visit = PageVisit()
        ids = itertools.count(1)
        with connect(self.ws_url, max_size=None, open_timeout=10) as ws:
            def call(method: str, **params: Any) -> dict:
                my_id = next(ids)
                ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
                while True:
                    msg = json.loads(ws.recv(timeout=60))
                    if msg.get("id") == my_id:
                        if "error" in msg:
                            raise RuntimeError(f"{method}: {msg['error']}")
                        return msg.get("result", {})
                    collect(msg)

            def collect(msg: dict) -> None:
                method, p = msg.get("method"), msg.get("params", {})
                if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                    visit.errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
                elif method == "Runtime.exceptionThrown":
                    visit.errors.append("exception: " + p.get("exceptionDetails", {}).get("text", ""))
                elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                    visit.errors.append("log: " + p["entry"].get("text", ""))
                elif method == "Network.requestWillBeSent":
                    visit.requests.append(p.get("request", {}).get("url", ""))
                elif method == "Network.loadingFailed":
                    visit.errors.append("network: " + p.get("errorText", ""))

            for domain in ("Runtime", "Log", "Network", "Page"):
                call(f"{domain}.enable")
            call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
            call("Page.navigate", url=url)
            deadline = time.monotonic() + 60
            loaded = False
            while not loaded and time.monotonic() < deadline:
                msg = json.loads(ws.recv(timeout=60))
                collect(msg)
                loaded = msg.get("method") == "Page.loadEventFired"
            if not loaded:
                raise RuntimeError(f"{url} did not finish loading within 60 s")
            layout = call("Runtime.evaluate", returnByValue=True, expression=(
                "({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,"
                " height: document.documentElement.scrollHeight, svgs: document.querySelectorAll('svg').length,"
                " title: document.title})"))
            visit.layout = layout["result"]["value"]
            for name, expression in (evaluate or {}).items():
                got = call("Runtime.evaluate", returnByValue=True, awaitPromise=True,
                           expression=f"document.fonts.ready.then(() => ({expression}))")
                if "exceptionDetails" in got:
                    raise RuntimeError(f"{name}: {got['exceptionDetails'].get('text')}")
                visit.values[name] = got["result"].get("value")
            shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": width, "height": min(visit.layout["height"], 16000), "scale": 1})
            visit.screenshot = base64.b64decode(shot["data"])
        return visit
