"""The Content-Security-Policy holds in a real browser: inline script is refused, and the
pages that need more than our own files (the API docs, an email shown as sent) still work
with no violation (the watcher in conftest.py fails a test on any)."""

import pytest
from playwright.sync_api import expect

from notifications.models import Notification
from notifications.services import notify
from notifications.triggers import Occasion
from tests.factories import AdminFactory, CustomerFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.browser_errors_expected(
    r"^console error at : Executing inline script violates .*'script-src 'self''"
)
def test_an_injected_inline_script_does_not_run(browser, live_server):
    # This test causes the violation on purpose: the watcher lets exactly that one through.
    page = browser.new_page()
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => {
            window.__cspViolations = [];
            document.addEventListener(
                "securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective)
            );
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.injected") is None
    assert page.evaluate("window.__cspViolations")[0].startswith("script-src")
    page.close()


def test_api_docs_work_under_the_policy(page, live_server, login):
    login(page, AdminFactory(name="Olivia Ops"))
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_role("heading", name="Whiskers & Wheels API")).to_be_visible()


def test_an_email_as_sent_shows_in_the_back_office_under_the_policy(page, live_server, login, shot):
    customer = CustomerFactory(name="Alice Moreno")
    ride = make_ride(pet=PetFactory(owner=customer, name="Biscuit"))
    notify(occasion=Occasion("confirm", ride.pk))
    email = Notification.objects.get(channel="email")
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, AdminFactory(name="Olivia Ops"))
    page.goto(f"{live_server.url}/ops/notifications/{email.pk}/")
    page.get_by_text("Show the HTML email").click()
    frame = page.frame_locator("iframe[title='The HTML email as sent']")
    expect(frame.get_by_role("heading", level=1)).to_be_visible()
    shot(page, "email-as-sent")
