import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_lands_admin_on_ops(page, live_server, login, shot):
    from tests.factories import AdminFactory

    admin = AdminFactory(name="Olivia Ops")
    login(page, admin)
    expect(page).to_have_url(f"{live_server.url}/ops/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    shot(page, "ops-home")
    # htmx is served locally and loaded
    assert page.evaluate("typeof htmx") == "object"


def test_needs_attention_counts_read_well_on_a_phone_and_lead_to_their_lists(page, live_server, login, shot):
    from tests.factories import AdminFactory, NotificationFactory

    NotificationFactory(status="failed", last_error="21211 invalid number")
    login(page, AdminFactory(name="Olivia Ops"))
    failing = page.get_by_role("link", name="Messages that failed")
    expect(failing).to_contain_text("1")
    shot(page, "ops-home-attention-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, "ops-home-attention-desktop")
    failing.click()
    expect(page).to_have_url(f"{live_server.url}/ops/notifications/?status=failed")
    expect(page.get_by_role("status").filter(has_text="1 message")).to_be_visible()
