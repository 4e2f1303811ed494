"""The back office (/ops/): the day at a glance and every ride. Admins only."""

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bookings import selectors, services
from bookings.filters import OpsRideFilterSet
from bookings.forms import OpsCancelForm
from bookings.lifecycle import allowed_moves
from bookings.models import Ride, RideStatus
from bookings.panels import Attention, attention_counts, ride_panels
from core import outbox
from core.dates import operations_day, operations_today
from core.errors import DomainError
from core.filters import filtered_page
from core.htmx import render_partial
from core.pagination import paginate
from project.accounts.policies import admin_required


@admin_required
@require_GET
def home(request):
    today_start, today_end = operations_day()
    counts = Ride.objects.scheduled_between(today_start, today_end).aggregate(
        total=Count("id"),
        **{status.value: Count("id", filter=Q(status=status)) for status in RideStatus},
    )
    attention = Ride.objects.with_list_relations().exclude(attention="").order_by("scheduled_at")[:10]
    next_rides = (
        Ride.objects.with_list_relations()
        .open()
        .filter(scheduled_at__gte=timezone.now(), scheduled_at__lt=today_end)
        .order_by("scheduled_at")[:10]
    )
    return render(
        request,
        "bookings/ops/home.html",
        {
            "total_today": counts.pop("total"),
            "status_counts": [(status, counts[status.value]) for status in RideStatus],
            "attention": attention,
            "attention_counts": attention_counts(),
            "next_rides": next_rides,
            "today": operations_today(),  # a date: shown as is, whatever the admin's own zone
        },
    )


@admin_required
@require_GET
def ride_list(request):
    listing = filtered_page(request, OpsRideFilterSet, selectors.ops_rides)
    return render_partial(request, "bookings/ops/ride_list.html", "ride-table", listing)


@admin_required
@require_GET
def ride_detail(request, pk):
    return _detail_page(request, pk)


def _detail_page(request, pk, *, cancel_form=None, status=200):
    ride = get_object_or_404(Ride.objects.with_list_relations(), pk=pk)
    other = selectors.other_leg(ride)
    return render(
        request,
        "bookings/ops/ride_detail.html",
        {
            "ride": ride,
            "events": selectors.ops_timeline(ride),
            "moves": allowed_moves(ride, request.user),
            "cancel_form": cancel_form or OpsCancelForm(ride=ride),
            "other_leg": other,
            "can_call_return": ride.awaiting_call
            and other is not None
            and other.status in (RideStatus.PICKED_UP, RideStatus.COMPLETED),
            "panels": ride_panels("ops", request, ride),
        },
        status=status,
    )


@admin_required
@require_POST
def ride_cancel(request, pk):
    ride = get_object_or_404(Ride, pk=pk)
    form = OpsCancelForm(request.POST, ride=ride)
    if not form.is_valid():  # the page again, the errors beside the reason and the tick
        return _detail_page(request, pk, cancel_form=form, status=400)
    try:
        services.ride_cancel(ride=ride, by=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Ride #{ride.pk} is cancelled. The customer is not charged.")
    return redirect("bookings_ops:ride_detail", pk=ride.pk)


@admin_required
@require_POST
def ride_call_return(request, pk):
    ride = get_object_or_404(Ride, pk=pk)
    try:
        ride = services.ride_call_return(ride=ride, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        when = services.format_pickup(ride.scheduled_at, request.user.tzinfo)
        messages.success(
            request, f"Return #{ride.pk} called: pickup at about {when}; dispatch takes it from here."
        )
    return redirect("bookings_ops:ride_detail", pk=ride.pk)


@admin_required
@require_POST
def ride_clear_flag(request, pk):
    ride = get_object_or_404(Ride, pk=pk)
    services.ride_clear_flag(ride=ride, by=request.user)
    messages.success(request, f"Ride #{ride.pk} no longer needs attention.")
    return redirect("bookings_ops:ride_detail", pk=ride.pk)


# --- Background work (core.outbox) that needs a person ---------------------------------


@admin_required
@require_GET
def background_work(request):
    """Consequences of changes (messages to plan, dispatch, settlements) that failed for good
    or have waited too long: the error, and "Run again" once its cause is fixed."""
    return render_partial(
        request,
        "bookings/ops/background_work.html",
        "task-table",
        {
            "page_obj": paginate(request, outbox.items_needing_attention(), per_page=50),
            "stuck_minutes": int(settings.OUTBOX_STUCK_AFTER.total_seconds() // 60),
        },
    )


@admin_required
@require_POST
def background_work_retry(request, pk):
    if outbox.retry(item_id=pk):
        messages.success(request, f"Task #{pk} will run again in a moment.")
    else:
        messages.error(request, f"Task #{pk} is not failed (it is done or waiting), so it was left as it is.")
    return redirect("ops_background")


def background_attention() -> list[Attention]:
    counts = outbox.needing_attention()
    url = reverse("ops_background")
    return [
        Attention("Background tasks that failed", counts["failed"], url),
        Attention("Background tasks waiting too long", counts["stuck"], url),
    ]
