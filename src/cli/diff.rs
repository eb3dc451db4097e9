//! `wordwarden diff OLD_DIR NEW_DIR [--corpus FILE]`: the review of a list
//! change. The corpus is judged as the engine judges its input format, in
//! order (records naming their senders: split runs and bulk over time).

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::diff::{diff_lists, impact_of, CategoryDiff};
use wordwarden::envelope::{decode, InputFormat};
use wordwarden::judge::Judge;
use wordwarden::lists::WordListSet;
use wordwarden::split::SplitOptions;

use super::{load_ruleset, FormatArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The list directory before the change.
    old: PathBuf,
    /// The list directory after the change.
    new: PathBuf,
    /// Sample messages, one per line (records of --input-format, in the
    /// order they were sent): which would newly alert, stop alerting, or
    /// alert at another severity.
    #[arg(long)]
    corpus: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArgs,
    /// Show at most this many example messages each way.
    #[arg(long, default_value_t = 10)]
    examples: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (old, new) = (
        WordListSet::load_dir(&args.old)?,
        WordListSet::load_dir(&args.new)?,
    );
    let d = diff_lists(&old, &new);
    let format = args.format.format()?;
    let corpus = super::read_corpus(args.corpus.as_deref(), args.format.charset()?)?;
    let imp = match &corpus {
        Some(c) => {
            // as the engine judges: runs of split messages on by default
            let judge = Judge::new(format.clone()).split_messages(Some(SplitOptions::default()));
            Some(impact_of(
                &load_ruleset(&args.old)?,
                &load_ruleset(&args.new)?,
                &judge,
                c,
            ))
        }
        None => None,
    };
    if args.json {
        println!("{}", serde_json::json!({"lists": d, "impact": imp}));
        return Ok(ExitCode::SUCCESS);
    }
    println!("version {} -> {}", d.old_version, d.new_version);
    if d.categories.is_empty() && d.groups.is_empty() {
        println!("no entry changed");
    }
    for (cat, c) in &d.categories {
        print_changes(
            &format!("[{cat}] +{} -{}", c.added.len(), c.removed.len()),
            c,
        );
    }
    for (name, g) in &d.groups {
        let (added, removed) = (g.added.len(), g.removed.len());
        print_changes(&format!("(people {name}) +{added} -{removed} ids"), g);
    }
    if let (Some(i), Some(c)) = (&imp, &corpus) {
        println!(
            "\nimpact on {} messages: {} alert before, {} after; {} newly alert, {} stop alerting, {} change severity",
            i.messages,
            i.alerting_before,
            i.alerting_after,
            i.newly_alerting.len(),
            i.stopped_alerting.len(),
            i.severity_changed.len()
        );
        for (cat, (up, down)) in &i.per_category {
            println!("  [{cat}] +{up} -{down} messages");
        }
        for (label, list) in [
            ("newly alerting", &i.newly_alerting),
            ("no longer alerting", &i.stopped_alerting),
            ("alerting at another severity", &i.severity_changed),
        ] {
            if !list.is_empty() {
                println!("{label} (first {}):", args.examples.min(list.len()));
                for &idx in list.iter().take(args.examples) {
                    println!("  line {}: {}", idx + 1, shown(&c[idx], &format));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A corpus line as an example: a text as it is, a record by its id and
/// the start of its first text.
fn shown(line: &str, format: &InputFormat) -> String {
    if matches!(format, InputFormat::Text) {
        return line.to_string();
    }
    match decode(line.as_bytes(), format) {
        Ok(msg) => {
            let text: String = msg
                .fields
                .first()
                .map(|f| f.text.chars().take(60).collect())
                .unwrap_or_default();
            match msg.id {
                Some(id) => format!("{id}: {text}"),
                None => text,
            }
        }
        Err(e) => format!("(not judged: {e})"),
    }
}

/// One category's (or people group's) changes under its header.
fn print_changes(header: &str, c: &CategoryDiff) {
    println!("\n{header}");
    for ch in &c.changed {
        println!("  ~ {ch}");
    }
    for a in &c.added {
        println!("  + {a}");
    }
    for r in &c.removed {
        println!("  - {r}");
    }
}
