"""Locale-aware money and dates (Babel), memoised: prices repeat across recipients."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.numbers import format_currency

RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "ps", "yi"})


@lru_cache(maxsize=256)
def babel_locale(tag: str) -> Locale:
    """Parse ``en-US`` / ``en_US``; unknown locales fall back to ``en_US``."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


@lru_cache(maxsize=8192)
def money(amount: Decimal, currency: str, locale: str) -> str:
    """``$1,234.50`` for en-US, ``1.234,50 €`` for de-DE, ``￥1,235`` for ja-JP."""
    return format_currency(amount, currency, locale=babel_locale(locale))


@lru_cache(maxsize=4096)
def _date(day: object, locale: str) -> str:
    return _format_date(day, format="medium", locale=babel_locale(locale))


def long_date(value: datetime, locale: str) -> str:
    """A date the way the recipient's locale writes it (``Nov 3, 2026``)."""
    return _date(value.date(), locale)


@lru_cache(maxsize=1024)
def country_name(code: str, locale: str) -> str:
    return babel_locale(locale).territories.get(code, code)


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("-")[0].split("_")[0].lower() in RTL_LANGUAGES else "ltr"
