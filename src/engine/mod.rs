//! The streaming engine: Kafka in, alerts out.
//!
//! ```text
//! input topics ─► consumer ─► worker (by partition) ─► judge ─► producer ─► alert / dead-letter topic
//!                     ▲                                                  │ delivery ack
//!                     └── store offset, in partition order ◄── acker ◄───┘
//! ```
//!
//! Each partition is handled by exactly one worker, so alerts keep the
//! partition's order; a worker's acker awaits deliveries in order and stores an
//! offset only when that message's alert or dead letter, and every earlier one,
//! is acknowledged (at-least-once). `delivery = "exactly-once"` runs the
//! transactional loop instead. Both share [`Shared`]: the current ruleset,
//! metrics and readiness.

pub mod at_least_once;
mod client_log;
mod clients;
pub mod config;
mod context;
pub mod exactly_once;
pub mod http;
pub mod list_topic;
pub mod metrics;
pub mod preflight;
pub mod recall;
mod records;
pub mod reload;
mod stop;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::Serialize;

pub use client_log::FirstErrorContext;
pub use clients::librdkafka_build;
pub use config::{Config, ConfigError, Delivery};
pub use metrics::Metrics;

use crate::alert::AlertBuilder;
use crate::judge::Judge;
use crate::lists::{Diagnostic, WordListSet};
use crate::ruleset::{Ruleset, RulesetBuilder, RulesetError};

/// Engine errors.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The word lists could not be loaded at start.
    #[error(transparent)]
    Ruleset(#[from] RulesetError),
    /// Kafka client error (in the message, not a `source()`: printed once).
    #[error("kafka: {0}")]
    Kafka(rdkafka::error::KafkaError),
    /// A Kafka client error, with the reason librdkafka gave for the first
    /// client error before it: an operation that timed out or found no
    /// broker says why (`certificate verify failed`, `Connection refused`).
    #[error("kafka: {error} (librdkafka: {reason})")]
    KafkaBecause {
        /// The operation's error.
        error: rdkafka::error::KafkaError,
        /// librdkafka's reason for its first client error.
        reason: String,
    },
    /// Exactly-once: another producer started with this instance's
    /// `transactional.id` and took its transactions over (Kafka fences the
    /// older one). Two instances share the id: give each its own.
    #[error(
        "another producer took over transactional.id {transactional_id:?}: two instances \
         run with the same id (set `transactional_id` per instance; on one host, give each \
         instance its own metrics_addr port, which the default id includes)"
    )]
    Fenced {
        /// The id both producers used.
        transactional_id: String,
    },
    /// A consumer task ended abnormally (a bug: reported, never hidden).
    #[error("consumer task failed: {0}")]
    Task(String),
    /// The shutdown did not finish within `shutdown_timeout_secs` (and a
    /// short grace): the engine gave up on it; what was not committed is
    /// read again after the restart.
    #[error("shutdown did not finish within {0} s")]
    ShutdownOverrun(u64),
    /// The HTTP server could not start.
    #[error("cannot listen on {addr}: {cause}")]
    Listen {
        /// The address.
        addr: String,
        /// The cause (in the message, not a `source()`: printed once).
        cause: std::io::Error,
    },
}

impl From<rdkafka::error::KafkaError> for EngineError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        EngineError::Kafka(e)
    }
}

/// What the admin endpoint shows about the loaded ruleset.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RulesetStatus {
    /// Current version.
    pub version: String,
    /// Rules per category.
    pub rules_per_category: std::collections::BTreeMap<String, usize>,
    /// Unix time the current version was loaded.
    pub loaded_at: f64,
    /// The last failed load, if it came after the last success.
    pub last_error: Option<String>,
    /// Its diagnostics with file:line.
    pub last_error_diagnostics: Vec<Diagnostic>,
}

