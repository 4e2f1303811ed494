import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import RideStatus
from bookings.services import ride_flag
from tests.factories import CustomerFactory, DriverFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db

OPS_URLS = ["ops_home", "bookings_ops:ride_list"]


@pytest.mark.parametrize("name", OPS_URLS)
@pytest.mark.parametrize("role_fixture", ["customer", "driver"])
def test_ops_is_for_admins_only(client, name, role_fixture, request):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(reverse(name)).status_code == HTTPStatus.FORBIDDEN


def test_ops_ride_actions_are_for_admins_only(customer_client, ride):
    for name in ("bookings_ops:ride_detail", "bookings_ops:ride_cancel", "bookings_ops:ride_clear_flag"):
        url = reverse(name, args=[ride.pk])
        assert customer_client.post(url).status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.METHOD_NOT_ALLOWED)
    ride.refresh_from_db()
    assert ride.status == RideStatus.CONFIRMED


def test_ops_anonymous_goes_to_login(client):
    assert client.get(reverse("ops_home")).url.startswith(reverse("account_login"))


def rides_listed(admin_client, **params):
    response = admin_client.get(reverse("bookings_ops:ride_list"), params)
    assert response.status_code == HTTPStatus.OK
    return {ride.pk for ride in response.context["page_obj"]}


def test_ops_ride_table_filters_and_searches(admin_client):
    alice = CustomerFactory(name="Alice Moreno")
    bob = CustomerFactory(name="Bob Stone")
    tomorrow = timezone.localtime() + timedelta(days=1)
    next_week = timezone.localtime() + timedelta(days=7)
    a = make_ride(pet=PetFactory(owner=alice, name="Biscuit"), scheduled_at=tomorrow)
    b = make_ride(
        pet=PetFactory(owner=bob, name="Pepper"),
        scheduled_at=next_week,
        status=RideStatus.COMPLETED,
        driver=DriverFactory(name="Dana Diaz"),
    )
    c = make_ride(pet=PetFactory(owner=bob, name="Kiwi"), scheduled_at=next_week, status=RideStatus.CANCELLED)
    ride_flag(ride=c, reason="Refund requested")

    assert rides_listed(admin_client) == {a.pk, b.pk, c.pk}
    assert rides_listed(admin_client, status="completed") == {b.pk}
    assert rides_listed(admin_client, status="open") == {a.pk}
    assert rides_listed(admin_client, status="ended") == {b.pk, c.pk}
    assert rides_listed(admin_client, q="alice") == {a.pk}
    assert rides_listed(admin_client, q="pepper") == {b.pk}
    assert rides_listed(admin_client, q="dana") == {b.pk}
    assert rides_listed(admin_client, q=f"#{c.pk}") == {c.pk}
    assert rides_listed(admin_client, attention="on") == {c.pk}
    day = tomorrow.date().isoformat()
    assert rides_listed(admin_client, date_from=day, date_to=day) == {a.pk}
    assert rides_listed(admin_client, date_from=next_week.date().isoformat()) == {b.pk, c.pk}


