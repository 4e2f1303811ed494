"""Changing the sign-in email (HTML and API): the current password, a confirmation from the new
address, a notice to the old one; the address changes only when the mailed link is confirmed."""

from http import HTTPStatus

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from project.accounts.tokens import token_pair_for
from tests.api.conftest import ApiClient
from tests.factories import TEST_PASSWORD, CustomerFactory
from tests.mail import confirm_mailed_address, link_in_mail, mails_to

pytestmark = pytest.mark.django_db

INVALID_LINK = "This email confirmation link expired or is invalid."


def addresses(user):
    return list(
        EmailAddress.objects.filter(user=user).order_by("email").values_list("email", "verified", "primary")
    )


def refresh_works(pair) -> bool:
    return ApiClient().post("/token/refresh", {"refresh": pair.refresh}).status_code == HTTPStatus.OK


def start_api_change(user, email, password=TEST_PASSWORD):
    return ApiClient(user).post("/profile/email", {"email": email, "password": password})


# --- API ----------------------------------------------------------------------------------


def test_api_email_change_waits_for_the_new_address_and_tells_the_old_one(customer):
    old = customer.email
    logins = [token_pair_for(user=customer) for _ in range(2)]
    response = start_api_change(customer, "New@Example.com")
    assert (response.status_code, response.json()) == (
        HTTPStatus.ACCEPTED,
        {"detail": "We sent a link to new@example.com. Your email changes once it is confirmed."},
    )
    customer.refresh_from_db()
    assert customer.email == old  # nothing changes until the link is confirmed
    (notice,) = mails_to(old)
    assert "new@example.com" in notice.body
    assert "/accounts/email/" in notice.body
    assert "/accounts/confirm-email/" not in notice.body

    confirm_mailed_address(Client(), "new@example.com")  # whoever reads that mailbox
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    assert addresses(customer) == [("new@example.com", True, True)]
    assert "has been changed from" in mails_to(old)[-1].body  # allauth's "it is done" notice
    assert [refresh_works(pair) for pair in logins] == [False, False]  # every API login ended
    api = ApiClient()
    assert api.post("/login", {"email": "new@example.com", "password": TEST_PASSWORD}).status_code == 200
    assert api.post("/login", {"email": old, "password": TEST_PASSWORD}).status_code == 401


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"email": "new@example.com", "password": "wrong"},
            {"password": ["That is not your current password."]},
        ),
        ({"email": "not-an-email", "password": TEST_PASSWORD}, {"email": ["Enter a valid email address."]}),
        ({"email": "", "password": TEST_PASSWORD}, {"email": ["This field is required."]}),
    ],
)
def test_api_email_change_refuses_bad_input_and_changes_nothing(customer, mailoutbox, body, errors):
    response = ApiClient(customer).post("/profile/email", body)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == errors
    assert addresses(customer) == [(customer.email, True, True)]
    assert mailoutbox == []


def test_api_email_change_to_the_current_address_is_refused(customer):
    response = start_api_change(customer, customer.email.upper())
    assert response.json()["errors"] == {"email": ["That is already your email address."]}
    assert addresses(customer) == [(customer.email, True, True)]


