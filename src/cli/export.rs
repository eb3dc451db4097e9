//! `wordwarden export DIR`: the compiled list set as JSON, for other tools.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use wordwarden::lists::{Entry, EntryKind, WordListSet};

use super::load_ruleset;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rs = load_ruleset(&args.dir)?; // refuses a set that does not compile
    let lists = WordListSet::load_dir(&args.dir)?;
    let files: Vec<_> = lists
        .files()
        .iter()
        .map(|f| {
            let pick = |want: fn(&Entry) -> Option<serde_json::Value>| -> Vec<serde_json::Value> {
                f.entries.iter().filter_map(want).collect()
            };
            json!({
                "category": f.category,
                "file": f.path,
                "severity": f.severity,
                "description": f.description,
                "match": f.match_mode,
                "pinyin": f.pinyin,
                "homophones": f.homophones,
                "audience": f.audience,
                "bulk": f.bulk,
                "people": f.people,
                "written": f.window,
                "terms": pick(|e| matches!(e.kind, EntryKind::Term).then(|| json!(e.text()))),
                "combinations": pick(|e| if let EntryKind::Combination(c) = &e.kind { Some(json!({"all": c.all, "none": c.none, "within": c.within})) } else { None }),
                "regexes": pick(|e| matches!(e.kind, EntryKind::Regex).then(|| json!(e.text()))),
                "allow": pick(|e| matches!(e.kind, EntryKind::Allow).then(|| json!(e.text()))),
                "detectors": pick(|e| if let EntryKind::Detector(d) = &e.kind { Some(json!(d.name())) } else { None }),
            })
        })
        .collect();
    // people groups by size only (`stats.people_groups`): their ids are
    // people's, and other tools have no need of them
    let out = json!({"version": rs.version(), "stats": rs.stats(), "lists": files});
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
