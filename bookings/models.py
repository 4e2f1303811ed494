from datetime import datetime

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property


class PetQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)


class Pet(models.Model):
    class Type(models.TextChoices):
        DOG = "dog", "Dog"
        CAT = "cat", "Cat"
        BIRD = "bird", "Bird"
        RABBIT = "rabbit", "Rabbit"
        OTHER = "other", "Other"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pets")
    name = models.CharField(max_length=80)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.DOG)
    breed = models.CharField(max_length=80, blank=True)
    age_years = models.PositiveSmallIntegerField(
        "age (years)", null=True, blank=True, validators=[MaxValueValidator(60)]
    )
    weight_lb = models.DecimalField(
        "weight (lb)",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0.1), MaxValueValidator(300)],
    )
    special_needs = models.TextField(
        blank=True, help_text="Medication, anxiety, mobility... anything the driver should know."
    )
    crate_required = models.BooleanField("travels in a crate", default=False)
    # A pet with past rides is archived rather than deleted, so ride history keeps its pet.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PetQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "archived_at"])]

    def __str__(self) -> str:
        return self.name


class Place(models.Model):
    """A place a customer often books to or from ("Home", "Dr. Patel's clinic"), with what the
    driver should know there. A ride copies the place's address and notes when booked, so
    changing or deleting the place later never changes a ride."""

    class Kind(models.TextChoices):
        HOME = "home", "Home"
        VET = "vet", "Vet"
        DAYCARE = "daycare", "Daycare"
        GROOMER = "groomer", "Groomer"
        AIRPORT = "airport", "Airport"
        OTHER = "other", "Other"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="places")
    label = models.CharField(
        max_length=80, help_text='A name you will recognise, e.g. "Home" or "Dr. Patel\'s clinic".'
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.HOME)
    address = models.CharField(max_length=255, help_text="Street, city and ZIP code.")
    lat = models.DecimalField(max_digits=9, decimal_places=6, editable=False)
    lng = models.DecimalField(max_digits=9, decimal_places=6, editable=False)
    notes = models.TextField(
        "notes for the driver",
        max_length=500,
        validators=[MaxLengthValidator(500)],  # a TextField's max_length binds only its form field
        blank=True,
        help_text="Gate code, where to park, which door... Added to every ride from or to this place.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label", "id"]
        indexes = [models.Index(fields=["owner", "label"], name="place_owner_label_idx")]
        constraints = [
            models.UniqueConstraint(models.F("owner"), Lower("label"), name="place_label_unique_per_owner")
        ]

    def __str__(self) -> str:
        return self.label


class RideStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    CONFIRMED = "confirmed", "Confirmed"
    ASSIGNED = "assigned", "Driver assigned"
    EN_ROUTE = "en_route", "Driver on the way"
    PICKED_UP = "picked_up", "Picked up"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Groupings the portals filter by.
UPCOMING_STATUSES = [RideStatus.PENDING_PAYMENT, RideStatus.CONFIRMED, RideStatus.ASSIGNED]
IN_PROGRESS_STATUSES = [RideStatus.EN_ROUTE, RideStatus.PICKED_UP]
OPEN_STATUSES = UPCOMING_STATUSES + IN_PROGRESS_STATUSES
ENDED_STATUSES = [RideStatus.COMPLETED, RideStatus.CANCELLED, RideStatus.NO_SHOW]
# States in which a driver is holding the ride (and so its time window).
DRIVER_HELD_STATUSES = [RideStatus.ASSIGNED, RideStatus.EN_ROUTE, RideStatus.PICKED_UP]


class Trip(models.TextChoices):
    """What a booking is: one ride, or two linked legs (bookings.trips)."""

    ONE_WAY = "one_way", "One way"
    ROUND_TRIP = "round_trip", "Round trip"
    WAIT_RETURN = "wait_return", "Wait and return"


class RideQuerySet(models.QuerySet):
    def for_customer(self, user):
        return self.filter(customer=user)

    def for_driver(self, user):
        return self.filter(driver=user)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def ended(self):
        return self.filter(status__in=ENDED_STATUSES)

    def scheduled_between(self, start: datetime, end: datetime):
        """Pickups from `start` (included) to `end` (excluded)."""
        return self.filter(scheduled_at__gte=start, scheduled_at__lt=end)

    def with_party(self):
        """Each ride's pets in their order (`ride.party_pets`), in one more query."""
        return self.prefetch_related(party_prefetch())

    def with_list_relations(self):
        return self.select_related("customer", "driver", "return_leg").with_party()


