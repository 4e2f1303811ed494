"""Who sent a request: the client's address, read only as far as our own proxies vouch for it."""

import ipaddress

from django.conf import settings


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's IP address, for rate limits and audit lines.

    Each of our `TRUSTED_PROXY_COUNT` proxies appends the address it received the request
    from to `X-Forwarded-For`, so the client is that many entries from the right; whatever
    stands further left was written by the client and proves nothing. With no proxies (the
    default) the header is never read: a client could put anything in it.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = forwarded.split(",")
        # Fewer hops than proxies: the request skipped one of them; its leftmost hop is all we know.
        return _address(hops[-min(proxies, len(hops))]) or remote
    return remote
