"""How bookings takes part in deleting an account (project.accounts.signals); connected in
BookingsConfig.ready."""

from django.db.models import Q
from django.utils import timezone

from bookings.models import Pet, Place, Ride, RideEvent


def open_rides_block_deletion(sender, *, user, **kwargs) -> str | None:
    """An account with rides still to happen (or happening) is not deleted: its owner cancels
    them first, so no driver drives to a customer we can no longer reach."""
    count = Ride.objects.filter(customer=user).open().count()
    if not count:
        return None
    if count == 1:
        return "You have an open ride. Cancel it (or wait until it ends) before deleting your account."
    return f"You have {count} open rides. Cancel them (or wait until they end) before deleting your account."


def erase_customer_data(sender, *, user_id, **kwargs) -> None:
    """Inside the deletion's transaction. Rides stay (the money records and drivers' pay
    reference them) with their addresses and pets, but without the customer's words: their
    notes, the saved places' notes copied on them, their reasons on the timeline. Saved places
    go. Pets without rides go; pets with rides keep their name and kind on those rides, are
    archived, and lose their special-needs notes."""
    Place.objects.filter(owner_id=user_id).delete()
    pets = Pet.objects.filter(owner_id=user_id)
    pets.filter(ride_parties__isnull=True).delete()
    pets.update(special_needs="")
    pets.filter(archived_at__isnull=True).update(archived_at=timezone.now())
    Ride.objects.filter(customer_id=user_id).filter(
        ~Q(notes="") | ~Q(pickup_notes="") | ~Q(dropoff_notes="")
    ).update(notes="", pickup_notes="", dropoff_notes="")
    RideEvent.objects.filter(actor_id=user_id).exclude(note="").update(note="")
