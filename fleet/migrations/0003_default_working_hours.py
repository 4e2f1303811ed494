"""Every driver who exists already works every day 06:00–22:00 (DRIVER_DEFAULT_HOURS at the
time of writing), so no ride that could be dispatched before stops being dispatchable."""

from datetime import time

from django.db import migrations

DEFAULT = (time(6, 0), time(22, 0))


def default_hours(apps, schema_editor):
    DriverProfile = apps.get_model("fleet", "DriverProfile")
    WorkingHours = apps.get_model("fleet", "WorkingHours")
    has_hours = WorkingHours.objects.values("driver_id")
    WorkingHours.objects.bulk_create(
        WorkingHours(driver_id=pk, weekday=weekday, starts=DEFAULT[0], ends=DEFAULT[1])
        for pk in DriverProfile.objects.exclude(pk__in=has_hours).values_list("pk", flat=True)
        for weekday in range(7)
    )


class Migration(migrations.Migration):
    dependencies = [("fleet", "0002_working_hours")]

    operations = [migrations.RunPython(default_hours, migrations.RunPython.noop)]
