"""One set of words for getting in and out: "Sign in", "Sign out", "Sign up" (allauth's own
pages say "Sign In"/"Sign Up"; our templates never say "Log in", "Login" or "Signup")."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Words a person reads, not URL names such as {% url 'account_login' %}.
OTHER_WORDS = re.compile(r"(?<![\w'_-])(log ?in|log ?out|login|logout|signup)(?![\w'_-])", re.I)


def visible_text(source: str) -> str:
    """The template without its tags, comments and attribute values (where URL names live)."""
    source = re.sub(r"{%.*?%}|{#.*?#}|{{.*?}}", " ", source, flags=re.S)
    return re.sub(r"<[^>]*>", " ", source)


def test_our_templates_say_sign_in_sign_out_and_sign_up():
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)!r}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in {".html", ".txt"}
        for match in OTHER_WORDS.finditer(visible_text(path.read_text()))
    ]
    assert found == []


@pytest.mark.django_db
def test_the_menu_reads_sign_in_sign_up_then_sign_out(customer_client):
    page = Client().get(reverse("home")).content.decode()  # signed out
    assert ">Sign in</a>" in page and ">Sign up</a>" in page and "Log in" not in page
    page = customer_client.get(reverse("bookings:pet_list")).content.decode()
    assert ">Sign out</button>" in page and "Log out" not in page
