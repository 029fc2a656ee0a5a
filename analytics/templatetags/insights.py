"""Template filters for insights: a fraction as a signed percentage."""

from django import template

register = template.Library()


@register.filter
def signed_pct(value: float | None) -> str:
    """0.123 -> "+12 %", -0.05 -> "-5 %", None -> "-"."""
    if value is None:
        return "-"
    return f"{value * 100:+.0f} %"
