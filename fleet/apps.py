from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = "Fleet"

    def ready(self):
        from bookings import hooks
        from bookings.signals import ride_moved
        from fleet import panels, receivers

        ride_moved.connect(receivers.dispatch_when_confirmed, dispatch_uid="fleet.auto_dispatch")
        hooks.register_ride_panel("customer", panels.customer_panel)
        hooks.register_ride_panel("ops", panels.ops_panel)