def test_ops_ride_table_ignores_bad_filters(admin_client, ride):
    response = admin_client.get(
        reverse("bookings_ops:ride_list"), {"status": "nonsense", "date_from": "yesterday"}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors


def test_ops_ride_table_htmx_fragment(admin_client, ride):
    response = admin_client.get(reverse("bookings_ops:ride_list"), headers={"HX-Request": "true"})
    assert response.content.decode().lstrip().startswith('<div id="ride-table">')


@pytest.mark.parametrize("count", [5, 50])
def test_ops_ride_table_query_count_is_flat(admin_client, count, django_assert_max_num_queries):
    driver = DriverFactory()
    for n in range(count):
        make_ride(
            status=RideStatus.ASSIGNED,
            driver=driver,
            scheduled_at=timezone.now() + timedelta(days=2, hours=3 * n),
        )
    with django_assert_max_num_queries(5):  # + the page's pets, in one query
        admin_client.get(reverse("bookings_ops:ride_list"))


@pytest.mark.parametrize("count", [5, 50])
def test_ops_home_query_count_is_flat(admin_client, count, django_assert_max_num_queries):
    for n in range(count):
        ride = make_ride(scheduled_at=timezone.now() + timedelta(minutes=150 + n))
        ride_flag(ride=ride, reason="check")
    # + one aggregate per "Needs attention" source (messages, payments, background tasks),
    # + the pets of each list's rides (flagged, still to come), one query each
    with django_assert_max_num_queries(10):
        assert admin_client.get(reverse("ops_home")).status_code == HTTPStatus.OK


def test_ops_ride_detail_and_cancel_never_charges(admin_client, ride):
    page = admin_client.get(reverse("bookings_ops:ride_detail", args=[ride.pk])).content.decode()
    assert "never charges the customer" in page
    assert f"Yes, cancel ride #{ride.pk}" in page
    admin_client.post(
        reverse("bookings_ops:ride_cancel", args=[ride.pk]), {"reason": "Storm warning", "confirm": "on"}
    )
    ride.refresh_from_db()
    assert ride.status == RideStatus.CANCELLED
    event = ride.events.get(action="cancel")
    assert (event.note, event.data["cancelled_by"]) == ("Storm warning", "admin")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),  # one click on "Cancel ride"
        ({"reason": "  ", "confirm": "on"}, "This field is required."),
        ({"reason": "Storm warning"}, "Tick the box to confirm the cancellation."),
    ],
    ids=["nothing", "blank-reason", "not-confirmed"],
)
def test_ops_cancel_needs_a_reason_and_a_confirmation(admin_client, ride, data, message):
    response = admin_client.post(reverse("bookings_ops:ride_cancel", args=[ride.pk]), data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    cancel = page[page.index('id="cancel-title"') :]
    assert message in cancel and "is-invalid" in cancel
    if data.get("reason", "").strip():
        assert "Storm warning" in cancel  # what was typed is kept
    ride.refresh_from_db()
    assert ride.status == RideStatus.CONFIRMED and not ride.events.filter(action="cancel").exists()


def test_ops_clear_flag(admin_client, ride):
    ride_flag(ride=ride, reason="Card declined")
    admin_client.post(reverse("bookings_ops:ride_clear_flag", args=[ride.pk]))
    ride.refresh_from_db()
    assert ride.attention == ""


def test_ops_ride_detail_404_for_unknown_ride(admin_client):
    assert (
        admin_client.get(reverse("bookings_ops:ride_detail", args=[999999])).status_code
        == HTTPStatus.NOT_FOUND
    )


def test_ops_home_counts_failing_messages_and_retrying_payments(admin_client, ride, settings):
    from billing.models import Transaction
    from tests.factories import NotificationFactory, TransactionFactory

    assert "Nothing needs attention." in admin_client.get(reverse("ops_home")).content.decode()
    for _ in range(2):
        NotificationFactory(status="failed", last_error="21211 invalid number")
    long_ago = timezone.now() - settings.NOTIFY_REQUEUE_AFTER - timedelta(minutes=1)
    NotificationFactory(status="queued", next_attempt_at=long_ago)  # its task was lost
    NotificationFactory(status="queued")  # just queued: not yet a problem
    TransactionFactory(status=Transaction.Status.PENDING, attempts=2, error="Stripe timed out")

    page = admin_client.get(reverse("ops_home")).content.decode()
    assert re.search(
        r'href="/ops/notifications/\?status=failed">\s*<span>Messages that failed</span><span[^>]*>2<', page
    )
    assert re.search(r"Messages waiting too long to send</span><span[^>]*>1<", page)
    assert re.search(
        r'href="/ops/payments/\?status=pending">\s*<span>Payment operations retrying</span><span[^>]*>1<',
        page,
    )
    assert "Nothing needs attention." not in page


def _failed_task(**fields):
    from core.models import OutboxItem

    now = timezone.now()
    return OutboxItem.objects.create(
        task="fleet.tasks.dispatch_waiting_rides",
        queue="dispatch",
        status="failed",
        attempts=7,
        last_error="Gave up after 7 attempts. Attempt 7: OperationalError('database is locked')",
        next_attempt_at=now,
        created_at=now,
        **fields,
    )


def test_failed_background_tasks_show_under_needs_attention_and_run_again(admin_client, committed):
    from core.models import OutboxItem

    task = _failed_task()
    home = admin_client.get(reverse("ops_home")).content.decode()
    assert "Background tasks that failed" in home and reverse("ops_background") in home

    page = admin_client.get(reverse("ops_background")).content.decode()
    assert "fleet.tasks.dispatch_waiting_rides" in page
    assert "OperationalError(&#x27;database is locked&#x27;)" in page
    assert f'Run again<span class="visually-hidden"> task #{task.pk}</span>' in page

    with committed():
        response = admin_client.post(reverse("ops_background_retry", args=[task.pk]), follow=True)
    assert f"Task #{task.pk} will run again in a moment." in response.content.decode()
    task.refresh_from_db()
    assert task.status == OutboxItem.Status.DONE  # it ran (dispatch found nothing to do)
    assert "Nothing is stuck" in admin_client.get(reverse("ops_background")).content.decode()
    assert "Background tasks" not in admin_client.get(reverse("ops_home")).content.decode()


def test_running_again_a_task_that_is_not_failed_changes_nothing(admin_client):
    from core.models import OutboxItem

    task = _failed_task()
    OutboxItem.objects.filter(pk=task.pk).update(status="done")
    response = admin_client.post(reverse("ops_background_retry", args=[task.pk]), follow=True)
    assert "is not failed" in response.content.decode()
    assert OutboxItem.objects.get(pk=task.pk).status == "done"


def test_background_tasks_are_for_admins_only(customer_client):
    task = _failed_task()
    for response in (
        customer_client.get(reverse("ops_background")),
        customer_client.post(reverse("ops_background_retry", args=[task.pk])),
    ):
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "dispatch_waiting_rides" not in response.content.decode()
    task.refresh_from_db()
    assert task.status == "failed"


@pytest.mark.parametrize("count", [5, 50])
def test_background_task_list_query_count_is_flat(admin_client, count, django_assert_max_num_queries):
    for _ in range(count):
        _failed_task()
    with django_assert_max_num_queries(6):
        assert admin_client.get(reverse("ops_background")).status_code == HTTPStatus.OK
