"""The accessibility gate: every page of every portal, in the states a journey reaches, audited
by axe-core at a phone's size (375x812) and a laptop's (1366x900). No violation of impact
"serious" or "critical" may remain; a failure lists each one with its page, viewport, rule and
selectors. Each page is also saved as a screenshot at both sizes, under $SCREENSHOT_DIR or
pytest's temporary directory (docs/accessibility.md says how docs/screenshots/ is refreshed).

One browser context per role, signed in once; every page is walked at both sizes in it. The
browser watcher (conftest.py) fails the walk on any console error or failed request too.
"""

import json
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Payment, PaymentStatus, Transaction
from bookings.models import RideStatus
from core.models import OutboxItem
from fleet.models import TimeOff
from notifications.models import Notification
from notifications.services import notify
from notifications.triggers import Occasion
from tests.billing.fixtures import DECLINED_AT_CHARGE
from tests.browser.conftest import type_card
from tests.factories import (
    DROPOFF,
    PICKUP,
    AdminFactory,
    CustomerFactory,
    DriverProfileFactory,
    NotificationFactory,
    PetFactory,
    PlaceFactory,
    make_ride,
    make_trip,
)

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1366, "height": 900}}
GATED_IMPACTS = ("serious", "critical")
# Frames are audited as pages of their own (the email preview's URL is in the ops walk): axe
# would otherwise wait for an axe inside each frame, which a sandboxed frame cannot run.
AXE_RUN = "() => axe.run(document, {resultTypes: ['violations'], iframes: false}).then((r) => r.violations)"

# URL patterns that are not pages to audit, and why. Every other pattern outside the API and
# Django's admin must be walked below (test_the_walk_covers_every_page checks it).
NOT_PAGES = {
    "account_email": "allauth's, shadowed by accounts:email at the same path (walked)",
    "account_set_password": "redirects: every account has a password (change password is walked)",
    "account_confirm_login_code": "login by code is off: redirects to login",
    "accounts:phone_code_send": "POST only",
    "accounts:phone_verify": "POST only",
    "bookings:ride_quote": "POST only: the live quote fragment (part of the booking form)",
    "bookings:ride_reschedule_quote": "POST only: the reschedule quote fragment",
    "ride_photo": "an image",
    "fleet:duty": "POST only",
    "fleet:position": "POST only (JSON)",
    "fleet:time_off_add": "POST only",
    "fleet:time_off_delete": "POST only",
    "fleet:ride_step": "POST only",
    "ops_background_retry": "POST only",
    "bookings_ops:ride_cancel": "POST only",
    "bookings_ops:ride_clear_flag": "POST only",
    "bookings_ops:ride_call_return": "POST only",
    "bookings:ride_call_return": "POST only",
    "fleet_ops:reassign": "POST only",
    "fleet_ops:unassign": "POST only",
    "fleet_ops:driver_deactivate": "POST only",
    "fleet_ops:driver_reactivate": "POST only",
    "fleet_ops:driver_invite": "POST only",
    "fleet_ops:driver_time_off_add": "POST only",
    "fleet_ops:driver_time_off_delete": "POST only",
    "billing:card_remove": "POST only (its confirmation is on the cards page)",
    "billing_ops:payments_csv": "a CSV file",
    "billing_ops:ride_money": "an HTMX fragment of the ops ride page (walked there)",
    "billing_ops:refund": "POST only",
    "billing_ops:retry_capture": "POST only",
    "notifications_ops:retry": "POST only",
    "billing_webhooks:stripe": "a provider's callback",
    "notifications_webhooks:twilio_status": "a provider's callback",
    "notifications_webhooks:twilio_inbound": "a provider's callback",
}


