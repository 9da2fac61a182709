"""Playwright driving Debian's /usr/bin/chromium (``playwright install`` cannot download browsers here).

Use ``page`` with ``live_server``; mark such tests ``@pytest.mark.browser`` and
``@pytest.mark.django_db(transaction=True, serialized_rollback=True)``. ``login(page, live_server, user)`` logs in
through the real form. Screenshots go to ``artifacts/`` (git-ignored) with ``screenshot(page, name)``.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run next to one unless told.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PRM_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (make deps)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context; records every request that leaves the live server's host in ``page.external_requests``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    allowed = urlparse(live_server.url).hostname
    page.external_requests = []

    def track(request):
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:")) or host in (allowed, "127.0.0.1", "localhost"):
            return
        page.external_requests.append(request.url)

    page.on("request", track)
    yield page
    context.close()


def login(page, live_server, user, password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_page(browser, live_server, width, height, **options):
    """A page at ``width``×``height`` — a phone below 800 px (mobile, touch, 2× pixels) — that records what the
    journeys check on every screen: Content-Security-Policy violations (``csp``) and requests to another host
    (``external``). Returns ``(context, page, csp, external)``; close the context when done."""
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    csp, external = [], []
    host = urlparse(live_server.url).hostname
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("request", lambda request: external.append(request.url)
            if urlparse(request.url).hostname not in (host, None) and not request.url.startswith("data:") else None)
    return context, page, csp, external
