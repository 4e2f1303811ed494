"""Payments in the back office (/ops/): the ledger with filters and CSV, refunds, capture retries."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import panels, selectors, services
from billing.filters import TransactionFilterSet
from billing.forms import RefundForm
from bookings.models import Ride
from core.errors import DomainError, add_errors_to_form
from core.filters import filtered_page, filters_from_query
from core.htmx import render_partial
from core.money import format_money
from core.spreadsheets import csv_download
from project.accounts.policies import admin_required


@admin_required
@require_GET
def payments(request):
    listing = filtered_page(
        request,
        TransactionFilterSet,
        selectors.ops_transactions,
        per_page=50,
    )
    listing["totals"] = selectors.ops_totals(listing["rows"])
    return render_partial(request, "billing/ops/payments.html", "payment-table", listing)


CSV_HEADER = [
    "created_at", "ride", "customer", "kind", "status", "amount", "currency", "source", "initiated_by",
    "reason", "provider_id", "idempotency_key", "attempts", "error", "completed_at",
]  # fmt: skip


@admin_required
@require_GET
def payments_csv(request):
    """The filtered ledger as CSV, streamed (no row limit, constant memory)."""
    _form, filters = filters_from_query(TransactionFilterSet, request.GET)
    rows = selectors.ops_transactions(filters=filters)

    def row(t):
        by = t.initiated_by.email if t.initiated_by else ""
        completed = t.completed_at.isoformat() if t.completed_at else ""
        return [
            t.created_at.isoformat(), t.ride_id, t.ride.customer.email, t.kind, t.status,
            f"{t.amount_cents / 100:.2f}", t.currency, t.source, by, t.reason, t.provider_id,
            t.idempotency_key, t.attempts, t.error, completed,
        ]  # fmt: skip

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_download(
        filename=f"payments-{stamp}.csv",
        header=CSV_HEADER,
        rows=(row(t) for t in rows.iterator(chunk_size=500)),
    )


@admin_required
@require_GET
def ride_money(request, pk):
    """The ride's money panel alone (it refreshes itself while an operation runs)."""
    ride = get_object_or_404(Ride, pk=pk)
    return HttpResponse(panels.ops_panel(request, ride))


@admin_required
@require_POST
def refund(request, pk):
    ride = get_object_or_404(Ride, pk=pk)
    form = RefundForm(request.POST)
    payment_id, notice = None, ""
    if form.is_valid():
        payment = get_object_or_404(ride.payments, pk=form.cleaned_data["payment"])
        payment_id = payment.pk
        try:
            txn = services.payment_refund(
                payment=payment,
                amount_cents=form.amount_cents,
                reason=form.cleaned_data["reason"],
                by=request.user,
                request_key=str(form.cleaned_data["request_key"]),
            )
        except DomainError as exc:
            add_errors_to_form(form, exc)
        else:
            notice = f"Refund of {format_money(txn.amount_cents, txn.currency)} sent to Stripe."
    elif str(form.data.get("payment", "")).isdigit():
        payment_id = int(form.data["payment"])
    if request.htmx:
        failed = form if form.errors else None
        return HttpResponse(
            panels.ops_panel(request, ride, refund_form=failed, refund_payment_id=payment_id, notice=notice)
        )
    if notice:
        messages.success(request, notice)
    if form.errors:
        messages.error(
            request, "Refund not made: " + " ".join(e for errs in form.errors.values() for e in errs)
        )
    return redirect("bookings_ops:ride_detail", pk=ride.pk)


@admin_required
@require_POST
def retry_capture(request, pk):
    ride = get_object_or_404(Ride, pk=pk)
    payment = get_object_or_404(ride.payments, pk=request.POST.get("payment") or 0)
    try:
        services.capture_retry(payment=payment, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Capture sent to Stripe again.")
    return redirect("bookings_ops:ride_detail", pk=ride.pk)
