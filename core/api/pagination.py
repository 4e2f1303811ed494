from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    """`?page=&page_size=` with bounds, so a huge page number is a 422 rather than a database error."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=100_000)
        page_size: int | None = Field(None, ge=1, le=100)

    def __init__(self, **kwargs):
        super().__init__(page_size=settings.NINJA_PAGINATION_PER_PAGE, max_page_size=100, **kwargs)
