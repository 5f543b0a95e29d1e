# requires: humanize (python3-humanize)
"""humanize: sizes, numbers, ordinals, time deltas, with an activated locale (gettext .mo files)."""
import datetime

import humanize

print(humanize.naturalsize(123456789), humanize.naturalsize(1024, binary=True), humanize.intcomma(1234567))
print(humanize.intword(12300000), humanize.ordinal(22), humanize.apnumber(7), humanize.fractional(0.5))
print(humanize.naturaldelta(datetime.timedelta(seconds=3700)), humanize.precisedelta(datetime.timedelta(days=1, seconds=61)))
humanize.i18n.activate("fr_FR")
print(humanize.naturaldelta(datetime.timedelta(days=3)), humanize.ordinal(2))
humanize.i18n.deactivate()