def screenshot_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    if base.name.startswith("popen-gw"):  # pytest-xdist: one folder for all workers
        base = base.parent
    folder = Path(os.environ.get("SCREENSHOT_DIR") or base / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def world() -> dict:
    """One customer's rides in every state, their driver's day, the back office's lists."""
    now = timezone.now()
    customer = CustomerFactory(name="Alice Moreno", email="alice@example.com", time_zone="America/New_York")
    biscuit = PetFactory(owner=customer, name="Biscuit")
    # A long name in one piece: no page may then scroll sideways on a phone (see `audit`).
    miso = PetFactory(owner=customer, name="Misomittens-Whiskerbottom-Fluffington", type="cat",
                      special_needs="Anxious: talk to her softly.")  # fmt: skip
    place = PlaceFactory(owner=customer, label="Home", notes="Gate code 4411, ring twice.")
    dana = DriverProfileFactory(user__name="Dana Diaz", last_lat=40.78, last_lng=-73.97).user
    eli = DriverProfileFactory(user__name="Eli Park").user
    TimeOff.objects.create(driver=dana.driver_profile, starts_on=(now + timedelta(days=9)).date(),
                           ends_on=(now + timedelta(days=10)).date(), reason="Family visit")  # fmt: skip

    def ride(status, hours, driver=None, pets=(biscuit,), **fields):
        return make_ride(pets=list(pets), status=status, driver=driver,
                         scheduled_at=now + timedelta(hours=hours), **fields)  # fmt: skip

    rides = {
        "pending-payment": ride(RideStatus.PENDING_PAYMENT, 72),
        "confirmed": ride(RideStatus.CONFIRMED, 96, pets=(biscuit, miso), pickup_notes=place.notes),
        "assigned": ride(RideStatus.ASSIGNED, 50, dana, accepted_at=now, notes="Leash on the hook."),
        "offered": ride(RideStatus.ASSIGNED, 28, dana, pets=(miso,)),
        "en-route": ride(RideStatus.EN_ROUTE, 1, eli, accepted_at=now),
        "picked-up": ride(
            RideStatus.PICKED_UP,
            0,
            dana,
            pets=(miso,),
            accepted_at=now,
            notes="Owner asks for a text on arrival.",
        ),  # fmt: skip
        "completed": ride(RideStatus.COMPLETED, -3, dana, accepted_at=now - timedelta(hours=4)),
        "cancelled": ride(RideStatus.CANCELLED, 30),
        "no-show": ride(RideStatus.NO_SHOW, -30, eli),
    }
    # Round trips: an open return waiting for the call (its ride out done), a wait-and-return.
    vet, open_return = make_trip(
        customer=customer, pets=[miso], on_call=True, scheduled_at=now - timedelta(hours=2),
        status=RideStatus.COMPLETED, driver=eli, back_status=RideStatus.CONFIRMED,
    )  # fmt: skip
    waiting, waited_return = make_trip(
        customer=customer, pets=[biscuit], trip="wait_return", wait_minutes=45,
        scheduled_at=now + timedelta(hours=120), status=RideStatus.ASSIGNED, driver=dana,
        back_status=RideStatus.ASSIGNED, back_driver=dana,
    )  # fmt: skip
    rides.update({"open-return": open_return, "wait-and-return": waiting, "waited-return": waited_return})
    done = rides["completed"]
    payment = Payment.objects.create(
        ride=done, status=PaymentStatus.CAPTURED, amount_cents=done.price_cents,
        captured_cents=done.price_cents, payment_intent_id="pi_walk_done",
        card_brand="visa", card_last4="4242",
    )  # fmt: skip
    for kind in ("authorization", "capture"):
        Transaction.objects.create(
            ride=done, payment=payment, kind=kind, status="succeeded", amount_cents=done.price_cents,
            idempotency_key=f"walk-{kind}", source="ride", provider_id=payment.payment_intent_id,
        )  # fmt: skip
    Payment.objects.create(
        ride=rides["confirmed"], status=PaymentStatus.AUTHORIZED, amount_cents=rides["confirmed"].price_cents,
        payment_intent_id="pi_walk_held", card_brand="visa", card_last4="4242",
    )  # fmt: skip
    notify(occasion=Occasion("confirm", rides["confirmed"].pk))  # an SMS and an HTML email, as sent
    NotificationFactory(user=customer, ride=done, status="failed", last_error="21211 invalid number")
    OutboxItem.objects.create(
        task="fleet.tasks.auto_dispatch", args=[rides["confirmed"].pk], queue="dispatch", status="failed",
        last_error="Timed out after 60 s", next_attempt_at=now, created_at=now,
    )  # fmt: skip
    email = Notification.objects.filter(channel="email").first()
    address = EmailAddress.objects.get(user=customer)
    return {
        "customer": customer, "driver": dana, "admin": AdminFactory(name="Olivia Ops"), "rides": rides,
        "pet": biscuit, "place": place, "email": email, "dana": dana, "eli": eli,
        "newcomer": CustomerFactory(name="Nina New"),  # no rides: may delete her account
        "reset_key": f"{user_pk_to_url_str(customer)}-{default_token_generator.make_token(customer)}",
        "confirm_key": EmailConfirmationHMAC(address).key,
    }  # fmt: skip


def quoted(page):
    """The booking form filled in: the live quote shows."""
    page.get_by_label("Biscuit").check()
    page.get_by_label("Pickup address").fill(PICKUP)
    page.get_by_label("Drop-off address").fill(DROPOFF)
    when = timezone.localtime(timezone.now() + timedelta(days=3)).replace(hour=10, minute=0)
    page.get_by_label("Pickup date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_test_id("quote-total")).to_be_visible()


def quoted_round_trip(page):
    """The booking form for a round trip at a set time: a price per leg and the return's answer."""
    quoted(page)
    page.get_by_label("Round trip").check()
    page.get_by_label("At a time I choose").check()
    when = timezone.localtime(timezone.now() + timedelta(days=3)).replace(hour=14, minute=0)
    page.get_by_label("Return date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_text("Total for both rides")).to_be_visible()


def submitted(button: str):
    """The form sent as it is (empty): the page comes back with its errors."""

    def act(page):
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state()
        expect(page.locator(".is-invalid, .invalid-feedback, .alert-danger").first).to_be_visible()

    return act


def declined(page):
    """Checkout after the bank refused the hold: the card form again, under an alert."""
    type_card(page, DECLINED_AT_CHARGE)
    page.get_by_role("button", name=re.compile("and book")).click()
    expect(page.get_by_role("alert").filter(has_text="Your card was declined.")).to_be_visible()


def menu_opened(page):
    """The phone's menu open (at the laptop's size the menu is always shown)."""
    if page.viewport_size["width"] < 768:
        page.get_by_role("button", name="Open menu").click()
        expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))  # done sliding open


def pages_for(role: str, w: dict) -> list[tuple]:
    """(name, path) or (name, path, act) of every page `role` reaches; `act(page)` brings the
    page to the state audited (a form's errors, the live quote, a declined card, the menu open)."""
    r = w["rides"]
    if role == "public":
        return [
            ("home", "/"),
            ("terms", "/terms/"),
            ("privacy", "/privacy/"),
            ("login", "/accounts/login/"),
            ("login-errors", "/accounts/login/", submitted("Sign In")),
            ("menu", "/", menu_opened),
            ("signup", "/accounts/signup/"),
            ("password-reset", "/accounts/password/reset/"),
            ("password-reset-done", "/accounts/password/reset/done/"),
            ("password-reset-key", f"/accounts/password/reset/key/{w['reset_key']}/"),
            ("password-reset-key-done", "/accounts/password/reset/key/done/"),
            ("confirm-email-sent", "/accounts/confirm-email/"),
            ("confirm-email", f"/accounts/confirm-email/{w['confirm_key']}/"),
            ("inactive", "/accounts/inactive/"),
            ("account-deleted", "/accounts/deleted/"),
            ("not-found", "/no-such-page/"),
        ]
    if role == "customer":
        rides = [(f"ride-{state}", f"/app/rides/{ride.pk}/") for state, ride in r.items()]
        return [
            ("rides", "/app/"),
            ("rides-completed", "/app/?status=completed"),
            *rides,
            ("book", "/app/rides/new/"),
            ("book-quoted", "/app/rides/new/", quoted),
            ("book-round-trip", "/app/rides/new/", quoted_round_trip),
            ("cancel-round-trip", f"/app/rides/{r['wait-and-return'].pk}/cancel/"),
            ("book-errors", "/app/rides/new/", submitted("Continue to payment")),
            ("menu", "/app/", menu_opened),
            ("book-again", f"/app/rides/new/?again={r['completed'].pk}"),
            ("checkout", f"/app/rides/{r['pending-payment'].pk}/pay/"),
            ("checkout-declined", f"/app/rides/{r['pending-payment'].pk}/pay/", declined),
            ("reschedule", f"/app/rides/{r['confirmed'].pk}/reschedule/"),
            ("cancel", f"/app/rides/{r['confirmed'].pk}/cancel/"),
            ("receipt", f"/app/rides/{r['completed'].pk}/receipt/"),
            ("pets", "/app/pets/"),
            ("pet-new", "/app/pets/new/"),
            ("pet-edit", f"/app/pets/{w['pet'].pk}/edit/"),
            ("pet-delete", f"/app/pets/{w['pet'].pk}/delete/"),
            ("places", "/app/places/"),
            ("place-new", "/app/places/new/"),
            ("place-errors", "/app/places/new/", submitted("Save place")),
            ("place-edit", f"/app/places/{w['place'].pk}/edit/"),
            ("place-delete", f"/app/places/{w['place'].pk}/delete/"),
            ("cards", "/app/cards/"),  # after checkout: the card it saved, and its remove form
            ("notifications", "/app/notifications/"),
            ("profile", "/accounts/profile/"),
            ("account-delete-blocked", "/accounts/profile/delete/"),  # Alice has open rides
            ("email", "/accounts/email/"),
            ("password-change", "/accounts/password/change/"),
            ("reauthenticate", "/accounts/reauthenticate/"),
            ("logout", "/accounts/logout/"),
        ]
    if role == "customer-without-rides":  # Nina: the account-deletion form, and its errors
        return [
            ("account-delete", "/accounts/profile/delete/"),
            ("account-delete-errors", "/accounts/profile/delete/", submitted("Delete my account")),
        ]
    if role == "driver-on-the-way":  # Eli, on his way to a pickup: the board and card before it
        return [("board", "/drive/"), ("ride-en-route", f"/drive/rides/{r['en-route'].pk}/")]
    if role == "driver":
        return [
            ("board", "/drive/"),
            ("ride-picked-up", f"/drive/rides/{r['picked-up'].pk}/"),
            ("ride-offered", f"/drive/rides/{r['offered'].pk}/"),
            ("ride-assigned", f"/drive/rides/{r['assigned'].pk}/"),
            ("ride-wait-and-return", f"/drive/rides/{r['wait-and-return'].pk}/"),
            ("ride-completed", f"/drive/rides/{r['completed'].pk}/"),
            ("hours", "/drive/hours/"),
            ("profile", "/accounts/profile/"),
        ]
    dana = w["dana"].pk
    return [
        ("home", "/ops/"),
        ("background", "/ops/background/"),
        ("rides", "/ops/rides/"),
        ("rides-filtered", "/ops/rides/?status=completed&q=Biscuit"),
        ("rides-reversed-range", "/ops/rides/?date_from=2031-03-05&date_to=2031-03-01"),
        *[(f"ride-{state}", f"/ops/rides/{ride.pk}/") for state, ride in r.items()],
        ("dispatch", "/ops/fleet/dispatch/"),
        ("assign", f"/ops/fleet/dispatch/rides/{r['confirmed'].pk}/"),
        ("drivers", "/ops/fleet/drivers/"),
        ("driver-new", "/ops/fleet/drivers/new/"),
        ("driver-new-errors", "/ops/fleet/drivers/new/", submitted("Add driver")),
        ("menu", "/ops/", menu_opened),
        ("driver-edit", f"/ops/fleet/drivers/{dana}/"),
        ("driver-hours", f"/ops/fleet/drivers/{dana}/hours/"),
        ("payments", "/ops/payments/"),
        ("notifications", "/ops/notifications/"),
        ("notification", f"/ops/notifications/{w['email'].pk}/"),
        ("notification-email", f"/ops/notifications/{w['email'].pk}/email.html"),
    ]


def sign_in(context, user, live_server) -> None:
    """The session cookie of a signed-in test client (the login form has its own journeys)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !el.closest(".table-responsive"))
    .filter((el) => ![...el.children].some((child) => child.getBoundingClientRect().right > width + 1))
    .slice(0, 6)
    .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
}"""


def audit(page, url: str, viewport: str) -> list[dict]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # evaluated by the browser's devtools protocol: the CSP allows it
    # Not axe's, and as bad on a phone: a page wider than the screen (tables scroll in their box).
    wide = (
        page.evaluate(SIDEWAYS) if page.evaluate("document.documentElement.scrollWidth > innerWidth") else []
    )
    sideways = [{"url": url, "viewport": viewport, "rule": "sideways-scroll", "impact": "serious",
                 "help": "The page is wider than the screen", "targets": wide}] if wide else []  # fmt: skip
    return sideways + [
        {
            "url": url,
            "viewport": viewport,
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [" ".join(map(str, node["target"])) for node in v["nodes"]],
        }  # fmt: skip
        for v in page.evaluate(AXE_RUN)
    ]


def walk(browser, live_server, role, user, pages, folder) -> list[dict]:
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="en-US", timezone_id="America/New_York")
    if user is not None:
        sign_in(context, user, live_server)
    page = context.new_page()
    found = []
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        for name, path, *act in pages:
            response = page.goto(live_server.url + path)
            expected = 404 if name == "not-found" else 200
            assert response.status == expected, f"{path} answered {response.status} ({role})"
            assert "/accounts/login/" not in page.url or path.startswith("/accounts/login/"), path
            for step in act:
                step(page)
            found.extend(audit(page, f"{path} ({name})" if act else path, viewport))
            page.screenshot(path=folder / f"{role}-{name}-{viewport}.png", full_page=True)
    context.close()
    return found