def test_api_email_change_needs_a_token():
    response = ApiClient().post("/profile/email", {"email": "new@example.com", "password": TEST_PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_the_confirmation_link_works_once(customer):
    start_api_change(customer, "second@example.com")
    first_link = link_in_mail("second@example.com", "/accounts/confirm-email/")
    confirm_mailed_address(Client(), "second@example.com")
    replay = Client()
    assert INVALID_LINK in replay.get(first_link).content.decode()
    replay.post(first_link)
    customer.refresh_from_db()
    assert customer.email == "second@example.com"
    assert addresses(customer) == [("second@example.com", True, True)]


def test_a_newer_change_voids_the_older_link(customer):
    old = customer.email
    start_api_change(customer, "first-try@example.com")
    stale = link_in_mail("first-try@example.com", "/accounts/confirm-email/")
    start_api_change(customer, "second-try@example.com")
    Client().post(stale)
    customer.refresh_from_db()
    assert customer.email == old
    assert addresses(customer) == sorted([(old, True, True), ("second-try@example.com", False, False)])


def test_a_password_change_voids_a_pending_email_change(customer):
    """The attack: someone who learnt the password asks to move the account to their address;
    the owner changes the password, but the link in the attacker's mailbox still worked."""
    old = customer.email
    start_api_change(customer, "mallory@evil.example")
    link = link_in_mail("mallory@evil.example", "/accounts/confirm-email/")

    owner = Client()
    owner.force_login(customer)
    owner.post(
        reverse("account_change_password"),
        {
            "oldpassword": TEST_PASSWORD,
            "password1": "a-brand-new-secret-7",
            "password2": "a-brand-new-secret-7",
        },
    )
    mallory = Client()
    assert INVALID_LINK in mallory.get(link).content.decode()
    mallory.post(link)
    customer.refresh_from_db()
    assert customer.email == old
    assert addresses(customer) == [(old, True, True)]


def test_an_address_another_account_uses_is_answered_alike_and_never_confirmed(customer):
    old = customer.email
    other = CustomerFactory(email="taken@example.com")
    response = start_api_change(customer, "taken@example.com")
    assert (response.status_code, response.json()) == (
        HTTPStatus.ACCEPTED,
        {"detail": "We sent a link to taken@example.com. Your email changes once it is confirmed."},
    )
    confirm_mailed_address(Client(), "taken@example.com")
    customer.refresh_from_db()
    other.refresh_from_db()
    assert (customer.email, other.email) == (old, "taken@example.com")
    assert addresses(other) == [("taken@example.com", True, True)]


def test_an_address_an_unconfirmed_account_uses_is_never_confirmed_either(customer):
    """An older account whose address was never confirmed: confirming it for another account
    must fail cleanly (User.email is unique), not with a server error."""
    other = CustomerFactory(email="taken@example.com")
    EmailAddress.objects.filter(user=other).update(verified=False)
    old = customer.email
    start_api_change(customer, "taken@example.com")
    response = confirm_mailed_address(Client(), "taken@example.com")
    assert response.status_code == HTTPStatus.FOUND
    customer.refresh_from_db()
    other.refresh_from_db()
    assert (customer.email, other.email) == (old, "taken@example.com")


# --- HTML -----------------------------------------------------------------------------------


def test_the_email_page_asks_for_the_current_password(customer_client):
    page = customer_client.get(reverse("account_email")).content.decode()
    assert 'for="id_email"' in page and "New email address" in page
    assert 'for="id_password"' in page and "Current password" in page
    assert 'autocomplete="current-password"' in page


def test_html_email_change_with_a_wrong_password_changes_nothing(customer_client, customer, mailoutbox):
    response = customer_client.post(
        reverse("account_email"), {"action_add": "", "email": "new@example.com", "password": "wrong"}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors == {"password": ["That is not your current password."]}
    assert addresses(customer) == [(customer.email, True, True)]
    assert mailoutbox == []


def test_html_email_change_waits_for_the_new_address(customer_client, customer):
    old = customer.email
    login = token_pair_for(user=customer)
    response = customer_client.post(
        reverse("account_email"),
        {"action_add": "", "email": "new@example.com", "password": TEST_PASSWORD},
        follow=True,
    )
    page = response.content.decode()
    assert "Changing to <strong>new@example.com</strong>" in page
    assert "new@example.com" in mails_to(old)[0].body
    customer.refresh_from_db()
    assert customer.email == old

    confirm_mailed_address(customer_client, "new@example.com")
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    assert addresses(customer) == [("new@example.com", True, True)]
    assert not refresh_works(login)


def test_html_cancel_a_pending_change(customer_client, customer):
    customer_client.post(
        reverse("account_email"), {"action_add": "", "email": "new@example.com", "password": TEST_PASSWORD}
    )
    customer_client.post(reverse("account_email"), {"action_remove": "", "email": "new@example.com"})
    assert addresses(customer) == [(customer.email, True, True)]


def test_make_primary_cannot_skip_the_confirmation(customer_client, customer):
    """allauth lets an account with no confirmed address make another address primary at once
    (older accounts, from before confirmation was mandatory, can have one); here only the
    mailed link makes the change."""
    old = customer.email
    EmailAddress.objects.filter(user=customer).update(verified=False)
    EmailAddress.objects.create(user=customer, email="mallory@evil.example", primary=False, verified=False)
    response = customer_client.post(
        reverse("account_email"), {"action_primary": "", "email": "mallory@evil.example"}, follow=True
    )
    assert "Open the link we mailed to the new address" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == old
    assert addresses(customer) == sorted([("mallory@evil.example", False, False), (old, False, True)])


def test_an_account_with_an_unconfirmed_address_confirms_it_before_changing_it(customer_client, customer):
    old = customer.email
    EmailAddress.objects.filter(user=customer).update(verified=False)
    response = customer_client.post(
        reverse("account_email"), {"action_add": "", "email": "new@example.com", "password": TEST_PASSWORD}
    )
    assert response.context["form"].errors == {
        "email": ["First confirm your current address: sign in again and we'll mail you a link."]
    }
    customer.refresh_from_db()
    assert customer.email == old
    assert addresses(customer) == [(old, False, True)]


def test_the_email_page_needs_login(client):
    assert client.get(reverse("account_email")).url.startswith(reverse("account_login"))
