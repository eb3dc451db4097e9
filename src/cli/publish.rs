//! `wordwarden publish-wordlists DIR --brokers .. --topic ..`: lint a list set
//! and publish it to the compacted word-list topic that instances follow
//! (`wordlists_topic`). Nothing is published when lint finds errors.

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::engine::list_topic;
use wordwarden::lint::lint;
use wordwarden::lists::{read_sources, Level, WordListSet};
use wordwarden::ruleset::RulesetBuilder;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The word-list directory.
    dir: PathBuf,
    /// Kafka bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// The word-list topic.
    #[arg(long, default_value = "wordwarden.wordlists")]
    topic: String,
    /// Who publishes (recorded in every instance's audit trail).
    #[arg(long, env = "USER", default_value = "unknown")]
    publisher: String,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    props: Vec<(String, String)>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sources = read_sources(&args.dir)?;
    let set = WordListSet::from_sources(sources.clone());
    let diags = lint(&set, &RulesetBuilder::new());
    let errors: Vec<_> = diags.iter().filter(|d| d.level == Level::Error).collect();
    if !errors.is_empty() {
        for d in &errors {
            eprintln!("{d}");
        }
        eprintln!("not published: {} error(s)", errors.len());
        return Ok(ExitCode::from(1));
    }
    let mut client = rdkafka::ClientConfig::new();
    client.set("bootstrap.servers", &args.brokers);
    for (k, v) in &args.props {
        client.set(k, v);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let manifest = runtime.block_on(list_topic::publish(
        &client,
        &args.topic,
        sources,
        &args.publisher,
    ))?;
    println!(
        "published version {} ({} files) to {}",
        manifest.version,
        manifest.files.len(),
        args.topic
    );
    Ok(ExitCode::SUCCESS)
}
