from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        """Everything billing plugs into the apps below it, in one place (docs/architecture.md)."""
        from django.core import checks as django_checks

        from billing import checks, panels, receivers
        from billing.schedules import SCHEDULES
        from bookings.panels import register_attention_source, register_ride_panel
        from bookings.signals import ride_moved
        from core import schedules

        ride_moved.connect(receivers.settle_ride_move, dispatch_uid="billing.settle_ride_move")
        register_ride_panel("customer", panels.customer_panel)
        register_ride_panel("ops", panels.ops_panel)
        register_attention_source(panels.attention)
        django_checks.register(checks.stripe_keys_configured, deploy=True)
        django_checks.register(checks.stripe_timeouts_fit, deploy=True)
        schedules.register(*SCHEDULES)
