from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from bookings.models import Pet


class CrateSize(models.IntegerChoices):
    """Crate sizes by the weight of the pet inside; a vehicle takes crates up to one size."""

    SMALL = 1, "Small (up to 25 lb)"
    MEDIUM = 2, "Medium (up to 50 lb)"
    LARGE = 3, "Large (up to 90 lb)"
    XLARGE = 4, "Extra large (over 90 lb)"

    @classmethod
    def for_pet(cls, pet: Pet) -> "CrateSize":
        """The crate (or the room of one) a pet needs, from its weight: a big dog needs a big
        vehicle whether it travels crated or not."""
        weight = pet.weight_lb or 0
        if weight <= 25:
            return cls.SMALL
        if weight <= 50:
            return cls.MEDIUM
        if weight <= 90:
            return cls.LARGE
        return cls.XLARGE

    @property
    def short(self) -> str:
        return self.label.split(" (")[0].lower()


class DriverProfileQuerySet(models.QuerySet):
    def active(self):
        return self.filter(user__is_active=True)


class DriverProfile(models.Model):
    """A driver's vehicle and availability. Exists only for users with the driver role,
    created by operations (fleet.services.driver_create)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="driver_profile",
        limit_choices_to={"role": "driver"},
    )
    vehicle_make = models.CharField("make", max_length=40)
    vehicle_model = models.CharField("model", max_length=40)
    plate = models.CharField(
        "license plate",
        max_length=12,
        unique=True,
        help_text="Stored in capitals without spaces, e.g. WW1001.",
    )
    pet_capacity = models.PositiveSmallIntegerField(
        "pets at once",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="How many pets (crates) the vehicle carries at a time.",
    )
    max_crate_size = models.PositiveSmallIntegerField(
        "largest crate", choices=CrateSize.choices, default=CrateSize.LARGE
    )
    pet_types = models.JSONField(
        "pet types", default=list, help_text="Which kinds of pet the driver and vehicle take."
    )
    on_duty = models.BooleanField(default=False, db_index=True)

    # The last position the driver's phone reported during a ride, and for which ride:
    # the ride's customer sees it only while that ride is under way.
    last_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    position_at = models.DateTimeField(null=True, blank=True)
    position_ride = models.ForeignKey(
        "bookings.Ride", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # The set-your-password email: asked for (by operations) and sent (by the task).
    invite_requested_at = models.DateTimeField(null=True, blank=True)
    invite_sent_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DriverProfileQuerySet.as_manager()

    class Meta:
        ordering = ["user__name", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.vehicle}"

    def save(self, *args, **kwargs):
        self.plate = normalise_plate(self.plate)
        super().save(*args, **kwargs)

    @property
    def vehicle(self) -> str:
        return f"{self.vehicle_make} {self.vehicle_model} ({self.plate})"

    @property
    def crate_size(self) -> CrateSize:
        return CrateSize(self.max_crate_size)

    @property
    def has_position(self) -> bool:
        return self.last_lat is not None and self.last_lng is not None

    def takes_pet_type(self, pet_type: str) -> bool:
        return pet_type in (self.pet_types or [])

    def pet_type_labels(self) -> list[str]:
        labels = dict(Pet.Type.choices)
        return [labels[t] for t in Pet.Type.values if t in (self.pet_types or [])]


def normalise_plate(plate: str) -> str:
    return "".join((plate or "").upper().split())


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One interval of a driver's week, in the operations time zone (`core.dates`):
    e.g. Monday 07:00–19:00. A day may have several; a day without any is a day off.
    `ends` of 00:00 means midnight at the end of the day (`ends_minute` is then 1440)."""

    driver = models.ForeignKey(DriverProfile, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField(help_text="00:00 means midnight, the end of the day.")

    class Meta:
        ordering = ["driver", "weekday", "starts"]
        indexes = [models.Index(fields=["driver", "weekday"])]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"

    @property
    def starts_minute(self) -> int:
        return self.starts.hour * 60 + self.starts.minute

    @property
    def ends_minute(self) -> int:
        return self.ends.hour * 60 + self.ends.minute or 24 * 60


class TimeOff(models.Model):
    """Days a driver doesn't work (both days included), whatever their weekly hours say."""

    driver = models.ForeignKey(DriverProfile, on_delete=models.CASCADE, related_name="time_off")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["driver", "starts_on"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="time_off_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_on}–{self.ends_on}"
