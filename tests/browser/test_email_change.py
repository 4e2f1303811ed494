"""A customer on a phone moves their account to a new address: profile, the email page (with
the current password), the link mailed to the new address, confirmed."""

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, CustomerFactory
from tests.mail import link_in_mail, mails_to

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_changes_their_email(page, live_server, login, shot):
    customer = CustomerFactory(name="Alice Moreno")
    old = customer.email
    login(page, customer)
    page.goto(f"{live_server.url}/accounts/profile/")
    page.get_by_role("link", name="Change email").click()
    page.get_by_label("New email address").fill("alice.new@example.com")
    page.get_by_label("Current password").fill(TEST_PASSWORD)
    page.get_by_label("Current password").press("Enter")  # the keyboard alone submits it
    expect(page.get_by_role("status").filter(has_text="Changing to")).to_contain_text("alice.new@example.com")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out
    shot(page, "pending")
    assert "alice.new@example.com" in mails_to(old)[0].body

    page.goto(live_server.url + link_in_mail("alice.new@example.com", "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("You sign in with")).to_be_visible()
    expect(page.locator("main")).to_contain_text("alice.new@example.com")
    shot(page, "changed")
    customer.refresh_from_db()
    assert customer.email == "alice.new@example.com"
