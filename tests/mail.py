"""Reading the mail a test's actions sent (Django's locmem outbox), as the recipient would."""

import re
from urllib.parse import urlsplit

from django.core import mail


def mails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def link_in_mail(address: str, path_start: str) -> str:
    """The path of the link starting with `path_start` in the latest mail to `address`."""
    (*_, message) = mails_to(address)
    match = re.search(rf"https?://[^\s/]+({re.escape(path_start)}\S*)", message.body)
    assert match, f"no {path_start} link in the mail to {address}: {message.body}"
    return urlsplit(match.group(0)).path


def confirm_mailed_address(client, address: str):
    """Open the confirmation link mailed to `address` and press Confirm on its page."""
    path = link_in_mail(address, "/accounts/confirm-email/")
    assert client.get(path).status_code == 200
    return client.post(path)
