from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from billing import checks, panels, receivers  # noqa: F401  (registers checks and receivers)
        from billing.schedules import SCHEDULES
        from bookings import hooks
        from core import schedules

        hooks.register_payment_page(panels.checkout_url)
        hooks.register_ride_panel("customer", panels.customer_panel)
        hooks.register_ride_panel("ops", panels.ops_panel)
        schedules.register(*SCHEDULES)
