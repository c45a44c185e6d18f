"""Locale-aware money and dates (Babel), memoised: prices repeat across recipients."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

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
    # Shoppers expect half a yen to round up; Babel alone would round half to even.
    digits = get_currency_precision(currency)
    rounded = Decimal(amount).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return format_currency(rounded, currency, locale=babel_locale(locale))


@lru_cache(maxsize=4096)
def _date(day: object, locale: str, format: str = "medium") -> str:
    return _format_date(day, format=format, locale=babel_locale(locale))


def long_date(value: datetime, locale: str) -> str:
    """A date the way the recipient's locale writes it (``Nov 3, 2026``)."""
    return _date(value.date(), locale)


def format_day(value: date, locale: str, format: str = "medium") -> str:
    """A date in one of Babel's formats (``short``, ``medium``, ``long``, ``full``) for ``locale``."""
    return _date(value, locale, format)


@lru_cache(maxsize=256)
def locale_currency(locale: str) -> str:
    """The currency of the locale's country (``EUR`` for de-DE, ``JPY`` for ja-JP); ``USD`` without one."""
    parsed = babel_locale(locale)
    territory = parsed.territory or {"ja": "JP", "de": "DE", "fr": "FR", "es": "ES", "en": "US"}.get(parsed.language)
    currencies = get_territory_currencies(territory) if territory else []
    return currencies[0] if currencies else "USD"


@lru_cache(maxsize=1024)
def country_name(code: str, locale: str) -> str:
    return babel_locale(locale).territories.get(code, code)


@lru_cache(maxsize=1024)
def _plural_form(count: int | float, language: str) -> str:
    return babel_locale(language).plural_form(count)


def plural_form(count: object, language: str) -> str:
    """The CLDR plural category of ``count`` in ``language`` (``one``, ``few``, ``other``, ...)."""
    if isinstance(count, bool) or not isinstance(count, (int, float)):
        return "other"
    return _plural_form(count, language)


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("-")[0].split("_")[0].lower() in RTL_LANGUAGES else "ltr"
