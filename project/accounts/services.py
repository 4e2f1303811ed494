import logging
import re
import secrets
from urllib.parse import urlsplit

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from core import outbox
from core.errors import DomainError
from core.ratelimit import rate_limit
from project.accounts import login_backoff, sms
from project.accounts.models import PhoneCode, RefreshToken, User
from project.accounts.signals import account_deleted, account_deletion_check

logger = logging.getLogger(__name__)

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


# --- Deleting an account -----------------------------------------------------------------
#
# A customer may delete their own account. Its rides and money records stay (they reference
# the User row, and the books must add up), so the row is kept but anonymised, and every app
# erases the personal data it holds for it (accounts.signals.account_deleted).

DELETED_NAME = "Deleted customer"
NOT_DELETABLE = "Only customer accounts can be deleted here. Ask operations to close this account."


def deleted_email(user_id: int) -> str:
    """A unique address that can never receive mail (.invalid is reserved, RFC 2606)."""
    return f"deleted-{user_id}@invalid"


def account_deletion_blockers(*, user: User) -> list[str]:
    """Why `user` cannot delete their account now (empty: they can)."""
    if not user.is_customer:
        return [NOT_DELETABLE]
    return [reason for _receiver, reason in account_deletion_check.send(sender=User, user=user) if reason]


def account_delete(*, user: User, password: str) -> None:
    """Delete a customer's account: their personal data is erased, their rides and money
    records are kept (with "Deleted customer" as the name), and every session and API login
    of theirs ends. Refused (nothing changed) for other roles, with open rides, or with a
    wrong password (counted against the login back-off).

    One transaction: the User row is anonymised (name, email, phone, password, active flag),
    its allauth addresses and phone codes go, its refresh tokens are revoked, and
    `account_deleted` lets bookings and notifications erase theirs. Its web sessions end too:
    Django drops a session whose user is inactive or whose password hash changed."""
    if not user.is_customer:
        raise DomainError(NOT_DELETABLE, code="not_allowed")
    if blockers := account_deletion_blockers(user=user):
        raise DomainError(" ".join(blockers), code="conflict")
    user_check_password(user=user, password=password)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        # Checked again under the lock: a ride booked meanwhile keeps the account.
        if blockers := account_deletion_blockers(user=locked):
            raise DomainError(" ".join(blockers), code="conflict")
        old_email = locked.email
        locked.name = DELETED_NAME
        locked.email = deleted_email(locked.pk)
        locked.phone = ""
        locked.phone_verified_at = None
        locked.set_unusable_password()
        locked.is_active = False
        locked.save()  # revokes the refresh tokens too (User.save); done below again all the same
        RefreshToken.objects.filter(user=locked).revoke()
        EmailAddress.objects.filter(user=locked).delete()
        PhoneCode.objects.filter(user=locked).delete()
        account_deleted.send(sender=User, user_id=locked.pk)
    login_backoff.clear(email=old_email)
    logger.info("Account %s deleted by its owner: personal data erased, rides and payments kept.", user.pk)
    user.refresh_from_db()


# --- Phone numbers: one-time codes -------------------------------------------------------
#
# A code is texted to verify the number on a profile (we text a number nothing else before)
# or to log in to the API with a verified number. `phone_code_deliver` (a task) makes the
# code and texts it; `_spend_code` checks a typed one. Each code has a short lifetime and a
# few tries; how many are texted is limited per number, per account and per IP address.

CODE_DIGITS = 6
NON_DIGITS = re.compile(r"[\s-]")
LOGIN_FAILED = "The code is wrong or has expired."


def _code_hash(record: PhoneCode, digits: str) -> str:
    # Keyed with SECRET_KEY and the row: a copy of the table does not give the million codes away.
    return salted_hmac(
        "accounts.phone_code", f"{record.pk}:{record.phone}:{digits}", algorithm="sha256"
    ).hexdigest()


def _count_send(*, phone: str, ip: str, user: User | None) -> None:
    # The address first: a request it refuses does not use up the number's budget.
    rate_limit(
        scope="phone-code-ip",
        key=ip,
        rates=settings.PHONE_CODE_RATE_PER_IP,
        message="Too many codes were asked for from your network.",
    )
    too_many = "Too many codes were sent to this number."
    rate_limit(
        scope="phone-code-number", key=phone, rates=settings.PHONE_CODE_RATE_PER_NUMBER, message=too_many
    )
    if user is not None:  # the same budget, so changing the number does not give a fresh one
        rate_limit(
            scope="phone-code-user",
            key=str(user.pk),
            rates=settings.PHONE_CODE_RATE_PER_NUMBER,
            message=too_many,
        )


def _must_be_textable(phone) -> None:
    if not sms.country_allowed(phone):
        message = f"We can only text numbers in {sms.allowed_countries_text()}."
        raise DomainError(message, errors={"phone": [message]})


def _issue_code(*, user: User, phone: str, purpose: str) -> PhoneCode:
    """A new code replaces every unused one of the same purpose; a task texts it after commit."""
    now = timezone.now()
    with transaction.atomic():
        PhoneCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
        record = PhoneCode.objects.create(
            user=user,
            phone=phone,
            purpose=purpose,
            created_at=now,
            expires_at=now + settings.PHONE_CODE_LIFETIME,
        )
        outbox.defer("project.accounts.tasks.deliver_phone_code", record.pk, queue="messages")
    return record


