"""Playwright in Debian's Chromium against Django's live server.

Journeys run at a phone's size (375x812) unless a test asks otherwise, and save
screenshots under test-artifacts/ for people to look at.
"""

import contextlib
import os
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


# Every page a journey opens is watched: a Content-Security-Policy violation (something the
# policy blocked; Chromium also logs each one as a console error, so pages navigated away from
# are covered) or a console error fails the test. Not counted: failed resource loads (the app's
# own 4xx answers: a declined card, a 404 the test asks for, checked by the tests themselves)
# and htmx's note that it dropped a refresh because the page moved on (sendAbort).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));
"""


IGNORED_CONSOLE_ERRORS = ("Failed to load resource", "htmx:sendAbort", "htmx:afterRequest")


@pytest.fixture(autouse=True)
def _no_csp_violations_or_console_errors(request):
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    problems = []
    page.add_init_script(WATCH_CSP)
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type} at {message.location.get('url')}: {message.text[:200]}")
            if message.type == "error" and not message.text.startswith(IGNORED_CONSOLE_ERRORS)
            else None
        ),
    )

    yield
    with contextlib.suppress(Exception):  # a page already closed: its console listener saw it all
        problems.extend(page.evaluate("window.__cspViolations || []"))
    assert not problems, "the browser reported:\n" + "\n".join(problems)


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
