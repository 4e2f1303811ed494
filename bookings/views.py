"""The customer's portal (/app/): pets, saved places, booking with a live quote, my rides."""

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import availability, selectors, services, trips
from bookings.filters import CUSTOMER_RIDE_GROUPS
from bookings.forms import DATETIME_LOCAL, BookingForm, OptionalReasonForm, PetForm, PlaceForm, RescheduleForm
from bookings.lifecycle import PAYMENT_STEP, allowed_moves
from bookings.models import RideStatus
from bookings.panels import ride_panels
from bookings.pricing import cancellation_terms
from core.errors import DomainError, add_errors_to_form
from core.htmx import render_partial
from core.http import client_ip
from core.pagination import paginate, query_without_page
from project.accounts.policies import customer_required, login_required

# --- Pets ------------------------------------------------------------------


@customer_required
@require_GET
def pet_list(request):
    pets = selectors.customer_pets_listed(request.user)
    return render(request, "bookings/pet_list.html", {"pets": pets})


@customer_required
@require_http_methods(["GET", "POST"])
def pet_create(request):
    form = PetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        pet = services.pet_create(owner=request.user, data=form.cleaned_data)
        messages.success(request, f"{pet.name} is added. You can book a ride for {pet.name} now.")
        return redirect("bookings:pet_list")
    return render(request, "bookings/pet_form.html", {"form": form})


@customer_required
@require_http_methods(["GET", "POST"])
def pet_edit(request, pk):
    pet = selectors.customer_pet(request.user, pk)
    form = PetForm(request.POST if request.method == "POST" else None, instance=pet)
    if request.method == "POST" and form.is_valid():
        services.pet_update(pet=pet, by=request.user, data=form.cleaned_data)
        messages.success(request, f"{pet.name}'s profile is saved.")
        return redirect("bookings:pet_list")
    return render(request, "bookings/pet_form.html", {"form": form, "pet": pet})


