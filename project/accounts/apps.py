from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "project.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from allauth.account.signals import password_reset

        from project.accounts import receivers

        password_reset.connect(receivers.on_password_reset, dispatch_uid="accounts-password-reset")
