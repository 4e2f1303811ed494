import uuid
from decimal import Decimal

from django import forms

from core.money import format_money


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount to refund ($)",
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0.01"}),
    )
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the ledger.",
    )
    # Money goes back to a card at once and can't be taken back: an explicit tick, checked here.
    confirm = forms.BooleanField(label="I confirm refunding this amount to the customer's card")
    payment = forms.IntegerField(widget=forms.HiddenInput)
    # One per rendered form: submitting the same form twice refunds once.
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, payment=None, refundable_cents: int = 0, **kwargs):
        if payment is not None:
            kwargs.setdefault("initial", {}).update(payment=payment.pk, request_key=uuid.uuid4())
        super().__init__(*args, **kwargs)
        if refundable_cents:  # a hint for the browser; the refund service is the one that decides
            most = f"{Decimal(refundable_cents) / 100:.2f}"
            self.fields["amount"].widget.attrs.update(max=most, placeholder=f"Up to {most}")
        if payment is not None and payment.card_last4:
            self.fields["confirm"].label = f"I confirm refunding this amount to {payment.card_label}"

    def clean(self):
        data = super().clean()
        if "confirm" in self.errors and data.get("amount"):  # say what was about to happen
            amount = format_money(self.amount_cents)
            self.errors["confirm"] = self.error_class(
                [f"Tick the box to confirm refunding {amount} to the customer's card."]
            )
        return data

    @property
    def amount_cents(self) -> int:
        return int(self.cleaned_data["amount"] * 100)
