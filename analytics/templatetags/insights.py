"""Template filters for insights: a fraction as a signed percentage."""

from django import template

register = template.Library()


@register.filter
def signed_pct(value: float | None) -> str:
    """0.123 -> "+12 %", -0.05 -> "-5 %", None -> "-"."""
    if value is None:
        return "-"
    return f"{value * 100:+.0f} %"


SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


@register.filter
def money(value: float | None, currency: str) -> str:
    """1234.6, "EUR" -> "€1,235"; -319.2 -> "-€319"; an unknown currency is written before the number; None -> "-"."""
    if value is None:
        return "-"
    symbol = SYMBOLS.get(currency, f"{currency} " if currency else "")
    sign = "-" if round(value) < 0 else ""
    return f"{sign}{symbol}{abs(value):,.0f}"


@register.filter
def words(value: str) -> str:
    """An evidence key in words: "best_per_occupied_bed" -> "best per occupied bed"."""
    return str(value).replace("_", " ")
