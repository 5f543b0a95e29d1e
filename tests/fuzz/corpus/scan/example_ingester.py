"""ingester: read JSON lines from a URL, then send them to Kafka or count them.

    ingester URL            URL from the first argument, else $INGEST_URL
                            (http://, https://, file://, or a plain path)

With $KAFKA_BOOTSTRAP set (host:port[,host:port...]) every record is sent to
the topic $KAFKA_TOPIC (default "events") with kafka-python. Without it the
records are counted, and a summary of the keys seen is printed:

    3 records
      id: 3
      user: 2

A line that is not a JSON object is counted as bad and reported on stderr;
it does not stop the run. Exit status: 0 done, 1 the URL cannot be read or
Kafka fails, 2 usage.
"""
import collections
import json
import os
import pathlib
import sys
import urllib.error
import urllib.parse
import urllib.request

PROG = "ingester"
MAX_REPORTED = 10  # bad lines reported one by one; the rest only counted


def warn(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def to_url(arg):
    """A URL as given, or a plain path turned into a file:// URL."""
    if urllib.parse.urlsplit(arg).scheme:
        return arg
    return pathlib.Path(arg).resolve().as_uri()


def read_records(url, stats):
    """Yield each JSON object of the JSON-lines document at url."""
    with urllib.request.urlopen(url, timeout=30) as resp:
        for lineno, raw in enumerate(resp, 1):
            line = raw.strip()
            if not line:
                continue
            try:
                record = json.loads(line.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError(f"a JSON {type(record).__name__}, not an object")
            except (UnicodeDecodeError, ValueError) as exc:
                stats["bad"] += 1
                if stats["bad"] <= MAX_REPORTED:
                    warn(f"line {lineno}: skipped, bad JSON: {exc}")
                continue
            yield record


def count(records):
    n = 0
    keys = collections.Counter()
    for record in records:
        n += 1
        keys.update(record.keys())
    print(f"{n} records")
    for key in sorted(keys):
        print(f"  {key}: {keys[key]}")
    return 0


def send_to_kafka(records, bootstrap, topic):
    # Imported here only: a build without kafka-python still runs the count path.
    try:
        from kafka import KafkaProducer
    except ImportError:
        warn("KAFKA_BOOTSTRAP is set but kafka-python is not in this build "
             "(pip install kafka-python, then bundle again)")
        return 1
    producer = KafkaProducer(
        bootstrap_servers=[b.strip() for b in bootstrap.split(",") if b.strip()],
        value_serializer=lambda v: json.dumps(v, separators=(",", ":")).encode("utf-8"),
    )
    n = 0
    try:
        for record in records:
            producer.send(topic, record)
            n += 1
        producer.flush()
    finally:
        producer.close()
    print(f"{n} records sent to {topic}")
    return 0


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(f"usage: {PROG} [URL]   (or set INGEST_URL)", file=sys.stderr)
        return 2
    source = argv[1] if len(argv) == 2 else os.environ.get("INGEST_URL", "")
    if not source:
        warn("no URL: give one as the first argument or in INGEST_URL")
        return 2
    url = to_url(source)
    stats = collections.Counter()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP", "").strip()
    try:
        if bootstrap:
            status = send_to_kafka(read_records(url, stats), bootstrap,
                                   os.environ.get("KAFKA_TOPIC", "events"))
        else:
            status = count(read_records(url, stats))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        warn(f"cannot read {source}: {reason}")
        return 1
    if stats["bad"]:
        warn(f"{stats['bad']} bad line(s) skipped")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
