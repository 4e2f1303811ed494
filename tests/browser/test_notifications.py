"""Journeys for messages: a customer turns reminder texts off on a phone; operations
find a failed text and retry it; the emails themselves on a phone-sized screen."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import Notification, NotificationPreference, Status
from notifications.services import notify
from notifications.triggers import Occasion
from project.accounts.models import User
from tests.factories import AdminFactory, CustomerFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_turns_reminder_texts_off(page, live_server, login, shot):
    customer = CustomerFactory(name="Alice Moreno")
    login(page, customer)
    page.goto(f"{live_server.url}/accounts/profile/")
    page.get_by_role("link", name="Ride updates: choose which come by text").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ride updates")
    reminder = page.get_by_role("switch", name="Reminder")
    expect(reminder).to_be_checked()
    shot(page, "preferences")

    reminder.uncheck()
    page.get_by_role("button", name="Save text settings").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.get_by_role("switch", name="Reminder")).not_to_be_checked()
    shot(page, "preferences-saved")
    assert NotificationPreference.objects.get(user=customer).sms_muted_kinds == ["reminder"]


def test_operations_retry_a_failed_text(page, live_server, login, shot):
    # A customer typed a number Twilio rejects (the development backend's 21211 test number).
    customer = CustomerFactory(name="Ben Okafor", phone="+15005550001")
    ride = make_ride(pet=PetFactory(owner=customer, name="Pepper"))
    notify(occasion=Occasion("confirm", ride.pk))  # sends at once (tasks run inline in tests)
    sms = Notification.objects.get(channel="sms")
    assert sms.status == Status.FAILED

    admin = AdminFactory(name="Olivia Ops")
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, admin)
    page.get_by_role("link", name="Messages", exact=True).click()
    page.get_by_label("Status").select_option("failed")
    row = page.locator(f"#notification-{sms.pk}")
    expect(page.get_by_role("status").filter(has_text="1 message")).to_be_visible()
    expect(row).to_contain_text("21211")
    shot(page, "ops-failed-messages")

    customer.phone = "+12125550188"  # operations called Ben and fixed his number...
    customer.save()
    # ...and Ben typed back the code we texted it (tests/accounts/test_phone.py).
    User.objects.filter(pk=customer.pk).update(phone_verified_at=timezone.now())
    row.get_by_role("button", name=f"Retry message #{sms.pk}").click()
    expect(row).to_contain_text("Sent")
    expect(row.get_by_role("button")).to_have_count(0)
    shot(page, "ops-retried")
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.to == "+12125550188"
    assert Notification.objects.filter(channel="sms").count() == 1

    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/ops/notifications/")
    shot(page, "ops-messages-phone")
    page.goto(f"{live_server.url}/ops/notifications/{sms.pk}/")
    expect(page.get_by_role("heading", name="Attempts")).to_be_visible()
    shot(page, "ops-message-detail-phone")
    page.get_by_role("link", name=f"#{ride.pk} Pepper").click()
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    shot(page, "ops-ride-messages-panel")


@pytest.mark.parametrize("occasion", ["confirm", "payment:captured"])
def test_emails_read_well_on_a_phone(page, shot, occasion):
    from bookings.models import RideStatus
    from tests.factories import DriverFactory, PaymentFactory, TransactionFactory

    customer = CustomerFactory(name="Alice Moreno")
    status = RideStatus.COMPLETED if occasion == "payment:captured" else RideStatus.CONFIRMED
    driver = DriverFactory(name="Dana Diaz") if status == RideStatus.COMPLETED else None
    ride = make_ride(pet=PetFactory(owner=customer, name="Biscuit"), status=status, driver=driver)
    capture = (
        TransactionFactory(payment=PaymentFactory(ride=ride)) if occasion == "payment:captured" else None
    )
    notify(occasion=Occasion(occasion, ride.pk, transaction_id=capture and capture.pk))
    email = Notification.objects.filter(channel="email").order_by("-id").first()
    page.set_content(email.message_html)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot(page, f"email-{email.kind}")
