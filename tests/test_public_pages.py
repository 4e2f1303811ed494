"""The landing page sells with the product's real figures; terms and privacy say the rules
the code enforces (issue 13, point 15)."""

from http import HTTPStatus

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_landing_page_shows_example_fares_drivers_and_answers(client, settings):
    settings.CANCELLATION_FREE_UNTIL = settings.CANCELLATION_FREE_UNTIL * 2  # 48 h: the page follows
    html = client.get(reverse("home")).content.decode()
    # A cat, 3 miles, weekday noon: base $15.00 + 3 mi × $1.80 + a cat $0 = $20.40.
    assert "A cat to the vet, 3 miles" in html and "$20.40" in html
    assert "no signing up to drive" in html
    assert "free until 48 hours before pickup" in html
    assert reverse("terms") in html and reverse("privacy") in html


@pytest.mark.parametrize(("name", "heading"), [("terms", "Terms of service"), ("privacy", "Privacy")])
def test_terms_and_privacy_are_public(client, name, heading):
    response = client.get(reverse(name))
    assert response.status_code == HTTPStatus.OK
    assert f'<h1 class="page-title mb-3">{heading}</h1>' in response.content.decode()


def test_the_terms_quote_the_cancellation_rule_in_force(client, settings):
    settings.CANCELLATION_FEE_PERCENT = 40
    assert "costs 40% of the fare" in client.get(reverse("terms")).content.decode()