/// State shared by the consumer loop, workers, HTTP server and reloads.
pub struct Shared {
    /// The ruleset every message is judged by; swapped atomically on reload.
    pub ruleset: ArcSwap<Ruleset>,
    /// Options reloads compile with: the start's, built in parallel only
    /// when `reload_parallel_compile` says so.
    pub reload_builder: RulesetBuilder,
    /// All metrics.
    pub metrics: Metrics,
    /// Ruleset status for `/admin/ruleset`.
    pub status: Mutex<RulesetStatus>,
    /// Partitions assigned now.
    pub assigned: AtomicI64,
    /// Consumers of this instance that hold at least one partition.
    pub members_assigned: AtomicI64,
    /// Consumers of this instance that have had an assignment (possibly
    /// empty) since they started: once it equals
    /// [`Config::consumer_count`], every consumer has joined the group once,
    /// and no first join of this instance will start another rebalance.
    pub members_joined: AtomicI64,
    /// At least one broker connection up. Written only by a consumer's
    /// broker report, under the lock of the count of consumers that see a
    /// broker, so the last write always agrees with that count.
    pub brokers_up: AtomicBool,
    /// Consumers of this instance that last saw a broker up. A lock, not an
    /// atomic: a consumer's transition updates its own flag, this count, the
    /// instance's flag and the gauge together, so that two consumers'
    /// transitions racing cannot leave the instance's flag at the value the
    /// earlier one computed (a statistics report every few seconds: cheap).
    pub(crate) consumers_up: Mutex<i64>,
    /// Messages processed (all outcomes), for tests and the demo.
    pub processed: AtomicI64,
    unknown_types_logged: Mutex<HashSet<String>>,
    /// The input format names no sender or recipient (text, json without
    /// `json_from_pointer`/`json_to_pointer`): lists with
    /// `#! audience: external` watch every message.
    names_no_one: bool,
}

/// Hands memory freed by a ruleset compile or drop back to the OS. The
/// binary's allocator (mimalloc) keeps freed pages for reuse, and a compile
/// frees several times the ruleset's own size at once: without this a 1M-term
/// set stays resident at its compile peak (1020 MiB instead of about 500).
/// Harmless under another allocator (mimalloc's own heap is then empty).
pub fn release_freed_memory() {
    // SAFETY: mi_collect only walks mimalloc's own heaps; callable any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// mimalloc v3's `mi_option_purge_delay` (its position in the `mi_option_t`
/// enum; `libmimalloc-sys` names it only for v2; a test checks the default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Compiles `lists` the way a running engine does, at start and on every
/// reload: with the allocator returning freed memory to the OS at once, then
/// everything the compile freed handed back.
///
/// A compile frees much of what it allocates while it runs (the parsed lists
/// as they are consumed, the pending patterns once grouped, each automaton's
/// key list once it is built). mimalloc by default keeps freed pages for a
/// second before purging them, so a compile stayed resident at about the sum
/// of everything it had held rather than its working set: measured at 1M
/// terms, 476 MiB against 296, and a reload beside a resident ruleset peaks
/// exactly there. Purging at once measured no slower: 1.15 s against 1.37 s
/// with the default delay, and 1.14-1.65 s (480 MiB) holding purges back for
/// the whole compile, as this did before (that had measured faster when a
/// 1M-term compile took 3.2 s, 1.1 s of it in the kernel zeroing pages that
/// purging had returned).
///
/// ```
/// use wordwarden::engine;
/// use wordwarden::lists::WordListSet;
/// use wordwarden::ruleset::RulesetBuilder;
///
/// let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕消息\n".into())]);
/// let ruleset = engine::compile(&RulesetBuilder::new(), lists).unwrap();
/// assert_eq!(ruleset.rules().len(), 1);
/// ```
pub fn compile(builder: &RulesetBuilder, lists: WordListSet) -> Result<Ruleset, RulesetError> {
    let built = {
        let _eager = EagerPurge::start();
        builder.build_from(lists)
    };
    release_freed_memory();
    built
}

/// Compiles running now, and the purge delay to restore after the last.
static EAGER_PURGES: Mutex<(usize, std::ffi::c_long)> = Mutex::new((0, 0));

/// Makes mimalloc purge freed memory at once while alive; overlapping
/// guards (two compiles at once) restore the original delay when the last
/// one ends.
struct EagerPurge;

impl EagerPurge {
    fn start() -> EagerPurge {
        let mut purges = EAGER_PURGES.lock().unwrap_or_else(|p| p.into_inner());
        if purges.0 == 0 {
            // SAFETY: mimalloc options are plain atomics, settable from any thread.
            purges.1 = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
            // SAFETY: as above.
            unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
        }
        purges.0 += 1;
        EagerPurge
    }
}

impl Drop for EagerPurge {
    fn drop(&mut self) {
        let mut purges = EAGER_PURGES.lock().unwrap_or_else(|p| p.into_inner());
        purges.0 -= 1;
        if purges.0 == 0 {
            // SAFETY: as in `start`.
            unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, purges.1) };
        }
    }
}

