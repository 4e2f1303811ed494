from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.contrib import messages
from django.urls import reverse

from core.http import client_ip
from project.accounts import login_backoff
from project.accounts.context_processors import portal_home_url
from project.accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        data = form.cleaned_data
        user.name = data.get("name", "").strip()
        user.phone = data.get("phone") or ""
        # Whatever the POST says: self-service signup only ever makes customers.
        user.role = User.Role.CUSTOMER
        user.is_staff = user.is_superuser = False
        if commit:
            user.save()
        return user

    def get_login_redirect_url(self, request):
        return portal_home_url(request.user)

    def get_signup_redirect_url(self, request):
        return self._verify_phone_first(request) or portal_home_url(request.user)

    def get_email_verification_redirect_url(self, email_address):
        # Confirming the address signs a new customer in: the same next step as a signup.
        return self._verify_phone_first(self.request) or super().get_email_verification_redirect_url(
            email_address
        )

    def _verify_phone_first(self, request) -> str | None:
        """A number given at signup is texted nothing before it is verified: the code step."""
        user = request.user
        if user.is_authenticated and user.phone and not user.phone_is_verified:
            messages.info(request, "To get ride updates by text, verify your mobile number below.")
            return f"{reverse('accounts:profile')}#phone"
        return None

    def get_client_ip(self, request):
        """allauth's per-IP rate limits read the address the way all our code does."""
        return client_ip(request)

    def pre_authenticate(self, request, **credentials):
        super().pre_authenticate(request, **credentials)  # allauth's failed logins per IP
        try:
            login_backoff.begin_attempt(email=credentials.get("email", ""))
        except login_backoff.TooManyLoginAttempts as exc:
            raise forms.ValidationError(exc.message) from exc

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            login_backoff.clear(email=credentials.get("email", ""))
        return user

    def confirm_email(self, request, email_address):
        """An address another account signs in with can't be confirmed for this one (enumeration
        prevention lets anyone ask for it; User.email is unique)."""
        taken = User.objects.filter(email__iexact=email_address.email).exclude(pk=email_address.user_id)
        if taken.exists():
            self.add_message(
                request,
                messages.ERROR,
                "account/messages/email_confirmation_failed.txt",
                {"email": email_address.email},
            )
            return False
        return super().confirm_email(request, email_address)
