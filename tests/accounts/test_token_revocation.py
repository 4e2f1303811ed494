"""Every API login (refresh token) of an account ends when its password is changed or reset,
its email changes, or it is deactivated — whichever way that happens."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from project.accounts import services
from project.accounts.models import RefreshToken
from project.accounts.tokens import token_pair_for
from tests.api.conftest import ApiClient
from tests.factories import TEST_PASSWORD, AdminFactory, DriverProfileFactory
from tests.mail import confirm_mailed_address, link_in_mail

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-secret-7"


def change_password_on_the_page(user):
    client = Client()
    client.force_login(user)
    client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def reset_password_from_the_mailed_link(user):
    client = Client()
    client.post(reverse("account_reset_password"), {"email": user.email})
    form = client.get(link_in_mail(user.email, "/accounts/password/reset/key/"), follow=True)
    client.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def set_password_in_code(user):  # Django's admin, `manage.py changepassword`, a service
    user.set_password(NEW_PASSWORD)
    user.save()


def change_email_through_the_api(user):
    ApiClient(user).post("/profile/email", {"email": "new@example.com", "password": TEST_PASSWORD})
    confirm_mailed_address(Client(), "new@example.com")


def deactivate_in_code(user):  # Django's admin
    user.is_active = False
    user.save()


def deactivate_the_driver_in_the_back_office(user):
    DriverProfileFactory(user=user)
    admin = Client()
    admin.force_login(AdminFactory())
    admin.post(reverse("fleet_ops:driver_deactivate", args=[user.pk]))


def deactivate_through_the_service(user):
    services.user_deactivate(user=user)


@pytest.mark.parametrize(
    "change",
    [
        change_password_on_the_page,
        reset_password_from_the_mailed_link,
        set_password_in_code,
        change_email_through_the_api,
        deactivate_in_code,
        deactivate_the_driver_in_the_back_office,
        deactivate_through_the_service,
    ],
)
def test_the_change_ends_every_api_login(driver, change):
    """The attack: a stolen refresh token kept working after its owner changed the password."""
    logins = [token_pair_for(user=driver) for _ in range(2)]
    change(driver)
    answers = [ApiClient().post("/token/refresh", {"refresh": pair.refresh}) for pair in logins]
    assert [answer.status_code for answer in answers] == [HTTPStatus.UNAUTHORIZED] * 2
    assert [answer.json()["detail"] for answer in answers] == ["Token has been revoked."] * 2
    assert not RefreshToken.objects.filter(user=driver, revoked_at__isnull=True).exists()


def test_other_changes_and_other_accounts_keep_their_logins(customer, other_customer):
    mine, theirs = token_pair_for(user=customer), token_pair_for(user=other_customer)
    customer.name = "Alice M."
    customer.time_zone = "America/Chicago"
    customer.save()
    ApiClient().post("/login", {"email": customer.email, "password": TEST_PASSWORD})  # updates last_login
    other_customer.set_password(NEW_PASSWORD)
    other_customer.save(update_fields=["name"])  # the new password is not saved, so not changed
    assert ApiClient().post("/token/refresh", {"refresh": mine.refresh}).status_code == HTTPStatus.OK
    assert ApiClient().post("/token/refresh", {"refresh": theirs.refresh}).status_code == HTTPStatus.OK