/// Why alerts would call everyone outside the company, when they would:
/// `json` senders and recipients are read, but no domain is the company's.
pub(crate) fn domains_doubt(format: &crate::envelope::InputFormat) -> Option<&'static str> {
    format
        .participants()
        .is_some_and(|p| p.names_people() && p.internal_domains.is_empty())
        .then_some(
            "json_from_pointer/json_to_pointer are set without internal_domains: \
             every address with a domain counts as someone outside the company",
        )
}

/// Why lists meant for conversations with outsiders, or for some people's
/// messages, would watch every message, when they would: the input format
/// names no one.
pub(crate) fn scope_doubt(ruleset: &Ruleset, names_no_one: bool) -> Option<&'static str> {
    (names_no_one && ruleset.is_scoped()).then_some(
        "some lists watch only conversations with someone outside the company \
         (`#! audience: external`) or only some people's messages (`#! people:`), \
         but this input format names no sender or recipient: they watch every \
         message (for `json` input, set json_from_pointer, json_to_pointer and \
         internal_domains)",
    )
}

/// Why lists whose bulk threshold looks back over time (`#! bulk: … within`)
/// would count each message alone, when they would: the input format names
/// no sender.
pub(crate) fn timed_bulk_doubt(ruleset: &Ruleset, names_no_one: bool) -> Option<String> {
    let timed: Vec<String> = ruleset
        .stats()
        .bulk
        .iter()
        .filter(|(_, b)| b.within_secs.is_some())
        .map(|(category, b)| format!("{category} (`#! bulk: {b}`)"))
        .collect();
    (names_no_one && !timed.is_empty()).then(|| {
        format!(
            "{} count a sender's values over time, but this input format names no \
             sender: they count each message's alone (for `json` input, set \
             json_from_pointer)",
            timed.join(", ")
        )
    })
}

/// The ruleset options `config` asks for.
fn builder_for(config: &Config) -> RulesetBuilder {
    RulesetBuilder::new().max_hits(config.max_hits)
}

/// The lists in `config.wordlists`, compiled as the engine starts with them
/// (`builder`: [`builder_for`] the same configuration).
fn start_ruleset(config: &Config, builder: &RulesetBuilder) -> Result<Ruleset, RulesetError> {
    let lists = WordListSet::load_dir(&config.wordlists)?;
    compile(builder, lists)
}

