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