def report(role: str, found: list[dict], folder: Path) -> None:
    """Fails on serious/critical violations; every impact is written to <folder>/axe-<role>.json."""
    (folder / f"axe-{role}.json").write_text(json.dumps(found, indent=1))
    gated = [v for v in found if v["impact"] in GATED_IMPACTS]
    lines = [
        f"{v['url']} @ {v['viewport']}: {v['rule']} ({v['impact']}) {v['help']}"
        f" -> {', '.join(v['targets'][:6])}"
        for v in gated
    ]
    assert not lines, f"{len(lines)} serious/critical axe violations ({role}):\n" + "\n".join(lines)


ROLES = ["public", "customer", "customer-without-rides", "driver", "driver-on-the-way", "ops"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe_at_both_sizes(role, browser, live_server, stripe_server, tmp_path_factory):
    w = world()
    user = {"public": None, "customer": w["customer"], "customer-without-rides": w["newcomer"],
            "driver": w["driver"], "driver-on-the-way": w["eli"], "ops": w["admin"]}[role]  # fmt: skip
    folder = screenshot_dir(tmp_path_factory)
    report(role, walk(browser, live_server, role, user, pages_for(role, w), folder), folder)


def test_the_walk_covers_every_page(db):
    """Every URL pattern outside the API and Django's admin is walked, or is in NOT_PAGES."""
    w = world()
    walked = {
        resolve(urlsplit(path).path).view_name
        for role in ROLES
        for name, path, *_act in pages_for(role, w)
        if name != "not-found"
    }

    def names(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if not str(entry.pattern).startswith(("api/", "django-admin/")):
                    inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                    yield from names(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                yield namespace + entry.name

    every = set(names(get_resolver().url_patterns))
    assert every - walked - set(NOT_PAGES) == set(), "pages the accessibility walk misses"
    assert set(NOT_PAGES) <= every, "NOT_PAGES names a URL that no longer exists"
    assert not walked & set(NOT_PAGES)
