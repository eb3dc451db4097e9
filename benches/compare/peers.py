"""The Python side of the side-by-side harness (benches/compare.sh).

    python3 peers.py ENGINE TERMS CORPUS [PASSES]

Runs one matcher that teams reach for in Python over the same seeded list and
corpus as the Rust peers, in its own process (so peak memory is its own), and
prints one JSON line with the same keys as `wordwarden bench`. Engines:
pyahocorasick, ahocorasick-rs, hyperscan, matcher-py-raw, matcher-py-fold
(matcher_py with its VARIANT_NORM | DELETE | NORMALIZE folding).
"""

import json
import resource
import sys
import time


def load(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def build(engine, terms):
    """Returns count(text) -> occurrences for the engine."""
    if engine == "pyahocorasick":
        import ahocorasick

        a = ahocorasick.Automaton()
        for i, t in enumerate(terms):
            a.add_word(t, i)
        a.make_automaton()
        return lambda text: sum(1 for _ in a.iter(text))
    if engine == "ahocorasick-rs":
        import ahocorasick_rs

        a = ahocorasick_rs.AhoCorasick(terms)
        return lambda text: len(a.find_matches_as_indexes(text, overlapping=True))
    if engine == "hyperscan":
        import re

        import hyperscan

        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        exprs = [re.escape(t).encode("utf-8") for t in terms]
        db.compile(
            expressions=exprs,
            ids=list(range(len(exprs))),
            elements=len(exprs),
            flags=[hyperscan.HS_FLAG_UTF8] * len(exprs),
        )
        scratch = hyperscan.Scratch(db)
        counter = [0]

        def on_match(_id, _from, _to, _flags, _ctx):
            counter[0] += 1

        def count(text):
            counter[0] = 0
            db.scan(text.encode("utf-8"), match_event_handler=on_match, scratch=scratch)
            return counter[0]

        return count
    if engine in ("matcher-py-raw", "matcher-py-fold"):
        from matcher_py import ProcessType, SimpleMatcherBuilder

        kind = ProcessType.NONE if engine == "matcher-py-raw" else ProcessType.VARIANT_NORM_DELETE_NORMALIZE
        b = SimpleMatcherBuilder()
        for i, t in enumerate(terms):
            b.add_word(kind, i + 1, t)
        m = b.build()
        # matcher_py reports distinct words per text, not occurrences
        return lambda text: len(m.process(text))
    raise SystemExit(f"unknown engine {engine}")


def main():
    engine, terms_path, corpus_path = sys.argv[1:4]
    passes = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    terms = [t for t in load(terms_path) if t]
    messages = load(corpus_path)
    if messages and messages[-1] == "":
        messages.pop()
    size = sum(len(m.encode("utf-8")) for m in messages)

    started = time.perf_counter()
    count = build(engine, terms)
    build_s = time.perf_counter() - started

    best, hits, messages_hit = float("inf"), 0, 0
    for _ in range(max(passes, 1)):
        t0 = time.perf_counter()
        h = m_hit = 0
        for text in messages:
            n = count(text)
            h += n
            m_hit += n > 0
        best = min(best, time.perf_counter() - t0)
        hits, messages_hit = h, m_hit
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "engine": engine,
        "terms": len(terms),
        "build_s": round(build_s, 3),
        "messages": len(messages),
        "scan_mb_s": round(size / 1e6 / best, 1),
        "messages_per_s": round(len(messages) / best),
        "hits": hits,
        "messages_hit": messages_hit,
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }))


if __name__ == "__main__":
    main()
