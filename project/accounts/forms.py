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


class ApiProfileForm(ProfileForm):
    """The profile as the API edits it: the portal's fields plus a validated email change."""

    class Meta(ProfileForm.Meta):
        fields = ["name", "email", "phone", "time_zone"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another account uses this email address.")
        return email


class ApiRegisterForm(forms.Form):
    """Customer registration through the API: the same rules as the signup page."""

    name = forms.CharField(max_length=150)
    email = forms.EmailField()
    phone = PhoneNumberField(required=False)
    password = forms.CharField(min_length=1, strip=False)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email

    def clean(self):
        from django.contrib.auth import password_validation

        data = super().clean()
        if data.get("password") and data.get("email"):
            candidate = User(email=data["email"], name=data.get("name", ""))
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the text",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"[0-9 \-]*"}
        ),
    )


class ApiPhoneForm(forms.Form):
    """A phone number as the API's phone login takes it: the profile's rules (E.164)."""

    phone = PhoneNumberField()
