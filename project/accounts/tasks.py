"""Django-Q entry points. They take ids, reload rows and are safe to run twice."""

from project.accounts import services


def deliver_phone_code(code_id: int) -> str:
    return services.phone_code_deliver(code_id=code_id)
