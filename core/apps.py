from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: no models, no URLs; every other app may import it, it imports none."""

    name = "core"
    verbose_name = "Core"
