"""Per-recipient Jinja filters that format values for the recipient's locale.

``{{ amount | money }}`` and ``{{ when | date }}`` read the recipient's
``Locale`` from the context; both memoise, since the same prices and days
come back recipient after recipient. Values the engine already formatted
(``p.price``, ``LastPurchaseDate``) are strings and pass through unchanged,
so ``{{ p.price | money }}`` is harmless.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from renderer.sandbox.formatting import format_day, locale_currency, money, plural_form

DATE_FORMATS = frozenset({"short", "medium", "long", "full"})


def _locale(context: Context) -> str:
    locale = context.get("Locale")
    return locale if isinstance(locale, str) else "en-US"


@pass_context
def money_filter(context: Context, amount: Any, currency: str | None = None) -> Any:
    """``{{ 1234.5 | money }}``: $1,234.50 for en-US, 1.234,50 € for de-DE, ￥1,235 for ja-JP.

    The currency is the locale's own unless given (``{{ total | money('EUR') }}``).
    """
    if amount is None or isinstance(amount, str) and not amount.replace(".", "", 1).isdigit():
        return amount
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return amount
    locale = _locale(context)
    return money(value, currency or locale_currency(locale), locale)


@pass_context
def date_filter(context: Context, value: Any, format: str = "medium") -> Any:
    """``{{ when | date }}`` in the locale's format (``Nov 3, 2026``, ``03.11.2026``, ``2026/11/03``).

    Takes a date, a datetime or an ISO 8601 string; ``format`` is short, medium, long or full.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return value
    return format_day(value, _locale(context), format if format in DATE_FORMATS else "medium")


# ``{{ n | plural_form('de') }}``: the CLDR category of a number (what ``[[ plural(...) ]]`` messages use).
FILTERS = {"money": money_filter, "date": date_filter, "plural_form": plural_form}
