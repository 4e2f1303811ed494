from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from bookings import hooks
        from notifications import receivers  # noqa: F401  (connects the signal receivers)
        from notifications.panels import ops_ride_panel
        from notifications.schedules import ensure_schedules

        hooks.register_ride_panel("ops", ops_ride_panel)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="notifications.schedules")
