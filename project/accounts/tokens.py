"""JSON Web Tokens for the API: short-lived access tokens, rotating refresh tokens.

Access tokens are stateless (checked by signature, expiry and an active user);
refresh tokens are also recorded in `RefreshToken` so they can be rotated,
revoked at logout, and a replayed one can end its whole family. A family (one
login) ends `JWT_REFRESH_FAMILY_LIFETIME` after the login however often it is
rotated, and every family of a user ends when their password, email or active
flag changes (`User.save`).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

import jwt
from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from core.errors import DomainError
from project.accounts.models import RefreshToken, User

ALGORITHM = "HS256"


class TokenError(DomainError):
    def __init__(self, message: str = "Invalid or expired token."):
        super().__init__(message, code="unauthenticated")


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: datetime


def _encode(claims: dict) -> str:
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def _decode(token: str, expected_type: str) -> dict:
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "jti", "type"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("Token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise TokenError() from exc
    if claims["type"] != expected_type:
        raise TokenError(f"Expected a {expected_type} token.")
    return claims


def _issue(user: User, family: uuid.UUID, logged_in_at: datetime) -> tuple[TokenPair, RefreshToken]:
    now = timezone.now()
    access_expires = now + settings.JWT_ACCESS_LIFETIME
    access = _encode(
        {
            "type": "access",
            "sub": str(user.pk),
            "role": user.role,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": access_expires,
        }
    )
    # Rotation renews a refresh token, but never past the login's absolute end.
    expires_at = min(now + settings.JWT_REFRESH_LIFETIME, logged_in_at + settings.JWT_REFRESH_FAMILY_LIFETIME)
    record = RefreshToken.objects.create(jti=uuid.uuid4(), family=family, user=user, expires_at=expires_at)
    refresh = _encode(
        {"type": "refresh", "sub": str(user.pk), "jti": record.jti.hex, "iat": now, "exp": record.expires_at}
    )
    return TokenPair(access=access, refresh=refresh, access_expires_at=access_expires), record


def token_pair_for(*, user: User) -> TokenPair:
    """A new login: a new family of refresh tokens."""
    pair, _record = _issue(user, family=uuid.uuid4(), logged_in_at=timezone.now())
    return pair


def token_refresh(*, refresh: str) -> TokenPair:
    """Swap a refresh token for a new pair; the old one is spent."""
    claims = _decode(refresh, "refresh")
    with transaction.atomic():
        record = (
            RefreshToken.objects.select_for_update()
            .select_related("user")
            .filter(jti=uuid.UUID(claims["jti"]))
            .first()
        )
        if record is None or str(record.user_id) != claims["sub"]:
            raise TokenError()
        replayed = record.revoked_at is not None and record.replaced_by_id is not None
        # The login's first token says when it began (rows of a family are never deleted).
        logged_in_at = RefreshToken.objects.filter(family=record.family).aggregate(at=Min("created_at"))["at"]
        login_over = timezone.now() >= logged_in_at + settings.JWT_REFRESH_FAMILY_LIFETIME
        if record.revoked_at is None and record.user.is_active and not login_over:
            pair, successor = _issue(record.user, family=record.family, logged_in_at=logged_in_at)
            record.revoked_at = timezone.now()
            record.replaced_by = successor
            record.save(update_fields=["revoked_at", "replaced_by"])
            return pair
    if replayed:
        # A spent token came back: someone kept a copy. End the whole login (committed
        # outside the block above, which a raised error would roll back).
        RefreshToken.objects.filter(family=record.family).revoke()
    if login_over:
        raise TokenError("This login has expired; log in again.")
    raise TokenError("Token has been revoked." if record.revoked_at else "Invalid or expired token.")


def token_revoke(*, refresh: str, user: User) -> None:
    """Logout: this refresh token (and so its family's future) stops working."""
    claims = _decode(refresh, "refresh")
    if claims["sub"] != str(user.pk):
        raise TokenError()
    RefreshToken.objects.filter(
        family__in=RefreshToken.objects.filter(jti=uuid.UUID(claims["jti"])).values("family")
    ).revoke()


def user_for_access_token(token: str) -> User:
    claims = _decode(token, "access")
    user = User.objects.filter(pk=claims["sub"], is_active=True).first()
    if user is None:
        raise TokenError()
    return user
