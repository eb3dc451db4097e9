//! `wordwarden diff OLD_DIR NEW_DIR [--corpus FILE]`: the review of a list change.

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::diff::{diff_lists, impact, CategoryDiff};
use wordwarden::lists::WordListSet;

use super::load_ruleset;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The list directory before the change.
    old: PathBuf,
    /// The list directory after the change.
    new: PathBuf,
    /// Sample messages, one per line: which would newly alert or stop alerting.
    #[arg(long)]
    corpus: Option<PathBuf>,
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
    let corpus = super::read_corpus(args.corpus.as_deref())?;
    let imp = match &corpus {
        Some(c) => Some(impact(
            &load_ruleset(&args.old)?,
            &load_ruleset(&args.new)?,
            c,
        )),
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
                    println!("  line {}: {}", idx + 1, c[idx]);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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
