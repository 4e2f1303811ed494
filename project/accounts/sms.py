"""Texting a person from accounts: where we may text at all, and the plug that sends.

Accounts texts one thing, the one-time codes of `services.phone_code_*`, but SMS
backends belong to notifications, which sits above accounts. So accounts declares the
sender it needs and notifications registers one in its `AppConfig.ready()`
(docs/architecture.md, "How a lower app reaches a higher one").
"""

from collections.abc import Callable

import phonenumbers
from django.conf import settings


class SmsNotSent(Exception):
    """The sender could not text the number; the message says why, for the person."""


_sender: Callable[..., str] | None = None


def register_sender(func: Callable[..., str]) -> None:
    """`func(*, to, body) -> provider id`, raising `SmsNotSent` when it could not send."""
    global _sender
    _sender = func


def send(*, to: str, body: str) -> str:
    if _sender is None:
        raise SmsNotSent("No SMS sender is registered (the notifications app registers one).")
    return _sender(to=to, body=body)


def country_of(phone) -> str:
    """ISO country code of an E.164 number ("US"), or "" when it belongs to none."""
    try:
        number = phone if isinstance(phone, phonenumbers.PhoneNumber) else phonenumbers.parse(str(phone))
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.region_code_for_number(number) or ""


def country_allowed(phone) -> bool:
    """We text only numbers in SMS_ALLOWED_COUNTRIES: everywhere else costs more and is
    where texting a stranger's number pays an abuser (toll fraud)."""
    return bool(phone) and country_of(phone) in settings.SMS_ALLOWED_COUNTRIES


def allowed_countries_text() -> str:
    names = {"US": "the US", "CA": "Canada"}
    countries = [names.get(code, code) for code in settings.SMS_ALLOWED_COUNTRIES]
    if len(countries) <= 1:
        return "".join(countries) or "no country"
    return ", ".join(countries[:-1]) + " and " + countries[-1]
