"""Verifying a phone number with a texted code before we text it anything else, on the
profile page (plain posts and HTMX); texts only to verified numbers in allowed countries.

Codes go through the real SMS path: the Twilio SDK against the local Twilio (`twilio`),
and they are read back from the text that arrived there."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import services as ride_services
from bookings.models import RideStatus
from core.ratelimit import parse_rates
from notifications.models import Notification, Status
from project.accounts.models import PhoneCode, User
from tests.factories import CustomerFactory, make_ride

pytestmark = pytest.mark.django_db

NUMBER = "+12125550100"
SEND = reverse("accounts:phone_code_send")
VERIFY = reverse("accounts:phone_verify")
PROFILE = reverse("accounts:profile")
HTMX = {"HX-Request": "true"}


def texted_codes(twilio, to: str = NUMBER) -> list[str]:
    """The codes in every text the local Twilio accepted for `to`, oldest first."""
    bodies = [r["form"]["Body"] for r in twilio.sent() if r["form"]["To"] == to]
    return [re.search(r"your code is (\d{6})\.", body)[1] for body in bodies]


@pytest.fixture
def newcomer(db):
    """A customer who typed a number at signup and has not verified it."""
    return CustomerFactory(name="Nora New", phone=NUMBER, phone_verified_at=None)


@pytest.fixture
def newcomer_client(client, newcomer):
    client.force_login(newcomer)
    return client


def send_code(client, committed, **kwargs):
    with committed():
        return client.post(SEND, **kwargs)


# --- The attack: any number typed at signup was texted --------------------------------


def test_a_number_nobody_verified_gets_no_ride_texts_only_email(newcomer, twilio, committed, admin_client):
    ride = make_ride(customer=newcomer, status=RideStatus.PENDING_PAYMENT)
    with committed():
        ride_services.ride_confirm(ride=ride)

    assert twilio.requests == []  # nothing was texted to the stranger's number
    sms = Notification.objects.get(ride=ride, channel="sms")
    assert (sms.status, sms.last_error) == (
        Status.CANCELLED,
        "The number is not verified yet, so this went by email only.",
    )
    assert Notification.objects.get(ride=ride, channel="email").status == Status.SENT
    # Operations see why no text went.
    page = admin_client.get(reverse("notifications_ops:list")).content.decode()
    assert "The number is not verified yet, so this went by email only." in page


def test_an_unpaid_booking_that_lapses_texts_nobody(customer, pet, twilio, committed):
    # customer's number is verified: even so, the lapse is told by email only.
    ride = make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT)
    with committed():
        ride_services.ride_expire(ride=ride)
    assert twilio.requests == []
    assert list(Notification.objects.filter(ride=ride).values_list("kind", "channel", "status")) == [
        ("ride_cancelled", "email", Status.SENT)
    ]


def test_a_verified_number_abroad_gets_email_only(twilio, committed, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA"]
    ride = make_ride(customer=CustomerFactory(phone="+4915123456789"))  # verified, in Germany
    with committed():
        ride_services.ride_cancel(ride=ride, by=ride.customer, reason="Plans changed")
    assert twilio.requests == []
    sms = Notification.objects.get(ride=ride, channel="sms")
    assert sms.status == Status.CANCELLED
    assert (
        sms.last_error == "We don't text numbers in DE (SMS_ALLOWED_COUNTRIES), so this went by email only."
    )


# --- Verifying a number -------------------------------------------------------------------------


def test_the_profile_offers_to_verify_an_unverified_number(newcomer_client):
    page = newcomer_client.get(PROFILE).content.decode()
    assert "Verify <strong>(212) 555-0100</strong>" in page
    assert f'action="{SEND}"' in page and f'hx-post="{SEND}"' in page
    assert "Text me a code" in page


def test_verifying_a_number_with_the_texted_code(newcomer_client, newcomer, twilio, committed):
    response = send_code(newcomer_client, committed)
    assert response.status_code == HTTPStatus.FOUND and response.url == f"{PROFILE}#phone"

    [code] = texted_codes(twilio)
    [text] = twilio.sent()
    assert text["form"]["Body"] == (
        f"Whiskers & Wheels: your code is {code}. It expires in 10 minutes. Never share it: we will "
        f"never ask you for it.\n\n@whiskers.example #{code}"
    )
    assert "StatusCallback" not in text["form"]
    record = PhoneCode.objects.get()
    assert code not in record.code_hash and len(record.code_hash) == 64  # stored hashed only

    page = newcomer_client.get(PROFILE).content.decode()
    assert 'autocomplete="one-time-code"' in page and f'action="{VERIFY}"' in page

    response = newcomer_client.post(VERIFY, {"code": code})
    assert response.status_code == HTTPStatus.FOUND
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is not None
    assert "Verified" in newcomer_client.get(PROFILE).content.decode()

    # From now on ride updates are texted too.
    ride = make_ride(customer=newcomer, status=RideStatus.PENDING_PAYMENT)
    with committed():
        ride_services.ride_confirm(ride=ride)
    assert Notification.objects.get(ride=ride, channel="sms").status == Status.SENT
    assert twilio.sent()[-1]["form"]["To"] == NUMBER


def test_the_htmx_flow_swaps_only_the_phone_panel(newcomer_client, newcomer, twilio, committed):
    response = send_code(newcomer_client, committed, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert html.lstrip().startswith('<section id="phone"') and "<html" not in html
    assert "We are texting a code to (212) 555-0100." in html
    assert f'hx-post="{VERIFY}"' in html

    [code] = texted_codes(twilio)
    html = newcomer_client.post(VERIFY, {"code": f"{code[:3]} {code[3:]}"}, headers=HTMX).content.decode()
    assert "Your number is verified" in html and "Verified" in html
    newcomer.refresh_from_db()
    assert newcomer.phone_is_verified


def test_a_wrong_code_is_refused_and_the_code_locks_after_five_tries(
    newcomer_client, newcomer, twilio, committed
):
    send_code(newcomer_client, committed)
    [code] = texted_codes(twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    response = newcomer_client.post(VERIFY, {"code": wrong})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "That code is not right. 4 tries left." in response.content.decode()
    for _ in range(4):
        newcomer_client.post(VERIFY, {"code": wrong})
    response = newcomer_client.post(VERIFY, {"code": code})  # the right one, too late
    assert "Too many wrong codes. Send yourself a new one." in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None
    assert PhoneCode.objects.get().attempts == 5


def test_an_expired_code_is_refused(newcomer_client, newcomer, twilio, committed):
    send_code(newcomer_client, committed)
    [code] = texted_codes(twilio)
    PhoneCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = newcomer_client.post(VERIFY, {"code": code})
    assert "This code has expired. Send yourself a new one." in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None


@pytest.mark.parametrize("typed", ["", "12345", "abcdef", "1234567"])
def test_a_code_that_is_not_six_digits_is_refused_without_using_a_try(
    newcomer_client, twilio, committed, typed
):
    send_code(newcomer_client, committed)
    response = newcomer_client.post(VERIFY, {"code": typed})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert PhoneCode.objects.get().attempts == 0


def test_a_new_code_replaces_the_old_one(newcomer_client, newcomer, twilio, committed, settings):
    settings.PHONE_CODE_RATE_PER_NUMBER = parse_rates("5/h")
    send_code(newcomer_client, committed)
    send_code(newcomer_client, committed)
    first, second = texted_codes(twilio)
    if first != second:
        response = newcomer_client.post(VERIFY, {"code": first})
        assert response.status_code == HTTPStatus.BAD_REQUEST
    newcomer_client.post(VERIFY, {"code": second})
    newcomer.refresh_from_db()
    assert newcomer.phone_is_verified


def test_a_code_is_texted_once_however_often_its_task_runs(newcomer, twilio):
    from project.accounts import services

    record = services.phone_verification_send(user=newcomer, ip="203.0.113.5")  # task not run yet
    assert services.phone_code_deliver(code_id=record.pk) == "sent"
    assert services.phone_code_deliver(code_id=record.pk) == "skipped"
    assert len(twilio.sent()) == 1


def test_codes_are_limited_per_number_with_a_clear_answer(newcomer_client, twilio, committed):
    send_code(newcomer_client, committed)
    response = send_code(newcomer_client, committed)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert re.search(
        r"Too many codes were sent to this number\. Try again in \d+ seconds\.", response.content.decode()
    )
    assert len(twilio.sent()) == 1 and PhoneCode.objects.count() == 1


def test_codes_are_limited_per_ip_address(client, twilio, committed, settings):
    settings.PHONE_CODE_RATE_PER_IP = parse_rates("2/h")
    people = [CustomerFactory(phone=f"+1212555020{n}", phone_verified_at=None) for n in range(3)]
    answers = []
    for person in people:
        client.force_login(person)
        answers.append(send_code(client, committed, REMOTE_ADDR="203.0.113.7").status_code)
    assert answers == [HTTPStatus.FOUND, HTTPStatus.FOUND, HTTPStatus.TOO_MANY_REQUESTS]
    assert len(twilio.sent()) == 2
    # Another address is not held back by that one.
    assert send_code(client, committed, REMOTE_ADDR="198.51.100.9").status_code == HTTPStatus.FOUND


def test_changing_the_number_does_not_reset_the_limit(newcomer_client, newcomer, twilio, committed):
    send_code(newcomer_client, committed)
    User.objects.filter(pk=newcomer.pk).update(phone="+12125550177")
    response = send_code(newcomer_client, committed)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert texted_codes(twilio, "+12125550177") == []


def test_no_code_goes_abroad(client, twilio, committed):
    person = CustomerFactory(phone="+4915123456789", phone_verified_at=None)
    client.force_login(person)
    assert "We can only text numbers in the US and Canada" in client.get(PROFILE).content.decode()
    response = send_code(client, committed)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "We can only text numbers in the US and Canada." in response.content.decode()
    assert twilio.requests == [] and not PhoneCode.objects.exists()


def test_a_verified_number_needs_no_code(customer_client, twilio, committed):
    response = send_code(customer_client, committed)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert twilio.requests == []


def test_a_failed_text_is_shown_on_the_profile(newcomer_client, twilio, committed):
    twilio.fail_numbers[NUMBER] = (400, 21211, "The 'To' number is not a valid phone number.")
    send_code(newcomer_client, committed)
    page = newcomer_client.get(PROFILE).content.decode()
    assert re.search(
        r"We could not text this number: [^<]*The &#x27;To&#x27; number is not a valid phone", page
    )
    assert "Text me a code" in page  # the code is dead: they can send a new one


# --- A verification belongs to its number ------------------------------------------------------


def test_changing_the_number_clears_its_verification(customer_client, customer):
    assert customer.phone_is_verified
    customer_client.post(
        PROFILE, {"name": customer.name, "phone": "+12125550166", "time_zone": "America/Chicago"}
    )
    customer.refresh_from_db()
    assert str(customer.phone) == "+12125550166" and customer.phone_verified_at is None


def test_saving_the_same_number_keeps_its_verification(customer_client, customer):
    customer_client.post(
        PROFILE, {"name": "Alice M.", "phone": str(customer.phone), "time_zone": "America/Chicago"}
    )
    customer.refresh_from_db()
    assert customer.name == "Alice M." and customer.phone_is_verified


def test_a_code_for_the_old_number_does_not_verify_the_new_one(newcomer_client, newcomer, twilio, committed):
    send_code(newcomer_client, committed)
    [code] = texted_codes(twilio)
    newcomer_client.post(
        PROFILE, {"name": newcomer.name, "phone": "+12125550166", "time_zone": newcomer.time_zone}
    )
    response = newcomer_client.post(VERIFY, {"code": code})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    newcomer.refresh_from_db()
    assert str(newcomer.phone) == "+12125550166" and newcomer.phone_verified_at is None


def test_phone_pages_need_a_login(client):
    for url in (SEND, VERIFY):
        response = client.post(url, {"code": "123456"})
        assert response.status_code == HTTPStatus.FOUND and "/accounts/login/" in response.url
