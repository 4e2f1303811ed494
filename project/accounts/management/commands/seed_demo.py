"""`manage.py seed_demo`: a database to click through. Safe to run again."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from project.accounts.models import User

DEMO_PASSWORD = "pets-ride-free"

DEMO_USERS = [
    ("admin@whiskers.example", "Olivia Ops", User.Role.ADMIN, "+12125550100"),
    ("alice@example.com", "Alice Moreno", User.Role.CUSTOMER, "+12125550101"),
    ("ben@example.com", "Ben Okafor", User.Role.CUSTOMER, ""),
    ("dana.driver@whiskers.example", "Dana Diaz", User.Role.DRIVER, "+12125550111"),
    ("eli.driver@whiskers.example", "Eli Park", User.Role.DRIVER, "+12125550112"),
    ("fay.driver@whiskers.example", "Fay Nguyen", User.Role.DRIVER, "+12125550113"),
]


def seed_users() -> dict[str, User]:
    users = {}
    for email, name, role, phone in DEMO_USERS:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "name": name,
                "role": role,
                "phone": phone,
                # Demo numbers are fictional (555-01xx): none could receive the code, so
                # they start verified. A number added on the profile is verified by a code.
                "phone_verified_at": timezone.now() if phone else None,
                "is_staff": role == User.Role.ADMIN,
                "is_superuser": role == User.Role.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        # Demo addresses can't receive mail: they count as confirmed, so they can sign in.
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"primary": True, "verified": True}
        )
        users[email] = user
    return users


class Command(BaseCommand):
    help = "Create demo users, pets, drivers and rides in every state (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            users = seed_users()
            for dotted in settings.DEMO_SEEDERS:
                import_string(dotted)(users)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Sign in with any of these (password {DEMO_PASSWORD!r}):")
        )
        for email, _name, role, _phone in DEMO_USERS:
            self.stdout.write(f"  {role.label:<11} {email}")
