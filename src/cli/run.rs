//! `wordwarden run --config FILE [flags]`: the streaming engine.

use std::path::PathBuf;
use std::process::ExitCode;

use wordwarden::engine::{self, Config, Delivery, Shared};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// TOML configuration (see deploy/wordwarden.toml); WORDWARDEN_* variables override it.
    #[arg(long, env = "WORDWARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Kafka bootstrap servers.
    #[arg(long)]
    pub brokers: Option<String>,
    /// Consumer group.
    #[arg(long)]
    pub group: Option<String>,
    /// Input topic (repeatable); `^regex` subscribes by pattern.
    #[arg(long = "input-topic")]
    pub input_topics: Vec<String>,
    /// Alert topic.
    #[arg(long)]
    pub alert_topic: Option<String>,
    /// Dead-letter topic.
    #[arg(long)]
    pub dlq_topic: Option<String>,
    /// Word-list directory.
    #[arg(long)]
    pub wordlists: Option<PathBuf>,
    /// text, json or wecom.
    #[arg(long, value_parser = ["text", "json", "wecom"])]
    pub input_format: Option<String>,
    /// The encoding of messages that are not UTF-8 (gb18030, big5, …).
    #[arg(long)]
    pub input_encoding: Option<String>,
    /// HTTP address for /metrics, /healthz, /readyz, /admin.
    #[arg(long)]
    pub metrics_addr: Option<String>,
    /// at-least-once or exactly-once.
    #[arg(long, value_parser = ["at-least-once", "exactly-once"])]
    pub delivery: Option<String>,
}

impl Args {
    /// The configuration: file, then environment, then flags.
    pub fn resolve(&self) -> anyhow::Result<Config> {
        let mut c = Config::load(self.config.as_deref(), std::env::vars())?;
        if let Some(v) = &self.brokers {
            c.brokers = v.clone();
        }
        if let Some(v) = &self.group {
            c.group = v.clone();
        }
        if !self.input_topics.is_empty() {
            c.input_topics = self.input_topics.clone();
        }
        if let Some(v) = &self.alert_topic {
            c.alert_topic = v.clone();
        }
        if let Some(v) = &self.dlq_topic {
            c.dlq_topic = v.clone();
        }
        if let Some(v) = &self.wordlists {
            c.wordlists = v.clone();
        }
        if let Some(v) = &self.input_format {
            c.input_format = v.clone();
        }
        if let Some(v) = &self.input_encoding {
            c.input_encoding = v.clone();
        }
        if let Some(v) = &self.metrics_addr {
            c.metrics_addr = v.clone();
        }
        if let Some(v) = &self.delivery {
            c.delivery = if v == "exactly-once" {
                Delivery::ExactlyOnce
            } else {
                Delivery::AtLeastOnce
            };
        }
        c.validate()?;
        Ok(c)
    }
}

/// Resolves on SIGTERM or SIGINT. A second one exits the process at once
/// (code 2), as operators expect of a second Ctrl-C: nothing more is
/// committed, so what was not is read again after the restart. The handlers
/// are installed when this is called, not when the future is first polled:
/// a signal while the lists compile (seconds for large lists) is kept for
/// the engine instead of killing the process. Call it inside the runtime.
pub fn termination() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::terminate())
            .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
            .ok()
    };
    async move {
        #[cfg(unix)]
        if let Some((mut term, mut int)) = signals {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
            tokio::spawn(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                tracing::error!("a second stop signal: exiting without finishing the shutdown");
                std::process::exit(2);
            });
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = args.resolve()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ran = runtime.block_on(async move {
        let stop = termination();
        let shared = Shared::new(&config)?;
        tracing::info!(version = %shared.ruleset.load().version(), "word lists loaded");
        engine::run(config, shared, stop).await?;
        Ok(ExitCode::SUCCESS)
    });
    // the engine has stopped; a blocking call still waiting on the brokers
    // (a transactional producer's init during an outage) must not hold up
    // the exit, as dropping the runtime would until the call times out
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    ran
}
