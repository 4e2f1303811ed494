from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from bookings import hooks
        from core import schedules
        from notifications import receivers  # noqa: F401  (connects the signal receivers)
        from notifications.panels import ops_ride_panel
        from notifications.schedules import SCHEDULES

        hooks.register_ride_panel("ops", ops_ride_panel)
        schedules.register(*SCHEDULES)
