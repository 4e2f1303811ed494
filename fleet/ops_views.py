"""Operations' fleet pages under /ops/: the dispatch queue, assigning drivers, and
driver accounts with their vehicles. Admins only."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.forms import RequiredReasonForm
from bookings.models import Ride
from core.errors import DomainError, add_errors_to_form
from core.filters import filtered_page
from core.htmx import render_partial
from core.pagination import paginate, query_without_page
from fleet import dispatch, selectors, services
from fleet.filters import DriverFilterSet
from fleet.forms import AssignForm, DriverForm, ReassignForm
from fleet.views import hours_page, time_off_add
from project.accounts.policies import admin_required


def _back(request, default: str, *args):
    """Back to the page the form was on (the ride's page, the queue), if it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default, *args)


# --- Dispatch -------------------------------------------------------------------------


@admin_required
@require_GET
def dispatch_queue(request):
    page = paginate(request, selectors.dispatch_queue(), per_page=25)
    return render_partial(
        request,
        "fleet/ops/dispatch.html",
        "queue",
        {
            "page_obj": page,
            "awaiting": selectors.awaiting_acceptance()[:25],
            "query_without_page": query_without_page(request),
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def assign(request, pk):
    ride = get_object_or_404(Ride.objects.with_list_relations(), pk=pk)
    form = AssignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            driver = form.cleaned_data["driver"]
            try:
                services.dispatch_assign(
                    ride=ride, driver=driver, by=request.user, note=form.cleaned_data["note"]
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"{driver.name} has {ride.pet_names}'s ride (#{ride.pk}).")
                return _back(request, "fleet_ops:dispatch")
        else:
            messages.error(request, "Choose one of the drivers listed.")
        ride.refresh_from_db()
    found = dispatch.candidates(ride)
    return render(
        request,
        "fleet/ops/assign.html",
        {
            "ride": ride,
            "eligible": [c for c in found if c.eligible],
            "ineligible": [c for c in found if not c.eligible],
            "can_assign": ride.status == Ride.Status.CONFIRMED
            and ride.driver_id is None
            and ride.payment_covers_fare,
        },
    )


def _change_driver(request, pk, form_class, change, invalid: str):
    """Reassign / unassign from the ride's page: run `change(ride, data) -> success message`."""
    ride = get_object_or_404(Ride, pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, invalid)
    else:
        try:
            messages.success(request, change(ride, form.cleaned_data))
        except DomainError as exc:
            messages.error(request, exc.message)
    return _back(request, "bookings_ops:ride_detail", ride.pk)


@admin_required
@require_POST
def reassign(request, pk):
    def change(ride, data):
        services.dispatch_reassign(ride=ride, driver=data["driver"], by=request.user, reason=data["reason"])
        return f"Ride #{ride.pk} now goes to {data['driver'].name}."

    return _change_driver(
        request, pk, ReassignForm, change, "Choose the new driver and say why you are changing it."
    )


@admin_required
@require_POST
def unassign(request, pk):
    def change(ride, data):
        services.dispatch_unassign(ride=ride, by=request.user, reason=data["reason"])
        return f"Ride #{ride.pk} is back in the dispatch queue."

    return _change_driver(request, pk, RequiredReasonForm, change, "Say why you are unassigning the driver.")


# --- Drivers and vehicles -------------------------------------------------------------


@admin_required
@require_GET
def driver_list(request):
    listing = filtered_page(request, DriverFilterSet, selectors.drivers_for_ops)
    listing["search"] = listing["filters"].get("q", "")
    return render_partial(request, "fleet/ops/driver_list.html", "driver-table", listing)


@admin_required
@require_http_methods(["GET", "POST"])
def driver_create(request):
    form = DriverForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            profile = services.driver_create(
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                vehicle=form.vehicle,
                on_duty=data["on_duty"],
            )
        except DomainError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                f"{profile.user.name} is added. We emailed {profile.user.email} a link to set a password.",
            )
            return redirect("fleet_ops:driver_edit", pk=profile.pk)
    return render(request, "fleet/ops/driver_form.html", {"form": form})


@admin_required
@require_http_methods(["GET", "POST"])
def driver_edit(request, pk):
    profile = selectors.driver_for_ops(pk)
    form = DriverForm(request.POST if request.method == "POST" else None, instance=profile)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.driver_update(
                profile=profile,
                name=data["name"],
                phone=data["phone"],
                vehicle=form.vehicle,
                on_duty=data["on_duty"],
            )
        except DomainError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, f"{data['name']}'s details are saved.")
            return redirect("fleet_ops:driver_edit", pk=profile.pk)
    rides = selectors.driver_rides(profile.user).open().order_by("scheduled_at")[:10]
    return render(request, "fleet/ops/driver_form.html", {"form": form, "profile": profile, "rides": rides})


@admin_required
@require_POST
def driver_deactivate(request, pk):
    profile = selectors.driver_for_ops(pk)
    try:
        released = services.driver_deactivate(profile=profile, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        back = f" {len(released)} upcoming ride(s) went back to dispatch." if released else ""
        messages.success(request, f"{profile.user.name} can no longer sign in or get rides.{back}")
    return redirect("fleet_ops:driver_edit", pk=profile.pk)


@admin_required
@require_POST
def driver_reactivate(request, pk):
    profile = selectors.driver_for_ops(pk)
    services.driver_reactivate(profile=profile)
    messages.success(request, f"{profile.user.name} can sign in again (off duty until they go on duty).")
    return redirect("fleet_ops:driver_edit", pk=profile.pk)


@admin_required
@require_POST
def driver_invite(request, pk):
    profile = selectors.driver_for_ops(pk)
    if not profile.user.is_active:
        messages.error(request, "Reactivate this driver before sending a new link.")
    else:
        services.driver_invite(profile=profile)
        messages.success(request, f"We emailed {profile.user.email} a new link to set a password.")
    return redirect("fleet_ops:driver_edit", pk=profile.pk)


# --- A driver's working hours and days off ------------------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def driver_hours(request, pk):
    profile = selectors.driver_for_ops(pk)
    return hours_page(
        request,
        profile,
        here=reverse("fleet_ops:driver_hours", args=[pk]),
        time_off_url=reverse("fleet_ops:driver_time_off_add", args=[pk]),
        delete_url=lambda t: reverse("fleet_ops:driver_time_off_delete", args=[pk, t]),
        back=reverse("fleet_ops:driver_edit", args=[pk]),
    )


@admin_required
@require_POST
def driver_time_off_add(request, pk):
    profile = selectors.driver_for_ops(pk)
    return time_off_add(request, profile, here=reverse("fleet_ops:driver_hours", args=[pk]))


@admin_required
@require_POST
def driver_time_off_delete(request, pk, time_off_pk):
    profile = selectors.driver_for_ops(pk)
    get_object_or_404(profile.time_off, pk=time_off_pk)
    services.driver_remove_time_off(profile=profile, time_off_id=time_off_pk)
    messages.success(request, "Day off removed.")
    return redirect("fleet_ops:driver_hours", pk=pk)
