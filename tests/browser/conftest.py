"""Playwright in Debian's Chromium against Django's live server.

Journeys run at a phone's size (375x812) unless a test asks otherwise, and save
screenshots under test-artifacts/ for people to look at.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 375, "height": 812}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM:
                if os.environ.get("REQUIRE_BROWSER") == "1":
                    item.add_marker(
                        pytest.mark.xfail(reason="Chromium is not installed", run=False, strict=True)
                    )
                else:
                    item.add_marker(
                        pytest.mark.skip(reason="Chromium not installed (apt-get install chromium)")
                    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "locale": "en-US", "timezone_id": "America/New_York"}


# Every browser context a test opens is watched, and the test fails on what the browser reports:
# a console error (Chromium also logs each Content-Security-Policy violation as one), an
# uncaught page error, a request that failed, or a 4xx/5xx answer to a subresource (a script,
# stylesheet, image, font, fetch/XHR). Not counted: the top-level document's own status (a test
# may ask for a 404 page or post a form the server refuses; tests check those themselves),
# Chromium's console echo of a failed load (the response check reports it with its URL), and
# net::ERR_ABORTED and htmx's sendAbort (a request the page itself dropped by navigating on;
# htmx logs afterRequest beside each abort, and beside a sendError/timeout, which are reported).
# A test that means to trigger an error says which, narrowly:
#     @pytest.mark.browser_errors_expected(r"regex matching the report line", ...)
IGNORED_CONSOLE_ERRORS = ("Failed to load resource", "htmx:sendAbort", "htmx:afterRequest")


class BrowserWatch:
    def __init__(self, expected: tuple[str, ...]):
        self.problems: list[str] = []
        self.expected = [re.compile(pattern) for pattern in expected]

    def add(self, line: str) -> None:
        if not any(pattern.search(line) for pattern in self.expected):
            self.problems.append(line)

    def console(self, message) -> None:
        if message.type == "error" and not message.text.startswith(IGNORED_CONSOLE_ERRORS):
            self.add(f"console error at {message.location.get('url')}: {message.text[:300]}")

    def request_failed(self, request) -> None:
        if request.failure != "net::ERR_ABORTED":
            self.add(f"request failed: {request.method} {request.url}: {request.failure}")

    def response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.add(f"HTTP {response.status} for {response.request.method} {response.url}")

    def watch(self, context) -> None:
        context.on("console", self.console)
        context.on("weberror", lambda error: self.add(f"page error: {error.error}"))
        context.on("requestfailed", self.request_failed)
        context.on("response", self.response)


WATCH = pytest.StashKey[BrowserWatch]()


@pytest.fixture(autouse=True)
def _watch_the_browser(request, browser, monkeypatch):
    """Watch every context: pytest-playwright's `page`/`context`, and any `browser.new_page()` or
    `browser.new_context()` a test opens itself."""
    marker = request.node.get_closest_marker("browser_errors_expected")
    watch = request.node.stash[WATCH] = BrowserWatch(marker.args if marker else ())
    new_context, new_page = browser.new_context, browser.new_page

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        watch.watch(context)
        return context

    def watched_page(*args, **kwargs):
        page = new_page(*args, **kwargs)  # its context is new and still blank
        watch.watch(page.context)
        return page

    monkeypatch.setattr(browser, "new_context", watched_context)
    monkeypatch.setattr(browser, "new_page", watched_page)
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Checked right after the test body (its pages still open), unless it already failed."""
    result = yield
    watch = item.stash.get(WATCH, None)
    if watch is not None and watch.problems:
        pytest.fail("the browser reported:\n" + "\n".join(watch.problems), pytrace=False)
    return result


@pytest.fixture
def shot(request):
    """shot(page, "name") saves test-artifacts/<test>/<n>-name.png and returns its path."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page, name: str, full_page: bool = True) -> Path:
        counter["n"] += 1
        path = folder / f"{counter['n']:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def login(live_server):
    """login(page, user) signs in through the real login form."""
    from tests.factories import TEST_PASSWORD

    def do(page, user, password=TEST_PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()

    return do


def type_card(page, number):
    """localstripe's card Element: plain inputs (real Stripe's is an iframe)."""
    page.get_by_placeholder("number").fill(number)
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("34")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("10024")
