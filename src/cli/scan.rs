//! `wordwarden scan --wordlists DIR [--input-format text|json|wecom] [FILE|-]`

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Map, Value};
use wordwarden::alert::AlertBuilder;
use wordwarden::judge::Judge;

use super::{load_ruleset, FormatArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    #[arg(long)]
    wordlists: PathBuf,
    #[command(flatten)]
    format: FormatArgs,
    /// Characters of context around each hit in the snippet.
    #[arg(long, default_value_t = 10)]
    context: usize,
    /// Quote personal data (phone, ID card and bank card numbers, e-mail
    /// addresses) as written instead of masked (`138****5678`).
    #[arg(long)]
    no_mask: bool,
    /// Messages larger than this many bytes are rejected.
    #[arg(long, default_value_t = 1 << 20)]
    max_message_bytes: usize,
    /// Only alerts with a hit written to get past a filter (its `evasions`):
    /// the messages of an archive where someone worked around the lists.
    #[arg(long)]
    evasive: bool,
    /// Threads judging lines at once (0: one per core); the output keeps
    /// the input's order.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Input file, one message per line; `-` or nothing for stdin.
    input: Option<PathBuf>,
}

/// Lines judged together, split among the threads: at most this many, and
/// no more once they hold [`BATCH_BYTES`] (memory follows the batch, not
/// the file).
const BATCH_LINES: usize = 4096;
const BATCH_BYTES: usize = 16 << 20;

/// What became of one line, as the output writes it.
#[derive(Default)]
struct Outcome {
    /// Lines for stderr: why it was rejected, or which parts could not be read.
    errors: Vec<String>,
    rejected: bool,
    textless: Option<String>,
    /// The alert as one JSON line.
    alert: Option<Vec<u8>>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ruleset = load_ruleset(&args.wordlists)?;
    let judge = Judge::new(args.format.format()?)
        .alerts(
            AlertBuilder::new()
                .context_chars(args.context)
                .mask_personal_data(!args.no_mask),
        )
        .max_message_bytes(args.max_message_bytes);
    let mut reader = super::open_input(args.input.as_deref())?;
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let text_input = matches!(judge.format(), wordwarden::envelope::InputFormat::Text);
    let mut number = 0usize;
    let mut rejected = 0usize;
    let mut textless: BTreeMap<String, usize> = BTreeMap::new();
    let mut batch: Vec<(usize, Vec<u8>)> = Vec::with_capacity(BATCH_LINES);
    loop {
        batch.clear();
        let mut held = 0usize;
        while batch.len() < BATCH_LINES && held < BATCH_BYTES {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            number += 1;
            if line.ends_with(b"\n") {
                line.pop();
                if line.ends_with(b"\r") {
                    line.pop();
                }
            }
            if line.is_empty() && !text_input {
                continue;
            }
            held += line.len();
            batch.push((number, line));
        }
        if batch.is_empty() {
            break;
        }
        // each thread judges a run of lines with its own scanner; the
        // outcomes are written in line order
        let chunk = batch.len().div_ceil(threads);
        let outcomes: Vec<Vec<Outcome>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .chunks(chunk)
                .map(|lines| scope.spawn(|| judge_lines(&ruleset, &judge, lines, args.evasive)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| anyhow::anyhow!("a scanning thread failed"))
                })
                .collect::<anyhow::Result<_>>()
        })?;
        for o in outcomes.into_iter().flatten() {
            for e in &o.errors {
                eprintln!("{e}");
            }
            rejected += usize::from(o.rejected);
            if let Some(t) = o.textless {
                *textless.entry(t).or_default() += 1;
            }
            if let Some(alert) = o.alert {
                out.write_all(&alert)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    if !textless.is_empty() {
        let parts: Vec<String> = textless.iter().map(|(k, v)| format!("{k}={v}")).collect();
        eprintln!("records without text: {}", parts.join(" "));
    }
    Ok(if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Judges numbered lines with one scanner.
fn judge_lines(
    ruleset: &wordwarden::ruleset::Ruleset,
    judge: &Judge,
    lines: &[(usize, Vec<u8>)],
    evasive: bool,
) -> Vec<Outcome> {
    let mut scanner = ruleset.scanner();
    lines
        .iter()
        .map(|(number, bytes)| {
            let mut source = Map::new();
            source.insert("line".into(), Value::from(*number));
            let j = judge.judge(
                ruleset,
                &mut scanner,
                bytes,
                source,
                format_args!("line:{number}"),
            );
            let mut o = Outcome::default();
            if let Some(e) = &j.rejected {
                o.rejected = true;
                o.errors
                    .push(format!("line {number}: rejected ({}): {e}", e.reason()));
                return o;
            }
            for p in &j.problems {
                o.rejected = true;
                o.errors.push(format!(
                    "line {number}: unreadable field {}: {}",
                    p.pointer, p.reason
                ));
            }
            if j.textless {
                o.textless = Some(j.msgtype.as_deref().unwrap_or_default().to_string());
            }
            o.alert = j
                .alert
                .filter(|a| !evasive || a.is_evasive())
                .and_then(|a| serde_json::to_vec(&a).ok());
            o
        })
        .collect()
}
