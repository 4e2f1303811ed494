from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "project.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.core import checks as django_checks

        from project.accounts import checks

        django_checks.register(checks.jwt_key_is_long_enough, deploy=True)
