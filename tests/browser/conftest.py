"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

`playwright install` cannot download browsers here, so the system Chromium is launched by
path. Every page a test opens is checked for console errors and uncaught exceptions, and a
screenshot of it lands in test-artifacts/.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import demo_install

CHROMIUM = os.environ.get("GREENAI_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "greenai-demo"
# Playwright's sync API keeps an event loop on the test thread; the ORM calls the tests make
# there are still plain synchronous calls, so Django's async-context guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev extras not installed
        return None
    return sync_playwright


@pytest.fixture(scope="session")
def browser():
    sync_playwright = _playwright()
    if sync_playwright is None or not shutil.which(CHROMIUM):
        message = "browser tests need the playwright package and Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Page:
    """A browser tab bound to the live server that records console errors."""

    def __init__(self, browser, base_url: str, viewport: dict) -> None:
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.tab = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.tab.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        self.tab.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def open(self, path: str):
        response = self.tab.goto(self.base_url + path)
        self.tab.wait_for_load_state("networkidle")
        return response

    def refused(self, path: str) -> int:
        """Open a page expected to be refused; its status, without counting the browser's
        'failed to load resource' console line for that refusal as an error."""
        before = len(self.errors)
        status = self.open(path).status
        self.errors[before:] = [
            e for e in self.errors[before:] if "Failed to load resource" not in e
        ]
        return status

    def log_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.open("/login/")
        self.tab.get_by_label("Username").fill(username)
        self.tab.get_by_label("Password").fill(password)
        self.tab.get_by_role("button", name="Log in").click()
        self.tab.wait_for_load_state("networkidle")

    def charts_drawn(self) -> int:
        """Charts whose Plotly SVG has at least one drawn trace (bars, lines or pie slices)."""
        # Not wait_for_function: it polls with eval, which the pages' CSP refuses.
        self.tab.wait_for_selector(".chart:not([data-rendered])", state="detached")
        return self.tab.evaluate(
            """() => [...document.querySelectorAll('.chart')].filter(c =>
                c.querySelector('svg.main-svg') &&
                c.querySelectorAll('g.trace path, g.trace .point, g.slice path').length > 0
            ).length"""
        )

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.tab.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def demo(transactional_db, demo_seed):
    """The demo organisation: four logins, training, fine-tuning and serving from the first
    day of its base fiscal year; the last whole fiscal year closed. Committed, so the live
    server sees it (on Postgres a copy of the session's one seed: tests/conftest.py); the
    flush after each test empties it again."""
    demo_install(demo_seed)


@pytest.fixture
def page(browser, live_server):
    opened = Page(browser, live_server.url, {"width": 1366, "height": 900})
    yield opened
    opened.context.close()
    assert opened.errors == [], opened.errors


@pytest.fixture
def laptop_page(browser, live_server):
    opened = Page(browser, live_server.url, {"width": 1280, "height": 720})
    yield opened
    opened.context.close()
    assert opened.errors == [], opened.errors
