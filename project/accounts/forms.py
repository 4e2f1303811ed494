import zoneinfo

from allauth.account.forms import AddEmailForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth import password_validation
from phonenumber_field.formfields import PhoneNumberField

from core.errors import DomainError
from project.accounts import services
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


class ApiRegisterForm(forms.Form):
    """Customer registration through the API: the same rules as the signup page. Whether the
    address is taken is not a field error: the answer must not say (see customer_register)."""

    name = forms.CharField(max_length=150)
    email = forms.EmailField()
    phone = PhoneNumberField(required=False)
    password = forms.CharField(min_length=1, strip=False)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
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


class ApiEmailChangeForm(forms.Form):
    email = forms.EmailField()
    password = forms.CharField(strip=False)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class ChangeEmailForm(AddEmailForm):
    """allauth's change-email form (ACCOUNT_CHANGE_EMAIL) plus the current password, checked
    against the same per-account back-off as the login. A signed-in session alone can't move
    the account to another address."""

    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "New email address"

    def clean_email(self):
        email = super().clean_email()
        try:
            services.email_change_check(user=self.user, email=email)
        except DomainError as exc:
            raise forms.ValidationError(exc.errors["email"]) from exc
        return email

    def clean_password(self):
        password = self.cleaned_data["password"]
        try:
            services.user_check_password(user=self.user, password=password)
        except DomainError as exc:
            raise forms.ValidationError(exc.errors.get("password", [exc.message])) from exc
        return password

    def save(self, request):
        return services.email_change_start(request=request, user=self.user, email=self.cleaned_data["email"])


class AccountDeleteForm(forms.Form):
    """Deleting one's account: the current password (checked by the service, against the
    login back-off) and a tick that says they mean it."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand: my account is deleted for good and cannot be restored.",
        error_messages={"required": "Tick the box to confirm you want your account deleted."},
    )
