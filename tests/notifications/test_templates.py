"""Every kind renders in every format with realistic data, under a strict template
setting: a missing variable fails the render instead of printing nothing."""

import itertools
from datetime import timedelta

import pytest
from django.template import TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import timezone

from bookings.models import RideEvent, RideStatus
from notifications import triggers
from notifications.kinds import KINDS, Kind
from notifications.rendering import LAYOUTS, message_context, render
from notifications.triggers import Occasion
from tests.factories import (
    AdminFactory,
    DriverFactory,
    PaymentFactory,
    PetFactory,
    TransactionFactory,
    make_ride,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenarios(customer):
    """(occasion, ride, event) for every trigger, on rides in the state it happens in."""
    driver, other = DriverFactory(name="Dana Diaz"), DriverFactory(name="Eli Park")
    admin = AdminFactory()
    pet = PetFactory(owner=customer, name="O'Malley", special_needs="Needs her blanket", crate_required=True)

    slots = itertools.count()

    def ride_with(status, action=None, *, driver_held=None, actor=None, data=None, note=""):
        # Each ride in its own time slot: one driver can't hold overlapping rides (PostgreSQL checks).
        when = timezone.now() + timedelta(days=3, hours=2 * next(slots))
        ride = make_ride(pet=pet, status=status, driver=driver_held, scheduled_at=when)
        event = None
        if driver_held:
            RideEvent.objects.create(ride=ride, action="assign", data={"driver_id": driver_held.pk})
        if action:
            event = RideEvent.objects.create(
                ride=ride,
                action=action,
                actor=actor,
                from_status=RideStatus.ASSIGNED,
                data=data or {},
                note=note,
            )
        return ride, event

    items = []

    def add(name, ride_event, **occasion):
        ride, event = ride_event
        items.append((Occasion(name, ride.pk, event_id=event.pk if event else None, **occasion), ride, event))

    add("confirm", ride_with(RideStatus.CONFIRMED, "confirm"))
    add("reminder", ride_with(RideStatus.ASSIGNED, driver_held=driver), lead_minutes=1440)
    add("reminder", ride_with(RideStatus.CONFIRMED), lead_minutes=60)
    add("assign", ride_with(RideStatus.ASSIGNED, "assign", driver_held=driver, data={"driver_id": driver.pk}))
    ride, _ = ride_with(RideStatus.ASSIGNED, driver_held=driver)
    reassign = RideEvent.objects.create(
        ride=ride, action="reassign", actor=admin, data={"driver_id": other.pk}
    )
    add("reassign", (ride, reassign))
    ride, _ = ride_with(RideStatus.CONFIRMED)
    RideEvent.objects.create(ride=ride, action="assign", data={"driver_id": driver.pk})
    add("unassign", (ride, RideEvent.objects.create(ride=ride, action="unassign", actor=admin)))
    add("start", ride_with(RideStatus.EN_ROUTE, "start", driver_held=driver, actor=driver))
    add("pickup", ride_with(RideStatus.PICKED_UP, "pickup", driver_held=driver, actor=driver))
    add("complete", ride_with(RideStatus.COMPLETED, "complete", driver_held=driver, actor=driver))
    add(
        "no_show",
        ride_with(RideStatus.NO_SHOW, "no_show", driver_held=driver, actor=driver, note="No answer"),
    )
    for by in ("customer", "admin"):
        add(
            "cancel",
            ride_with(
                RideStatus.CANCELLED, "cancel", driver_held=driver, data={"cancelled_by": by}, note="Snow"
            ),
        )
    add("expire", ride_with(RideStatus.CANCELLED, "expire"))
    ride, _ = ride_with(RideStatus.ASSIGNED, driver_held=driver)
    old = ride.scheduled_at - timedelta(days=1)
    moved = RideEvent.objects.create(
        ride=ride,
        action="reschedule",
        actor=customer,
        from_status=RideStatus.ASSIGNED,
        data={"old_scheduled_at": old.isoformat(), "old_price_cents": 100, "new_price_cents": 200},
    )
    add("reschedule", (ride, moved))

    def money_event(name, ride_event, kind=None, cents=None):
        """A money event with billing's ledger row behind it (kind None: no row to read)."""
        ride, _ = ride_event
        row = (
            TransactionFactory(payment=PaymentFactory(ride=ride), kind=kind, amount_cents=cents)
            if kind
            else None
        )
        add(name, ride_event, transaction_id=row and row.pk)

    money_event("payment:captured", ride_with(RideStatus.COMPLETED, driver_held=driver), "capture", 2450)
    money_event("payment:captured", ride_with(RideStatus.CANCELLED), "fee", 1200)  # a late-cancellation fee
    money_event("payment:captured", ride_with(RideStatus.COMPLETED, driver_held=driver))  # amount unknown
    money_event("payment:refunded", ride_with(RideStatus.COMPLETED, driver_held=driver), "refund", 1000)
    money_event("payment:refunded", ride_with(RideStatus.COMPLETED, driver_held=driver))
    money_event("payment:action_required", ride_with(RideStatus.PENDING_PAYMENT))
    return items


def test_every_kind_renders_in_every_format_without_missing_variables(scenarios, strict_templates):
    rendered_kinds = set()
    for occasion, ride, event in scenarios:
        plans = triggers.plan(occasion, ride, event)
        assert plans, f"{occasion.name} planned nothing"
        for planned in plans:
            result = render(planned, ride)
            rendered_kinds.add(planned.kind)
            assert result.subject and "\n" not in result.subject
            heading, blank, greeting = result.text.splitlines()[:3]
            assert heading and not blank and greeting == f"Hi {planned.recipient.get_short_name()},"
            assert "O'Malley" in result.text and "O&#x27;Malley" in result.html
            assert result.html.startswith("<!doctype html>") and result.html.endswith("</html>")
            for part in (result.subject, result.text, result.html, result.sms):
                assert "None" not in part and "{{" not in part and "{%" not in part
            if KINDS[planned.kind].sms:
                assert result.sms.startswith("Whiskers & Wheels: ") and len(result.sms) <= 320
    assert rendered_kinds == set(Kind)


def test_the_strict_setting_does_catch_a_missing_variable(scenarios, strict_templates):
    occasion, ride, event = scenarios[0]
    [planned] = triggers.plan(occasion, ride, event)
    context = message_context(planned, ride)
    del context["when"]
    with pytest.raises(TemplateSyntaxError, match="when"):
        render_to_string(
            "notifications/messages/booking_confirmed.txt", {**context, "layout": LAYOUTS["text"]}
        )


def test_messages_about_several_pets_name_them_all_and_agree(customer):
    from notifications.services import notify

    driver = DriverFactory(name="Dana Diaz")
    rex = PetFactory(owner=customer, name="Rex")
    bo = PetFactory(owner=customer, name="Bo", crate_required=True)
    ride = make_ride(pets=[rex, bo], status=RideStatus.COMPLETED, driver=driver)
    [text, *_] = [n for n in notify(occasion=Occasion("complete", ride.pk)) if n.channel == "sms"]
    assert "Rex and Bo have arrived safely" in text.message
    single = make_ride(
        pets=[rex],
        status=RideStatus.COMPLETED,
        driver=driver,
        scheduled_at=timezone.now() + timedelta(days=5),
    )
    [text, *_] = [n for n in notify(occasion=Occasion("complete", single.pk)) if n.channel == "sms"]
    assert "Rex has arrived safely" in text.message
