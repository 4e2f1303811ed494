from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = "Fleet"

    def ready(self):
        """Everything fleet plugs into the apps below it, in one place (docs/architecture.md)."""
        from bookings import availability as bookings_availability
        from bookings.panels import register_ride_panel
        from bookings.signals import ride_moved, ride_payment_secured
        from fleet import availability, panels, receivers

        ride_moved.connect(receivers.dispatch_when_confirmed, dispatch_uid="fleet.auto_dispatch")
        ride_payment_secured.connect(receivers.dispatch_when_paid, dispatch_uid="fleet.dispatch_when_paid")
        register_ride_panel("customer", panels.customer_panel)
        register_ride_panel("ops", panels.ops_panel)
        bookings_availability.register_provider(availability)
