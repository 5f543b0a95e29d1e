# requires: pymysql (python3-pymysql)
"""PyMySQL: escaping and converters without a server, a refused connection on 127.0.0.1."""
import datetime
import decimal

import pymysql
import pymysql.converters as conv

print(pymysql.converters.escape_string("it's \"x\"\n"))
for v in (1, 2.5, "a'b", None, datetime.datetime(2020, 1, 2, 3, 4, 5), decimal.Decimal("1.25"), [1, 2]):
    print(type(v).__name__, conv.escape_item(v, "utf8mb4"))
print(conv.convert_datetime("2020-01-02 03:04:05"), pymysql.constants.FIELD_TYPE.VARCHAR)
try:
    pymysql.connect(host="127.0.0.1", port=1, user="u", connect_timeout=2)
except pymysql.err.OperationalError as e:
    print("connect", e.args[0])
