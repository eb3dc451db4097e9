//! `wordwarden export DIR`: the compiled list set as JSON, for other tools.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use wordwarden::lists::{EntryKind, WordListSet};

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
            let pick = |want: fn(&EntryKind) -> Option<serde_json::Value>| -> Vec<serde_json::Value> {
                f.entries.iter().filter_map(|e| want(&e.kind)).collect()
            };
            json!({
                "category": f.category,
                "file": f.path,
                "severity": f.severity,
                "description": f.description,
                "match": f.match_mode,
                "pinyin": f.pinyin,
                "terms": pick(|k| if let EntryKind::Term(t) = k { Some(json!(t)) } else { None }),
                "combinations": pick(|k| if let EntryKind::Combination { all, none } = k { Some(json!({"all": all, "none": none})) } else { None }),
                "regexes": pick(|k| if let EntryKind::Regex(r) = k { Some(json!(r)) } else { None }),
                "allow": pick(|k| if let EntryKind::Allow(a) = k { Some(json!(a)) } else { None }),
                "detectors": pick(|k| if let EntryKind::Detector(d) = k { Some(json!(d.name())) } else { None }),
            })
        })
        .collect();
    let out = json!({"version": rs.version(), "stats": rs.stats(), "lists": files});
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