impl Shared {
    /// Loads the ruleset from `config.wordlists`.
    pub fn new(config: &Config) -> Result<Arc<Shared>, EngineError> {
        crate::fold::warm_up();
        let builder = builder_for(config);
        let ruleset = start_ruleset(config, &builder)?;
        let format = config.format()?;
        if let Some(doubt) = domains_doubt(&format) {
            tracing::warn!("{doubt}");
        }
        let shared = Shared {
            ruleset: ArcSwap::from_pointee(ruleset),
            reload_builder: builder.parallel(config.reload_parallel_compile),
            metrics: Metrics::new(),
            status: Mutex::new(RulesetStatus::default()),
            assigned: AtomicI64::new(0),
            members_assigned: AtomicI64::new(0),
            members_joined: AtomicI64::new(0),
            brokers_up: AtomicBool::new(true),
            consumers_up: Mutex::new(0),
            processed: AtomicI64::new(0),
            unknown_types_logged: Mutex::new(HashSet::new()),
            names_no_one: !format.names_people(),
        };
        shared.record_loaded();
        Ok(Arc::new(shared))
    }

    /// Updates metrics and status after a successful (re)load.
    pub fn record_loaded(&self) {
        let rs = self.ruleset.load();
        if let Some(doubt) = scope_doubt(&rs, self.names_no_one) {
            tracing::warn!(version = %rs.version(), "{doubt}");
        }
        if let Some(doubt) = timed_bulk_doubt(&rs, self.names_no_one) {
            tracing::warn!(version = %rs.version(), "{doubt}");
        }
        self.metrics.set_ruleset(&rs);
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        status.version = rs.version().to_string();
        status.rules_per_category = rs.stats().rules_per_category.clone();
        status.loaded_at = metrics::unix_now();
        status.last_error = None;
        status.last_error_diagnostics.clear();
    }

    /// Ready: a ruleset is loaded, a broker is reachable, and partitions are
    /// assigned.
    pub fn ready(&self) -> bool {
        self.assigned.load(Ordering::Relaxed) > 0 && self.brokers_up.load(Ordering::Relaxed)
    }

    /// Logs an unknown message type's name (never its content) once.
    pub(crate) fn note_unknown_msgtype(&self, name: &str) {
        self.metrics.unknown_msgtypes.inc();
        let mut seen = self
            .unknown_types_logged
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if seen.len() < 256 && seen.insert(name.to_string()) {
            tracing::warn!(msgtype = %name.chars().take(64).collect::<String>(), "unknown WeCom message type; scanning its strings as generic JSON");
        }
    }
}

