//! librdkafka client configuration for the engine's consumer and producer.

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer as _, StreamConsumer};

use super::client_log::{EngineProducer, ProducerContext};
use super::config::Config;
use super::context::EngineContext;
use super::stop::Stop;
use super::{EngineError, Shared};

/// Properties the engine sets unless the operator's `[kafka]` table does.
fn base(config: &Config) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.brokers);
    c.set(
        "client.id",
        format!("wordwarden-{}", env!("CARGO_PKG_VERSION")),
    );
    c
}

fn apply_overrides(c: &mut ClientConfig, config: &Config, consumer: bool) {
    const CONSUMER_ONLY: &[&str] = &[
        "group.id",
        "session.timeout.ms",
        "max.poll.interval.ms",
        "auto.offset.reset",
        "enable.auto.commit",
        "auto.commit.interval.ms",
        "enable.auto.offset.store",
        "isolation.level",
        "partition.assignment.strategy",
        "fetch.min.bytes",
        "fetch.wait.max.ms",
        "queued.min.messages",
        "queued.max.messages.kbytes",
        "heartbeat.interval.ms",
        "group.instance.id",
        "enable.partition.eof",
        "fetch.max.bytes",
        "max.partition.fetch.bytes",
    ];
    const PRODUCER_ONLY: &[&str] = &[
        "acks",
        "linger.ms",
        "queue.buffering.max.ms",
        "queue.buffering.max.messages",
        "queue.buffering.max.kbytes",
        "batch.num.messages",
        "batch.size",
        "compression.type",
        "compression.codec",
        "enable.idempotence",
        "message.timeout.ms",
        "delivery.timeout.ms",
        "retries",
        "retry.backoff.ms",
        "transactional.id",
        "transaction.timeout.ms",
        "max.in.flight.requests.per.connection",
        "max.in.flight",
    ];
    for (k, v) in &config.kafka {
        let excluded = if consumer {
            PRODUCER_ONLY
        } else {
            CONSUMER_ONLY
        };
        if !excluded.contains(&k.as_str()) {
            c.set(k, v);
        }
    }
}

/// The input consumer's `max.poll.interval.ms` unless `[kafka]` says.
pub(crate) const MAX_POLL_INTERVAL_MS: u64 = 60_000;

/// The input consumer: offsets stored by the engine only after delivery.
pub(crate) fn consumer(config: &Config, exactly_once: bool) -> ClientConfig {
    let mut c = base(config);
    c.set("group.id", &config.group)
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("enable.auto.offset.store", "false")
        .set("statistics.interval.ms", "5000")
        .set("session.timeout.ms", "10000")
        .set("max.poll.interval.ms", MAX_POLL_INTERVAL_MS.to_string())
        // bound the prefetch queue: memory follows configuration, not backlog
        .set("queued.max.messages.kbytes", "65536")
        // when that queue is full librdkafka pauses fetching for this long
        // (default 1 s): the engine drains 64 MiB faster than that and would
        // sit idle; measured as a 0.6 s stall per refill against tansu
        .set("fetch.queue.backoff.ms", "20")
        // a broker that holds an empty fetch until this wait expires, rather
        // than answering when data arrives, adds it to every alert's latency
        // (tansu: p50 150 ms at librdkafka's 500 ms default, 24 ms at 50 ms)
        .set("fetch.wait.max.ms", "100");
    if exactly_once {
        c.set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed");
    } else {
        c.set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000");
    }
    apply_overrides(&mut c, config, true);
    c
}

/// The input consumer with the engine's context, subscribed to the input
/// topics. At-least-once commits stored offsets when partitions are revoked;
/// exactly-once commits offsets only inside transactions.
pub(crate) fn engine_consumer(
    config: &Config,
    shared: Arc<Shared>,
    exactly_once: bool,
) -> Result<Arc<StreamConsumer<EngineContext>>, EngineError> {
    let context = EngineContext {
        shared,
        assigned: std::sync::atomic::AtomicI64::new(0),
        partitions: Default::default(),
        joined: std::sync::atomic::AtomicBool::new(false),
        broker_up: std::sync::atomic::AtomicBool::new(false),
        commit_on_revoke: !exactly_once,
        errors: Default::default(),
        newly_assigned: Default::default(),
    };
    let mut settings = consumer(config, exactly_once);
    // librdkafka tells of a position reset only in its log, at warning
    // (counted by `EngineContext::log`): at least that much of it is asked
    // for, whatever this process logs
    if (settings.log_level as i32) < RDKafkaLogLevel::Warning as i32 {
        settings.set_log_level(RDKafkaLogLevel::Warning);
    }
    let consumer: StreamConsumer<EngineContext> = settings.create_with_context(context)?;
    Ok(Arc::new(consumer))
}

