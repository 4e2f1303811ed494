"""Reads for accounts' pages and API."""

from project.accounts.models import PhoneCode, User


def phone_code_latest(user: User) -> PhoneCode | None:
    """The last verification code asked for the user's current number (None once verified)."""
    if not user.phone or user.phone_is_verified:
        return None
    return (
        PhoneCode.objects.filter(user=user, phone=user.phone, purpose=PhoneCode.Purpose.VERIFY)
        .order_by("-created_at", "-pk")
        .first()
    )
