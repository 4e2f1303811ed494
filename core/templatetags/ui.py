from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(cents, currency="usd"):
    """{{ ride.price_cents|money:ride.currency }} -> "$12.34" (see core.money)."""
    return format_money(cents, currency)


@register.filter
def tz_name(zone: str) -> str:
    """ "America/New_York" -> "New York (America)"."""
    region, _, place = str(zone).rpartition("/")
    return f"{place.replace('_', ' ')} ({region.replace('_', ' ')})" if region else place.replace("_", " ")
