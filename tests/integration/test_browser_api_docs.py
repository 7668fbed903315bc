"""/api/docs/ renders the interactive documentation with no network beyond the platform."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import skip_or_fail

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # a minimal install runs without browser tests
    sync_playwright = None

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def page():
    if sync_playwright is None:
        skip_or_fail("playwright is not installed")
    if not CHROMIUM.exists():
        skip_or_fail(f"chromium not found at {CHROMIUM}")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see test_browser_respond.py
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context()
        context.set_default_timeout(10_000)
        yield context.new_page()
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def test_browser_api_docs_render_offline_from_own_static_files(page, live_server):
    own_host = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []

    def only_the_platform(route) -> None:
        # As on a machine without internet: any other host is unreachable.
        if urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_platform)
    page.goto(f"{live_server.url}/api/docs/")

    page.wait_for_selector(".opblock-summary-path")
    assert elsewhere == []
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/surveys/{slug}/responses/bulk/" in paths
