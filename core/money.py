"""Money is integer cents of one currency everywhere; this turns it into text for people."""

from decimal import Decimal

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def format_money(cents, currency: str = "usd") -> str:
    """1234 -> "$12.34", -50 -> "−$0.50"; None or "" -> ""."""
    if cents in (None, ""):
        return ""
    amount = Decimal(int(cents)) / 100
    sign = "−" if amount < 0 else ""
    return f"{sign}{CURRENCY_SYMBOLS.get(str(currency).lower(), '')}{abs(amount):,.2f}"
