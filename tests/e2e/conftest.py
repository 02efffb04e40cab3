"""Browser tests: Playwright (sync API) driving the system Chromium against live_server.

Playwright's sync API runs an asyncio loop in this thread, which makes Django refuse ORM
calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set; nothing here is really async."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import re_path

import civic311.urls
from civic311.media import serve_public_media

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# Anything not served by the live server (map tiles) is refused: tests never go outside.
OUTSIDE = re.compile(r"^https?://(?!(127\.0\.0\.1|localhost)[:/])")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = {"serious", "critical"}


# The site's URLs plus uploaded media, which Django only serves itself when DEBUG is on.
urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", serve_public_media),
    *civic311.urls.urlpatterns,
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def e2e_site(settings, live_server) -> Iterator[str]:
    """The live server's address, serving media. Photo processing runs in-process (the
    autouse fixture in tests/conftest.py), so the report page shows the thumbnail at once.

    Afterwards (the browser's pages closed first, by the fixtures and tests that use this
    one), it waits for the requests the server is still answering: a request thread that
    ended after the test's database was torn down closed a connection it no longer shared,
    and failed the test's teardown."""
    settings.ROOT_URLCONF = __name__
    yield live_server.url
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=10)


def _viewport_page(browser, viewport: str, **options: object) -> Iterator[object]:
    context = browser.new_context(viewport=VIEWPORTS[viewport], **options)
    context.route(OUTSIDE, lambda route: route.abort())
    page = context.new_page()
    page.viewport_name = viewport
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, e2e_site) -> Iterator[object]:
    yield from _viewport_page(browser, request.param)


@pytest.fixture(params=list(VIEWPORTS))
def axe_page(request, browser, e2e_site) -> Iterator[object]:
    """A page at phone and desktop size whose context lets axe-core be injected: Playwright
    adds the script inline, which the site's CSP (checked in test_csp.py) would refuse."""
    yield from _viewport_page(browser, request.param, bypass_csp=True)


def serious_violations(page, tags: list[str]) -> list[str]:
    """axe-core's serious and critical violations of the rules with these tags, one line
    each with the first elements at fault."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + json.dumps([n["target"] for n in v["nodes"]][:5])
        for v in result["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.viewport_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
