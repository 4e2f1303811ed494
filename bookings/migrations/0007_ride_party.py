"""A ride carries a party of one or more pets (RidePet) instead of one pet: each ride's pet
becomes its party of one, crated as the pet travels today. Reversible: going back, a
ride keeps the first pet of its party."""

import django.db.models.deletion
from django.db import migrations, models


def parties_from_pets(apps, schema_editor):
    Ride = apps.get_model("bookings", "Ride")
    RidePet = apps.get_model("bookings", "RidePet")
    rides = Ride.objects.order_by("pk").values_list("pk", "pet_id", "pet__crate_required")
    batch = []
    for ride_id, pet_id, crated in rides.iterator(chunk_size=2000):
        batch.append(RidePet(ride_id=ride_id, pet_id=pet_id, crated=crated, position=0))
        if len(batch) >= 2000:
            RidePet.objects.bulk_create(batch)
            batch = []
    RidePet.objects.bulk_create(batch)


def pets_from_parties(apps, schema_editor):
    Ride = apps.get_model("bookings", "Ride")
    RidePet = apps.get_model("bookings", "RidePet")
    first = RidePet.objects.filter(ride=models.OuterRef("pk")).order_by("position", "pk").values("pet_id")[:1]
    Ride.objects.update(pet_id=models.Subquery(first))


class Migration(migrations.Migration):
    dependencies = [("bookings", "0006_ride_payment_secured_cents")]

    operations = [
        migrations.CreateModel(
            name="RidePet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("crated", models.BooleanField(default=False, verbose_name="travels in a crate")),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "pet",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="ride_parties", to="bookings.pet"
                    ),
                ),
                (
                    "ride",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="party", to="bookings.ride"
                    ),
                ),
            ],
            options={
                "ordering": ["position", "pk"],
                "constraints": [models.UniqueConstraint(fields=("ride", "pet"), name="ride_pet_once")],
            },
        ),
        migrations.AlterField(
            model_name="ride",
            name="pet",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="bookings.pet"
            ),
        ),
        migrations.RunPython(parties_from_pets, pets_from_parties, elidable=False),
        migrations.RemoveField(model_name="ride", name="pet"),
        migrations.AddField(
            model_name="ride",
            name="pets",
            field=models.ManyToManyField(related_name="rides", through="bookings.RidePet", to="bookings.pet"),
        ),
    ]
