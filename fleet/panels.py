"""Fleet's panels on the ride pages (bookings.panels): the driver and their last position
for the customer; assign / reassign / unassign for operations."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from bookings.forms import RequiredReasonForm
from bookings.models import RideStatus
from fleet import dispatch, selectors
from fleet.forms import ReassignForm
from fleet.models import DriverProfile


def customer_panel(request, ride) -> str | None:
    if ride.driver_id is None:
        return None
    profile = DriverProfile.objects.filter(pk=ride.driver_id).first()
    position = selectors.position_for_ride(ride, profile)
    just_now = position is not None and timezone.now() - position.position_at < timedelta(minutes=1)
    return render_to_string(
        "fleet/panels/customer.html",
        {"ride": ride, "profile": profile, "position": position, "seen_just_now": just_now},
        request=request,
    )


def _choice(candidate) -> tuple[int, str]:
    where = (
        f"{candidate.distance_miles} mi away" if candidate.distance_miles is not None else "position unknown"
    )
    return candidate.driver.pk, f"{candidate.driver.name} · {where} · {candidate.rides_that_day} that day"


def ops_panel(request, ride) -> str | None:
    context = {"ride": ride, "next": request.get_full_path()}
    if ride.driver_id:
        context["profile"] = DriverProfile.objects.filter(pk=ride.driver_id).first()
        context["position"] = selectors.position_for_ride(ride, context["profile"])
    if ride.status == RideStatus.CONFIRMED and ride.driver_id is None:
        if ride.payment_covers_fare:
            context["best"] = dispatch.eligible_candidates(ride)[:3]
        else:
            context["unpaid"] = True
    elif ride.status == RideStatus.ASSIGNED:
        choices = [_choice(c) for c in dispatch.eligible_candidates(ride)]
        context["reassign_form"] = ReassignForm(choices=choices, auto_id="reassign-%s")
        context["unassign_form"] = RequiredReasonForm(auto_id="unassign-%s")
    return render_to_string("fleet/panels/ops.html", context, request=request)
