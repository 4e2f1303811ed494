"""The accounts app's plugs into allauth (connected in AccountsConfig.ready())."""

from allauth.account.models import EmailAddress

from project.accounts import login_backoff


def on_password_reset(sender, request, user, **kwargs):
    """A reset link was opened, so its reader holds the account's mailbox.

    - They may sign in at once: a reset is the way out of a back-off someone else ran up.
    - With one address on the account, that is where the link went: it is confirmed (a
      driver's invitation is such a link; a pending email change makes two addresses, and
      then nothing is assumed).
    """
    addresses = list(EmailAddress.objects.filter(user=user))
    for email in {user.email, *(address.email for address in addresses)}:
        login_backoff.clear(email=email)
    if len(addresses) == 1 and addresses[0].email == user.email:
        addresses[0].set_verified()
