"""The notifications and billing apps together, through localstripe: the receipt
carries what was really captured, and a refund message its amount."""

import pytest
from django.core import mail

from bookings import services as rides
from bookings.models import RideStatus
from core.money import format_money
from notifications.models import Notification
from tests.factories import make_ride, pickup_soon

pytestmark = pytest.mark.django_db


def test_paid_ride_end_to_end_messages(pet, pay, driver, admin_user, photo, committed):
    ride = make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT)
    pay(ride)  # card held at checkout -> ride confirmed
    assert Notification.objects.filter(kind="booking_confirmed").count() == 2  # SMS and email

    with committed():
        rides.ride_assign(ride=ride, driver=driver, by=admin_user)
        pickup_soon(ride)  # the driver sets off shortly before pickup
        rides.ride_start(ride=ride, by=driver)
        rides.ride_pickup(ride=ride, by=driver, photo=photo)
        rides.ride_complete(ride=ride, by=driver, photo=photo)
    payment = ride.payments.get()
    assert payment.status == "captured"
    receipt = Notification.objects.get(kind="receipt", channel="email")
    assert format_money(payment.captured_cents, payment.currency) in receipt.message
    assert any(message.subject == receipt.subject for message in mail.outbox)

    from billing import services as billing

    with committed():
        billing.payment_refund(
            payment=payment, amount_cents=300, reason="Late pickup", by=admin_user, request_key="t1"
        )
    refund = Notification.objects.get(kind="refund_issued", channel="email")
    assert format_money(300, payment.currency) in refund.message
