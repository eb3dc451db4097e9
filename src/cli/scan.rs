//! `wordwarden scan --wordlists DIR [--input-format text|json|wecom] [FILE|-]`

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
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
    /// Input file, one message per line; `-` or nothing for stdin.
    input: Option<PathBuf>,
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
    let reader: Box<dyn Read> = match &args.input {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        ),
    };
    let mut reader = BufReader::new(reader);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut scanner = ruleset.scanner();
    let mut line = Vec::new();
    let mut number = 0usize;
    let mut rejected = 0usize;
    let mut textless: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let mut bytes = &line[..];
        if let Some(b) = bytes.strip_suffix(b"\n") {
            bytes = b.strip_suffix(b"\r").unwrap_or(b);
        }
        if bytes.is_empty() && !matches!(judge.format(), wordwarden::envelope::InputFormat::Text) {
            continue;
        }
        let mut source = Map::new();
        source.insert("line".into(), Value::from(number));
        let j = judge.judge(
            &ruleset,
            &mut scanner,
            bytes,
            source,
            format_args!("line:{number}"),
        );
        if let Some(e) = &j.rejected {
            rejected += 1;
            eprintln!("line {number}: rejected ({}): {e}", e.reason());
            continue;
        }
        if !j.problems.is_empty() {
            rejected += 1;
            for p in &j.problems {
                eprintln!(
                    "line {number}: unreadable field {}: {}",
                    p.pointer, p.reason
                );
            }
        }
        if j.textless {
            *textless
                .entry(j.msgtype.as_deref().unwrap_or_default().to_string())
                .or_default() += 1;
        }
        if let Some(alert) = j.alert.filter(|a| !args.evasive || a.is_evasive()) {
            serde_json::to_writer(&mut out, &alert)?;
            out.write_all(b"\n")?;
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
