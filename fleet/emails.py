"""The driver's invitation: a link to set their password (allauth's password-reset key)."""

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse


def set_password_url(user) -> str:
    """A one-time link to allauth's "set a new password" page. It stops working once the
    password is set (the token covers the password hash) or after PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    return f"{settings.SITE_URL}{path}"


def send_invite_email(user) -> None:
    context = {
        "user": user,
        "profile": user.driver_profile,
        "set_password_url": set_password_url(user),
        "login_url": f"{settings.SITE_URL}{reverse('account_login')}",
        "reset_url": f"{settings.SITE_URL}{reverse('account_reset_password')}",
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = "Welcome to Whiskers & Wheels: set your driver password"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("fleet/email/driver_invite.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("fleet/email/driver_invite.html", context), "text/html")
    message.send()
