"""One calendar for the business: "today" is a day in the operations zone (DJANGO_TIME_ZONE)
for the back office, drivers and dispatch, whatever zone the person looking has; a ride's end
is when it ended (`ended_at`), not when its row last changed; new users start in that zone."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.models import Ride, RideStatus
from core.dates import day_bounds, operations_day, operations_today
from project.accounts.models import User
from tests.factories import make_ride, soon

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def test_a_day_runs_from_local_midnight_to_local_midnight():
    start, end = day_bounds(date(2026, 11, 20), NY)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-20T00:00:00-05:00", "2026-11-21T00:00:00-05:00")


def test_the_day_clocks_go_back_is_25_hours():
    start, end = day_bounds(date(2026, 11, 1), NY)  # DST ends in New York
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


def test_the_operations_day_is_read_in_the_operations_zone_not_the_active_one(settings):
    settings.TIME_ZONE = "America/New_York"
    late_evening_in_ny = datetime(2026, 11, 20, 23, 30, tzinfo=NY)  # already the 21st in UTC and Tokyo
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert operations_today(late_evening_in_ny) == date(2026, 11, 20)
        start, end = operations_day(late_evening_in_ny)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-20T00:00:00-05:00", "2026-11-21T00:00:00-05:00")


@pytest.mark.django_db
def test_new_users_start_in_the_operations_zone(settings):
    settings.TIME_ZONE = "America/Chicago"
    user = User.objects.create_user(email="new@example.com", password="a-long-unusual-pass", name="New")
    assert user.time_zone == "America/Chicago"


@pytest.mark.django_db
def test_ops_today_counts_the_operations_day_for_an_admin_in_another_zone(admin_client, admin_user, settings):
    settings.TIME_ZONE = "America/New_York"
    admin_user.time_zone = "Asia/Tokyo"  # where it is already tomorrow for most of the NY evening
    admin_user.save()
    today_start, today_end = operations_day()
    make_ride(scheduled_at=today_start + timedelta(hours=12), status=RideStatus.CANCELLED)
    make_ride(scheduled_at=today_end + timedelta(hours=12), status=RideStatus.CANCELLED)  # tomorrow
    response = admin_client.get(reverse("ops_home"))
    assert response.context["total_today"] == 1
    assert response.context["today"] == today_start.date()


@pytest.mark.django_db
def test_a_request_leaves_no_time_zone_behind_on_its_thread(rf, customer, settings):
    from django.http import HttpResponse

    from project.accounts.middleware import UserTimezoneMiddleware

    customer.time_zone = "Asia/Tokyo"
    seen = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = rf.get("/")
    request.user = customer
    UserTimezoneMiddleware(view)(request)
    assert seen == ["Asia/Tokyo"]  # the request ran in the customer's zone...
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE  # ...and left none behind


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("move", "ends"),
    [("cancel", True), ("no_show", True), ("complete", True), ("reschedule", False), ("start", False)],
)
def test_ended_at_is_written_by_the_move_that_ends_the_ride(move, ends, customer, driver, admin_user, photo):
    status = {
        "cancel": RideStatus.CONFIRMED,
        "no_show": RideStatus.EN_ROUTE,
        "complete": RideStatus.PICKED_UP,
    }
    ride = make_ride(
        customer=customer,
        status=status.get(move, RideStatus.ASSIGNED if move == "start" else RideStatus.CONFIRMED),
        driver=driver if move in ("no_show", "complete", "start") else None,
        scheduled_at=soon() if move == "start" else None,  # a driver sets off shortly before pickup
    )
    before = timezone.now()
    {
        "cancel": lambda: services.ride_cancel(ride=ride, by=customer),
        "no_show": lambda: services.ride_no_show(ride=ride, by=driver, reason="Nobody home"),
        "complete": lambda: services.ride_complete(ride=ride, by=driver, photo=photo),
        "reschedule": lambda: services.ride_reschedule(
            ride=ride, by=customer, scheduled_at=ride.scheduled_at + timedelta(days=1)
        ),
        "start": lambda: services.ride_start(ride=ride, by=driver),
    }[move]()
    ride.refresh_from_db()
    assert (ride.ended_at is not None) == ends
    if ends:
        assert before <= ride.ended_at <= timezone.now()


@pytest.mark.django_db
def test_done_today_is_by_when_a_ride_ended_not_when_its_row_changed(
    driver_client, driver, customer, settings
):
    from tests.factories import DriverProfileFactory

    settings.TIME_ZONE = "America/New_York"
    DriverProfileFactory(user=driver)
    today_start, _ = operations_day()
    yesterday = today_start - timedelta(hours=6)
    ended_yesterday = make_ride(
        customer=customer,
        status=RideStatus.COMPLETED,
        driver=driver,
        scheduled_at=yesterday,
        ended_at=yesterday,
    )
    Ride.objects.filter(pk=ended_yesterday.pk).update(attention="Receipt question")  # touched today
    ended_today = make_ride(
        customer=customer,
        status=RideStatus.COMPLETED,
        driver=driver,
        scheduled_at=yesterday - timedelta(hours=2),
    )
    board = driver_client.get(reverse("fleet:home")).context["board"]
    assert board.done_today == [ended_today]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_ended_at_from_each_rides_history():
    executor = MigrationExecutor(connection)
    executor.migrate([("bookings", "0002_fleet_driver_no_overlap")])
    old = executor.loader.project_state([("bookings", "0002_fleet_driver_no_overlap")]).apps
    OldUser, OldPet, OldRide, OldEvent = (
        old.get_model(*name.split("."))
        for name in ("accounts.User", "bookings.Pet", "bookings.Ride", "bookings.RideEvent")
    )
    owner = OldUser.objects.create(email="old@example.com", name="Old", role="customer")
    driver = OldUser.objects.create(email="driver@example.com", name="Driver", role="driver")
    pet = OldPet.objects.create(owner=owner, name="Rex", weight_lb=20)
    when = timezone.now() - timedelta(days=2)

    def ride(status):
        return OldRide.objects.create(
            customer=owner,
            pet=pet,
            status=status,
            driver=driver if status == "completed" else None,
            scheduled_at=when,
            ends_at=when + timedelta(hours=1),
            pickup_address="a",
            dropoff_address="b",
            pickup_lat=0,
            pickup_lng=0,
            dropoff_lat=0,
            dropoff_lng=0,
            distance_miles=1,
            price_cents=1000,
        )

    completed, cancelled_by_hand, still_open = ride("completed"), ride("cancelled"), ride("confirmed")
    OldEvent.objects.create(ride=completed, action="complete", from_status="picked_up", to_status="completed")
    OldEvent.objects.filter(ride=completed).update(created_at=when + timedelta(minutes=50))
    OldEvent.objects.create(ride=completed, action="notes", note="later note, not the end")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    ends = dict(Ride.objects.values_list("pk", "ended_at"))
    assert ends[completed.pk] == when + timedelta(minutes=50)
    assert ends[cancelled_by_hand.pk] == Ride.objects.get(pk=cancelled_by_hand.pk).updated_at
    assert ends[still_open.pk] is None


@pytest.mark.django_db
def test_ops_date_filters_are_operations_days_for_an_admin_in_another_zone(
    admin_client, admin_user, settings
):
    settings.TIME_ZONE = "America/New_York"
    admin_user.time_zone = "Asia/Tokyo"
    admin_user.save()
    day = operations_today() + timedelta(days=5)
    late_evening = datetime.combine(day, datetime.min.time(), NY) + timedelta(hours=23, minutes=30)
    ride = make_ride(scheduled_at=late_evening)  # the next day already in Tokyo
    response = admin_client.get(reverse("bookings_ops:ride_list"), {"date_from": day, "date_to": day})
    assert [r.pk for r in response.context["page_obj"]] == [ride.pk]


@pytest.mark.django_db
def test_a_users_zone_lasts_for_their_request_only(customer_client, customer):
    customer.time_zone = "Asia/Tokyo"
    customer.save()
    pickup = (timezone.now() + timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    make_ride(customer=customer, scheduled_at=pickup)  # 01:00 UTC is 10:00 in Tokyo
    before = timezone.get_current_timezone_name()
    page = customer_client.get(reverse("bookings:ride_list")).content.decode()
    assert ", 10:00 AM" in page  # the page was in the customer's zone
    assert timezone.get_current_timezone_name() == before  # and the thread is back to the default


@pytest.mark.django_db
@pytest.mark.parametrize("admin_zone", ["America/Los_Angeles", "Asia/Tokyo"])
def test_ops_home_names_the_operations_day_whatever_the_admins_zone(
    admin_client, admin_user, settings, admin_zone
):
    settings.TIME_ZONE = "America/New_York"
    admin_user.time_zone = admin_zone
    admin_user.save()
    today_in_ny = datetime.now(NY).date()
    page = admin_client.get(reverse("ops_home")).content.decode()
    assert f"Today · {today_in_ny:%A} {today_in_ny.day} {today_in_ny:%B}" in page
    assert f"date_from={today_in_ny:%Y-%m-%d}" in page  # the status cards open that day's rides
