# requires: arrow (python3-arrow)
"""arrow: parse, shift, format, humanize with a fixed reference, timezones."""
import arrow

a = arrow.get("2020-03-04T05:06:07+00:00")
print(a, a.shift(months=1, hours=-2), a.to("US/Pacific"), a.format("YYYY-MM-DD HH:mm ZZ"))
print(a.humanize(arrow.get("2020-03-06T05:06:07+00:00")), a.humanize(a.shift(hours=3), locale="de"))
print(arrow.get("04/03/2020 10:00", "DD/MM/YYYY HH:mm", tzinfo="Europe/Oslo"), a.span("week"))
print([str(r.date()) for r in arrow.Arrow.range("day", a, a.shift(days=2))])
