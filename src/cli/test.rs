//! `wordwarden test DIR`: run the `.cases` files next to the lists.

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::cases::{read_case_files, run_cases};

use super::load_ruleset;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory (lists and their `.cases` files).
    dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rs = load_ruleset(&args.dir)?;
    let files = read_case_files(&args.dir)?;
    let report = run_cases(&rs, &files);
    for f in &report.failures {
        println!("{f}");
    }
    println!(
        "{} passed, {} failed ({} case files)",
        report.passed,
        report.failures.len(),
        files.len()
    );
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
