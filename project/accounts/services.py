from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction

from core.errors import DomainError
from project.accounts import login_backoff
from project.accounts.models import User

# One answer for every refused login, so it tells nothing about which part was wrong.
LOGIN_REFUSED = "The email or password is wrong, or the email address is not confirmed yet."


def customer_register(*, name: str, email: str, password: str, phone: str = "") -> User:
    """A new customer account (the only role anyone can give themselves)."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=email, password=password, name=name.strip(), phone=phone or "", role=User.Role.CUSTOMER
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return user


def user_change_email(*, user: User, email: str) -> None:
    """Keep allauth's address book in step: the new address is primary and unverified."""
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).delete()
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)


def user_may_log_in(*, user: User) -> bool:
    return user.is_active and (
        settings.ACCOUNT_EMAIL_VERIFICATION != "mandatory"
        or EmailAddress.objects.filter(user=user, verified=True).exists()
    )


def user_authenticate(*, request, email: str, password: str) -> User:
    """The API's password login, under the per-account back-off shared with the HTML login.
    A right password on an unconfirmed account counts as a failure too: it gives no tokens,
    and counting it alike keeps the answers the same."""
    login_backoff.begin_attempt(email=email)
    user = authenticate(request, email=email, password=password)
    if user is None or not user_may_log_in(user=user):
        raise DomainError(LOGIN_REFUSED, code="unauthenticated")
    login_backoff.clear(email=email)
    return user


def user_deactivate(*, user: User) -> None:
    """The account can no longer sign in, and its API logins end (User.save)."""
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
