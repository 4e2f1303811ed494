from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from bookings.ops_views import background_attention
        from bookings.panels import register_attention_source

        register_attention_source(background_attention)
