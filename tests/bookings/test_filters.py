"""The ride FilterSets: the rules behind the back office's ride table, the customer's ride
tabs and the API's ride lists."""

import zoneinfo
from datetime import datetime, timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings.filters import CustomerRideFilterSet, OpsRideFilterSet
from bookings.models import Ride, RideStatus
from tests.factories import DriverFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def ids(rides) -> list[int]:
    return [ride.pk for ride in rides]


def test_a_day_is_read_in_the_given_time_zone():
    # 23:30 in New York on 1 March is 04:30 UTC on 2 March.
    late = make_ride(scheduled_at=datetime(2031, 3, 1, 23, 30, tzinfo=NEW_YORK))
    on_the_first = {"date_from": "2031-03-01", "date_to": "2031-03-01"}
    assert ids(selectors.ops_rides(filters=on_the_first, tz=NEW_YORK)) == [late.pk]
    assert ids(selectors.ops_rides(filters=on_the_first, tz=zoneinfo.ZoneInfo("UTC"))) == []
    assert ids(selectors.ops_rides(filters={"date_from": "2031-03-02"}, tz=NEW_YORK)) == []


def test_a_day_with_a_clock_change_is_the_whole_local_day():
    # 8 March 2031: New York springs forward, so the day is 23 hours long.
    last_minute = make_ride(scheduled_at=datetime(2031, 3, 8, 23, 59, tzinfo=NEW_YORK))
    next_day = make_ride(scheduled_at=datetime(2031, 3, 9, 0, 0, tzinfo=NEW_YORK))
    rides = selectors.ops_rides(filters={"date_from": "2031-03-08", "date_to": "2031-03-08"}, tz=NEW_YORK)
    assert ids(rides) == [last_minute.pk]
    assert ids(selectors.ops_rides(filters={"date_from": "2031-03-09"}, tz=NEW_YORK)) == [next_day.pk]


@pytest.mark.parametrize("text", ["#²", "#", "##", "#99999999999999999999", "   "])
def test_odd_search_text_finds_nothing_or_everything_without_an_error(text, ride):
    found = ids(selectors.ops_rides(filters={"q": text}))
    assert found == ([ride.pk] if not text.strip() else [])


def test_search_by_ride_number(ride):
    make_ride()
    assert ids(selectors.ops_rides(filters={"q": f" #{ride.pk} "})) == [ride.pk]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "upcoming"}, "status"),  # a customer tab, not a back-office status
        ({"date_from": "31/12/2030"}, "date_from"),
        ({"date_to": "tomorrow"}, "date_to"),
    ],
)
def test_the_ops_filter_set_names_each_bad_value(data, field):
    filterset = OpsRideFilterSet(data)
    assert not filterset.is_valid()
    assert list(filterset.errors) == [field]


def test_the_ride_table_shows_a_bad_filter_beside_its_field_and_lists_every_ride(admin_client, ride):
    response = admin_client.get(reverse("bookings_ops:ride_list"), {"q": "nobody", "date_to": "soon"})
    assert response.status_code == HTTPStatus.OK
    assert "Enter a valid date." in response.content.decode()
    assert ids(response.context["page_obj"]) == [ride.pk]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-table"])
def test_a_reversed_date_range_says_so_instead_of_listing_nothing(admin_client, ride, htmx):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = admin_client.get(
        reverse("bookings_ops:ride_list"), {"date_from": "2031-03-05", "date_to": "2031-03-01"}, **extra
    )
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    message = (
        "“To (inclusive)” (1 Mar 2031) is before “From” (5 Mar 2031): swap them to see the rides between."
    )
    alert = html[html.index('data-testid="range-error"') :]
    assert message in alert[: alert.index("</div>")] and "not filtered" in alert
    assert ids(response.context["page_obj"]) == [ride.pk]  # not a silent "0 rides"
    assert "0 rides" not in html
    if not htmx:  # beside its field too
        assert 'name="date_to"' in html and "is-invalid" in html


def test_the_same_day_or_a_forward_range_is_fine(ride):
    assert OpsRideFilterSet({"date_from": "2031-03-01", "date_to": "2031-03-01"}).is_valid()
    errors = OpsRideFilterSet({"date_from": "2031-03-02", "date_to": "2031-03-01"}).errors
    assert list(errors) == ["date_to"]


def test_customer_groups_and_single_statuses(customer):
    pet = PetFactory(owner=customer)
    confirmed = make_ride(pet=pet)
    assigned = make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=DriverFactory())
    no_show = make_ride(pet=pet, status=RideStatus.NO_SHOW)

    def listed(status):
        return set(ids(selectors.customer_rides(customer=customer, filters={"status": status})))

    assert listed("upcoming") == {confirmed.pk, assigned.pk}
    assert listed("cancelled") == {no_show.pk}  # cancelled and no-shows together
    assert listed("assigned") == {assigned.pk}
    assert listed("all") == listed("") == {confirmed.pk, assigned.pk, no_show.pk}
    assert CustomerRideFilterSet({"status": "open"}).errors == {
        "status": ["Select a valid choice. open is not one of the available choices."]
    }


def test_upcoming_reads_soonest_first_and_history_newest_first(customer):
    pet = PetFactory(owner=customer)
    now = timezone.now()
    later, sooner = (make_ride(pet=pet, scheduled_at=now + timedelta(days=d)) for d in (5, 2))
    old, older = (
        make_ride(pet=pet, status=RideStatus.CANCELLED, scheduled_at=now - timedelta(days=d)) for d in (2, 5)
    )
    assert ids(selectors.customer_rides(customer=customer, filters={"status": "upcoming"})) == [
        sooner.pk,
        later.pk,
    ]
    assert ids(selectors.customer_rides(customer=customer, filters={"status": "cancelled"})) == [
        old.pk,
        older.pk,
    ]
    assert ids(selectors.customer_rides(customer=customer)) == [later.pk, sooner.pk, old.pk, older.pk]


def test_customer_rides_never_include_another_customers(customer, other_customer):
    mine = make_ride(customer=customer)
    make_ride(customer=other_customer)
    assert ids(selectors.customer_rides(customer=customer, filters={"status": "all"})) == [mine.pk]
    assert Ride.objects.count() == 2