class Ride(models.Model):
    Status = RideStatus

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rides")
    # The party: one or more of the customer's pets, travelling together (RidePet).
    pets = models.ManyToManyField(Pet, through="RidePet", related_name="rides")
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="driven_rides",
        limit_choices_to={"role": "driver"},
    )
    status = models.CharField(max_length=20, choices=RideStatus.choices, default=RideStatus.PENDING_PAYMENT)

    # A round trip is two rides: the outbound and its return leg (`outbound` set on the return).
    # Both carry the booking's kind. See bookings.trips.
    trip = models.CharField(max_length=16, choices=Trip.choices, default=Trip.ONE_WAY)
    outbound = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="return_leg",
        help_text="On a return leg: the ride out.",
    )  # fmt: skip
    # Wait-and-return, on the outbound: how long the driver waits at the destination. The
    # outbound's window (ends_at) runs through the wait, so no other ride is given its driver.
    wait_minutes = models.PositiveSmallIntegerField(default=0)
    # An open return ("when I call"), until called: the latest the customer may call it. Its
    # pickup time is a placeholder (the earliest it could be) and dispatch leaves it alone.
    on_call_until = models.DateTimeField(null=True, blank=True)

    pickup_address = models.CharField(max_length=255)
    pickup_lat = models.DecimalField(max_digits=9, decimal_places=6)
    pickup_lng = models.DecimalField(max_digits=9, decimal_places=6)
    dropoff_address = models.CharField(max_length=255)
    dropoff_lat = models.DecimalField(max_digits=9, decimal_places=6)
    dropoff_lng = models.DecimalField(max_digits=9, decimal_places=6)
    distance_miles = models.DecimalField(max_digits=7, decimal_places=1)

    scheduled_at = models.DateTimeField(help_text="Pickup time (stored in UTC).")
    # End of the window the ride occupies its driver: drive time + buffer.
    ends_at = models.DateTimeField()

    price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    quote = models.JSONField(default=dict, help_text="The quote's parts, as shown to the customer.")
    notes = models.TextField(blank=True)
    # The driver's notes of the saved places the ride was booked from (bookings.models.Place),
    # copied when booked: gate codes, where to park.
    pickup_notes = models.TextField(blank=True)
    dropoff_notes = models.TextField(blank=True)

    accepted_at = models.DateTimeField(null=True, blank=True, help_text="When the driver accepted.")
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When the ride was completed, cancelled or marked a no-show."
    )
    # Something operations must look at (dispatch could not place it, a payment failed...).
    attention = models.CharField(max_length=255, blank=True)
    # Billing's word (bookings.services.ride_set_payment_secured) on how much of the fare is
    # secured: held on the card, or a saved card the hold follows on. A driver is assigned only
    # once it covers the price.
    payment_secured_cents = models.PositiveIntegerField(default=0)
    # A ride moved once its late-cancellation window had opened keeps that window
    # (bookings.pricing.cancellation_terms): cancelling costs a fee from `late_fee_since`
    # on, and never less than `late_fee_min_cents`, whatever the new time or fare.
    late_fee_since = models.DateTimeField(null=True, blank=True)
    late_fee_min_cents = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RideQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_at"]),
            models.Index(fields=["customer", "scheduled_at"]),
            models.Index(fields=["driver", "scheduled_at"]),
            models.Index(fields=["scheduled_at"]),
            models.Index(fields=["driver", "ended_at"]),  # a driver's "done today"
            # Open returns not called yet (the lapse sweep, dispatch skipping them).
            models.Index(
                fields=["on_call_until"], condition=Q(on_call_until__isnull=False), name="ride_on_call_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("scheduled_at")), name="ride_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(driver__isnull=False)
                | ~Q(status__in=DRIVER_HELD_STATUSES + [RideStatus.COMPLETED]),
                name="ride_driver_when_driving",
            ),
        ]

    def __str__(self) -> str:
        return f"Ride #{self.pk} on {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def party_pets(self) -> list[Pet]:
        """The ride's pets in booking order (prefetched by `with_party()`)."""
        return [member.pet for member in self.party_members]

    @cached_property
    def party_members(self) -> list["RidePet"]:
        """The ride's RidePet rows (crated or not), in order; read once per instance."""
        members = self.party.all()
        if "party" in getattr(self, "_prefetched_objects_cache", {}):
            return list(members)
        return list(members.select_related("pet").order_by("position", "pk"))

    @property
    def pet_names(self) -> str:
        """ "Biscuit", "Biscuit and Rex", "Biscuit, Rex and Mo"."""
        return join_names([pet.name for pet in self.party_pets])

    @property
    def is_return_leg(self) -> bool:
        return self.outbound_id is not None

    @property
    def is_trip_leg(self) -> bool:
        """One of a round trip's two rides."""
        return self.trip != Trip.ONE_WAY

    @property
    def leg_label(self) -> str:
        """ "Outbound" / "Return" for a round trip's legs; "" for a one-way ride."""
        if not self.is_trip_leg:
            return ""
        return "Return" if self.is_return_leg else "Outbound"

    @property
    def awaiting_call(self) -> bool:
        """An open return the customer has not called yet."""
        return self.on_call_until is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_in_progress(self) -> bool:
        return self.status in IN_PROGRESS_STATUSES

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def payment_covers_fare(self) -> bool:
        return self.payment_secured_cents >= self.price_cents

    @property
    def price(self):
        from decimal import Decimal

        return Decimal(self.price_cents) / 100


