"""What a request says about its sender."""


def client_ip(request) -> str:
    """The client's IP address: REMOTE_ADDR, the address that connected to us.

    Forwarded headers are not read here: a client can write any X-Forwarded-For it
    likes, so only a configured number of trusted proxies may ever be believed."""
    return request.META.get("REMOTE_ADDR", "")
