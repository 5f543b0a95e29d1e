# requires: dateutil (python3-dateutil)
"""python-dateutil: parser, relativedelta, rrule, tz (the system's zoneinfo, POSIX TZ strings)."""
import datetime

from dateutil import easter, parser, relativedelta, rrule, tz

print(parser.parse("2020-03-04T05:06:07+02:00"), parser.parse("March 5th, 2021 4pm", fuzzy=True))
d = datetime.datetime(2020, 1, 31)
print(d + relativedelta.relativedelta(months=+1), relativedelta.relativedelta(datetime.date(2021, 5, 1), datetime.date(2020, 1, 15)))
print(list(rrule.rrule(rrule.WEEKLY, count=3, byweekday=rrule.FR, dtstart=datetime.datetime(2020, 1, 1))))
print(rrule.rrulestr("FREQ=MONTHLY;COUNT=2;BYMONTHDAY=-1", dtstart=datetime.datetime(2020, 1, 1))[1])
oslo = tz.gettz("Europe/Oslo")
print(datetime.datetime(2020, 7, 1, 12, tzinfo=oslo).utcoffset(), tz.UTC, easter.easter(2024))
print(datetime.datetime(2020, 1, 1, tzinfo=tz.gettz("America/New_York")).utcoffset(), tz.tzstr("EST5EDT").utcoffset(datetime.datetime(2020, 7, 1)))
