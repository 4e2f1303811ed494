from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from bookings.ops_views import background_attention
        from bookings.panels import register_attention_source
        from core import schedules

        register_attention_source(background_attention)
        # Open returns not called by their limit: operations call the customer (bookings.trips).
        schedules.register(
            schedules.Every(
                "bookings: open returns not called",
                "bookings.tasks.flag_returns_not_called",
                minutes=5,
                queue="dispatch",
            )
        )
