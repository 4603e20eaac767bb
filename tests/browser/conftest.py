"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server, on the country host xa.localhost:<port>.

Playwright's own browser download is not used (it is blocked on our machines
and CI installs Debian's package): the tests launch /usr/bin/chromium, or
$SMS_CHROMIUM. Without it they fail and say how to install it, rather than
skipping and letting a green run hide an untested screen.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("SMS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Chromium is not installed, so the browser tests cannot run. Install Debian's "
            "package with `sudo apt-get install -y chromium` (`./sms test` does it when run "
            "as root), or point SMS_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def _playwright():
    # Django refuses ORM calls while an asyncio loop runs in the thread, and
    # Playwright's sync API keeps one for its whole life; our ORM calls in the
    # test thread are plain synchronous code, so the guard does not apply.
    # Browser tests run last (pytest-django orders transactional tests after
    # the others), so lifting the guard for their duration hides nothing.
    lifted = "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if lifted:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="session")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    # A tablet-sized window: the screens are meant for one.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
