"""The customer's side of payments (/app/): checkout, the receipt, saved cards."""

from functools import wraps
from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors, services
from billing.services.checkout import hold_later
from bookings.models import RideStatus
from bookings.pricing import cancellation_terms
from bookings.selectors import customer_ride, other_leg
from core.errors import DomainError
from project.accounts.policies import customer_required


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_js_allowed(view):
    """The one page that runs Stripe.js: its script, its API calls and its card and
    3-D Secure frames are allowed there, on top of the site's policy (read per request, so
    the Stripe settings in force are the ones allowed)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        js = _origin(settings.STRIPE_JS_URL)
        api = _origin(settings.STRIPE_API_BASE or "https://api.stripe.com")
        response._csp_update = {"script-src": [js], "connect-src": [api, js]}
        response._csp_replace = {"frame-src": [js, "https://hooks.stripe.com"]}
        response.permissions_policy = {"payment": ["self", f'"{js}"']}
        return response

    return wrapper


@customer_required
@stripe_js_allowed
@require_http_methods(["GET", "POST"])
def checkout(request, pk):
    """GET: the card form (or the bank check). POST: the browser is done; the server checks with Stripe."""
    ride = customer_ride(request.user, pk)
    was_pending = ride.status == RideStatus.PENDING_PAYMENT
    if was_pending and ride.is_return_leg and other_leg(ride).status == RideStatus.PENDING_PAYMENT:
        return redirect("billing:checkout", pk=ride.outbound_id)  # one checkout for both legs
    # A round trip paid here secures its return too (services.secure_return_leg).
    back = other_leg(ride) if was_pending and not ride.is_return_leg else None
    if back is not None and back.status != RideStatus.PENDING_PAYMENT:
        back = None  # cancelled meanwhile (or paid on its own): this checkout is for the ride out
    try:
        if request.method == "POST":
            step = services.checkout_submit(ride=ride, by=request.user)
        else:
            step = services.checkout_open(ride=ride)
    except DomainError as exc:
        # Stripe unreachable: say so now; a redirect would make the customer wait on it again.
        if request.method == "POST" and exc.code != "unavailable":
            messages.error(request, exc.message)
            return redirect("billing:checkout", pk=ride.pk)
        context = {"ride": ride, "error": exc.message}
        return render(request, "billing/checkout.html", context, status=HTTPStatus.SERVICE_UNAVAILABLE)
    if step.outcome == "paid":
        booked = f"{ride.pet_names}'s ride is booked. " if was_pending else "Thank you. "
        if back is not None:
            booked = f"{ride.pet_names}'s round trip is booked. "
        messages.success(request, booked + step.message)
        if back is not None:
            back.refresh_from_db(fields=["status"])
            if back.status == RideStatus.PENDING_PAYMENT:
                messages.warning(request, "The return's payment hasn't gone through yet: pay on its page.")
        return redirect("bookings:ride_detail", pk=ride.pk)
    if step.outcome == "closed":
        messages.info(request, step.message)
        return redirect("bookings:ride_detail", pk=ride.pk)
    if request.method == "POST":  # Post/Redirect/Get: the GET shows the card form or the bank check
        if step.message:
            messages.error(request, step.message)
        return redirect("billing:checkout", pk=ride.pk)
    return render(
        request,
        "billing/checkout.html",
        {
            "ride": ride,
            "return_leg": back,
            "return_hold_later": back is not None and hold_later(back),
            "trip_total_cents": ride.price_cents + (back.price_cents if back else 0),
            "step": step,
            "hold_later": hold_later(ride),
            "terms": cancellation_terms(ride=ride),
            "pay_by": ride.created_at + settings.BILLING_PAYMENT_WINDOW if was_pending else None,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_key": settings.STRIPE_PUBLISHABLE_KEY,
        },
    )


@customer_required
@require_GET
def receipt(request, pk):
    ride = customer_ride(request.user, pk)
    return render(request, "billing/receipt.html", {"ride": ride, "money": selectors.ride_money(ride)})


# --- Saved cards -------------------------------------------------------------------


def _unavailable(request, exc: DomainError):
    context = {"error": exc.message}
    return render(request, "billing/cards.html", context, status=HTTPStatus.SERVICE_UNAVAILABLE)


def _cards_page(request, *, cards=None, errors: dict | None = None, status=HTTPStatus.OK):
    """The saved cards, with `errors` (card id -> message) beside their remove forms."""
    if cards is None:
        try:
            cards = services.customer_cards(request.user)
        except DomainError as exc:
            return _unavailable(request, exc)
    errors = errors or {}
    rows = [(card, errors.get(card.id, "")) for card in cards]
    return render(request, "billing/cards.html", {"rows": rows}, status=status)


@customer_required
@require_GET
def card_list(request):
    return _cards_page(request)


@customer_required
@require_POST
def card_remove(request, payment_method_id):
    """Remove a saved card once the customer ticks the confirmation (checked here, not only
    in the browser). A card not on the customer's Stripe customer (another's) is a 404."""
    try:
        cards = services.customer_cards(request.user)
    except DomainError as exc:
        return _unavailable(request, exc)
    card = next((card for card in cards if card.id == payment_method_id), None)
    if card is None:
        raise Http404("No such card.")
    if request.POST.get("confirm") != "yes":
        errors = {card.id: f"Tick the box to confirm removing {card.label}."}
        return _cards_page(request, cards=cards, errors=errors, status=HTTPStatus.BAD_REQUEST)
    try:
        removed = services.card_remove(user=request.user, payment_method_id=card.id)
    except DomainError as exc:
        if exc.code == "unavailable":
            return _unavailable(request, exc)
        return _cards_page(request, errors={card.id: exc.message}, status=HTTPStatus.CONFLICT)
    messages.success(request, f"{removed.label} is removed. It can no longer be charged.")
    return redirect("billing:card_list")
