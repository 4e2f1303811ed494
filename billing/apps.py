from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from billing import checks, panels, receivers  # noqa: F401  (registers checks and receivers)
        from billing.schedules import ensure_schedules
        from bookings import hooks

        hooks.register_payment_page(panels.checkout_url)
        hooks.register_ride_panel("customer", panels.customer_panel)
        hooks.register_ride_panel("ops", panels.ops_panel)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="billing.ensure_schedules")
