//! `wordwarden bench --wordlists DIR [--mode fold|raw] FILE`: how fast these
//! lists scan this corpus on this machine, as one JSON line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::RulesetBuilder;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    #[arg(long)]
    wordlists: PathBuf,
    /// `fold`: the full pipeline as the engine runs it; `raw`: every list
    /// matched as written (no folding, no pinyin), to see what folding costs.
    #[arg(long, default_value = "fold", value_parser = ["fold", "raw"])]
    mode: String,
    /// Passes over the corpus; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    passes: usize,
    /// Corpus file, one message per line.
    input: PathBuf,
}

/// What one run measured; the JSON line `bench` prints.
#[derive(Debug, serde::Serialize)]
struct Report {
    mode: String,
    terms: usize,
    build_s: f64,
    messages: usize,
    scan_mb_s: f64,
    messages_per_s: f64,
    hits: usize,
    /// Messages with at least one hit: the figure peers can be checked against.
    messages_hit: usize,
    peak_rss_mb: f64,
    /// Resident memory right after the build, before the corpus is read:
    /// what the compiled lists cost a running engine.
    resident_mb: f64,
    /// The automata's own heap, as the ruleset reports it.
    automaton_mb: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let lists = WordListSet::load_dir(&args.wordlists)
        .with_context(|| format!("cannot load {}", args.wordlists.display()))?;
    let builder = RulesetBuilder::new().raw(args.mode == "raw");
    let ruleset = wordwarden::engine::compile(&builder, lists).map_err(|e| {
        for d in e.diagnostics() {
            eprintln!("{d}");
        }
        anyhow::anyhow!("cannot compile {}: {e}", args.wordlists.display())
    })?;
    let build_s = started.elapsed().as_secs_f64();
    let resident_mb = status_mb("VmRSS:");

    let corpus = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let corpus = String::from_utf8_lossy(&corpus);
    let messages: Vec<&str> = corpus
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let bytes: usize = messages.iter().map(|m| m.len()).sum();

    let mut scanner = ruleset.scanner();
    let mut best = f64::INFINITY;
    let (mut hits, mut messages_hit) = (0, 0);
    for _ in 0..args.passes.max(1) {
        let pass = Instant::now();
        let (mut pass_hits, mut pass_messages) = (0, 0);
        for m in &messages {
            let n = scanner.scan(std::slice::from_ref(m)).hits.len();
            pass_hits += n;
            pass_messages += usize::from(n > 0);
        }
        best = best.min(pass.elapsed().as_secs_f64());
        (hits, messages_hit) = (pass_hits, pass_messages);
    }
    let report = Report {
        mode: args.mode,
        terms: ruleset.rules().len(),
        build_s: round(build_s, 3),
        messages: messages.len(),
        scan_mb_s: round(bytes as f64 / 1e6 / best, 1),
        messages_per_s: round(messages.len() as f64 / best, 0),
        hits,
        messages_hit,
        peak_rss_mb: round(status_mb("VmHWM:"), 1),
        resident_mb: round(resident_mb, 1),
        automaton_mb: round(ruleset.stats().automaton_bytes as f64 / 1048576.0, 1),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A memory figure of this process from `/proc/self/status` (`VmHWM:` peak,
/// `VmRSS:` current) in MiB; 0 where /proc is missing.
fn status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
