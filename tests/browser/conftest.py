"""Debian's Chromium, driven by Playwright, against ``make local``'s system started as a user starts it.

The system runs once per session (``python -m local --port 0``, free ports, read back from its ready file)
and is stopped with Ctrl-C's signal at the end. Each test gets fresh browser contexts (one per customer). A
failing test leaves a full-page screenshot of each of its pages under ``build/browser-failures/``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Debian's chromium package (`make browser`); CHROMIUM names another build of it where that one is elsewhere.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = PROJECT_DIR / "build" / "browser-failures"
# Flags for a machine without a display or outside network (see docs/troubleshooting.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Each function call takes this long, so every status stays on screen long enough to be seen.
PACE_SECONDS = "0.4"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def local_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``make local``'s system on free ports: its URLs, demo users and console log (``log``, a path)."""
    ready_file = tmp_path_factory.mktemp("local") / "ready.json"
    log_path = ready_file.with_name("local.log")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", "--port", "0", "--pace", PACE_SECONDS, "--ready-file", str(ready_file)],
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + 120
            while not ready_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"make local did not start:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.2)
            yield json.loads(ready_file.read_text()) | {"log": str(log_path)}
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, f"make local did not stop cleanly:\n{log_path.read_text()[-4000:]}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium from Debian's package (``make browser`` installs it)."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser` (Debian's chromium package)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Pages in fresh contexts (separate storage: one per customer); screenshots of each if the test fails.

    ``make(width, height, **context_options)`` sizes the window (a phone: 390×844) and sets other context options.
    """
    pages: list[Page] = []

    def make(width: int = 1100, height: int = 900, **options: Any) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        context.set_default_timeout(20_000)
        page = context.new_page()
        pages.append(page)
        return page

    yield make
    if request.node.stash.get(FAILED, False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for index, page in enumerate(pages):
            path = SCREENSHOTS / f"{request.node.name}-{index}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot: {path}")
    for page in pages:
        page.context.close()
