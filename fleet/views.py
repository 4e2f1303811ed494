"""The driver's portal (/drive/), made for a phone held in one hand.

Every step is a real form (it works as a plain POST); with HTMX the ride's card
is swapped in place, `ride-stepped` refreshes a ride page's timeline and
`rides-changed` tells the board to regroup its lists.
Steps call the ride state machine's services; this module only parses and renders.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from bookings import selectors as ride_selectors
from bookings.lifecycle import allowed_moves, refusal_for
from core.errors import DomainError, add_errors_to_form
from core.htmx import render_partial
from core.middleware import permissions_policy
from fleet import selectors, services
from fleet.forms import DutyForm, PositionForm, TimeOffForm, WeeklyHoursForm
from fleet.steps import STEPS
from project.accounts.policies import driver_required


def card_context(request, ride, *, bound: dict | None = None, error: str = "") -> dict:
    """What a ride card needs: the moves open to this driver and a form (by move) for each that
    takes input; `bound` replaces one with the submitted form and its errors."""
    moves = allowed_moves(ride, request.user)
    forms = {
        step.move: step.form(auto_id=f"r{ride.pk}-{slug}-%s")
        for slug, step in STEPS.items()
        if step.form and step.move in moves
    }
    forms.update(bound or {})
    detail_url = reverse("fleet:ride_detail", args=[ride.pk])
    here = request.htmx.current_url_abs_path if request.htmx else request.path
    return {
        "details_url": detail_url if here != detail_url else None,
        "ride": ride,
        # (label, address, the owner's saved-place notes for that stop: gate code, parking)
        "ride_stops": [
            ("Pickup", ride.pickup_address, ride.pickup_notes),
            ("Drop-off", ride.dropoff_address, ride.dropoff_notes),
        ],
        "moves": moves,
        # "On my way" before its window: shown disabled, with when it opens.
        "start_refusal": refusal_for(ride, request.user, "start") if ride.accepted_at else None,
        "forms": forms,
        "card_error": error,
        "position_interval": settings.DRIVER_POSITION_INTERVAL_SECONDS,
    }


# The driver's pages report the phone's position during a ride and take handover photos.
DRIVER_FEATURES = {"geolocation": ["self"], "camera": ["self"]}


@driver_required
@permissions_policy(**DRIVER_FEATURES)
@require_GET
def home(request):
    board = selectors.driver_board(request.user)
    # The page polls with the version it shows: nothing new -> 204, and htmx leaves the page be.
    if request.htmx and request.GET.get("v") == board.version:
        return HttpResponse(status=204)
    context = {
        "board": board,
        "profile": selectors.driver_profile(request.user),
        "poll_seconds": settings.DRIVER_BOARD_POLL_SECONDS,
    }
    if board.current:
        context.update(card_context(request, board.current))
    return render_partial(request, "fleet/home.html", "board", context)


@driver_required
@permissions_policy(**DRIVER_FEATURES)
@require_GET
def ride_detail(request, pk):
    ride = selectors.driver_ride(request.user, pk)
    context = {**card_context(request, ride), "events": ride_selectors.driver_timeline(ride, request.user)}
    return render_partial(request, "fleet/ride_detail.html", "timeline", context)


@driver_required
@require_POST
def ride_step(request, pk, step):
    step_spec = STEPS.get(step)
    if step_spec is None:
        raise Http404("No such step.")
    ride = selectors.driver_ride(request.user, pk)
    form = (
        step_spec.form(request.POST, request.FILES, auto_id=f"r{ride.pk}-{step}-%s")
        if step_spec.form
        else None
    )
    error = ""
    if form is None or form.is_valid():
        try:
            ride = step_spec.call(ride, request.user, form.cleaned_data if form else {})
        except DomainError as exc:
            if form is not None and exc.errors:
                add_errors_to_form(form, exc)
            else:
                error = exc.message
        else:
            still_mine = ride.driver_id == request.user.pk  # not after a decline
            if request.htmx:
                if still_mine:
                    context = {
                        **card_context(request, selectors.driver_ride(request.user, pk)),
                        "done": step_spec.done,
                    }
                    response = render(request, "fleet/_ride_card.html", context)
                else:
                    response = render(
                        request, "fleet/_ride_gone.html", {"ride": ride, "done": step_spec.done}
                    )
                # The ride's timeline refreshes; the board regroups only when the step can move
                # rides between its lists (not while the driver works the ride in front of them).
                trigger_client_event(response, "ride-stepped")
                if step_spec.move not in ("start", "pickup"):
                    trigger_client_event(response, "rides-changed")
                return response
            messages.success(request, step_spec.done)
            if still_mine and ride.is_open:
                return redirect("fleet:ride_detail", pk=ride.pk)
            return redirect("fleet:home")
    ride = selectors.driver_ride(request.user, pk)  # as it is now, for the card
    bound = {step_spec.move: form} if form is not None else {}
    context = card_context(request, ride, bound=bound, error=error)
    if request.htmx:
        return render(request, "fleet/_ride_card.html", context)
    events = ride_selectors.driver_timeline(ride, request.user)
    return render(request, "fleet/ride_detail.html", {**context, "events": events})


@driver_required
@require_POST
def duty(request):
    form = DutyForm(request.POST)
    profile = selectors.driver_profile(request.user)
    if form.is_valid() and profile is not None:
        try:
            profile = services.driver_set_duty(driver=request.user, on_duty=form.cleaned_data["on_duty"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if not request.htmx:
                messages.success(
                    request,
                    "You're on duty: new rides can come your way." if profile.on_duty else "You're off duty.",
                )
    elif profile is None:
        messages.error(request, "Your vehicle isn't set up yet. Operations will add it.")
    if request.htmx:
        return render(request, "fleet/home.html#duty", {"profile": profile})
    return redirect("fleet:home")


@driver_required
@require_POST
def position(request):
    """The phone's position during a ride (fetch() from drive.js, every ~20 s)."""
    form = PositionForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    try:
        services.driver_report_position(
            driver=request.user,
            lat=form.cleaned_data["lat"],
            lng=form.cleaned_data["lng"],
            accuracy_m=form.cleaned_data["accuracy"],
        )
    except DomainError as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=409)
    return HttpResponse(status=204)


