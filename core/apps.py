from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The shared kernel: no models, no URLs; every other app may import it, it imports none."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.core import checks as django_checks

        from core import checks
        from core.schedules import ensure_schedules

        django_checks.register(checks.shared_cache_configured, deploy=True)

        # Once per migrate, as the app of the Schedule table: Django sends post_migrate only
        # for apps with models, and core has none.
        post_migrate.connect(
            ensure_schedules, sender=apps.get_app_config("django_q"), dispatch_uid="core.ensure_schedules"
        )