def phone_code_deliver(*, code_id: int) -> str:
    """Make the code and text it (the Django-Q task). Safe twice: the run that stores the
    hash is the only one that texts, so a code is never sent twice or replaced unseen."""
    now = timezone.now()
    record = PhoneCode.objects.filter(pk=code_id).first()
    if record is None or record.code_hash or record.used_at or record.expires_at <= now:
        return "skipped"
    digits = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    claimed = PhoneCode.objects.filter(pk=record.pk, code_hash="", used_at__isnull=True).update(
        code_hash=_code_hash(record, digits), sent_at=now
    )
    if not claimed:
        return "skipped"
    body = render_to_string(
        "accounts/phone_code_sms.txt",
        {
            "code": digits,
            "minutes": int(settings.PHONE_CODE_LIFETIME.total_seconds() // 60),
            "domain": urlsplit(settings.SITE_URL).hostname,
        },
    ).strip()
    try:
        sms.send(to=str(record.phone), body=body)
    except sms.SmsNotSent as exc:
        PhoneCode.objects.filter(pk=record.pk).update(send_error=str(exc)[:300], used_at=timezone.now())
        logger.warning("Phone code %s not sent: %s", record.pk, exc)
        return "failed"
    return "sent"


def _spend_code(record: PhoneCode | None, typed: str, *, failed: str | None = None) -> None:
    """Check a typed code against `record` and spend it; DomainError when it does not match.

    Each try is counted in its own UPDATE before the comparison (so parallel guesses cannot
    pass the limit) and stays counted even though the caller sees an error. `failed`, when
    given, replaces every message: a login must not tell "no such code" from "wrong code"."""
    digits = NON_DIGITS.sub("", typed or "")

    def refuse(message: str):
        if failed:
            raise DomainError(failed, code="unauthenticated")
        raise DomainError(message, errors={"code": [message]})

    if not (digits.isdigit() and len(digits) == CODE_DIGITS):
        refuse(f"Enter the {CODE_DIGITS}-digit code from the text.")
    now = timezone.now()
    if record is None:
        refuse("Send yourself a code first.")
    if not record.code_hash:
        refuse("The text with your code is still on its way. Try again in a moment.")
    if record.expires_at <= now:
        refuse("This code has expired. Send yourself a new one.")
    counted = PhoneCode.objects.filter(
        pk=record.pk, used_at__isnull=True, attempts__lt=settings.PHONE_CODE_MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not counted:
        refuse("Too many wrong codes. Send yourself a new one.")
    if not constant_time_compare(record.code_hash, _code_hash(record, digits)):
        left = settings.PHONE_CODE_MAX_ATTEMPTS - record.attempts - 1
        refuse(
            f"That code is not right. {left} {'try' if left == 1 else 'tries'} left."
            if left > 0
            else "That code is not right, and that was the last try. Send yourself a new one."
        )
    if not PhoneCode.objects.filter(pk=record.pk, used_at__isnull=True).update(used_at=now):
        refuse("This code has already been used.")


def _latest_code(**filters) -> PhoneCode | None:
    return (
        PhoneCode.objects.filter(used_at__isnull=True, **filters)
        .select_related("user")
        .order_by("-created_at", "-pk")
        .first()
    )


def phone_verification_send(*, user: User, ip: str) -> PhoneCode:
    """Text a code to the number on the user's profile, to prove it is theirs."""
    if not user.phone:
        raise DomainError(
            "Add your mobile number first.", errors={"phone": ["Add your mobile number first."]}
        )
    if user.phone_is_verified:
        raise DomainError("Your number is already verified.", code="conflict")
    _must_be_textable(user.phone)
    _count_send(phone=str(user.phone), ip=ip, user=user)
    return _issue_code(user=user, phone=str(user.phone), purpose=PhoneCode.Purpose.VERIFY)


def phone_verification_confirm(*, user: User, code: str) -> User:
    """The user typed the code: their number is verified (if it is still the one we texted)."""
    record = _latest_code(user=user, purpose=PhoneCode.Purpose.VERIFY)
    if record is not None and str(record.phone) != str(user.phone or ""):
        record = None  # the number changed since: that code proves nothing about this one
    _spend_code(record, code)
    now = timezone.now()
    # Conditional: a number changed between the check and now stays unverified.
    if not User.objects.filter(pk=user.pk, phone=record.phone).update(phone_verified_at=now, updated_at=now):
        raise DomainError(
            "Your number changed meanwhile. Send yourself a new code.",
            errors={"code": ["Your number changed meanwhile."]},
        )
    user.phone_verified_at = now
    return user


def _login_account(phone: str) -> User | None:
    """The one account that may log in with this number: active, a customer or a driver
    (operations accounts log in with their password only), number verified. A number
    verified on two accounts logs in to neither: those people use their email."""
    accounts = User.objects.filter(
        phone=phone,
        phone_verified_at__isnull=False,
        is_active=True,
        role__in=[User.Role.CUSTOMER, User.Role.DRIVER],
    )
    if settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory":
        accounts = accounts.filter(emailaddress__verified=True, emailaddress__primary=True)
    found = list(accounts[:2])
    return found[0] if len(found) == 1 else None


def phone_login_send(*, phone: str, ip: str) -> None:
    """Text a login code if an account may log in with `phone`. The caller learns nothing
    either way (the API answers 202): the limits count every request, account or not."""
    _must_be_textable(phone)
    _count_send(phone=phone, ip=ip, user=None)
    if (user := _login_account(phone)) is not None:
        _issue_code(user=user, phone=phone, purpose=PhoneCode.Purpose.LOGIN)


def phone_login_confirm(*, phone: str, code: str) -> User:
    """The account a login code was texted for, once the code matches; else 401-style DomainError."""
    record = _latest_code(phone=phone, purpose=PhoneCode.Purpose.LOGIN)
    _spend_code(record, code, failed=LOGIN_FAILED)
    if _login_account(phone) != record.user:  # deactivated, or the number moved, since the text
        raise DomainError(LOGIN_FAILED, code="unauthenticated")
    return record.user
