from django import forms
from django.conf import settings

from bookings.models import Pet, Place, Trip
from bookings.selectors import customer_pets, customer_places, customer_recent_addresses
from bookings.services import PET_FIELDS, PLACE_FIELDS, same_address
from bookings.trips import trip_plan
from core.errors import DomainError, add_errors_to_form
from core.money import format_money

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The care costs extra (pricing adds it to every ride of the pet): say so where it is typed.
        care = format_money(settings.TARIFF["special_needs"])
        field = self.fields["special_needs"]
        field.help_text = f"{field.help_text} Any text here adds {care} to each ride for the extra care."


class PlaceForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = PLACE_FIELDS
        widgets = {
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "notes": forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        }


class AddressSourceSelect(forms.Select):
    """The saved places and recent addresses offered above an address field. Each option
    carries its address (`data-address`), which static/js/places.js copies into the field."""

    def __init__(self, *args, addresses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = addresses or {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if address := self.addresses.get(str(value)):
            option["attrs"]["data-address"] = address
        return option


class AddressSourceField(forms.CharField):
    """ "place:<id>" (one of the customer's saved places) or "address:<text>" (a recent address);
    cleans to the Place, the address, or None."""

    def __init__(self, **kwargs):
        super().__init__(required=False, widget=AddressSourceSelect, **kwargs)
        self.places: dict[str, Place] = {}

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        kind, _, rest = value.partition(":")
        if kind == "place" and rest in self.places:
            return self.places[rest]
        if kind == "address" and rest.strip():
            return rest.strip()[:255]
        raise forms.ValidationError("Choose one of your saved places.", code="invalid_choice")


def wait_choice_label(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


class LiveErrorsForm(forms.Form):
    """A form whose live quote re-validates it: the quote fragment carries each filled-in
    field's errors as they are now (`live_errors`, applied by static/js/app.js), so an error
    fixed since the last full post does not stay beside its field. An empty field keeps what
    the page shows: it is still missing."""

    def summary(self, only=None) -> str:
        """What the alert above the form says: the real non-field errors, and which fields to fix
        (`only`: of these fields; the live quote names only those filled in)."""
        parts = [str(error) for error in self.non_field_errors()]
        names = [name for name in self.fields if name in self.errors and (only is None or name in only)]
        labels = [str(self[name].label) for name in names]
        if labels:
            parts.append(
                f"Please correct {'this field' if len(labels) == 1 else 'these fields'}: {', '.join(labels)}."
            )
        return " ".join(parts)

    def live_errors(self) -> dict:
        if not self.is_bound:
            return {}
        fields = {
            bound.html_name: [str(error) for error in bound.errors]
            for bound in self
            if bound.value() not in (None, "", [], ())
        }
        return {"fields": fields, "summary": self.summary(only=fields)}


class BookingForm(LiveErrorsForm):
    """A booking: who, from where to where, when, and the trip (one way, round trip, wait and
    return). Runs the shared booking rules (`bookings.trips.trip_plan`) and puts each problem
    beside its field, unless the field already has an error of its own ("required")."""

    plan = None  # the TripPlan, once the request is complete and valid

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
    pickup_from = AddressSourceField(label="Pick up from a saved place or a recent address")
    pickup_address = forms.CharField(
        max_length=255,
        required=False,  # ride_plan words a missing address; a chosen place may fill it
        label="Pickup address",
        help_text="Street, city and ZIP code, e.g. 350 5th Ave, New York, NY 10118",
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    dropoff_from = AddressSourceField(label="Drop off at a saved place or a recent address")
    dropoff_address = forms.CharField(
        max_length=255,
        required=False,
        label="Drop-off address",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scheduled_at = PickupTimeField()
    trip = forms.ChoiceField(
        choices=Trip.choices,
        initial=Trip.ONE_WAY,
        required=False,  # one way unless said otherwise
        label="Trip",
        widget=forms.RadioSelect,
    )
    return_mode = forms.ChoiceField(
        choices=[("at", "At a time I choose"), ("call", "When I call")],
        initial="at",
        required=False,
        label="Coming back",
        widget=forms.RadioSelect,
        help_text="“When I call”: we come as soon as we can once you call for it.",
    )
    return_at = PickupTimeField(required=False, label="Return date and time")
    wait_minutes = forms.TypedChoiceField(
        choices=[(m, wait_choice_label(m)) for m in settings.TRIP_WAIT_CHOICES],
        coerce=int,
        initial=30,
        required=False,
        label="How long the driver waits",
    )
    notes = forms.CharField(
        required=False,
        max_length=2000,
        label="Notes for the driver",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    # The notes of the saved places used, for ride_book (pickup_notes / dropoff_notes).
    stop_notes: dict[str, str]

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["pets"].queryset = customer_pets(customer)
        self.stop_notes = {"pickup_notes": "", "dropoff_notes": ""}
        self._offer_places_and_recent_addresses()
        tariff = settings.TARIFF
        self.fields["wait_minutes"].help_text = (
            f"The first {tariff['wait_free_minutes']} minutes are free, then "
            f"${tariff['wait_block'] / 100:.2f} for each started {tariff['wait_block_minutes']} minutes."
        )

    def _offer_places_and_recent_addresses(self):
        places = list(customer_places(self.customer))
        recent = [
            address
            for address in customer_recent_addresses(self.customer)
            if not any(same_address(address, place.address) for place in places)
        ]
        choices = [("", "— Type an address below —")]
        if places:
            choices.append(("Saved places", [(f"place:{p.pk}", f"{p.label} · {p.address}") for p in places]))
        if recent:
            choices.append(("Recent addresses", [(f"address:{a}", a) for a in recent]))
        addresses = {f"place:{p.pk}": p.address for p in places} | {f"address:{a}": a for a in recent}
        for side in ("pickup", "dropoff"):
            field = self.fields[f"{side}_from"]
            field.places = {str(p.pk): p for p in places}
            field.widget.choices = choices
            field.widget.addresses = addresses
            field.widget.attrs.update({"data-fills": f"id_{side}_address"})
            # "Book again" brings an address: show the saved place it is, if it is one.
            initial_address = self.initial.get(f"{side}_address")
            if initial_address and not self.initial.get(f"{side}_from"):
                match = next((p for p in places if same_address(p.address, initial_address)), None)
                if match is not None:
                    self.initial[f"{side}_from"] = f"place:{match.pk}"
        self.offers_addresses = len(choices) > 1  # the template shows the choice only then

    def _resolve_addresses(self, data):
        """A chosen saved place or recent address fills an empty address field; a place whose
        address is the one in the field brings its notes. A different typed address wins."""
        for side in ("pickup", "dropoff"):
            typed = (data.get(f"{side}_address") or "").strip()
            chosen = data.get(f"{side}_from")
            if isinstance(chosen, Place):
                if not typed or same_address(typed, chosen.address):
                    data[f"{side}_address"] = chosen.address
                    self.stop_notes[f"{side}_notes"] = chosen.notes
            elif chosen and not typed:
                data[f"{side}_address"] = chosen

    def clean(self):
        data = super().clean()
        self._resolve_addresses(data)
        if not any(name in self.errors for name in ("notes", "pickup_from", "dropoff_from")):
            try:
                self.plan = trip_plan(
                    customer=self.customer,
                    pets=list(data.get("pets") or []),
                    pickup_address=data.get("pickup_address", ""),
                    dropoff_address=data.get("dropoff_address", ""),
                    scheduled_at=data.get("scheduled_at"),
                    trip=data.get("trip") or Trip.ONE_WAY,
                    return_at=data.get("return_at"),
                    return_on_call=data.get("return_mode") == "call",
                    wait_minutes=data.get("wait_minutes"),
                )
            except DomainError as exc:
                if not exc.errors:  # a problem with the booking as a whole
                    add_errors_to_form(self, exc)
                # A field with an error of its own ("required") keeps just that one; the summary
                # names the fields, so the generic "correct the fields" message is not added.
                fresh = {field: errors for field, errors in exc.errors.items() if field not in self.errors}
                if fresh:
                    add_errors_to_form(self, DomainError(exc.message, errors=fresh))
        return data


class RescheduleForm(LiveErrorsForm):
    """A new time, and for a one-way ride optionally new addresses (left as they are, they
    stay). A round trip's legs share their addresses: the form leaves them out."""

    scheduled_at = PickupTimeField(
        label="New pickup date and time",
        error_messages={
            "required": "Choose the new pickup date and time.",
            "invalid": "Enter a date and time.",
        },
    )
    pickup_address = forms.CharField(
        max_length=255, required=False, label="Pickup address",
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )  # fmt: skip
    dropoff_address = forms.CharField(
        max_length=255,
        required=False,
        label="Drop-off address",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, ride, **kwargs):
        super().__init__(*args, **kwargs)
        if ride.is_trip_leg:
            del self.fields["pickup_address"], self.fields["dropoff_address"]
        else:
            self.initial.setdefault("pickup_address", ride.pickup_address)
            self.initial.setdefault("dropoff_address", ride.dropoff_address)

    def stops(self) -> dict:
        """The addresses to move to: a field left empty keeps the ride's."""
        return {
            name: self.cleaned_data.get(name) or None
            for name in ("pickup_address", "dropoff_address")
            if name in self.fields
        }


class OptionalReasonForm(forms.Form):
    """A cancel or a decline: saying why helps, but is not asked for."""

    reason = forms.CharField(
        required=False, max_length=500, label="Reason (optional)", widget=forms.Textarea(attrs={"rows": 2})
    )


class RequiredReasonForm(forms.Form):
    """A no-show, an unassign, a driver's decline: operations need to know why."""

    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class OpsCancelForm(RequiredReasonForm):
    """Operations cancelling a ride: it cannot be undone, so a reason (kept on the timeline for
    operations) and an explicit tick, checked here, not only in the browser."""

    confirm = forms.BooleanField(
        error_messages={"required": "Tick the box to confirm the cancellation."},
    )

    def __init__(self, *args, ride=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "reason"
        ].help_text = "Kept on the ride's timeline for operations; the customer isn't shown it."
        what = f"ride #{ride.pk}" if ride is not None else "this ride"
        self.fields["confirm"].label = f"Yes, cancel {what}: the customer and any driver are told"
