//! `wordwarden lint DIR`

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::lint::lint_with_corpus;
use wordwarden::lists::{Level, WordListSet};
use wordwarden::ruleset::RulesetBuilder;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    dir: PathBuf,
    /// Print diagnostics as JSON lines.
    #[arg(long)]
    json: bool,
    /// Sample messages, one per line: warn about terms that fire on too many.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// With --corpus: the share of messages (percent) a term may fire on.
    #[arg(long, default_value_t = 1.0)]
    max_percent: f64,
    /// With --corpus: the encoding of its lines that are not UTF-8
    /// (gb18030, big5, …).
    #[arg(long, default_value = "")]
    input_encoding: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lists = WordListSet::load_dir(&args.dir)?;
    let charset = wordwarden::encoding::Charset::for_label(&args.input_encoding)
        .map_err(|e| anyhow::anyhow!("--input-encoding: {e}"))?;
    let corpus = super::read_corpus(args.corpus.as_deref(), charset)?;
    let diags = lint_with_corpus(
        &lists,
        &RulesetBuilder::new(),
        corpus.as_deref().map(|c| (c, args.max_percent)),
    );
    for d in &diags {
        if args.json {
            println!("{}", serde_json::to_string(d)?);
        } else {
            println!("{d}");
        }
    }
    let errors = diags.iter().filter(|d| d.level == Level::Error).count();
    let warnings = diags.len() - errors;
    let groups = match lists.groups().len() {
        0 => String::new(),
        1 => ", 1 people group".into(),
        n => format!(", {n} people groups"),
    };
    eprintln!(
        "{} files{groups}, {errors} error(s), {warnings} warning(s), version {}",
        lists.files().len(),
        lists.version()
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
