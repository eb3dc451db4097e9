//! `wordwarden lint DIR`

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::lint::lint;
use wordwarden::lists::{Level, WordListSet};
use wordwarden::ruleset::RulesetBuilder;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    dir: PathBuf,
    /// Print diagnostics as JSON lines.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lists = WordListSet::load_dir(&args.dir)?;
    let diags = lint(&lists, &RulesetBuilder::new());
    for d in &diags {
        if args.json {
            println!("{}", serde_json::to_string(d)?);
        } else {
            println!("{d}");
        }
    }
    let errors = diags.iter().filter(|d| d.level == Level::Error).count();
    let warnings = diags.len() - errors;
    eprintln!(
        "{} files, {errors} error(s), {warnings} warning(s), version {}",
        lists.files().len(),
        lists.version()
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
