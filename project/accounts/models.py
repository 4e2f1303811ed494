import zoneinfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField


def default_time_zone() -> str:
    """New users start in the operations zone (DJANGO_TIME_ZONE) and may change it."""
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class UserQuerySet(models.QuerySet):
    def drivers(self):
        return self.filter(role="driver")


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email, password, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("role", User.Role.CUSTOMER)
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(role=User.Role.ADMIN, is_staff=True, is_superuser=True)
        return self._create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        DRIVER = "driver", "Driver"
        ADMIN = "admin", "Operations"

    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER, db_index=True)
    phone = PhoneNumberField(blank=True, help_text="Mobile number for ride updates by SMS.")
    # Set when the person typed back the code we texted to `phone`; we text nothing else
    # before. A verification belongs to its number: save() clears it when the number changes.
    phone_verified_at = models.DateTimeField("phone verified", null=True, blank=True)
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="Ride times are shown and entered in this time zone.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use Django's own admin site.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return self.name or self.email

    def _unverify_a_changed_phone(self, kwargs) -> None:
        """A new number is unverified until its owner types back the code we text it."""
        update_fields = kwargs.get("update_fields")
        if (
            self.phone_verified_at
            and not self._state.adding
            and (update_fields is None or "phone" in update_fields)
        ):
            stored = type(self)._default_manager.filter(pk=self.pk).values_list("phone", flat=True).first()
            if stored is not None and str(stored) != str(self.phone or ""):
                self.phone_verified_at = None
                if update_fields is not None:
                    kwargs["update_fields"] = {*update_fields, "phone_verified_at"}

    @property
    def phone_is_verified(self) -> bool:
        return bool(self.phone) and self.phone_verified_at is not None

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def is_customer(self) -> bool:
        return self.role == self.Role.CUSTOMER

    @property
    def is_driver(self) -> bool:
        return self.role == self.Role.DRIVER

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    # A new password, a new email address or a deactivation ends every API login (refresh
    # token) of the account, whichever path makes the change: allauth's views, Django's admin,
    # a service. Doing it here, where the row is written, means no path can forget it.

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._saved_credentials = user._credentials()
        return user

    def _credentials(self) -> tuple[str | None, bool | None]:
        # Read from __dict__: a deferred field is unknown (None), never a change.
        return self.__dict__.get("email"), self.__dict__.get("is_active")

    def _credential_changes(self, update_fields) -> set[str]:
        def saves(field: str) -> bool:
            return update_fields is None or field in update_fields

        if self._state.adding:
            return set()
        saved_email, saved_active = getattr(self, "_saved_credentials", (None, None))
        changes = set()
        if self._password is not None and saves("password"):  # set_password() since the last save
            changes.add("password")
        if saved_email is not None and saves("email") and self.email != saved_email:
            changes.add("email")
        if saved_active is True and saves("is_active") and not self.is_active:
            changes.add("is_active")
        return changes

    def save(self, *args, **kwargs):
        self._unverify_a_changed_phone(kwargs)
        changes = self._credential_changes(kwargs.get("update_fields"))
        with transaction.atomic():
            super().save(*args, **kwargs)
            if changes:
                RefreshToken.objects.filter(user=self).revoke()
            if "password" in changes:
                # Whoever asked for an email change may be who the new password shuts out.
                EmailAddress.objects.filter(user=self, primary=False, verified=False).delete()
        self._saved_credentials = self._credentials()


class RefreshTokenQuerySet(models.QuerySet):
    def revoke(self) -> int:
        """End these tokens (those not ended already); returns how many."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class RefreshToken(models.Model):
    """A JSON API refresh token we issued: rotation, revocation and reuse detection.

    Each login starts a family; every refresh revokes the token it used and issues
    its successor in the same family. Presenting a revoked token again means it
    leaked, so the whole family is revoked.
    """

    jti = models.UUIDField(unique=True)
    family = models.UUIDField(db_index=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces"
    )

    objects = RefreshTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"refresh token {self.jti} for user {self.user_id}"


class PhoneCode(models.Model):
    """A one-time code texted to a phone number: to verify the number on a profile, or to
    log in to the API with it.

    The code itself is made by the task that texts it and stored only as a keyed hash,
    so it never sits in the task queue or in readable form in the database. A code is
    spent when it is used, when a newer one replaces it, or after too many wrong tries.
    """

    class Purpose(models.TextChoices):
        VERIFY = "verify", "Verify the number"
        LOGIN = "login", "Log in"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_codes")
    phone = PhoneNumberField()
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64, blank=True, help_text="Empty until the code is texted.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Codes typed so far.")
    used_at = models.DateTimeField(
        null=True, blank=True, help_text="Used, or replaced by a newer code, or not sent."
    )

    class Meta:
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} code for {self.phone}"

    @property
    def is_open(self) -> bool:
        """Unused and not expired (maybe still on its way): the page asks for it."""
        return self.used_at is None and self.expires_at > timezone.now()
