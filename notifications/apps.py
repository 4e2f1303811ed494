from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        """Everything notifications plugs into the apps below it, in one place (docs/architecture.md)."""
        from django.core import checks as django_checks

        from billing.signals import payment_changed
        from bookings.panels import register_attention_source, register_ride_panel
        from bookings.signals import ride_moved
        from core import schedules
        from notifications import channels, checks, panels, receivers
        from notifications.schedules import SCHEDULES
        from project.accounts import sms
        from project.accounts.signals import account_deleted

        ride_moved.connect(receivers.on_ride_moved, dispatch_uid="notifications.ride_moved")
        payment_changed.connect(receivers.on_payment_changed, dispatch_uid="notifications.payment_changed")
        account_deleted.connect(receivers.on_account_deleted, dispatch_uid="notifications.account_deleted")
        register_ride_panel("ops", panels.ops_ride_panel)
        register_attention_source(panels.attention)
        schedules.register(*SCHEDULES)
        django_checks.register(checks.twilio_credentials_complete, deploy=True)
        django_checks.register(checks.provider_timeouts_fit, deploy=True)
        django_checks.register(checks.interrupted_sends_wait_past_the_task_limit, deploy=True)
        sms.register_sender(channels.send_text)
