from allauth.account.adapter import DefaultAccountAdapter

from core.http import client_ip
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
        return portal_home_url(request.user)

    def get_client_ip(self, request):
        """allauth's per-IP rate limits read the address the way all our code does."""
        return client_ip(request)
