from decimal import Decimal

from django import template

register = template.Library()

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


@register.filter
def money(cents, currency="usd"):
    """1234 -> "$12.34". Amounts are integer cents everywhere; this is display only."""
    if cents in (None, ""):
        return ""
    amount = Decimal(int(cents)) / 100
    sign = "−" if amount < 0 else ""
    return f"{sign}{CURRENCY_SYMBOLS.get(str(currency).lower(), '')}{abs(amount):,.2f}"


@register.filter
def tz_name(zone: str) -> str:
    """ "America/New_York" -> "New York (America)"."""
    region, _, place = str(zone).rpartition("/")
    return f"{place.replace('_', ' ')} ({region.replace('_', ' ')})" if region else place.replace("_", " ")
