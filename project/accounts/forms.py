import zoneinfo

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from phonenumber_field.formfields import PhoneNumberField

from project.accounts.models import User

# The zones our customers live in first, then every other zone for the rest.
COMMON_TIME_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
]


def time_zone_choices():
    others = sorted(zoneinfo.available_timezones() - set(COMMON_TIME_ZONES))
    return [
        ("Common", [(z, z.replace("_", " ")) for z in COMMON_TIME_ZONES]),
        ("All time zones", [(z, z.replace("_", " ")) for z in others]),
    ]


class SignupForm(AllauthSignupForm):
    """Signup creates customers only; the role is set by the adapter, never the form."""

    name = forms.CharField(
        max_length=150, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = PhoneNumberField(
        required=False,
        label="Mobile phone (optional)",
        help_text="For ride updates by SMS, e.g. +1 212 555 0100.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    field_order = ["name", "email", "phone", "password1", "password2"]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices)

    class Meta:
        model = User
        fields = ["name", "phone", "time_zone"]
        widgets = {"phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})}
