from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0005_ride_late_fee"),
    ]

    operations = [
        migrations.AddField(
            model_name="ride",
            name="payment_secured_cents",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
