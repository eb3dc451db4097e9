//! Matching throughput of the full wordwarden pipeline (folding, automaton,
//! boundaries, allow phrases, pinyin and stretch variants) against a bare
//! `aho-corasick` scan (the kind `AhoCorasick::new` picks) and bare
//! `daachorse` char-wise, over the same seeded corpus, in the same run.
//! Prints ratios: these machines are shared, absolute numbers drift.
//!
//! `cargo bench --bench matching` (add `-- --quick` for a smaller corpus).
//! The 1M-term compile is measured in a child process so its peak memory is
//! its own.

mod corpus;

use std::hint::black_box;
use std::time::{Duration, Instant};

use aho_corasick::AhoCorasick;
use corpus::{bundled_sources, list_set, peak_rss_mb, rss_mb, Gen};
use daachorse::CharwiseDoubleArrayAhoCorasick;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::Ruleset;

fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..runs {
        let t = Instant::now();
        out = black_box(f());
        best = best.min(t.elapsed());
    }
    (best, out)
}

/// wordwarden's whole pipeline over the corpus: the best time, and how many
/// messages hit.
fn scan_corpus(rs: &Ruleset, corpus: &[String], runs: usize) -> (Duration, usize) {
    let mut scanner = rs.scanner();
    best_of(runs, || {
        corpus
            .iter()
            .filter(|m| !scanner.scan(&[m.as_str()]).hits.is_empty())
            .count()
    })
}

fn compile_only(n: usize, pinyin: bool) {
    let terms = Gen::new(7).terms(n, true);
    let lists = list_set(&terms);
    drop(terms);
    // reset the high-water mark so the peak below is the compile's own
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = rss_mb();
    let t = Instant::now();
    let rs = Ruleset::builder()
        .pinyin(pinyin)
        .build(&lists)
        .expect("compiles");
    let build_s = t.elapsed().as_secs_f64();
    let after = rss_mb();
    println!(
        "{{\"terms\": {n}, \"build_s\": {build_s:.2}, \"lists_rss_mb\": {before:.0}, \"ruleset_rss_mb\": {:.0}, \"peak_rss_mb\": {:.0}, \"automaton_mb\": {:.0}}}",
        after - before,
        peak_rss_mb(),
        rs.stats().automaton_bytes as f64 / 1048576.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--compile-only") {
        let n = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        compile_only(n, !args.iter().any(|a| a == "--no-pinyin"));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let corpus_bytes = if quick { 2 << 20 } else { 16 << 20 };
    let runs = if quick { 2 } else { 5 };
    wordwarden::fold::warm_up();
    let corpus = Gen::new(42).corpus(corpus_bytes);
    let bytes: usize = corpus.iter().map(String::len).sum();
    let mb = bytes as f64 / 1048576.0;
    println!(
        "corpus: {} messages, {mb:.1} MiB of generated Chinese chat; best of {runs}",
        corpus.len()
    );
    println!(
        "{:<22} {:>8} {:>10} {:>10} {:>10} {:>9} {:>9} {:>8}",
        "lists", "build s", "ww MB/s", "ac MB/s", "daac MB/s", "ww/ac", "ww/daac", "hit %"
    );
    for (n, realistic) in [(1_000, true), (100_000, true), (100_000, false)] {
        let terms = Gen::new(7).terms(n, realistic);
        let t = Instant::now();
        let rs = Ruleset::builder()
            .build(&list_set(&terms))
            .expect("compiles");
        let build_s = t.elapsed().as_secs_f64();
        let ac = AhoCorasick::new(&terms).expect("aho-corasick");
        let daac: CharwiseDoubleArrayAhoCorasick<u32> =
            CharwiseDoubleArrayAhoCorasick::new(&terms).expect("daachorse");

        let (ww_t, hit_msgs) = scan_corpus(&rs, &corpus, runs);
        let (ac_t, _) = best_of(runs, || {
            corpus
                .iter()
                .map(|m| ac.find_overlapping_iter(m.as_str()).count())
                .sum()
        });
        let (daac_t, _) = best_of(runs, || {
            corpus
                .iter()
                .map(|m| daac.find_overlapping_iter(m.as_str()).count())
                .sum()
        });
        let rate = |d: Duration| mb / d.as_secs_f64();
        let label = format!(
            "{}k {}",
            n / 1000,
            if realistic { "realistic" } else { "dense" }
        );
        println!(
            "{label:<22} {build_s:>8.2} {:>10.1} {:>10.1} {:>10.1} {:>9.2} {:>9.2} {:>8.1}",
            rate(ww_t),
            rate(ac_t),
            rate(daac_t),
            ac_t.as_secs_f64() / ww_t.as_secs_f64(),
            daac_t.as_secs_f64() / ww_t.as_secs_f64(),
            100.0 * hit_msgs as f64 / corpus.len() as f64
        );
    }
    // what deployed lists look like: the bundled lists (a mixed term,
    // regexes, detectors, combinations) alone and beside 100k terms; the
    // peers cannot run regexes or detectors, so wordwarden only
    for (label, extra) in [("bundled", 0), ("bundled + 100k", 100_000)] {
        let mut sources = bundled_sources();
        if extra > 0 {
            let terms = Gen::new(7).terms(extra, true).join("\n");
            sources.push(("bench.txt".into(), terms.into_bytes()));
        }
        let t = Instant::now();
        let rs = Ruleset::builder()
            .build(&WordListSet::from_sources(sources))
            .expect("compiles");
        let build_s = t.elapsed().as_secs_f64();
        let (ww_t, hit_msgs) = scan_corpus(&rs, &corpus, runs);
        println!(
            "{label:<22} {build_s:>8.2} {:>10.1} {:>10} {:>10} {:>9} {:>9} {:>8.1}",
            mb / ww_t.as_secs_f64(),
            "-",
            "-",
            "-",
            "-",
            100.0 * hit_msgs as f64 / corpus.len() as f64
        );
    }
    if !quick {
        let exe = std::env::current_exe().expect("bench binary");
        let out = std::process::Command::new(exe)
            .args(["--compile-only", "1000000"])
            .output()
            .expect("child");
        print!("1M-term compile: {}", String::from_utf8_lossy(&out.stdout));
    }
}
