"""Billing's panels on the ride pages (bookings.panels; registered in BillingConfig.ready)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from billing import selectors
from billing.forms import RefundForm
from billing.services.checkout import ride_needs_payment
from bookings.panels import Attention


def customer_panel(request, ride) -> str | None:
    """Payment status, a pay link when one is needed, and the receipt link."""
    money = selectors.ride_money(ride)
    needs_payment = ride_needs_payment(ride, money.payments)
    if not money.payments and not needs_payment:
        return None  # no payment on record and none asked for: nothing to say
    return render_to_string(
        "billing/panels/customer.html",
        {
            "ride": ride,
            "money": money,
            "needs_payment": needs_payment,
            "settling": selectors.pending_settlement(money),
            "pay_by": ride.created_at + settings.BILLING_PAYMENT_WINDOW,
            "hold_lead_hours": int(settings.BILLING_HOLD_LEAD.total_seconds() // 3600),
        },
        request=request,
    )


def ops_panel(request, ride, refund_form=None, refund_payment_id=None, notice: str = "") -> str | None:
    """The money trail, with the refund form and a capture retry when they apply."""
    money = selectors.ride_money(ride)
    forms = [
        (
            payment,
            refundable,
            refund_form
            if refund_form is not None and refund_payment_id == payment.pk
            else RefundForm(payment=payment, refundable_cents=refundable),
        )
        for payment, refundable in money.refundable_payments
    ]
    return render_to_string(
        "billing/panels/ops.html",
        {
            "ride": ride,
            "money": money,
            "refund_forms": forms,
            "notice": notice,
            "settling": selectors.pending_settlement(money),
        },
        request=request,
    )


def attention() -> list[Attention]:
    """Payment operations that failed and wait for their next try."""
    url = reverse("billing_ops:payments")
    return [
        Attention(
            "Payment operations retrying", selectors.payment_operations_retrying(), f"{url}?status=pending"
        )
    ]
