"""A real headless Chromium for report tests: Qt WebEngine (PySide6-WebEngine, Chromium 140),
installed from PyPI by `make env` — Playwright's browser download needs a CDN that is not
reachable offline, and Qt needs only pip. Pages are driven with real mouse and key events
(`QTest`), JavaScript is read back with `runJavaScript`, and console messages and alerts are
recorded."""

import json
import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")

from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWebEngineCore import (  # noqa: E402
    QWebEnginePage,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TIMEOUT_S = 120.0
"""Generous: CI machines are often loaded several times over."""


class RecordingPage(QWebEnginePage):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.console: list[tuple[str, str]] = []
        self.alerts: list[str] = []

    def javaScriptConsoleMessage(self, level, message, line, source):  # noqa: N802 (Qt API)
        self.console.append((level.name, f"{message} ({source}:{line})"))

    def javaScriptAlert(self, origin, message):  # noqa: N802
        self.alerts.append(message)

    def javaScriptConfirm(self, origin, message):  # noqa: N802
        self.alerts.append(message)
        return False


class RequestLog(QWebEngineUrlRequestInterceptor):
    """Every URL the page asks for; anything but the file itself and data: URIs is blocked."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def interceptRequest(self, info):  # noqa: N802 (Qt API)
        url = info.requestUrl().toString()
        self.urls.append(url)
        if not url.startswith(("file:", "data:")):
            info.block(True)


class Browser:
    def __init__(self, width: int = 1400, height: int = 1000):
        self.app = QApplication.instance() or QApplication([])
        self.view = QWebEngineView()
        self.page = RecordingPage(self.view)
        self.requests = RequestLog()
        self.page.setUrlRequestInterceptor(self.requests)
        self.view.setPage(self.page)
        self.view.resize(width, height)
        self.view.show()

    def open(self, path: str | Path) -> float:
        """Load a local file; returns the seconds until the load finished."""
        loop, result = QEventLoop(), {}
        self.page.loadFinished.connect(lambda ok: (result.setdefault("ok", ok), loop.quit()))
        start = time.perf_counter()
        self.page.load(QUrl.fromLocalFile(str(Path(path).resolve())))
        self._wait(loop, "page load")
        if not result.get("ok"):
            raise RuntimeError(f"{path} did not load")
        return time.perf_counter() - start

    def js(self, expression: str):
        """Evaluate a JavaScript expression in the page and return its value (through JSON:
        Qt hands arrays back as empty strings)."""
        loop, result = QEventLoop(), {}
        wrapped = f"JSON.stringify(({expression}))"
        self.page.runJavaScript(wrapped, 0, lambda v: (result.setdefault("v", v), loop.quit()))
        self._wait(loop, f"script {expression[:60]!r}")
        return None if result["v"] in (None, "") else json.loads(result["v"])

    def wait_for(self, script: str, what: str) -> None:
        """Poll until `script` is truthy in the page."""
        deadline = time.monotonic() + TIMEOUT_S
        while not self.js(script):
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}")
            self.pump(0.05)

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the first element matching `selector`."""
        point = self.js(
            f"(() => {{ const e = document.querySelector({selector!r});"
            " e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        self.pump(0.1)
        target = self.view.focusProxy()
        QTest.mouseClick(
            target,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            QPoint(int(point[0]), int(point[1])),
        )
        self.pump(0.1)

    def type(self, selector: str, text: str) -> None:
        """Focus the element with a click, then real key presses."""
        self.click(selector)
        QTest.keyClicks(self.view.focusProxy(), text)
        self.pump(0.2)

    def screenshot(self) -> QImage:
        self.pump(0.2)
        return self.view.grab().toImage()

    def pump(self, seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def _wait(self, loop: QEventLoop, what: str) -> None:
        timer = QTimer()
        timer.setSingleShot(True)
        timed_out = []
        timer.timeout.connect(lambda: (timed_out.append(True), loop.quit()))
        timer.start(int(TIMEOUT_S * 1000))
        loop.exec()
        timer.stop()
        if timed_out:
            raise TimeoutError(f"gave up waiting for {what} after {TIMEOUT_S:.0f} s")

    def close(self) -> None:
        self.view.close()
        self.view.deleteLater()
        self.pump(0.1)