/// Builds the judge for a configuration.
pub fn judge_for(config: &Config) -> Result<Judge, ConfigError> {
    Ok(Judge::new(config.format()?)
        .pseudonymize(config.pseudonymizer()?)
        .seal_evidence(config.evidence_sealer()?.map(std::sync::Arc::new))
        .alerts(
            AlertBuilder::new()
                .context_chars(config.context_chars)
                .full_text_for(config.full_text_categories.clone())
                .mask_personal_data(config.mask_personal_data),
        )
        .max_message_bytes(config.max_message_bytes)
        .input_encoding(config.input_charset()?)
        .bulk_tally_values(config.bulk_tally_max_values)
        .remembered_alerts(config.withdrawal_max_alerts)
        .split_messages(config.split_messages.then(|| crate::split::SplitOptions {
            fragment_chars: config.split_fragment_chars,
            gap_ms: i64::try_from(config.split_gap_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            max_fragments: crate::split::SplitOptions::default().max_fragments,
            max_speakers: config.split_max_speakers.max(1),
        })))
}

/// How long past the shutdown deadline the engine still waits for its last
/// bounded step to return before it gives the shutdown up.
const OVERRUN_GRACE: Duration = Duration::from_secs(2);

/// Runs the engine until `shutdown` resolves, then drains in-flight work,
/// flushes, commits and returns, each step ending at one deadline,
/// `shutdown_timeout_secs` after the signal. A shutdown still unfinished
/// 2 s later is given up: [`EngineError::ShutdownOverrun`], with the
/// engine's tasks and clients left as they are, not dropped (closing a
/// consumer can hang in librdkafka), for the caller to exit.
pub async fn run(
    config: Config,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), EngineError> {
    tracing::info!(build = %librdkafka_build(), "starting");
    let budget = Duration::from_secs(config.shutdown_timeout_secs);
    let (stop_tx, stop_rx) = stop::channel(budget);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!(timeout_s = budget.as_secs(), "stopping");
        stop_tx.stop();
    });
    // reload triggers: files, SIGHUP, HTTP, the word-list topic
    let audit = match &config.audit_topic {
        Some(topic) => Some((clients::create_producer(&config, None)?, topic.clone())),
        None => None,
    };
    let reloader = Arc::new(reload::Reloader::new(
        shared.clone(),
        &config.wordlists,
        audit,
    ));
    let _watcher = if config.watch_wordlists && config.wordlists.is_dir() {
        reload::watch(reloader.clone(), &config.wordlists)
    } else {
        None
    };
    reload::on_sighup(reloader.clone());
    let follower = match &config.wordlists_topic {
        Some(topic) => Some(list_topic::follow(
            clients::plain(&config),
            topic.clone(),
            reloader.clone(),
            stop_rx.clone(),
        )?),
        None => None,
    };
    let http = if config.metrics_addr.is_empty() {
        None
    } else {
        let state = http::AppState {
            shared: shared.clone(),
            reloader: Some(reloader.clone()),
            tokens: config.admin_tokens.clone(),
        };
        let mut stop = stop_rx.clone();
        let shutdown = async move { stop.requested().await };
        Some(http::serve(&config.metrics_addr, state, shutdown).await?)
    };
    let mut engine = Box::pin(async {
        match config.delivery {
            Delivery::AtLeastOnce => at_least_once::run(&config, shared, stop_rx.clone()).await,
            Delivery::ExactlyOnce => exactly_once::run(&config, shared, stop_rx.clone()).await,
        }
    });
    let mut overrun = stop_rx.clone();
    let result = tokio::select! {
        result = &mut engine => result,
        // every step of the shutdown is bounded by the deadline; this is
        // the backstop should one of them not return (a blocking librdkafka
        // call, a producer queue that never drains)
        _ = async {
            overrun.requested().await;
            tokio::time::sleep_until(overrun.deadline() + OVERRUN_GRACE).await;
        } => {
            // not dropped: dropping the consumers would close them here, and
            // a close can hang in librdkafka (see `clients::leave_group`);
            // the process is exiting, so the memory is of no more use
            std::mem::forget(engine);
            tracing::error!(timeout_s = budget.as_secs(), "the shutdown did not finish in time: uncommitted work is read again after the restart");
            Err(EngineError::ShutdownOverrun(budget.as_secs()))
        }
    };
    if let Some(h) = http {
        h.abort();
    }
    if let Some(f) = follower {
        f.abort();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: reading a mimalloc option.
        unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
    }

    /// The delay now, if no compile is running (tests run concurrently,
    /// and other tests compile rulesets).
    fn outside_compiles_delay() -> Option<std::ffi::c_long> {
        let purges = EAGER_PURGES.lock().unwrap_or_else(|p| p.into_inner());
        (purges.0 == 0).then(purge_delay)
    }

    #[test]
    fn compiles_purge_at_once_and_restore_the_delay_after_the_last() {
        let original = outside_compiles_delay();
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            if let Some(d) = original {
                // mimalloc v3's default: the option index is the purge delay
                assert_eq!(d, 1000);
            }
        }
        let first = EagerPurge::start();
        assert_eq!(purge_delay(), 0);
        let second = EagerPurge::start();
        drop(first);
        assert_eq!(purge_delay(), 0, "still eager for the second");
        drop(second);
        let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕消息\n".into())]);
        let rs = compile(&RulesetBuilder::new(), lists).expect("compiles");
        assert_eq!(rs.rules().len(), 1);
        if let (Some(before), Some(after)) = (original, outside_compiles_delay()) {
            assert_eq!(after, before);
        }
    }
}
