//! The Rust side of the side-by-side harness (`benches/compare.sh`):
//! generates the seeded lists and corpus, and runs one Rust peer matcher per
//! process so each peak-memory figure is that engine's own.
//!
//! ```text
//! compare gen-terms --count N --kind realistic|dense OUT
//! compare gen-corpus --mb 30 OUT
//! compare peer ENGINE TERMS CORPUS [PASSES]
//! ```
//! Engines: `ac-auto` (what `AhoCorasick::new` picks), `ac-contiguous`,
//! `ac-noncontiguous`, `ac-dfa` (all standard semantics, overlapping),
//! `ac-leftmost-longest` (the automatic kind, non-overlapping),
//! `daachorse-charwise`, `daachorse-bytewise` (overlapping). Each prints one
//! JSON line like `wordwarden bench`.

#[path = "../corpus/mod.rs"]
mod corpus;

use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, DoubleArrayAhoCorasick};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> &str { args.get(i).map_or("", String::as_str) };
    match arg(0) {
        "gen-terms" => {
            let count: usize = arg(2).parse().expect("--count N");
            let realistic = arg(4) != "dense";
            let terms = corpus::Gen::new(7).terms(count, realistic);
            std::fs::write(arg(5), terms.join("\n") + "\n").expect("write terms");
        }
        "gen-corpus" => {
            let mb: usize = arg(2).parse().expect("--mb N");
            let messages = corpus::Gen::new(42).corpus(mb << 20);
            std::fs::write(arg(3), messages.join("\n") + "\n").expect("write corpus");
        }
        "peer" => peer(arg(1), arg(2), arg(3), arg(4).parse().unwrap_or(3)),
        _ => {
            eprintln!("usage: compare gen-terms --count N --kind realistic|dense OUT | gen-corpus --mb N OUT | peer ENGINE TERMS CORPUS [PASSES]");
            std::process::exit(2);
        }
    }
}

/// Scans every message, calling `hit(message_index)` per occurrence.
enum Engine {
    Ac(AhoCorasick, bool),
    Charwise(CharwiseDoubleArrayAhoCorasick<u32>),
    Bytewise(DoubleArrayAhoCorasick<u32>),
}

impl Engine {
    fn build(name: &str, terms: &[&str]) -> Engine {
        let ac = |kind: Option<AhoCorasickKind>, mk: MatchKind| {
            AhoCorasick::builder()
                .kind(kind)
                .match_kind(mk)
                .build(terms)
                .expect("aho-corasick")
        };
        match name {
            "ac-auto" => Engine::Ac(ac(None, MatchKind::Standard), true),
            "ac-contiguous" => Engine::Ac(
                ac(Some(AhoCorasickKind::ContiguousNFA), MatchKind::Standard),
                true,
            ),
            "ac-noncontiguous" => Engine::Ac(
                ac(Some(AhoCorasickKind::NoncontiguousNFA), MatchKind::Standard),
                true,
            ),
            "ac-dfa" => Engine::Ac(ac(Some(AhoCorasickKind::DFA), MatchKind::Standard), true),
            "ac-leftmost-longest" => Engine::Ac(ac(None, MatchKind::LeftmostLongest), false),
            "daachorse-charwise" => Engine::Charwise(
                CharwiseDoubleArrayAhoCorasick::with_values(
                    terms.iter().enumerate().map(|(i, t)| (*t, i as u32)),
                )
                .expect("daachorse"),
            ),
            "daachorse-bytewise" => Engine::Bytewise(
                DoubleArrayAhoCorasick::with_values(
                    terms.iter().enumerate().map(|(i, t)| (*t, i as u32)),
                )
                .expect("daachorse"),
            ),
            other => {
                eprintln!("unknown engine {other}");
                std::process::exit(2);
            }
        }
    }

    /// Occurrences in `text`.
    fn count(&self, text: &str) -> usize {
        match self {
            Engine::Ac(ac, true) => ac.find_overlapping_iter(text).count(),
            Engine::Ac(ac, false) => ac.find_iter(text).count(),
            Engine::Charwise(d) => d.find_overlapping_iter(text).count(),
            Engine::Bytewise(d) => d.find_overlapping_iter(text).count(),
        }
    }
}

fn peer(name: &str, terms_path: &str, corpus_path: &str, passes: usize) {
    let terms_text = std::fs::read_to_string(terms_path).expect("terms");
    let terms: Vec<&str> = terms_text.lines().filter(|l| !l.is_empty()).collect();
    let corpus_text = std::fs::read_to_string(corpus_path).expect("corpus");
    let messages: Vec<&str> = corpus_text.lines().collect();
    let bytes: usize = messages.iter().map(|m| m.len()).sum();

    let started = Instant::now();
    let engine = Engine::build(name, &terms);
    let build_s = started.elapsed().as_secs_f64();

    let mut best = f64::INFINITY;
    let (mut hits, mut messages_hit) = (0, 0);
    for _ in 0..passes.max(1) {
        let pass = Instant::now();
        let (mut h, mut m) = (0, 0);
        for text in &messages {
            let n = engine.count(text);
            h += n;
            m += usize::from(n > 0);
        }
        best = best.min(pass.elapsed().as_secs_f64());
        (hits, messages_hit) = (h, m);
    }
    println!(
        "{}",
        serde_json::json!({
            "engine": name,
            "terms": terms.len(),
            "build_s": (build_s * 1000.0).round() / 1000.0,
            "messages": messages.len(),
            "scan_mb_s": (bytes as f64 / 1e6 / best * 10.0).round() / 10.0,
            "messages_per_s": (messages.len() as f64 / best).round(),
            "hits": hits,
            "messages_hit": messages_hit,
            "peak_rss_mb": (corpus::peak_rss_mb() * 10.0).round() / 10.0,
        })
    );
}
