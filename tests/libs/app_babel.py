# requires: babel (python3-babel)
"""Babel: locale data (its pickled CLDR files), number/date/currency formatting, plural rules, messages."""
import datetime
import decimal

from babel import Locale, dates, numbers, units
from babel.messages.catalog import Catalog
from babel.plural import PluralRule

for loc in ("en_US", "de_DE", "fr_FR", "ja_JP"):
    L = Locale.parse(loc)
    print(loc, L.display_name, numbers.format_decimal(1234567.891, locale=loc),
          numbers.format_currency(decimal.Decimal("1234.5"), "EUR", locale=loc),
          dates.format_date(datetime.date(2020, 3, 4), format="long", locale=loc))
print(dates.format_datetime(datetime.datetime(2020, 1, 2, 15, 4), "yyyy-MM-dd HH:mm zzzz", tzinfo=dates.get_timezone("Europe/Oslo"), locale="en"))
print(dates.format_timedelta(datetime.timedelta(hours=3), locale="fr"), units.format_unit(12, "length-meter", locale="de"))
print(PluralRule({"one": "n is 1"})(1), Locale("ru").plural_form(3), numbers.parse_decimal("1.234,5", locale="de"))
c = Catalog(locale="de")
c.add("Hello", "Hallo")
print(len(c), c.get("Hello").string)
