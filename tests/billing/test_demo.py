from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import Payment
from bookings.models import RideStatus

pytestmark = pytest.mark.django_db


def payments_by_status():
    return sorted(Payment.objects.values_list("ride__status", "status"))


def test_demo_rides_get_real_payments_at_localstripe_once(stripe_server):
    call_command("seed_demo", stdout=StringIO())
    assert payments_by_status() == sorted(
        [
            (RideStatus.CONFIRMED, "authorized"),
            (RideStatus.CONFIRMED, "authorized"),  # the two dogs to daycare
            (RideStatus.ASSIGNED, "authorized"),
            (RideStatus.EN_ROUTE, "authorized"),
            (RideStatus.PICKED_UP, "authorized"),
            (RideStatus.CONFIRMED, "authorized"),  # Miso's open return from the vet
            *[(RideStatus.CONFIRMED, "authorized")] * 4,  # a round trip and a wait-and-return
        ]
    )
    call_command("seed_demo", stdout=StringIO())
    assert Payment.objects.count() == 10


def test_driving_a_demo_ride_to_the_end_captures_it(stripe_server, photo, committed):
    from bookings import services as rides

    call_command("seed_demo", stdout=StringIO())
    payment = Payment.objects.select_related("ride__driver").get(ride__status=RideStatus.PICKED_UP)
    with committed():
        rides.ride_complete(ride=payment.ride, by=payment.ride.driver, photo=photo)
    payment.refresh_from_db()
    assert (payment.status, payment.captured_cents) == ("captured", payment.amount_cents)


def test_demo_seeding_works_without_a_payment_server():
    call_command("seed_demo", stdout=StringIO())  # localstripe unreachable: rides, but no payments
    assert not Payment.objects.exists()


def test_holds_are_replaced_after_localstripe_forgets_them(stripe_server):
    import urllib.request

    call_command("seed_demo", stdout=StringIO())
    first = set(Payment.objects.values_list("payment_intent_id", flat=True))
    urllib.request.urlopen(urllib.request.Request(f"{stripe_server}/_config/data", method="DELETE")).close()
    call_command("seed_demo", stdout=StringIO())  # `make run` again, with a fresh localstripe
    live = Payment.objects.filter(status="authorized")
    assert live.count() == 10
    assert not first & set(live.values_list("payment_intent_id", flat=True))
    assert Payment.objects.filter(status="canceled").count() == 10
