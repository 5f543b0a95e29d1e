# requires: pytz (python3-tz)
"""pytz: timezones by name (its zoneinfo files), localize/normalize across DST, country data."""
import datetime

import pytz

ny = pytz.timezone("America/New_York")
d = ny.localize(datetime.datetime(2020, 3, 8, 1, 30))
print(d, ny.normalize(d + datetime.timedelta(hours=1)))
print(pytz.utc.localize(datetime.datetime(2020, 6, 1)).astimezone(pytz.timezone("Asia/Kolkata")))
print(len(pytz.all_timezones) > 400, pytz.country_timezones["nz"], pytz.country_names["no"])
print(pytz.timezone("Europe/London").zone, pytz.FixedOffset(-90))
