"""What the API accepts as input before any schema sees it: text without NUL characters,
and row ids bounded like the database's bigint."""

from typing import Annotated

from ninja import Field, Path
from ninja.errors import ValidationError
from ninja.parser import Parser

# A row id in a URL (Id) or a body (BodyId): bounded like the database's bigint, so a huge
# number is a 422, not a 500.
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
BodyId = Annotated[int, Field(ge=1, le=2**63 - 1)]

NUL_MESSAGE = "Text may not contain NUL characters."


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class TextParser(Parser):
    """JSON and query/form parsing that refuses NUL characters, which no text column can store
    (PostgreSQL raises on them). Django's form fields refuse them too; this covers the API's schemas."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if _has_nul(data):
            raise ValueError(NUL_MESSAGE)
        return data

    def parse_querydict(self, data, list_fields, request):
        parsed = super().parse_querydict(data, list_fields, request)
        if bad := [key for key, value in parsed.items() if _has_nul(value)]:
            raise ValidationError([{"loc": ["query", key], "msg": NUL_MESSAGE} for key in bad])
        return parsed
