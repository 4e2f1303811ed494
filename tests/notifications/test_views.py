"""The customer's preferences page and the back office's messages page: who may
open them, what they change, filters, retry, and query counts."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from notifications.kinds import customer_sms_choices
from notifications.models import Notification, NotificationPreference, Status
from notifications.services import notify
from notifications.triggers import Occasion
from tests.factories import CustomerFactory, make_ride

pytestmark = pytest.mark.django_db

PREFERENCES = reverse("notifications:preferences")
OPS_LIST = reverse("notifications_ops:list")


# --- Preferences -----------------------------------------------------------------


def test_preferences_need_a_customer(client, driver, admin_user):
    assert client.get(PREFERENCES).status_code == HTTPStatus.FOUND  # to login
    for user in (driver, admin_user):
        client.force_login(user)
        assert client.get(PREFERENCES).status_code == HTTPStatus.FORBIDDEN


def test_preferences_page_lists_each_kind_switched_on_by_default(customer_client):
    response = customer_client.get(PREFERENCES)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for label in ["Booking confirmed", "Reminder", "Driver on the way", "Payment needs attention"]:
        assert label in html
    switches = len(customer_sms_choices())
    assert html.count('role="switch"') == switches and html.count(" checked>") == switches
    assert "Receipts and anything about" in html


def test_profile_links_to_preferences(customer_client):
    assert PREFERENCES in customer_client.get(reverse("accounts:profile")).content.decode()


def test_turning_reminder_texts_off_keeps_the_emails(customer_client, customer, pet, committed):
    response = customer_client.post(
        PREFERENCES, {"sms_kinds": ["booking_confirmed", "driver_assigned", "driver_on_the_way"]}
    )
    assert response.status_code == HTTPStatus.FOUND
    preference = NotificationPreference.objects.get(user=customer)
    assert "reminder" in preference.sms_muted_kinds and "booking_confirmed" not in preference.sms_muted_kinds

    ride = make_ride(pet=pet)
    with committed():
        notify(occasion=Occasion("reminder", ride.pk, lead_minutes=60))
        notify(occasion=Occasion("confirm", ride.pk))
    assert set(Notification.objects.values_list("kind", "channel")) == {
        ("reminder", "email"),
        ("booking_confirmed", "email"),
        ("booking_confirmed", "sms"),
    }


def test_saving_by_htmx_returns_the_form_with_confirmation(customer_client, customer):
    response = customer_client.post(PREFERENCES, {"sms_kinds": ["reminder"]}, headers={"HX-Request": "true"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="preferences-form"') and "Saved" in html
    assert "<html" not in html
    assert NotificationPreference.objects.get(user=customer).sms_muted_kinds != []


def test_unticking_every_box_turns_all_texts_off(customer_client, customer):
    # A form of checkboxes all unticked posts nothing at all; it must still be saved.
    response = customer_client.post(PREFERENCES, {})
    assert response.status_code == HTTPStatus.FOUND
    muted = set(NotificationPreference.objects.get(user=customer).sms_muted_kinds)
    assert muted == {spec.kind.value for spec in customer_sms_choices()}


def test_an_unknown_choice_is_refused_and_saves_nothing(customer_client, customer):
    response = customer_client.post(PREFERENCES, {"sms_kinds": ["receipt", "reminder"]})
    assert response.status_code == HTTPStatus.OK
    assert "is not one of the available choices" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=customer).exists()


def test_the_page_says_when_texts_are_stopped(customer_client, customer):
    from django.utils import timezone

    NotificationPreference.objects.create(
        user=customer, sms_opted_out_at=timezone.now(), sms_opt_out_word="STOP"
    )
    html = customer_client.get(PREFERENCES).content.decode()
    assert "You replied <strong>STOP</strong>" in html and "text <strong>START</strong>" in html


def test_the_page_asks_to_verify_an_unverified_number(client):
    customer = CustomerFactory(phone="+12125550100", phone_verified_at=None)
    client.force_login(customer)
    html = client.get(PREFERENCES).content.decode()
    assert '<a href="/accounts/profile/#phone">Verify (212) 555-0100</a> to get texts' in html


# --- Back office ------------------------------------------------------------------


def failed_sms(ride) -> Notification:
    notify(occasion=Occasion("confirm", ride.pk))
    sms = Notification.objects.get(ride=ride, channel="sms")
    Notification.objects.filter(pk=sms.pk).update(
        status=Status.FAILED, attempts=1, error_code="21211", last_error="The 'To' number is not valid."
    )
    sms.refresh_from_db()
    return sms


@pytest.mark.parametrize("name", ["list", "detail", "retry"])
def test_back_office_pages_are_for_admins_only(client, customer, driver, ride, name):
    sms = failed_sms(ride)
    url = OPS_LIST if name == "list" else reverse(f"notifications_ops:{name}", args=[sms.pk])
    method = client.post if name == "retry" else client.get
    assert method(url).status_code == HTTPStatus.FOUND  # to login
    for user in (customer, driver):
        client.force_login(user)
        assert method(url).status_code == HTTPStatus.FORBIDDEN
    sms.refresh_from_db()
    assert sms.status == Status.FAILED


def test_list_shows_failures_with_their_error(admin_client, ride):
    failed_sms(ride)
    html = admin_client.get(OPS_LIST).content.decode()
    assert "21211" in html and "The &#x27;To&#x27; number is not valid." in html
    assert "Retry" in html
    assert 'href="/ops/notifications/"' in admin_client.get(reverse("ops_home")).content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "sms"}, {("booking_confirmed", "sms", 1), ("reminder", "sms", 2)}),
        ({"status": "failed"}, {("booking_confirmed", "sms", 1)}),
        ({"kind": "reminder"}, {("reminder", "email", 2), ("reminder", "sms", 2)}),
        ({"ride": "2"}, {("reminder", "email", 2), ("reminder", "sms", 2)}),
        ({"q": "other@"}, {("reminder", "email", 2)}),
        ({"ride": "abc"}, None),  # a bad filter shows everything, with the error beside the field
    ],
)
def test_filters(admin_client, pet, query, expected):
    first = make_ride(pet=pet)
    second = make_ride(pet=pet)
    failed_sms(first)
    Notification.objects.filter(channel="email").delete()
    notify(occasion=Occasion("reminder", second.pk, lead_minutes=60))
    Notification.objects.filter(ride=second, channel="email").update(to="other@example.com")
    Notification.objects.filter(ride=second, channel="email").update(
        user=CustomerFactory(email="other@example.com")
    )
    if "ride" in query and query["ride"] != "abc":
        query = {"ride": str(second.pk)}
    response = admin_client.get(OPS_LIST, query)
    assert response.status_code == HTTPStatus.OK
    rows = {(n.kind, n.channel, 1 if n.ride_id == first.pk else 2) for n in response.context["page_obj"]}
    if expected is None:
        assert len(rows) == 3 and "Enter a whole number." in response.content.decode()
    else:
        assert rows == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"channel": "fax"}, "Select a valid choice. fax is not one of the available choices."),
        ({"ride": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"ride": "1.5"}, "Enter a whole number."),
    ],
)
def test_a_bad_filter_is_named_beside_its_field(admin_client, ride, query, message):
    failed_sms(ride)
    response = admin_client.get(OPS_LIST, query)
    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    assert len(response.context["page_obj"]) == Notification.objects.count()


def test_a_ride_number_beyond_any_id_is_refused_not_a_server_error(admin_client, ride):
    response = admin_client.get(OPS_LIST, {"ride": "99999999999999999999"})
    assert response.status_code == HTTPStatus.OK
    assert "Ensure this value is less than or equal to 9223372036854775807." in response.content.decode()


def test_filtering_by_htmx_returns_only_the_table(admin_client, ride):
    failed_sms(ride)
    response = admin_client.get(OPS_LIST, {"status": "failed"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="notification-table">') and "<html" not in html
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_does_not_grow_with_rows(admin_client, pet, rows, django_assert_max_num_queries):
    rides = [make_ride(pet=pet) for _ in range(5)]
    Notification.objects.bulk_create(
        Notification(
            user=CustomerFactory(),
            ride=rides[i % 5],
            channel="sms",
            kind="reminder",
            occurrence=str(i),
            to="+12125550123",
            message="Reminder",
            status=Status.FAILED if i % 2 else Status.SENT,
            last_error="Boom" if i % 2 else "",
        )
        for i in range(rows)
    )
    with django_assert_max_num_queries(5):  # session, user, count, page (+1 slack)
        response = admin_client.get(OPS_LIST)
    assert len(response.context["page_obj"]) == min(rows, 25)


def test_retry_re_sends_the_same_row(admin_client, admin_user, ride, committed):
    sms = failed_sms(ride)
    count = Notification.objects.count()
    with committed():
        response = admin_client.post(reverse("notifications_ops:retry", args=[sms.pk]), {"next": OPS_LIST})
    assert response.status_code == HTTPStatus.FOUND and response.url == OPS_LIST
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.attempts == 1 and sms.last_error == ""
    assert Notification.objects.count() == count
    assert [(a.outcome, a.by) for a in sms.attempt_log.all()] == [("requeued", admin_user), ("sent", None)]


def test_retry_by_htmx_swaps_the_row(admin_client, ride, committed):
    sms = failed_sms(ride)
    with committed():
        response = admin_client.post(
            reverse("notifications_ops:retry", args=[sms.pk]), headers={"HX-Request": "true"}
        )
    html = response.content.decode()
    # The row comes back queued (a worker sends it), with no Retry button left to press twice.
    assert html.lstrip().startswith(f'<tr id="notification-{sms.pk}">') and "Queued" in html
    assert "Retry" not in html
    sms.refresh_from_db()
    assert sms.status == Status.SENT


def test_only_failed_messages_can_be_retried(admin_client, ride, committed):
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    sms = Notification.objects.get(channel="sms")
    response = admin_client.post(reverse("notifications_ops:retry", args=[sms.pk]), follow=True)
    assert "Only failed messages can be retried." in response.content.decode()
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.attempts == 1


def test_retry_refuses_a_text_to_someone_who_replied_stop(admin_client, ride, customer):
    from django.utils import timezone

    sms = failed_sms(ride)
    NotificationPreference.objects.create(user=customer, sms_opted_out_at=timezone.now())
    response = admin_client.post(reverse("notifications_ops:retry", args=[sms.pk]), follow=True)
    assert "replied STOP" in response.content.decode()
    sms.refresh_from_db()
    assert sms.status == Status.FAILED


def test_retry_ignores_an_outside_next_url(admin_client, ride):
    sms = failed_sms(ride)
    response = admin_client.post(
        reverse("notifications_ops:retry", args=[sms.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("notifications_ops:detail", args=[sms.pk])


def test_detail_shows_the_message_and_its_attempts(admin_client, ride, committed):
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    email = Notification.objects.get(channel="email")
    response = admin_client.get(reverse("notifications_ops:detail", args=[email.pk]))
    html = response.content.decode()
    assert email.subject.replace("'", "&#x27;") in html
    # The HTML email in a sandboxed frame, served as its own page (tests/test_security_headers.py).
    assert f'sandbox src="{reverse("notifications_ops:email_html", args=[email.pk])}"' in html
    assert "Sent" in html and " ms" in html
    assert (
        admin_client.get(reverse("notifications_ops:detail", args=[999999])).status_code
        == HTTPStatus.NOT_FOUND
    )


def test_ride_page_shows_its_messages(admin_client, ride, committed):
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    html = admin_client.get(reverse("bookings_ops:ride_detail", args=[ride.pk])).content.decode()
    assert "Messages" in html and f"?ride={ride.pk}" in html and "Booking confirmed · SMS" in html
