"""The public pages: the landing page, terms and privacy. They quote the figures the product
enforces (settings, and fares from the real tariff), so the words never drift from the rules."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bookings.models import Pet
from bookings.pricing import quote_ride
from project.accounts.context_processors import portal_home_url
from project.accounts.policies import public


@public
def home(request):
    """Signed-in users land on their own portal; everyone else sees the landing page."""
    if request.user.is_authenticated:
        return redirect(portal_home_url(request.user))
    return render(request, "home.html", {**_policy_facts(), "examples": _example_fares()})


def _policy_facts() -> dict:
    """The figures the public pages quote, from the settings that enforce them."""
    return {
        "service_area": {
            "name": settings.SERVICE_AREA_NAME,
            "radius_miles": settings.SERVICE_AREA_RADIUS_MILES,
            "max_miles": settings.BOOKING_MAX_MILES,
        },
        "free_cancel_hours": int(settings.CANCELLATION_FREE_UNTIL.total_seconds() // 3600),
        "late_fee_percent": settings.CANCELLATION_FEE_PERCENT,
        "hold_lead_hours": int(settings.BILLING_HOLD_LEAD.total_seconds() // 3600),
    }


def _example_fares() -> list[tuple[str, int]]:
    """A few fares as the booking form would quote them (weekday daytime, booked ahead)."""
    today = timezone.localtime()
    days = (1 - today.weekday()) % 7
    next_tuesday = today + timedelta(days=days if days >= 2 else days + 7)  # never short notice
    weekday_noon = next_tuesday.replace(hour=12, minute=0, second=0, microsecond=0)
    examples = [
        ("A cat to the vet, 3 miles", [Pet(name="Cat", type=Pet.Type.CAT, weight_lb=Decimal(10))], 3),
        ("A large dog to daycare, 5 miles", [Pet(name="Dog", type=Pet.Type.DOG, weight_lb=Decimal(70))], 5),
        (
            "Two small dogs to the groomer, 4 miles",
            [Pet(name=n, type=Pet.Type.DOG, weight_lb=Decimal(15)) for n in ("One", "Two")],
            4,
        ),
    ]
    return [
        (
            label,
            quote_ride(
                pets=pets,
                distance_miles=Decimal(miles),
                scheduled_at=weekday_noon,
                tz=timezone.get_current_timezone(),
            ).total_cents,
        )  # fmt: skip
        for label, pets, miles in examples
    ]


@public
@require_http_methods(["GET"])
def terms(request):
    return render(request, "pages/terms.html", _policy_facts())


@public
@require_http_methods(["GET"])
def privacy(request):
    return render(request, "pages/privacy.html", _policy_facts())
