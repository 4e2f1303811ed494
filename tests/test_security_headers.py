"""Every response carries the site's Content-Security-Policy and Permissions-Policy; the
few pages that need more get exactly that, and nothing else does."""

from http import HTTPStatus

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, set[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: set(values) for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def features(response) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))


def test_pages_allow_only_our_own_scripts_and_styles_and_no_framing(client):
    csp = directives(client.get(reverse("home")))
    assert csp["script-src"] == {"'self'"} and csp["style-src"] == {"'self'"}
    assert csp["frame-ancestors"] == {"'none'"} and csp["frame-src"] == {"'none'"}
    assert csp["object-src"] == {"'none'"} and csp["base-uri"] == {"'self'"}


def test_pages_may_not_use_the_camera_or_location(customer_client):
    policy = features(customer_client.get(reverse("bookings:ride_list")))
    assert (policy["camera"], policy["geolocation"], policy["microphone"]) == ("()", "()", "()")


@pytest.mark.parametrize("name", ["fleet:home"])
def test_the_drivers_pages_may_use_location_and_camera(driver_client, name):
    response = driver_client.get(reverse(name))
    assert response.status_code == HTTPStatus.OK
    policy = features(response)
    assert (policy["camera"], policy["geolocation"]) == ("(self)", "(self)")


def test_only_checkout_may_load_stripe_js(customer_client, pending_ride, stripe_server, settings):
    stripe = settings.STRIPE_JS_URL.split("/js.stripe.com")[0]  # localstripe's origin in tests
    checkout = directives(customer_client.get(reverse("billing:checkout", args=[pending_ride.pk])))
    assert checkout["script-src"] == {"'self'", stripe}
    assert checkout["frame-src"] == {stripe, "https://hooks.stripe.com"}
    ride_page = directives(customer_client.get(reverse("bookings:ride_detail", args=[pending_ride.pk])))
    assert ride_page["script-src"] == {"'self'"}


def test_an_email_as_sent_is_a_sandboxed_page_only_operations_open(client, admin_user, customer):
    from tests.factories import NotificationFactory

    email = NotificationFactory(user=customer, channel="email", message_html="<h1 style='color:red'>Hi</h1>")
    url = reverse("notifications_ops:email_html", args=[email.pk])
    client.force_login(customer)
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN
    client.force_login(admin_user)
    response = client.get(url)
    csp = directives(response)
    assert response.content == b"<h1 style='color:red'>Hi</h1>"
    assert csp["default-src"] == {"'none'"} and csp["style-src"] == {"'unsafe-inline'"}
    assert "script-src" not in csp  # so default-src 'none': no script at all
    assert response["X-Frame-Options"] == "SAMEORIGIN"
