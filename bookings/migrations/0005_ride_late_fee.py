from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0004_ride_event_audience"),
    ]

    operations = [
        migrations.AddField(
            model_name="ride",
            name="late_fee_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="ride",
            name="late_fee_min_cents",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
