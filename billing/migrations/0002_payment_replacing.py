import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

OPEN = ["pending_payment", "confirmed", "assigned", "en_route", "picked_up"]


def backfill_payment_secured(apps, schema_editor):
    """Open rides learn what their payment already secures (dispatch now waits for it)."""
    Ride = apps.get_model("bookings", "Ride")
    Payment = apps.get_model("billing", "Payment")
    secured = Payment.objects.filter(ride=OuterRef("pk"), status__in=["card_saved", "authorized"])
    Ride.objects.filter(status__in=OPEN).update(
        payment_secured_cents=Coalesce(Subquery(secured.values("amount_cents")[:1]), 0)
    )


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0001_initial'),
        ('bookings', '0006_ride_payment_secured_cents'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='payment',
            name='one_live_payment_per_ride',
        ),
        migrations.AddField(
            model_name='payment',
            name='replacing',
            field=models.ForeignKey(blank=True, help_text='The held payment this one replaces once secured.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.payment'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(condition=models.Q(('replacing__isnull', True), ('status__in', ['requires_card', 'requires_action', 'card_saved', 'authorized'])), fields=('ride',), name='one_live_payment_per_ride'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(condition=models.Q(('replacing__isnull', False), ('status__in', ['requires_card', 'requires_action', 'card_saved', 'authorized'])), fields=('ride',), name='one_replacement_per_ride'),
        ),
        migrations.RunPython(backfill_payment_secured, migrations.RunPython.noop),
    ]
