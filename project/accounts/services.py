from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.errors import DomainError
from project.accounts import login_backoff
from project.accounts.models import User

# One answer for every refused login, so it tells nothing about which part was wrong.
LOGIN_REFUSED = "The email or password is wrong, or the email address is not confirmed yet."


def customer_register(*, request, name: str, email: str, password: str, phone: str = "") -> None:
    """Sign a customer up (the only role anyone can give themselves), answering a new and a taken
    address alike: a new one gets an unconfirmed account and allauth's confirmation link, a taken
    one allauth's "you already have an account" mail with a password-reset link. Both do the
    same work (a password hash) and send one mail, so neither the answer nor its timing says
    which it was. Mails to one address are rate limited like allauth's own (`confirm_email`)."""
    address = None
    try:
        with transaction.atomic():
            if not User.objects.filter(email__iexact=email).exists():
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    name=name.strip(),
                    phone=phone or "",
                    role=User.Role.CUSTOMER,
                )
                address = EmailAddress.objects.create(
                    user=user, email=user.email, primary=True, verified=False
                )
    except IntegrityError:  # the same address registered a moment ago: it is taken now
        address = None
    if address is None:
        make_password(password)
    if not ratelimit.consume(request, action="confirm_email", key=email):
        return  # a mail went to this address moments ago; its link still works
    if address is None:
        get_adapter(request).send_account_already_exists_mail(email)
    else:
        address.send_confirmation(request, signup=True)


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


def user_check_password(*, user: User, password: str) -> None:
    """The current password, before a change that could hand the account to someone else.
    Wrong guesses count against the same back-off as logins."""
    login_backoff.begin_attempt(email=user.email)
    if not user.check_password(password):
        message = "That is not your current password."
        raise DomainError(message, code="invalid", errors={"password": [message]})
    login_backoff.clear(email=user.email)


def email_change_check(*, user: User, email: str) -> None:
    """Whether `user` may ask to move to `email`. An account whose own address was never
    confirmed can't: allauth would take that address for the pending one and drop it."""
    if email == user.email:
        message = "That is already your email address."
        raise DomainError(message, code="invalid", errors={"email": [message]})
    if not EmailAddress.objects.filter(user=user, email=user.email, verified=True).exists():
        message = "First confirm your current address: sign in again and we'll mail you a link."
        raise DomainError(message, code="invalid", errors={"email": [message]})


def email_change_start(*, request, user: User, email: str) -> EmailAddress:
    """Begin moving `user` to a new sign-in address (the caller has checked their password).

    allauth's ACCOUNT_CHANGE_EMAIL flow records the new address as pending and mails it a
    signed confirmation link; the account's address changes only when that link is confirmed
    (which also ends every API login: User.save). The current address is told now, so its
    owner can step in before the change is confirmed. An address another account uses is
    treated alike (allauth's enumeration prevention): its confirmation can never succeed.
    """
    email_change_check(user=user, email=email)
    pending = EmailAddress.objects.add_new_email(request, user, email)
    get_adapter(request).send_mail(
        "accounts/email/email_change_requested",
        user.email,
        {"user": user, "new_email": email, "email_url": request.build_absolute_uri(reverse("account_email"))},
    )
    return pending


def user_deactivate(*, user: User) -> None:
    """The account can no longer sign in, and its API logins end (User.save)."""
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
