"""The driver's portal (/drive/)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from bookings.models import Ride
from project.accounts.policies import driver_required


@driver_required
@require_GET
def home(request):
    rides = (
        Ride.objects.for_driver(request.user)
        .open()
        .select_related("pet", "customer")
        .order_by("scheduled_at")
    )
    return render(request, "fleet/home.html", {"rides": rides})
