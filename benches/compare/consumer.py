"""What a team would write instead of wordwarden: a Python confluent-kafka
consumer with pyahocorasick, doing the same job (consume, match every message,
produce an alert per matching message, commit offsets only after the alerts
are delivered). `benches/pipeline.rs` runs it over the same topic and broker
as wordwarden and a consume-only loop.

    python3 consumer.py --brokers HOST:PORT --topic T --alert-topic A --terms FILE --n N

Prints one JSON line: {"messages", "seconds", "messages_per_s", "alerts"}.
"""

import argparse
import json
import sys
import time

import ahocorasick
from confluent_kafka import Consumer, Producer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--alert-topic", required=True)
    ap.add_argument("--terms", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--group", default="bench-python-peer")
    args = ap.parse_args()

    automaton = ahocorasick.Automaton()
    with open(args.terms, encoding="utf-8") as f:
        for i, t in enumerate(line.strip() for line in f):
            if t:
                automaton.add_word(t, (i, t))
    automaton.make_automaton()

    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.offset.store": False,
        "session.timeout.ms": 6000,
        "max.poll.interval.ms": 10000,
    })
    producer = Producer({"bootstrap.servers": args.brokers, "linger.ms": 5, "acks": "all"})
    consumer.subscribe([args.topic])

    done = alerts = 0
    started = None
    while done < args.n:
        batch = consumer.consume(num_messages=1000, timeout=30)
        if not batch:
            print(f"stalled at {done} of {args.n}", file=sys.stderr)
            break
        if started is None:
            started = time.perf_counter()
        for msg in batch:
            if msg.error():
                continue
            text = msg.value().decode("utf-8", errors="replace")
            hits = [t for _end, (_i, t) in automaton.iter(text)]
            if hits:
                alerts += 1
                producer.produce(args.alert_topic, json.dumps({
                    "source": {"topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset()},
                    "hits": sorted(set(hits)),
                }).encode("utf-8"))
            done += 1
        # at-least-once: offsets only after this batch's alerts are delivered
        producer.flush()
        for msg in batch:
            consumer.store_offsets(msg)
    seconds = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    print(json.dumps({
        "messages": done,
        "seconds": round(seconds, 3),
        "messages_per_s": round(done / seconds) if seconds else 0,
        "alerts": alerts,
    }))


if __name__ == "__main__":
    main()
