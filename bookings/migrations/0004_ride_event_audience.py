"""Every ride event gets its audiences: the customer's and the driver's timelines show only the
events meant for them, with a note written for them; operations keep reading everything.

Existing events are sorted by their action, as bookings.lifecycle words them when this
migration was written (a frozen copy below: later wording changes don't rewrite history).
Flags, clear_flag and any other action stay with operations alone. Nothing is removed: the
note operations read is left as it was."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import F, Value

CHANGED = "We're finding another driver for your ride."
NO_SHOW = "Our driver couldn't collect your pet, so the ride is closed as a no-show."

# action -> (customer, driver), each None (not told) or (line, shares_note, own_note):
# `line` is what the reader reads instead of the note, unless the note was written for them
# (shares_note) or by them (own_note: the event's actor is that reader).
TOLD = {
    "book": (("", False, False), None),
    "confirm": (("", True, False), None),
    "expire": (("", True, False), None),
    "assign": (("", False, False), ("", False, False)),
    "reassign": ((CHANGED, False, False), ("", False, False)),
    "unassign": ((CHANGED, False, False), None),
    "accept": (("", False, False), ("", False, False)),
    "decline": ((CHANGED, False, False), None),
    "start": (("", False, False), ("", False, False)),
    "pickup": (("", False, False), ("", False, True)),
    "complete": (("", False, False), ("", False, True)),
    "no_show": ((NO_SHOW, False, False), ("", False, True)),
    "cancel": (("Our team cancelled this ride.", False, True), ("", False, False)),
    "reschedule": (("", True, False), None),
    "notes": (("", False, False), ("", False, False)),
}


def backfill_audiences(apps, schema_editor):
    RideEvent = apps.get_model("bookings", "RideEvent")
    for action, (customer, driver) in TOLD.items():
        events = RideEvent.objects.filter(action=action)
        if customer:
            line, shares, own = customer
            events.update(for_customer=True, customer_note=F("note") if shares else Value(line))
            if own:
                events.filter(actor_id=F("ride__customer_id")).update(customer_note=F("note"))
        if driver:
            line, shares, own = driver
            events.update(for_driver=True, driver_note=F("note") if shares else Value(line))
            if own:
                events.filter(actor__role="driver").update(driver_note=F("note"))


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_ride_ended_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="rideevent",
            name="customer_note",
            field=models.TextField(blank=True, help_text="What the customer reads instead of the note."),
        ),
        migrations.AddField(
            model_name="rideevent",
            name="driver_note",
            field=models.TextField(blank=True, help_text="What the driver reads instead of the note."),
        ),
        migrations.AddField(
            model_name="rideevent",
            name="for_customer",
            field=models.BooleanField(default=False, help_text="On the ride customer's timeline."),
        ),
        migrations.AddField(
            model_name="rideevent",
            name="for_driver",
            field=models.BooleanField(default=False, help_text="On the ride driver's timeline."),
        ),
        migrations.AddIndex(
            model_name="rideevent",
            index=models.Index(fields=["ride", "for_customer", "created_at"], name="rideevent_customer_timeline"),
        ),
        migrations.AddIndex(
            model_name="rideevent",
            index=models.Index(fields=["ride", "for_driver", "created_at"], name="rideevent_driver_timeline"),
        ),
        migrations.RunPython(backfill_audiences, migrations.RunPython.noop),
    ]
