from io import StringIO

from django.core.management import call_command

from bookings.models import Ride, RideEvent, RideStatus
from fleet.dispatch import eligible_candidates
from fleet.models import DriverProfile


def test_demo_drivers_get_vehicles_and_seeding_twice_changes_nothing(db):
    call_command("seed_demo", stdout=StringIO())
    profiles = {p.user.email: p for p in DriverProfile.objects.select_related("user")}
    assert set(profiles) == {f"{n}.driver@whiskers.example" for n in ("dana", "eli", "fay")}
    assert [profiles[e].on_duty for e in sorted(profiles)] == [True, True, False]  # dana, eli, fay
    profiles["dana.driver@whiskers.example"].on_duty = False
    profiles["dana.driver@whiskers.example"].save()

    call_command("seed_demo", stdout=StringIO())
    assert DriverProfile.objects.count() == 3
    assert not DriverProfile.objects.get(user__email="dana.driver@whiskers.example").on_duty  # kept
    waiting = Ride.objects.get(status=RideStatus.CONFIRMED, pets__name="Miso", trip="one_way")
    assert [c.driver.email for c in eligible_candidates(waiting)] == ["eli.driver@whiskers.example"]


def test_demo_drivers_set_off_only_inside_the_start_window(db, settings):
    call_command("seed_demo", stdout=StringIO())
    started = RideEvent.objects.filter(action="start").select_related("ride")
    assert started.count() >= 3  # en route, picked up, completed, no-show rides
    for event in started:
        assert event.created_at >= event.ride.scheduled_at - settings.RIDE_START_WINDOW, event.ride
