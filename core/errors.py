"""The one domain exception type.

Services raise `DomainError` when a rule says no (an illegal ride move, a pet
that cannot be deleted, a booking in the past). Views put its messages beside
the form fields or in a flash message; the API turns it into its JSON error.
"""


class DomainError(Exception):
    def __init__(self, message: str, *, code: str = "invalid", errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code  # "illegal_move", "not_allowed", "invalid", "conflict", ...
        self.errors = errors or {}  # field name -> messages, for messages beside fields

    def __str__(self) -> str:
        return self.message


def add_errors_to_form(form, exc: DomainError) -> None:
    """Show a DomainError on a Django form: each message beside its field, the rest on top."""
    if not exc.errors:
        form.add_error(None, exc.message)
    for field, messages in exc.errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def required_reason(reason: str, why: str) -> str:
    """`reason` stripped, or a DomainError on the `reason` field when it is blank.
    `why` finishes the sentence "Say why …" ("the pet was not handed over")."""
    if not (reason or "").strip():
        message = f"Say why {why}."
        raise DomainError(message, code="invalid", errors={"reason": [message]})
    return reason.strip()
