from django.conf import settings
from django.core.checks import Error

MIN_JWT_KEY_BYTES = 32  # HS256 wants a key at least as long as its hash


def jwt_key_is_long_enough(app_configs, **kwargs):
    """Deploy check: a short HS256 key can be brute-forced offline from one token."""
    if len(settings.JWT_SIGNING_KEY.encode()) < MIN_JWT_KEY_BYTES:
        return [
            Error(
                f"JWT_SIGNING_KEY is shorter than {MIN_JWT_KEY_BYTES} bytes.",
                hint="Set JWT_SIGNING_KEY (or DJANGO_SECRET_KEY) to 32 or more random bytes.",
                id="accounts.E001",
            )
        ]
    return []
