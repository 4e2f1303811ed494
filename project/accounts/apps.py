from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "project.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from allauth.account.signals import password_reset
        from django.core import checks as django_checks

        from project.accounts import checks, receivers

        django_checks.register(checks.jwt_key_is_long_enough, deploy=True)
        password_reset.connect(receivers.on_password_reset, dispatch_uid="accounts-password-reset")