class Audience(models.TextChoices):
    """Who reads a ride's timeline: each portal and API shows its reader's events only."""

    CUSTOMER = "customer", "Customer"
    DRIVER = "driver", "Driver"
    OPERATIONS = "operations", "Operations"


# How each kind of event reads on operations' timeline; other apps' events fall back to their
# action name. The customer's and the driver's wording is in bookings.lifecycle (Telling).
EVENT_TITLES = {
    "book": "Booked",
    "confirm": "Confirmed",
    "expire": "Expired unpaid",
    "assign": "Driver assigned",
    "reassign": "Driver changed",
    "unassign": "Back to dispatch",
    "accept": "Driver accepted",
    "decline": "Driver declined",
    "start": "Driver on the way",
    "pickup": "Picked up",
    "complete": "Delivered",
    "no_show": "No-show",
    "cancel": "Cancelled",
    "reschedule": "Rescheduled",
    "flag": "Needs attention",
    "clear_flag": "Resolved",
    "call_return": "Return called",
    "wait_cancelled": "Wait cancelled",
}


class RideEvent(models.Model):
    """One line of a ride's timeline and audit trail: every move and notable action.

    Operations read every event with its actor and `note`. The ride's customer and its driver
    read only the events meant for them (`for_customer`, `for_driver`) and, instead of the
    note, the line written for them (`customer_note`, `driver_note`). Both are decided where
    the event is written (bookings.lifecycle.audience_fields); the default is operations only.
    """

    ride = models.ForeignKey(Ride, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system acted.",
    )
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=20, choices=RideStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=RideStatus.choices, blank=True)
    note = models.TextField(blank=True)
    photo = models.FileField(upload_to="ride-photos/%Y/%m/", blank=True)
    data = models.JSONField(default=dict, blank=True)
    for_customer = models.BooleanField(default=False, help_text="On the ride customer's timeline.")
    customer_note = models.TextField(blank=True, help_text="What the customer reads instead of the note.")
    for_driver = models.BooleanField(default=False, help_text="On the ride driver's timeline.")
    driver_note = models.TextField(blank=True, help_text="What the driver reads instead of the note.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ride", "created_at"]),
            models.Index(fields=["ride", "for_customer", "created_at"], name="rideevent_customer_timeline"),
            models.Index(fields=["ride", "for_driver", "created_at"], name="rideevent_driver_timeline"),
        ]

    def __str__(self) -> str:
        return f"{self.action} on ride #{self.ride_id}"

    @property
    def title(self) -> str:
        return EVENT_TITLES.get(self.action) or self.action.replace("_", " ").capitalize()


class RidePet(models.Model):
    """One pet of a ride's party, with what the driver needs for this ride. `crated` is the
    pet's crate choice when booked: a later change to the pet does not change a booked ride."""

    ride = models.ForeignKey(Ride, on_delete=models.CASCADE, related_name="party")
    pet = models.ForeignKey(Pet, on_delete=models.PROTECT, related_name="ride_parties")
    crated = models.BooleanField("travels in a crate", default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["ride", "pet"], name="ride_pet_once")]

    def __str__(self) -> str:
        return f"{self.pet} on ride #{self.ride_id}"


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def party_prefetch(path: str = "party") -> models.Prefetch:
    """Prefetch the rides' parties with their pets at `path` (e.g. "ride__party" from a payment)."""
    return models.Prefetch(path, queryset=RidePet.objects.select_related("pet").order_by("position", "pk"))
