"""Turning a planned message into its text: one wording template per kind, several layouts.

`templates/notifications/messages/<kind>.txt` starts with `{% extends layout %}`
and fills the blocks `subject`, `heading`, `body` (plain paragraphs), `button`
and `sms`. The layouts decide the format: the HTML email, the plain-text email
(the same layout in text), the subject line and the SMS. So every email shares
one layout and its text and HTML parts always say the same thing.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime

from bookings.models import Ride
from bookings.selectors import other_leg
from core.money import format_money
from notifications.kinds import Audience, spec_for
from notifications.triggers import Planned

LAYOUTS = {
    "subject": "notifications/email/subject.txt",
    "text": "notifications/email/layout.txt",
    "html": "notifications/email/layout.html",
    "sms": "notifications/sms.txt",
}
WHEN_FORMAT = "D j M, g:i A"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


def absolute(path: str) -> str:
    return path if "://" in path else f"{settings.SITE_URL}{path}"


def local_when(moment: datetime | str | None, tz) -> str:
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment, tz), WHEN_FORMAT)


def _ride_details(ride: Ride, tz, audience: Audience) -> list[tuple[str, str]]:
    members = ride.party_members
    pickup = local_when(ride.scheduled_at, tz)
    if ride.awaiting_call:
        pickup = f"When you call, by {local_when(ride.on_call_until, tz)}"
    rows = [
        ("Pickup", pickup),
        ("From", ride.pickup_address),
        ("To", ride.dropoff_address),
        *(
            ("Pet", f"{m.pet.name} ({m.pet.get_type_display().lower()}, {m.pet.weight_lb} lb)")
            for m in members
        ),
    ]
    if ride.is_trip_leg:
        rows.append(("Trip", f"{ride.get_trip_display()}: {ride.leg_label.lower()}"))
    if ride.wait_minutes:
        rows.append(("Wait", f"{ride.wait_minutes} min at the drop-off, then back"))
    back = other_leg(ride) if ride.is_trip_leg and not ride.is_return_leg else None
    if back is not None and back.is_open and audience == Audience.CUSTOMER:
        when = "when you call" if back.awaiting_call else local_when(back.scheduled_at, tz)
        rows.append(("Return", f"{when} (#{back.pk})"))
    if audience == Audience.DRIVER:
        rows.append(("Customer", f"{ride.customer.name} {ride.customer.phone or ''}".strip()))
        for m in members:
            if m.crated:
                rows.append(("Crate", f"{m.pet.name} travels in a crate"))
            if m.pet.special_needs:
                rows.append(("Care notes", f"{m.pet.name}: {m.pet.special_needs}"))
    elif ride.driver_id:
        rows.append(("Driver", ride.driver.name))
    rows.append(("Ride", f"#{ride.pk}"))
    return rows


def _fare(ride: Ride, charged: tuple[int, str] | None) -> dict:
    """The fare breakdown as quoted, and what was actually taken when billing says so."""
    currency = ride.quote.get("currency") or ride.currency
    lines = [(line["label"], format_money(line["cents"], currency)) for line in ride.quote.get("lines", [])]
    return {
        "lines": lines,
        "total": format_money(ride.price_cents, ride.currency),
        "charged": format_money(*charged) if charged else "",
    }


def message_context(planned: Planned, ride: Ride) -> dict:
    spec = spec_for(planned.kind)
    user = planned.recipient
    tz = user.tzinfo
    if spec.audience == Audience.CUSTOMER:
        ride_url = absolute(reverse("bookings:ride_detail", args=[ride.pk]))
        preferences_url = absolute(reverse("notifications:preferences"))
    else:
        ride_url = absolute(reverse("fleet:home"))
        preferences_url = ""
    facts = dict(planned.facts)
    context = {
        "kind": spec.kind.value,
        "recipient": user,
        "first_name": user.get_short_name(),
        "ride": ride,
        "pet": ride.pet_names,
        "party_size": len(ride.party_members),
        "crated": any(member.crated for member in ride.party_members),
        "when": local_when(ride.scheduled_at, tz),
        "pickup": ride.pickup_address,
        "dropoff": ride.dropoff_address,
        "driver_name": ride.driver.name if ride.driver_id else "",
        "price": format_money(ride.price_cents, ride.currency),
        "ride_url": ride_url,
        "button_url": ride_url,
        "preferences_url": preferences_url,
        "support_email": settings.NOTIFY_SUPPORT_EMAIL,
        "site_url": settings.SITE_URL,
        "details": _ride_details(ride, tz, spec.audience),
        "fare": None,
    }
    if "charged" in facts:
        context["fare"] = _fare(ride, facts.pop("charged"))
    if "refunded" in facts:
        refunded = facts.pop("refunded")
        context["refunded"] = format_money(*refunded) if refunded else ""
    if "old_scheduled_at" in facts:
        context["old_when"] = local_when(facts.pop("old_scheduled_at"), tz)
    if "pay_url" in facts:
        context["button_url"] = absolute(facts.pop("pay_url") or ride_url)
    if "lead_minutes" in facts:
        context["lead"] = _lead_phrase(facts.pop("lead_minutes"))
    return {**context, **facts}


def _lead_phrase(minutes: int) -> str:
    if minutes % 1440 == 0 and minutes >= 1440:
        days = minutes // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "in an hour" if hours == 1 else f"in {hours} hours"
    return f"in {minutes} minutes"


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render_part(kind: str, part: str, context: dict) -> str:
    return render_to_string(f"notifications/messages/{kind}.txt", {**context, "layout": LAYOUTS[part]})


def render(planned: Planned, ride: Ride, *, sms: bool = True, email: bool = True) -> Rendered:
    """Render the parts a message needs, in the recipient's time zone."""
    context = message_context(planned, ride)
    kind = planned.kind
    with timezone.override(planned.recipient.tzinfo):
        return Rendered(
            subject=" ".join(render_part(kind, "subject", context).split()) if email else "",
            text=_tidy_text(render_part(kind, "text", context)) if email else "",
            html=render_part(kind, "html", context).strip() if email else "",
            sms=" ".join(render_part(kind, "sms", context).split()) if sms else "",
        )
