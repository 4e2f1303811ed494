"""The accounts app's plugs into allauth (connected in AccountsConfig.ready())."""

from allauth.account.models import EmailAddress

from project.accounts import login_backoff


def on_password_reset(sender, request, user, **kwargs):
    """A reset link was opened, so its reader holds the account's mailbox: they may sign in
    at once (a reset is the way out of a back-off someone else ran up)."""
    addresses = EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    for email in {user.email, *addresses}:
        login_backoff.clear(email=email)
