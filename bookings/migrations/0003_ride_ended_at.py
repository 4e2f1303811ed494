from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

ENDED = ["completed", "cancelled", "no_show"]


def backfill_ended_at(apps, schema_editor):
    """An ended ride ended when the event that moved it into its ended state was written;
    a ride without that event (made by hand) falls back to its last update."""
    Ride = apps.get_model("bookings", "Ride")
    RideEvent = apps.get_model("bookings", "RideEvent")
    ending = RideEvent.objects.filter(ride=OuterRef("pk"), to_status__in=ENDED).order_by("-created_at", "-id")
    Ride.objects.filter(status__in=ENDED, ended_at__isnull=True).update(
        ended_at=Coalesce(Subquery(ending.values("created_at")[:1]), "updated_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0002_fleet_driver_no_overlap"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ride",
            name="ended_at",
            field=models.DateTimeField(
                blank=True, help_text="When the ride was completed, cancelled or marked a no-show.", null=True
            ),
        ),
        migrations.AddIndex(
            model_name="ride",
            index=models.Index(fields=["driver", "ended_at"], name="bookings_ri_driver__126d83_idx"),
        ),
        migrations.RunPython(backfill_ended_at, migrations.RunPython.noop),
    ]
