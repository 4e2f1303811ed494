"""The browser watcher (conftest.py) itself: what it reports, and that a test's opt-out is narrow."""

import re

import pytest

from tests.browser.conftest import BrowserWatch

pytestmark = pytest.mark.django_db(transaction=True)

# This test causes each on purpose; the autouse watcher lets exactly these through.
CAUSED = (
    r"^console error at .*: on purpose$",
    r"^page error: thrown on purpose$",
    r"^HTTP 404 for GET .*/static/no-such-file\.png$",
    r"^request failed: GET http://.*/static/unreachable\.png: net::ERR_CONNECTION_REFUSED$",
)


@pytest.mark.browser_errors_expected(*CAUSED, r"^console error at .*: let through$")
def test_the_watcher_reports_console_and_page_errors_and_failed_requests(browser, live_server):
    watch = BrowserWatch(expected=(r"^console error at .*: let through$",))
    context = browser.new_context()
    watch.watch(context)
    context.route("**/static/unreachable.png", lambda route: route.abort("connectionrefused"))
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.evaluate("""() => {
        console.error("on purpose");
        console.error("let through");
        setTimeout(() => { throw new Error("thrown on purpose"); });
        for (const src of ["/static/no-such-file.png", "/static/unreachable.png"]) {
            const img = document.createElement("img");
            img.src = src;
            document.body.append(img);
        }
    }""")
    page.wait_for_timeout(500)
    context.close()

    assert len(watch.problems) == 4, watch.problems
    for pattern, line in zip(CAUSED, sorted(watch.problems, key=_order), strict=True):
        assert re.search(pattern, line), (pattern, line)


def _order(line: str) -> int:
    return next(i for i, start in enumerate(("console", "page", "HTTP", "request")) if line.startswith(start))
