"""No driver holds two rides whose time windows overlap: enforced by PostgreSQL.

An exclusion constraint on bookings_ride over (driver_id WITH =,
tstzrange(scheduled_at, ends_at) WITH &&), for the statuses in which a driver
holds a ride. Ranges are half-open ("[)"), so one ride may start the minute the
previous one ends, as in fleet.dispatch. It needs the btree_gist extension
(trusted since PostgreSQL 13: a database owner may create it).

SQLite has no exclusion constraints; there fleet.services serialises assignments
(IMMEDIATE transactions take the write lock) and checks overlap inside them.
This migration does nothing on SQLite, and the constraint is not in the model
state (Django's ExclusionConstraint would not migrate on SQLite).
"""

from django.db import migrations

HELD_STATUSES = ("assigned", "en_route", "picked_up")  # bookings.models.DRIVER_HELD_STATUSES
NAME = "ride_driver_windows_do_not_overlap"

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE bookings_ride ADD CONSTRAINT {NAME}
        EXCLUDE USING gist (driver_id WITH =, tstzrange(scheduled_at, ends_at, '[)') WITH &&)
        WHERE (driver_id IS NOT NULL AND status IN ({", ".join(f"'{s}'" for s in HELD_STATUSES)}))""",
]
DROP = [f"ALTER TABLE bookings_ride DROP CONSTRAINT IF EXISTS {NAME}"]


def on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP), elidable=False)]