/// How long leaving the group (the revoke that unsubscribing starts, and a
/// rebalance already under way that postpones it) may take before the
/// consumer is closed anyway.
const LEAVE_WAIT: Duration = Duration::from_secs(10);

/// How long closing a consumer is awaited before the engine moves on.
const CLOSE_WAIT: Duration = Duration::from_secs(30);

/// Leaves the group with an instance's `consumers` and closes them (each
/// its last reference), one at a time.
///
/// All unsubscribe first, so that none is handed partitions that a sibling's
/// leave frees: leaving one after another, each later one was assigned
/// partitions in the rebalance the earlier one started, held them unjudged
/// through one more rebalance, and the group's other members redid more
/// work (eager rebalancing on the mock cluster, which refuses their commits
/// while the group rebalances). A consumer is closed only once it is out of
/// the group: its revoke served (by polling it, which runs the rebalance
/// callback) and its member id given up, which librdkafka does as it sends
/// the leave. A close begun earlier, with a revoke pending or a rejoin under
/// way, runs into librdkafka's close races: a hang in the callback's
/// unassign (librdkafka issue #4884) and an abort on
/// `rd_kafka_cgrp_terminated: !rd_kafka_assignment_in_progress` (issue
/// #4792); see docs/reliability.md. Closes are one at a time because
/// librdkafka was seen to hang closing two consumers of one group at once.
/// A message that the polling returns is dropped unjudged and uncommitted:
/// the partition's next owner reads it. Unsubscribing, asking for the
/// member id and closing wait on librdkafka's threads, so none runs on an
/// async worker; a close runs on a thread of its own and is awaited at most
/// [`CLOSE_WAIT`] (each wait also ends at the shutdown deadline), so that
/// should librdkafka hang anyway the engine logs it and still exits (a
/// thread of the runtime's blocking pool would hold up the runtime's
/// shutdown for good).
pub(crate) async fn leave_group(consumers: Vec<Arc<StreamConsumer<EngineContext>>>, stop: &Stop) {
    for consumer in &consumers {
        unsubscribe(consumer, stop).await;
    }
    for consumer in consumers {
        if !until_left(&consumer, stop).await {
            tracing::warn!(
                wait_s = LEAVE_WAIT.as_secs(),
                "a consumer had not left its group within the wait or by the shutdown deadline; closing it anyway"
            );
        }
        close(consumer, stop).await;
    }
}

/// Unsubscribes `consumer`, which starts its leave (or, while the group
/// rebalances, has it leave once the rebalance is served).
async fn unsubscribe(consumer: &Arc<StreamConsumer<EngineContext>>, stop: &Stop) {
    let unsubscribing = consumer.clone();
    let _ = stop.blocking(move || unsubscribing.unsubscribe()).await;
}

