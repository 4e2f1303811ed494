from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from bookings import receivers
        from bookings.ops_views import background_attention
        from bookings.panels import register_attention_source
        from core import schedules
        from project.accounts.signals import account_deleted, account_deletion_check

        register_attention_source(background_attention)
        account_deletion_check.connect(
            receivers.open_rides_block_deletion, dispatch_uid="bookings.open_rides"
        )
        account_deleted.connect(receivers.erase_customer_data, dispatch_uid="bookings.account_deleted")
        # Open returns not called by their limit: operations call the customer (bookings.trips).
        schedules.register(
            schedules.Every(
                "bookings: open returns not called",
                "bookings.tasks.flag_returns_not_called",
                minutes=5,
                queue="dispatch",
            )
        )
