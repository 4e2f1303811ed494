from django import forms

from bookings.models import Pet
from bookings.selectors import customer_pets
from bookings.services import PET_FIELDS, ride_plan
from core.errors import DomainError, add_errors_to_form

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class PickupTimeField(forms.DateTimeField):
    """A native date-time picker; the value is read in the user's time zone (middleware)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 300}, format=DATETIME_LOCAL)

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        kwargs.setdefault("label", "Pickup date and time")
        super().__init__(**kwargs)


class PetForm(forms.ModelForm):
    class Meta:
        model = Pet
        fields = PET_FIELDS
        widgets = {
            "special_needs": forms.Textarea(attrs={"rows": 3}),
            "age_years": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 60}),
            "weight_lb": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1", "min": "0.1"}),
        }


class PlanFormMixin:
    """Runs the shared booking rules (`ride_plan`) and puts each problem beside its field
    (unless the field already has an error of its own, such as "required")."""

    plan = None

    def apply_plan(self, **kwargs):
        try:
            self.plan = ride_plan(**kwargs)
        except DomainError as exc:
            fresh = {field: messages for field, messages in exc.errors.items() if field not in self.errors}
            add_errors_to_form(self, DomainError(exc.message, errors=fresh))


class BookingForm(PlanFormMixin, forms.Form):
    pets = forms.ModelMultipleChoiceField(
        queryset=Pet.objects.none(),
        label="Who is travelling?",
        help_text="Pets travelling together in one ride; each pet after the first adds a small charge.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one of your pets.",
            "invalid_choice": "Choose among your own pets.",
            "invalid_pk_value": "Choose among your own pets.",
        },
    )
    pickup_address = forms.CharField(
        max_length=255,
        label="Pickup address",
        help_text="Street, city and ZIP code, e.g. 350 5th Ave, New York, NY 10118",
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    dropoff_address = forms.CharField(
        max_length=255, label="Drop-off address", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    scheduled_at = PickupTimeField()
    notes = forms.CharField(
        required=False,
        max_length=2000,
        label="Notes for the driver",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["pets"].queryset = customer_pets(customer)

    def clean(self):
        data = super().clean()
        if "notes" not in self.errors:
            self.apply_plan(
                customer=self.customer,
                pets=list(data.get("pets") or []),
                pickup_address=data.get("pickup_address", ""),
                dropoff_address=data.get("dropoff_address", ""),
                scheduled_at=data.get("scheduled_at"),
            )
        return data


class RescheduleForm(forms.Form):
    scheduled_at = PickupTimeField(label="New pickup date and time")


class OptionalReasonForm(forms.Form):
    """A cancel or a decline: saying why helps, but is not asked for."""

    reason = forms.CharField(
        required=False, max_length=500, label="Reason (optional)", widget=forms.Textarea(attrs={"rows": 2})
    )


class RequiredReasonForm(forms.Form):
    """A no-show, an unassign: operations need to know why."""

    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
