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

Restoring or moving a database whose rides already overlap (an SQLite export, a
restore from before the constraint) would fail on the constraint with no word of
which rides: the migration first lists them, and stops with that list.
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
OVERLAPS = f"""
    SELECT a.driver_id, a.id, b.id FROM bookings_ride a JOIN bookings_ride b
      ON a.driver_id = b.driver_id AND a.id < b.id
     WHERE a.status IN ({", ".join(f"'{s}'" for s in HELD_STATUSES)})
       AND b.status IN ({", ".join(f"'{s}'" for s in HELD_STATUSES)})
       AND tstzrange(a.scheduled_at, a.ends_at, '[)') && tstzrange(b.scheduled_at, b.ends_at, '[)')
     ORDER BY a.driver_id, a.id, b.id
"""


class OverlappingRides(Exception):
    pass


def refuse_overlaps(connection) -> None:
    """Stop, naming them, if some driver already holds rides whose windows overlap."""
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        pairs = cursor.fetchall()
    if pairs:
        listed = "; ".join(
            f"driver #{driver}: rides #{first} and #{second}" for driver, first, second in pairs[:20]
        )
        more = f" (and {len(pairs) - 20} more pairs)" if len(pairs) > 20 else ""
        raise OverlappingRides(
            f"{len(pairs)} pair(s) of rides overlap for one driver: {listed}{more}. "
            "Unassign one ride of each pair (Django admin or the back office), then migrate again."
        )


def on_postgresql(statements, *, check=None):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            if check:
                check(schema_editor.connection)
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        migrations.RunPython(
            on_postgresql(CREATE, check=refuse_overlaps), on_postgresql(DROP), elidable=False
        )
    ]
