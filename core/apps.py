from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The shared kernel: every other app may import it, it imports none. Its one model is the
    outbox (core.outbox); it has no URLs."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.core import checks as django_checks

        from core import checks, schedules
        from core.schedules import ensure_schedules

        django_checks.register(checks.shared_cache_configured, deploy=True)
        schedules.register(schedules.Every("core: outbox relay", "core.outbox.relay", minutes=1))

        # Once per migrate, as the app of the Schedule table (it is migrated before any
        # schedule could run).
        post_migrate.connect(
            ensure_schedules, sender=apps.get_app_config("django_q"), dispatch_uid="core.ensure_schedules"
        )