@customer_required
@require_http_methods(["GET", "POST"])
def pet_delete(request, pk):
    pet = selectors.customer_pet(request.user, pk)
    if request.method == "POST":
        try:
            services.pet_delete(pet=pet, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("bookings:pet_list")
        messages.success(request, f"{pet.name} is removed from your pets.")
        return redirect("bookings:pet_list")
    # Rides still on keep the pet: the page lists them instead of offering a Delete that fails.
    open_rides = list(selectors.pet_open_rides(pet))
    return render(request, "bookings/pet_confirm_delete.html", {"pet": pet, "open_rides": open_rides})


# --- Saved places -------------------------------------------------------------


@customer_required
@require_GET
def place_list(request):
    places = selectors.customer_places(request.user)
    return render(
        request, "bookings/place_list.html", {"places": places, "limit": settings.PLACES_PER_CUSTOMER}
    )


def _place_form_page(request, form, place=None, title="Add a place"):
    """Save the posted place (create, or update `place`), or show the form with its errors."""
    if request.method == "POST" and form.is_valid():
        try:
            if place is None:
                created = services.place_create(owner=request.user, data=form.cleaned_data)
                messages.success(request, f"“{created.label}” is saved. Pick it on the booking form.")
            else:
                services.place_update(place=place, by=request.user, data=form.cleaned_data)
                messages.success(request, f"“{place.label}” is saved.")
        except DomainError as exc:
            add_errors_to_form(form, exc)
        else:
            return redirect("bookings:place_list")
    # `title` was taken before the form touched the place: a refused edit keeps the old name.
    return render(request, "bookings/place_form.html", {"form": form, "place": place, "title": title})


@customer_required
@require_http_methods(["GET", "POST"])
def place_create(request):
    return _place_form_page(request, PlaceForm(request.POST if request.method == "POST" else None))


@customer_required
@require_http_methods(["GET", "POST"])
def place_edit(request, pk):
    place = selectors.customer_place(request.user, pk)
    form = PlaceForm(request.POST if request.method == "POST" else None, instance=place)
    return _place_form_page(request, form, place, title=f"Edit {place.label}")


@customer_required
@require_http_methods(["GET", "POST"])
def place_delete(request, pk):
    place = selectors.customer_place(request.user, pk)
    if request.method == "POST":
        services.place_delete(place=place, by=request.user)
        messages.success(request, f"“{place.label}” is removed from your places.")
        return redirect("bookings:place_list")
    return render(request, "bookings/place_confirm_delete.html", {"place": place})


# --- Booking -----------------------------------------------------------------


def _booking_initial(request) -> dict | None:
    """What the booking form starts with: `?pet=` preselects a pet (repeat it for several);
    `?again=<ride id>` ("Book again") copies one of the customer's rides (another's is a 404)."""
    again = request.GET.get("again", "")
    if again.isascii() and again.isdigit():  # "²" is a digit to isdigit(), not to int()
        return selectors.rebook_draft(selectors.customer_ride(request.user, int(again))).as_booking_fields()
    return {"pets": request.GET.getlist("pet")} if request.GET.get("pet") else None


def _suggested_times(request, answer) -> list[tuple[str, str]]:
    """The suggested times as the time field takes them (the customer's zone), with labels."""
    tz = request.user.tzinfo
    return [
        (timezone.localtime(t, tz).strftime(DATETIME_LOCAL), services.format_pickup(t, tz))
        for t in answer.suggestions
    ]


def _availability_context(request, answer, return_answer=None) -> dict:
    """The quote panel's availability: servable or not, and the suggested times; a round
    trip's return time has its own answer."""
    return {
        "availability": answer,
        "suggested_times": _suggested_times(request, answer) if answer else [],
        "return_availability": return_answer,
        "return_suggested_times": _suggested_times(request, return_answer) if return_answer else [],
    }


def _trip_context(request, form, answers: dict) -> dict:
    """The quote panel for a booking: a price per leg, their total, and availability."""
    plan = form.plan
    legs = []
    if plan is not None:
        titles = ["Ride out", "Return"] if plan.back else [""]
        legs = list(zip(titles, [leg.quote for leg in plan.legs], strict=True))
    return {
        "form": form,
        "trip_plan": plan,
        "quote_legs": legs,
        "quote_total_cents": plan.total_cents if plan else 0,
        **_availability_context(request, answers.get("scheduled_at"), answers.get(trips.RETURN_FIELD)),
    }


@customer_required
@require_http_methods(["GET", "POST"])
def ride_new(request):
    initial = _booking_initial(request) if request.method == "GET" else None
    form = BookingForm(
        request.POST if request.method == "POST" else None, customer=request.user, initial=initial
    )
    status = HTTPStatus.OK
    answers = {}
    if request.method == "POST" and form.is_valid():
        try:
            ride = trips.trip_book(
                customer=request.user,
                plan=form.plan,
                notes=form.cleaned_data["notes"],
                client_ip=client_ip(request),
                **form.stop_notes,
            )
        except DomainError as exc:
            add_errors_to_form(form, exc)
            status = HTTPStatus.TOO_MANY_REQUESTS if exc.code == "rate_limited" else HTTPStatus.BAD_REQUEST
            if isinstance(exc, services.Unavailable):
                field = next(iter(exc.errors), "scheduled_at")
                answers[field] = availability.Answer(servable=False, suggestions=exc.suggestions)
        else:
            return redirect(PAYMENT_STEP, pk=ride.pk)
    if not form.fields["pets"].queryset.exists():
        messages.info(request, "Add your pet first, then book their ride.")
        return redirect("bookings:pet_create")
    return render(request, "bookings/ride_form.html", _trip_context(request, form, answers), status=status)


@customer_required
@require_POST
def ride_quote(request):
    """Live quote fragment: the booking form posts here as fields change. With a complete
    request it also says whether a driver can take the ride then, and if not, when one can."""
    form = BookingForm(request.POST, customer=request.user)
    form.is_valid()
    answers = trips.trip_availability(plan=form.plan, customer=request.user) if form.plan else {}
    return render(request, "bookings/ride_form.html#quote", _trip_context(request, form, answers))


# --- My rides --------------------------------------------------------------


@customer_required
@require_GET
def ride_list(request):
    # The tabs are the only filter here: an unknown one shows the upcoming rides.
    status = request.GET.get("status", "upcoming")
    if status not in CUSTOMER_RIDE_GROUPS:
        status = "upcoming"
    rides = selectors.customer_rides(customer=request.user, filters={"status": status})
    return render_partial(
        request,
        "bookings/ride_list.html",
        "ride-list",
        {
            "page_obj": paginate(request, rides, per_page=10),
            "status_filter": status,
            "tabs": [(key, label) for key, (label, _statuses) in CUSTOMER_RIDE_GROUPS.items()],
            "query_without_page": query_without_page(request),
        },
    )


def _ride_context(request, ride):
    other = selectors.other_leg(ride)
    return {
        "ride": ride,
        "other_leg": other,
        # An open return is called once the pets have been collected for the ride out.
        "can_call_return": ride.awaiting_call
        and other is not None
        and other.status in (RideStatus.PICKED_UP, RideStatus.COMPLETED),
        "call_notice_minutes": int(settings.TRIP_CALL_NOTICE.total_seconds() // 60),
        "progress": selectors.ride_progress(ride),
        "events": selectors.customer_timeline(ride),
        "moves": allowed_moves(ride, request.user),
        "panels": ride_panels("customer", request, ride),
        # The page refreshes its status, timeline and panels while the ride is open, then stops.
        "poll_seconds": None if ride.is_ended else settings.RIDE_LIVE_POLL_SECONDS,
    }


@customer_required
@require_GET
def ride_detail(request, pk):
    ride = selectors.customer_ride(request.user, pk)
    return render_partial(request, "bookings/ride_detail.html", "live", _ride_context(request, ride))


def _reschedule_quote_context(request, ride, form, moves=(), answer=None) -> dict:
    """The reschedule page's price panel: a price per leg that moves, and availability; before
    a time is chosen, or with errors, what to do (this page has only the time to choose)."""
    titles = ["Ride out", "Return"] if len(moves) == 2 else [""]
    return {
        "form": form,
        "quote_title": "New price",
        "quote_prompt": "Pick a new time to see the price.",
        "quote_legs": [(title, plan.quote) for title, (_ride, plan) in zip(titles, moves, strict=False)],
        "quote_total_cents": sum(plan.quote.total_cents for _ride, plan in moves),
        **_availability_context(request, answer),
    }


@customer_required
@require_http_methods(["GET", "POST"])
def ride_reschedule(request, pk):
    ride = selectors.customer_ride(request.user, pk)
    form = RescheduleForm(request.POST if request.method == "POST" else None, ride=ride)
    if request.method == "POST" and form.is_valid():
        try:
            ride = services.ride_reschedule(
                ride=ride, by=request.user, scheduled_at=form.cleaned_data["scheduled_at"], **form.stops()
            )
        except DomainError as exc:
            add_errors_to_form(form, exc)
        else:
            messages.success(request, f"Ride moved. The new price is ${ride.price:.2f}.")
            return redirect("bookings:ride_detail", pk=ride.pk)
    context = {
        **_reschedule_quote_context(request, ride, form),
        "ride": ride,
        "terms": cancellation_terms(ride=ride),
    }
    return render(request, "bookings/ride_reschedule.html", context)


@customer_required
@require_POST
def ride_reschedule_quote(request, pk):
    """Live price for the new time, before the customer commits to it, and whether a driver
    can take the ride then (the ride's own window does not count against itself)."""
    ride = selectors.customer_ride(request.user, pk)
    form = RescheduleForm(request.POST, ride=ride)
    moves, answer = [], None
    if form.is_valid():
        try:
            moves = services.plan_reschedule(
                ride=ride, scheduled_at=form.cleaned_data["scheduled_at"], **form.stops()
            )
        except DomainError as exc:
            add_errors_to_form(form, exc)
        else:
            answer = services.ride_availability(
                plan=moves[0][1],
                customer=request.user,
                exclude_ride_ids=tuple(moved.pk for moved, _plan in moves),
                ends_at=moves[-1][1].ends_at,  # a wait-and-return: one driver for the whole stretch
            )
    context = _reschedule_quote_context(request, ride, form, moves, answer)
    return render(request, "bookings/ride_form.html#quote", context)


@customer_required
@require_POST
def ride_call_return(request, pk):
    """An open return's "call": it gets the earliest pickup a driver can do and goes to dispatch."""
    ride = selectors.customer_ride(request.user, pk)
    try:
        ride = services.ride_call_return(ride=ride, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        when = services.format_pickup(ride.scheduled_at, request.user.tzinfo)
        messages.success(request, f"We're coming back for {ride.pet_names}: pickup at about {when}.")
    return redirect("bookings:ride_detail", pk=ride.pk)


@customer_required
@require_http_methods(["GET", "POST"])
def ride_cancel(request, pk):
    ride = selectors.customer_ride(request.user, pk)
    form = OptionalReasonForm(request.POST if request.method == "POST" else None)
    back = services.open_return_leg(ride)  # cancelled with it
    if request.method == "POST" and form.is_valid():
        try:
            services.ride_cancel(ride=ride, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            both = back is not None
            messages.success(request, "Both rides are cancelled." if both else "Your ride is cancelled.")
        return redirect("bookings:ride_detail", pk=ride.pk)
    terms = cancellation_terms(ride=ride)
    return render(
        request,
        "bookings/ride_cancel.html",
        {
            "ride": ride,
            "form": form,
            "terms": terms,
            "return_leg": back,
            "return_terms": back and cancellation_terms(ride=back),
            "can_cancel": "cancel" in allowed_moves(ride, request.user),
        },
    )


# --- Handover photos ---------------------------------------------------------------


@login_required
@require_GET
def ride_photo(request, pk):
    """A ride's handover photo, streamed from private storage to those who may see it."""
    event = selectors.ride_photo_event(request.user, pk)
    try:
        photo = event.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404("This photo is no longer stored.") from exc
    response = FileResponse(photo, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response
