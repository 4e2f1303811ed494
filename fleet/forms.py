"""Forms parse input; the rules live in fleet.services and bookings.services."""

from django import forms
from django.conf import settings
from phonenumber_field.formfields import PhoneNumberField

from bookings.models import Pet
from bookings.photos import ACCEPT_ATTRIBUTE
from fleet.hours import clock, interval_errors, parse_clock
from fleet.models import CrateSize, DriverProfile, Weekday, normalise_plate
from fleet.services import VEHICLE_FIELDS, uniqueness_errors
from project.accounts.models import User


class DriverForm(forms.ModelForm):
    """A driver's account and vehicle, as operations edits them. Email is set once, at creation."""

    name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.EmailField(
        help_text="They sign in with this; the set-password link is sent here.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = PhoneNumberField(
        required=False,
        label="Mobile phone",
        help_text="E.g. +1 212 555 0100.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    pet_types = forms.MultipleChoiceField(
        choices=Pet.Type.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Pet types taken",
        initial=[Pet.Type.DOG, Pet.Type.CAT],
        error_messages={"required": "Choose at least one kind of pet."},
    )
    max_crate_size = forms.TypedChoiceField(
        choices=CrateSize.choices, coerce=int, initial=CrateSize.LARGE, label="Largest crate"
    )

    class Meta:
        model = DriverProfile
        fields = [
            "vehicle_make",
            "vehicle_model",
            "plate",
            "pet_capacity",
            "max_crate_size",
            "pet_types",
            "on_duty",
        ]
        labels = {"on_duty": "On duty now"}
        widgets = {"pet_capacity": forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 12})}

    field_order = ["name", "email", "phone", *VEHICLE_FIELDS, "on_duty"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            user = self.instance.user
            del self.fields["email"]  # the driver changes it themselves (allauth keeps it verified)
            self.initial.update(name=user.name, phone=user.phone)

    def clean_plate(self):
        plate = normalise_plate(self.cleaned_data["plate"])
        if not plate.replace("-", "").isalnum():
            raise forms.ValidationError("Use letters, digits and dashes only.")
        return plate

    def validate_unique(self):
        """A taken email or plate is reported with the other fields' errors, in one round; the
        service checks again under its transaction when it saves."""
        taken = uniqueness_errors(
            email=self.cleaned_data.get("email") if "email" in self.fields else None,
            plate=self.cleaned_data.get("plate"),
            exclude_pk=self.instance.pk,
        )
        for field, messages in taken.items():
            if field not in self.errors:
                self.add_error(field, messages)

    @property
    def vehicle(self) -> dict:
        return {field: self.cleaned_data[field] for field in VEHICLE_FIELDS}


class PhotoStepForm(forms.Form):
    photo = forms.FileField(
        label="Photo",
        widget=forms.FileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
        error_messages={"required": "Add a photo of the handover."},
    )
    note = forms.CharField(
        max_length=1000, required=False, label="Note (optional)", widget=forms.Textarea(attrs={"rows": 2})
    )

    @property
    def limits(self) -> dict:
        """What the browser checks before uploading (static/js/drive.js); the server checks again."""
        return {"max_bytes": settings.RIDE_PHOTO_MAX_BYTES, "max_edge": settings.RIDE_PHOTO_MAX_EDGE}


class DeclineForm(forms.Form):
    """A driver handing a ride back: dispatch reads why (the owner is never told)."""

    reason = forms.CharField(
        max_length=500,
        label="Why can't you take it?",
        help_text="Operations read this; the owner isn't told.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(forms.Form):
    driver = forms.ModelChoiceField(
        queryset=User.objects.drivers(),
        error_messages={"invalid_choice": "Choose one of the drivers listed."},
    )
    note = forms.CharField(max_length=500, required=False)


class ReassignForm(forms.Form):
    driver = forms.ModelChoiceField(
        queryset=User.objects.drivers(),
        label="New driver",
        empty_label="Choose a driver",
        error_messages={"invalid_choice": "Choose one of the drivers listed."},
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if choices is not None:  # eligible drivers, best first, with what ranks them
            self.fields["driver"].choices = [("", "Choose a driver"), *choices]


class PositionForm(forms.Form):
    lat = forms.FloatField(min_value=-90, max_value=90)
    lng = forms.FloatField(min_value=-180, max_value=180)
    accuracy = forms.IntegerField(min_value=0, max_value=100_000, required=False)


class DutyForm(forms.Form):
    on_duty = forms.TypedChoiceField(choices=[("1", "On duty"), ("0", "Off duty")], coerce=lambda v: v == "1")


class WeeklyHoursForm(forms.Form):
    """A driver's week, one line per day: "07:00-12:00, 13:00-19:00" (24:00 is midnight);
    an empty day is a day off. Each day's intervals must end after they start and not overlap."""

    def __init__(self, *args, hours=None, **kwargs):
        super().__init__(*args, **kwargs)
        for day in Weekday:
            name = day.label.lower()
            self.fields[name] = forms.CharField(
                required=False,
                max_length=200,
                label=day.label,
                widget=forms.TextInput(attrs={"placeholder": "Day off", "autocomplete": "off"}),
            )
            if hours is not None:
                self.initial[name] = format_intervals(hours.get(day.value, []))
        self.fields["monday"].help_text = "E.g. 07:00-12:00, 13:00-19:00. Leave a day empty for a day off."

    def _clean_day(self, name):
        text = self.cleaned_data.get(name, "")
        try:
            intervals = parse_intervals(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if errors := interval_errors(intervals):
            raise forms.ValidationError(errors)
        return intervals

    def clean(self):
        data = super().clean()
        for day in Weekday:
            name = day.label.lower()
            if name in data:
                try:
                    data[name] = self._clean_day(name)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data

    @property
    def hours(self) -> dict[int, list[tuple[int, int]]]:
        return {day.value: self.cleaned_data[day.label.lower()] for day in Weekday}


def parse_intervals(text: str) -> list[tuple[int, int]]:
    """ "07:00-12:00, 13:00-19:00" -> [(420, 720), (780, 1140)]; ValueError with a readable message."""
    intervals = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip().replace("–", "-")
        if not part:
            continue
        starts, dash, ends = part.partition("-")
        try:
            if not dash:
                raise ValueError
            intervals.append((parse_clock(starts), parse_clock(ends)))
        except ValueError:
            raise ValueError(f"“{part}” is not an interval like 07:00-19:00.") from None
    return intervals


def format_intervals(intervals) -> str:
    return ", ".join(f"{clock(s)}-{clock(e)}" for s, e in sorted(intervals))


class TimeOffForm(forms.Form):
    starts_on = forms.DateField(label="First day off", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Last day off", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(required=False, max_length=200, label="Reason (optional)")

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The last day off must be on or after the first.")
        return data
