# requires: psycopg2 (python3-psycopg2)
"""psycopg2: import the C module, adapters and quoting without a server, extras, a failed connect."""
import datetime
import decimal
import uuid

import psycopg2
import psycopg2.extensions as ext
import psycopg2.extras
from psycopg2 import sql

print("version", psycopg2.__version__.split()[0] > "2", psycopg2.apilevel, psycopg2.paramstyle)
for v in (42, 3.5, "it's", None, True, decimal.Decimal("1.50"), datetime.date(2020, 1, 2), b"\x00\x01"):
    a = ext.adapt(v)
    print(type(v).__name__, a.getquoted() if hasattr(a, "getquoted") else a)
psycopg2.extras.register_uuid()
print(ext.adapt(uuid.UUID(int=1)).getquoted())
print(ext.adapt(psycopg2.extras.Json({"a": [1, 2]})).getquoted())
print(repr(sql.SQL("select {} from {}").format(sql.Identifier("col"), sql.Identifier("tbl")))[:40])
print(psycopg2.extensions.parse_dsn("host=h port=5 dbname=d user=u"))
try:
    psycopg2.connect(host="/nonexistent-libsuite-dir", dbname="x", connect_timeout=1)
except psycopg2.OperationalError as e:
    print("connect", type(e).__name__)