# --- Working hours and days off (this page for the driver; the same page for operations) ----


def hours_page(request, profile, *, here: str, time_off_url: str, delete_url, back: str | None = None):
    """The weekly hours form and the days off of `profile`, for whoever the view let in.
    `delete_url(time_off_id)` is where a day off's Remove button posts."""
    form = WeeklyHoursForm(
        request.POST if request.method == "POST" else None, hours=selectors.driver_weekly_hours(profile)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.driver_set_hours(profile=profile, hours=form.hours)
            except DomainError as exc:
                add_errors_to_form(form, exc)
            else:
                messages.success(request, "Working hours saved.")
                return redirect(here)
        status = 400
    context = {
        "profile": profile,
        "form": form,
        "time_off_form": TimeOffForm(),
        "time_off": [(t, delete_url(t.pk)) for t in selectors.driver_time_off(profile)],
        "here": here,
        "time_off_url": time_off_url,
        "back": back,
    }
    return render(request, "fleet/hours.html", context, status=status)


def time_off_add(request, profile, *, here: str):
    form = TimeOffForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        services.driver_add_time_off(
            profile=profile, starts_on=data["starts_on"], ends_on=data["ends_on"], reason=data["reason"]
        )
        messages.success(request, "Days off added.")
    else:
        problems = [m for messages_ in form.errors.values() for m in messages_]
        messages.error(request, " ".join(problems))
    return redirect(here)


def _own_profile(request):
    profile = selectors.driver_profile(request.user)
    if profile is None:
        raise Http404("Your vehicle isn't set up yet.")
    return profile


@driver_required
@require_http_methods(["GET", "POST"])
def hours(request):
    return hours_page(
        request,
        _own_profile(request),
        here=reverse("fleet:hours"),
        time_off_url=reverse("fleet:time_off_add"),
        delete_url=lambda pk: reverse("fleet:time_off_delete", args=[pk]),
        back=reverse("fleet:home"),
    )


@driver_required
@require_POST
def time_off_add_view(request):
    return time_off_add(request, _own_profile(request), here=reverse("fleet:hours"))


@driver_required
@require_POST
def time_off_delete(request, pk):
    profile = _own_profile(request)
    get_object_or_404(profile.time_off, pk=pk)  # another driver's: 404
    services.driver_remove_time_off(profile=profile, time_off_id=pk)
    messages.success(request, "Day off removed.")
    return redirect("fleet:hours")
