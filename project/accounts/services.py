from allauth.account.models import EmailAddress
from django.db import transaction

from project.accounts.models import User


def customer_register(*, name: str, email: str, password: str, phone: str = "") -> User:
    """A new customer account (the only role anyone can give themselves)."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=email, password=password, name=name.strip(), phone=phone or "", role=User.Role.CUSTOMER
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return user


def user_change_email(*, user: User, email: str) -> None:
    """Keep allauth's address book in step: the new address is primary and unverified."""
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).delete()
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