/// Serves an unsubscribed `consumer` until it is out of its group (see
/// [`leave_group`]); `false` if that took longer than [`LEAVE_WAIT`] or the
/// shutdown deadline.
async fn until_left(consumer: &Arc<StreamConsumer<EngineContext>>, stop: &Stop) -> bool {
    let deadline = tokio::time::Instant::now() + stop.remaining(LEAVE_WAIT);
    loop {
        if consumer.context().assigned.load(Ordering::Relaxed) == 0 {
            let asking = consumer.clone();
            let left = stop
                .blocking(move || member_id(&asking).is_none_or(|id| id.is_empty()))
                .await;
            match left {
                Some(Ok(true)) => return true,
                Some(Ok(false)) => {}
                // the shutdown deadline passed (or the call panicked, which
                // it does not): waiting is over either way
                _ => return false,
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await;
    }
}

/// Closes `consumer` (its last reference) on a thread of its own, awaited
/// at most [`CLOSE_WAIT`] or until the shutdown deadline.
async fn close(consumer: Arc<StreamConsumer<EngineContext>>, stop: &Stop) {
    let (closed_tx, closed) = tokio::sync::oneshot::channel();
    let closing = std::thread::Builder::new()
        .name("consumer-close".into())
        .spawn(move || {
            drop(consumer);
            let _ = closed_tx.send(());
        });
    if let Err(e) = closing {
        tracing::error!(error = %e, "could not start the thread closing a consumer");
        return;
    }
    let wait = stop.remaining(CLOSE_WAIT);
    if tokio::time::timeout(wait, closed).await.is_err() {
        tracing::error!(
            wait_s = wait.as_secs(),
            "closing a consumer did not finish (librdkafka issue #4884); leaving it behind"
        );
    }
}

/// The consumer's member id in its group: empty before it joins and once
/// it has left, `None` if it has no group. A request answered by
/// librdkafka's main thread: not for a rebalance callback (librdkafka waits
/// there for the callback), and not for an async worker.
fn member_id(consumer: &StreamConsumer<EngineContext>) -> Option<String> {
    let rk = consumer.client().native_ptr();
    // SAFETY: `rk` is the live handle that `consumer` owns for this whole
    // call; librdkafka returns a NUL-terminated copy of the id (or null),
    // which is ours to free, once, with `rd_kafka_mem_free` on that handle.
    // rust-rdkafka offers no call for the member id.
    unsafe {
        let id = rdkafka::bindings::rd_kafka_memberid(rk);
        if id.is_null() {
            return None;
        }
        let text = std::ffi::CStr::from_ptr(id).to_string_lossy().into_owned();
        rdkafka::bindings::rd_kafka_mem_free(rk, id.cast());
        Some(text)
    }
}

/// The alert, dead-letter and audit producer, its errors rate-limited.
pub(crate) fn create_producer(
    config: &Config,
    transactional_id: Option<&str>,
) -> Result<EngineProducer, rdkafka::error::KafkaError> {
    producer(config, transactional_id).create_with_context(ProducerContext::default())
}

/// The alert and dead-letter producer's configuration.
pub(crate) fn producer(config: &Config, transactional_id: Option<&str>) -> ClientConfig {
    let mut c = base(config);
    c.set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "30000")
        .set("queue.buffering.max.messages", "100000")
        // dead letters are copies of input messages, which may be large
        .set("message.max.bytes", "67108864");
    if let Some(id) = transactional_id {
        c.set("transactional.id", id)
            .set("transaction.timeout.ms", "60000");
    }
    apply_overrides(&mut c, config, false);
    c
}

/// The librdkafka this binary is built with, and what it can do: its
/// version and `builtin.features` (compression codecs, SASL mechanisms,
/// `oidc` for OAuth tokens it fetches itself), as `wordwarden --version`,
/// `check` and the engine's start show them. What a build lacks is the
/// first thing to know when a setting or an input batch is refused.
///
/// ```
/// let build = wordwarden::engine::librdkafka_build();
/// assert!(build.starts_with("librdkafka 2."));
/// assert!(build.contains("zstd"));
/// ```
pub fn librdkafka_build() -> String {
    let (_, version) = rdkafka::util::get_rdkafka_version();
    let features = ClientConfig::new()
        .create_native_config()
        .and_then(|native| native.get("builtin.features"))
        .unwrap_or_else(|e| format!("unknown: {e}"));
    format!("librdkafka {version} ({})", features.replace(',', ", "))
}

/// The exactly-once producer's `transactional.id`: the configured one,
/// else one stable per group, host and HTTP port. It must stay the same
/// across an instance's restarts (the new producer then aborts what the
/// old one left open at once, instead of readers waiting for it to time
/// out) and differ between instances (the newer fences the older): two
/// instances on one host cannot share a port, and a port stays the same.
pub(crate) fn transactional_id(config: &Config) -> String {
    if let Some(id) = &config.transactional_id {
        return id.clone();
    }
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    default_transactional_id(&config.group, &host, &config.metrics_addr)
}

/// The port that tells instances on one host apart in the default
/// `transactional.id`: `metrics_addr`'s, unless there is none or it is 0
/// (any free port, which changes with every start).
pub(crate) fn instance_port(metrics_addr: &str) -> Option<u16> {
    metrics_addr
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .filter(|&port| port != 0)
}

fn default_transactional_id(group: &str, host: &str, metrics_addr: &str) -> String {
    match instance_port(metrics_addr) {
        Some(port) => format!("wordwarden-{group}-{host}-{port}"),
        None => format!("wordwarden-{group}-{host}"),
    }
}

/// A client config with only the connection settings (admin, side readers).
pub(crate) fn plain(config: &Config) -> ClientConfig {
    let mut c = base(config);
    for (k, v) in &config.kafka {
        if k.starts_with("security.") || k.starts_with("ssl.") || k.starts_with("sasl.") {
            c.set(k, v);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::mocking::MockCluster;

    type Member = Arc<StreamConsumer<EngineContext>>;

    #[test]
    fn the_default_transactional_id_tells_instances_on_one_host_apart() {
        let id = default_transactional_id;
        assert_eq!(
            id("g", "host-a", "0.0.0.0:9464"),
            "wordwarden-g-host-a-9464"
        );
        // a second instance on the host serves another port
        assert_eq!(
            id("g", "host-a", "127.0.0.1:9465"),
            "wordwarden-g-host-a-9465"
        );
        assert_eq!(id("g", "host-a", "[::]:9464"), "wordwarden-g-host-a-9464");
        // no port to tell by, or one that changes with every start
        assert_eq!(id("g", "host-a", ""), "wordwarden-g-host-a");
        assert_eq!(id("g", "host-a", "127.0.0.1:0"), "wordwarden-g-host-a");
        let config = Config {
            transactional_id: Some("set".into()),
            ..Config::default()
        };
        assert_eq!(transactional_id(&config), "set");
    }

    /// The build reads every codec Kafka has (an input batch in a missing
    /// one stalls its partition) and takes every SASL mechanism operators
    /// configure, OAuth tokens fetched by librdkafka itself (`oidc`)
    /// included; Kerberos only in the `kerberos` build.
    #[test]
    fn the_build_has_every_codec_and_sasl_mechanism() {
        let build = librdkafka_build();
        let features: Vec<&str> = build
            .split_once('(')
            .and_then(|(_, list)| list.strip_suffix(')'))
            .unwrap_or_default()
            .split(", ")
            .collect();
        for wanted in [
            "gzip",
            "snappy",
            "lz4",
            "zstd",
            "ssl",
            "sasl_plain",
            "sasl_scram",
            "sasl_oauthbearer",
            "oidc",
        ] {
            assert!(features.contains(&wanted), "{wanted} missing: {build}");
        }
        assert_eq!(
            features.contains(&"sasl_gssapi"),
            cfg!(feature = "kerberos"),
            "{build}"
        );
    }

    fn member(brokers: &str) -> Member {
        let mut config = Config {
            brokers: brokers.to_string(),
            group: "leaving".into(),
            input_topics: vec!["in".into()],
            wordlists: concat!(env!("CARGO_MANIFEST_DIR"), "/wordlists").into(),
            ..Config::default()
        };
        for (k, v) in [
            ("session.timeout.ms", "6000"),
            ("max.poll.interval.ms", "10000"),
            ("heartbeat.interval.ms", "500"),
        ] {
            config.kafka.insert(k.into(), v.into());
        }
        let shared = Shared::new(&config).expect("the bundled lists load");
        let consumer = engine_consumer(&config, shared, false).expect("a consumer");
        consumer.subscribe(&["in"]).expect("subscribed");
        consumer
    }

    /// Polls the members in turn until each has had an assignment and,
    /// between them, they hold `partitions`: each member's first assignment
    /// can come while another has revoked its partitions and not yet been
    /// given them back (the group still rebalancing).
    async fn join(members: &[&Member], partitions: i64) {
        let start = std::time::Instant::now();
        let settled = || {
            members
                .iter()
                .all(|m| m.context().joined.load(Ordering::Relaxed))
                && members
                    .iter()
                    .map(|m| m.context().assigned.load(Ordering::Relaxed))
                    .sum::<i64>()
                    == partitions
        };
        while !settled() {
            assert!(start.elapsed() < Duration::from_secs(60), "no join");
            for m in members {
                let _ = tokio::time::timeout(Duration::from_millis(50), m.recv()).await;
            }
        }
    }

    /// Leaving ends only once a member is out of the group: one that holds
    /// no partition, and one that does, which leaves while the first one's
    /// leave rebalances the group (ending the wait when it held no
    /// partition any more closed it mid-protocol).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_member_is_out_of_its_group_before_it_is_closed() {
        let mock = MockCluster::new(1).expect("mock cluster");
        mock.create_topic("in", 1, 1).expect("topic");
        let brokers = mock.bootstrap_servers();
        let (first, second) = (member(&brokers), member(&brokers));
        join(&[&first, &second], 1).await;
        let holders: Vec<i64> = [&first, &second]
            .iter()
            .map(|m| m.context().assigned.load(Ordering::Relaxed))
            .collect();
        let (idle, busy) = if holders[0] == 0 {
            (first, second)
        } else {
            (second, first)
        };
        assert!(!member_id(&idle).unwrap_or_default().is_empty());
        let (_tx, stop) = super::super::stop::channel(Duration::from_secs(30));
        unsubscribe(&idle, &stop).await;
        assert!(
            until_left(&idle, &stop).await,
            "the idle member left in time"
        );
        assert_eq!(member_id(&idle).as_deref(), Some(""));
        unsubscribe(&busy, &stop).await;
        assert!(until_left(&busy, &stop).await, "the holder left in time");
        assert_eq!(member_id(&busy).as_deref(), Some(""));
        assert_eq!(busy.context().assigned.load(Ordering::Relaxed), 0);
        close(idle, &stop).await;
        close(busy, &stop).await;
    }
}
