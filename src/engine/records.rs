//! One consumed message -> the records to produce (alert, dead letter), shared
//! by the at-least-once and exactly-once loops.

use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use serde_json::{Map, Value};

use super::metrics::msgtype_label;
use super::Shared;
use crate::audience::Audience;
use crate::evasion::Evasion;
use crate::judge::{Judge, StreamMemory};
use crate::lists::Severity;
use crate::ruleset::ScanBuffers;

/// One message in this many has its judging timed for
/// `scan_duration_seconds`: reading the clock twice per message was about 5%
/// of the engine's time at a million messages a second, and a fixed sample
/// keeps the histogram's quantiles.
pub(crate) const SCAN_TIMING_EVERY: u32 = 16;

/// What one consumer keeps from message to message: the scanner's buffers,
/// the count that picks which messages are timed, and what it remembers of
/// its senders' recent messages ([`StreamMemory`]: runs of short messages,
/// values of timed bulk lists), where the input names them.
#[derive(Default)]
pub(crate) struct Workspace {
    buffers: ScanBuffers,
    judged: u32,
    memory: Option<StreamMemory>,
    /// What this consumer's memory added to `split_speakers`,
    /// `bulk_tally_values` and `remembered_alerts`.
    shown: (i64, i64, i64),
    /// Where it stands with its partitions, for recalls.
    continuity: super::recall::Continuity,
    /// Where it saw senders of values counted across conversations.
    senders: SenderPartitions,
}

/// Senders a consumer keeps the partition of, at most (then it starts
/// afresh): enough to see a sender twice.
const MAX_SENDERS: usize = 10_000;

/// The partition a consumer first saw each sender of values for lists
/// counting across conversations on. Such a list counts what one sender
/// sent anyone, which one consumer sees whole only where the input is
/// keyed by sender; a sender on two partitions of a topic says it is not
/// (archive exporters key by conversation), and such lists then count
/// only the values on each consumer's partitions. Kept for messages with
/// such values only: few.
#[derive(Default)]
struct SenderPartitions {
    seen: rustc_hash::FxHashMap<Box<str>, (Box<str>, i32)>,
    warned: bool,
}

impl SenderPartitions {
    /// The partition `sender` was seen on first, where it is another one of
    /// `topic`.
    fn elsewhere(&mut self, sender: &str, topic: &str, partition: i32) -> Option<i32> {
        if let Some((t, p)) = self.seen.get(sender) {
            return (**t == *topic && *p != partition).then_some(*p);
        }
        if self.seen.len() >= MAX_SENDERS {
            self.seen.clear();
        }
        self.seen.insert(sender.into(), (topic.into(), partition));
        None
    }
}

impl Workspace {
    /// A workspace for messages `judge` judges.
    pub fn new(judge: &Judge) -> Self {
        Workspace {
            memory: judge.format().names_people().then(|| judge.memory()),
            ..Default::default()
        }
    }

    /// Brings `split_speakers`, `bulk_tally_values` and `remembered_alerts`
    /// up to date with this consumer's memory (once a batch: the gauges are
    /// shared by the consumers).
    pub fn show_memory(&mut self, metrics: &super::Metrics) {
        let now = self.memory.as_ref().map_or((0, 0, 0), |m| {
            let speakers = m.runs().map_or(0, |w| w.speakers());
            let held = m.tally().values_held();
            (speakers as i64, held as i64, m.alerted().len() as i64)
        });
        if now != self.shown {
            metrics.split_speakers.add(now.0 - self.shown.0);
            metrics.bulk_tally_values.add(now.1 - self.shown.1);
            metrics.remembered_alerts.add(now.2 - self.shown.2);
            self.shown = now;
        }
    }

    /// Whether it remembers senders from message to message (input that
    /// names them): only then is there anything to recall.
    pub fn remembers(&self) -> bool {
        self.memory.is_some()
    }

    /// The memory, for a recall to take and give back.
    pub fn memory_mut(&mut self) -> &mut Option<StreamMemory> {
        &mut self.memory
    }

    /// What to read back into the memory before judging `msg`
    /// ([`super::recall`]): the first of a newly assigned partition whose
    /// earlier messages this consumer did not judge. Never without a
    /// memory; reads nothing of `msg` unless a partition was newly
    /// assigned.
    pub fn recall_due<M: Message>(
        &mut self,
        judge: &Judge,
        assigned: &super::recall::Assigned,
        msg: &M,
    ) -> Option<super::recall::Span> {
        self.memory.as_ref()?;
        if !self.continuity.pending(assigned) {
            return None;
        }
        let (topic, partition, offset) = (msg.topic(), msg.partition(), msg.offset());
        let at_ms = msg.timestamp().to_millis();
        let mut span = self
            .continuity
            .due(assigned, topic, partition, offset, at_ms)?;
        // read from when it was written: an exporter may have published it
        // hours late, and those before it in time
        span.written_ms = judge.written_ms(msg.payload().unwrap_or_default(), at_ms);
        Some(span)
    }

    /// Records that this consumer judged `topic`/`partition` up to `next`
    /// (exclusive), so that getting the partition back there recalls
    /// nothing.
    pub fn judged(&mut self, topic: &str, partition: i32, next: i64) {
        if self.memory.is_some() {
            self.continuity.judged(topic, partition, next);
        }
    }

    /// Whether the next message is one of the timed sample.
    fn time_next(&mut self) -> bool {
        self.judged = self.judged.wrapping_add(1);
        self.judged % SCAN_TIMING_EVERY == 1
    }
}

/// A record to produce, owned so it can be produced again after a failure.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub topic: String,
    pub key: Vec<u8>,
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(&'static str, Vec<u8>)>,
}

/// Bytes of a dead letter kept when the whole message is larger than the
/// broker accepts.
const TRUNCATED_DEAD_LETTER_BYTES: usize = 64 * 1024;

impl Outgoing {
    /// The dead letter cut to its first 64 KiB, with headers saying so; `None`
    /// for records that are not dead letters or are already cut.
    pub fn truncated(&self) -> Option<Outgoing> {
        let payload = self.payload.as_ref()?;
        if !self.headers.iter().any(|(k, _)| *k == "reason")
            || payload.len() <= TRUNCATED_DEAD_LETTER_BYTES
        {
            return None;
        }
        Some(self.cut(TRUNCATED_DEAD_LETTER_BYTES))
    }

    fn cut(&self, keep: usize) -> Outgoing {
        let mut t = self.clone();
        if let Some(p) = &self.payload {
            if p.len() > keep {
                t.payload = Some(p[..keep].to_vec());
                t.headers
                    .retain(|(k, _)| *k != "truncated" && *k != "original_size");
                t.headers.push(("truncated", b"true".to_vec()));
                t.headers
                    .push(("original_size", p.len().to_string().into_bytes()));
            }
        }
        t
    }

    pub fn record(&self) -> FutureRecord<'_, [u8], [u8]> {
        let mut headers = OwnedHeaders::new_with_capacity(self.headers.len());
        for (k, v) in &self.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_slice()),
            });
        }
        let mut r = FutureRecord::to(&self.topic)
            .key(self.key.as_slice())
            .headers(headers);
        if let Some(p) = &self.payload {
            r = r.payload(p.as_slice());
        }
        r
    }
}

/// Values keyed by name (a topic), where consecutive lookups are mostly for
/// the same name: the last one found is compared first, the map holds the
/// others. Hashing a topic name per message was 2-3% of the engine's time.
pub(crate) struct Recent<V> {
    items: Vec<(Box<str>, V)>,
    index: std::collections::HashMap<Box<str>, usize>,
    last: usize,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            items: Vec::new(),
            index: std::collections::HashMap::new(),
            last: 0,
        }
    }
}

impl<V> Recent<V> {
    /// The value for `key`, made by `make` on first use.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        if self.items.get(self.last).is_none_or(|(k, _)| &**k != key) {
            self.last = match self.index.get(key) {
                Some(&i) => i,
                None => {
                    self.items.push((key.into(), make()));
                    self.index.insert(key.into(), self.items.len() - 1);
                    self.items.len() - 1
                }
            };
        }
        &mut self.items[self.last].1
    }

    /// Every value, in first-use order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.items.iter_mut().map(|(_, v)| v)
    }
}

/// Counters resolved once per label set instead of once per message, and
/// histograms observed locally and flushed once per batch: two workers
/// observing the shared ones per message contend on the same cache lines.
#[derive(Default)]
pub(crate) struct CounterCache {
    scan_seconds: Option<prometheus::local::LocalHistogram>,
    latency: Option<prometheus::local::LocalHistogram>,
    /// outcome -> topic -> counter (a handful of outcomes, compared in turn)
    processed: Vec<(&'static str, Recent<prometheus::local::LocalIntCounter>)>,
    /// Wall clock of this batch's acknowledgement, read once per batch (its
    /// messages are acknowledged together).
    now_ms: Option<i64>,
    /// Messages counted since the last flush.
    unflushed: i64,
}

impl CounterCache {
    /// Publishes what was counted locally; call after each batch.
    pub fn flush(&mut self, shared: &Shared) {
        for h in [&self.scan_seconds, &self.latency].into_iter().flatten() {
            h.flush();
        }
        for (_, by_topic) in &mut self.processed {
            by_topic.values_mut().for_each(|c| c.flush());
        }
        self.now_ms = None;
        shared.processed.fetch_add(
            std::mem::take(&mut self.unflushed),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn processed(
        &mut self,
        shared: &Shared,
        topic: &str,
        outcome: &'static str,
    ) -> &mut prometheus::local::LocalIntCounter {
        let i = match self.processed.iter().position(|(o, _)| *o == outcome) {
            Some(i) => i,
            None => {
                self.processed.push((outcome, Recent::default()));
                self.processed.len() - 1
            }
        };
        self.processed[i].1.get_or_insert_with(topic, || {
            shared
                .metrics
                .processed
                .with_label_values(&[topic, outcome])
                .local()
        })
    }
}

/// Counts, and says once a consumer, where a message holding values of a
/// list counting across conversations comes from a sender this consumer
/// saw on another partition of the topic ([`SenderPartitions`]).
fn note_spread_sender<M: Message>(
    workspace: &mut Workspace,
    ruleset: &crate::ruleset::Ruleset,
    j: &crate::judge::Judgement,
    msg: &M,
    shared: &Shared,
) {
    let bulk = &ruleset.stats().bulk;
    let across: Vec<&str> = j
        .tallies
        .iter()
        .map(|(category, _)| category.as_str())
        .filter(|c| bulk.get(*c).is_some_and(|b| b.across_conversations))
        .collect();
    let sender = j
        .alert
        .as_ref()
        .and_then(|a| a.source.get("from"))
        .and_then(Value::as_str);
    let (Some(sender), false) = (sender, across.is_empty()) else {
        return;
    };
    let (topic, partition) = (msg.topic(), msg.partition());
    let senders = &mut workspace.senders;
    let Some(first) = senders.elsewhere(sender, topic, partition) else {
        return;
    };
    shared.metrics.spread_senders.inc();
    if !std::mem::replace(&mut senders.warned, true) {
        // ids of lists and partitions only: no sender, no text
        tracing::warn!(
            topic,
            partitions = ?[first, partition],
            lists = ?across,
            "one sender's values for lists counting across conversations came on two \
             partitions: the input is not keyed by sender, so these lists count only what \
             each consumer's own partitions hold; key the input topic by sender"
        );
    }
}

/// What a processed message produces and how to count it once acknowledged.
/// Small (56 bytes) for the common message that produces nothing: messages
/// wait in the in-flight batches by the hundred thousand, and each is copied
/// into its batch and read again by the acker, often on the other core.
pub(crate) struct Processed {
    pub outcome: &'static str,
    pub broker_timestamp_ms: Option<i64>,
    /// Time spent decoding and scanning, for the timed sample
    /// ([`SCAN_TIMING_EVERY`]); none for others and for an empty value.
    pub scan_seconds: Option<f64>,
    /// The records to produce and what they count as; none for a message
    /// that produces nothing.
    pub produced: Option<Box<Produced>>,
}

/// The records one message produces (an alert, dead letters) and what they
/// count as.
#[derive(Default)]
pub(crate) struct Produced {
    pub outgoing: Vec<Outgoing>,
    pub dead_letter_reason: Option<&'static str>,
    /// What the metrics count of the alert published.
    pub alert: Option<AlertTally>,
}

/// What the metrics count of a published alert.
pub(crate) struct AlertTally {
    severity: Severity,
    audience: Audience,
    hits: Vec<HitTally>,
    /// The categories of the lists whose values it holds in bulk.
    bulk: Vec<String>,
    /// On a sender withdrawing a message that had alerted: its hits were
    /// counted with that message's alert.
    withdrawal: bool,
}

/// What the metrics count of one hit of a published alert.
pub(crate) struct HitTally {
    category: String,
    severity: Severity,
    evasions: Vec<Evasion>,
}

impl Processed {
    /// The records to produce, in order (none for most messages).
    pub fn outgoing(&self) -> &[Outgoing] {
        self.produced.as_deref().map_or(&[], |p| &p.outgoing)
    }

    fn produced_mut(&mut self) -> &mut Produced {
        self.produced.get_or_insert_with(Default::default)
    }

    /// Adds `msg`'s dead letter for `reason` (counted under it once
    /// acknowledged).
    fn dead_letter(
        &mut self,
        msg: &impl Message,
        dlq_topic: &str,
        reason: &'static str,
        detail: &str,
    ) {
        let produced = self.produced_mut();
        produced
            .outgoing
            .push(dead_letter_record(msg, dlq_topic, reason, detail));
        produced.dead_letter_reason = Some(reason);
    }

    /// Counts the message in the metrics after its records were acknowledged.
    /// `cache` keeps the per-(topic, outcome) counters: a label lookup per
    /// message is measurable at this rate.
    pub fn count(&self, shared: &Shared, topic: &str, cache: &mut CounterCache) {
        let m = &shared.metrics;
        cache.processed(shared, topic, self.outcome).inc();
        if let Some(seconds) = self.scan_seconds {
            cache
                .scan_seconds
                .get_or_insert_with(|| m.scan_seconds.local())
                .observe(seconds);
        }
        let produced = self.produced.as_deref();
        if let Some(reason) = produced.and_then(|p| p.dead_letter_reason) {
            m.dead_letters.with_label_values(&[reason]).inc();
        }
        if let Some(alert) = produced.and_then(|p| p.alert.as_ref()) {
            let audience = alert.audience.name();
            m.alerts
                .with_label_values(&[alert.severity.as_str(), audience])
                .inc();
            if alert.withdrawal {
                m.withdrawn_alerts
                    .with_label_values(&[alert.severity.as_str(), audience])
                    .inc();
            }
            for category in &alert.bulk {
                m.bulk_alerts
                    .with_label_values(&[category.as_str(), audience])
                    .inc();
            }
            for hit in &alert.hits {
                m.hits
                    .with_label_values(&[hit.category.as_str(), hit.severity.as_str()])
                    .inc();
                for e in &hit.evasions {
                    m.evasions.with_label_values(&[e.name()]).inc();
                }
            }
        }
        if let Some(ts) = self.broker_timestamp_ms {
            let now_ms = *cache
                .now_ms
                .get_or_insert_with(|| (super::metrics::unix_now() * 1000.0) as i64);
            if now_ms >= ts {
                cache
                    .latency
                    .get_or_insert_with(|| m.latency.local())
                    .observe((now_ms - ts) as f64 / 1000.0);
            }
        }
        cache.unflushed += 1;
    }
}

fn dead_letter_record(msg: &impl Message, dlq_topic: &str, reason: &str, detail: &str) -> Outgoing {
    let mut out = Outgoing {
        topic: dlq_topic.to_string(),
        key: msg.key().map(<[u8]>::to_vec).unwrap_or_default(),
        payload: msg.payload().map(<[u8]>::to_vec),
        headers: vec![
            ("reason", reason.as_bytes().to_vec()),
            ("detail", detail.as_bytes().to_vec()),
            ("source_topic", msg.topic().as_bytes().to_vec()),
            ("source_partition", msg.partition().to_string().into_bytes()),
            ("source_offset", msg.offset().to_string().into_bytes()),
        ],
    };
    // a redriven message that fails again says so: its cause is not fixed
    let redriven_from = msg.headers().and_then(|headers| {
        headers
            .iter()
            .filter(|h| h.key == "redriven_from")
            .last()
            .and_then(|h| h.value)
    });
    if let Some(from) = redriven_from {
        out.headers.push(("redriven_from", from.to_vec()));
    }
    // larger than a dead-letter topic takes by default: keep the head, say so
    match out.payload.as_ref().map(Vec::len) {
        Some(n) if n > DEAD_LETTER_MAX_BYTES => out.cut(DEAD_LETTER_MAX_BYTES),
        _ => out,
    }
}

/// Dead letters are copied byte for byte up to this size (the dead-letter
/// topic's `max.message.bytes` must allow it); larger messages are cut to it
/// with headers `truncated: true` and `original_size`.
pub(crate) const DEAD_LETTER_MAX_BYTES: usize = 8 << 20;

/// `topic/partition/offset`: the identity of a message without an id of its
/// own, formatted only when it alerts.
struct Position<'a, M>(&'a M);

// by hand: a reference is Copy whatever `M` is
impl<M> Clone for Position<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Position<'_, M> {}

impl<M: Message> std::fmt::Display for Position<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.0;
        write!(f, "{}/{}/{}", m.topic(), m.partition(), m.offset())
    }
}

/// Judges one consumed message with `ruleset` (the caller loads the current
/// one once per batch: a shared reference count touched per message by every
/// consumer is a contended cache line).
pub(crate) fn process<M: Message>(
    judge: &Judge,
    shared: &Shared,
    ruleset: &crate::ruleset::Ruleset,
    workspace: &mut Workspace,
    msg: &M,
    alert_topic: &str,
    dlq_topic: &str,
) -> Processed {
    let broker_timestamp_ms = msg.timestamp().to_millis();
    let mut processed = Processed {
        outcome: "clean",
        broker_timestamp_ms,
        scan_seconds: None,
        produced: None,
    };
    let Some(payload) = msg.payload() else {
        processed.dead_letter(msg, dlq_topic, "empty", "null message value");
        processed.outcome = "dead_letter";
        return processed;
    };
    let fallback = Position(msg);
    // ids only, never text: logs must not carry message content
    tracing::trace!(
        topic = msg.topic(),
        partition = msg.partition(),
        offset = msg.offset(),
        bytes = payload.len(),
        "judging"
    );
    let started = workspace.time_next().then(std::time::Instant::now);
    let mut scanner = ruleset.scanner_with(std::mem::take(&mut workspace.buffers));
    let mut j = judge.judge_in(
        ruleset,
        &mut scanner,
        workspace.memory.as_mut(),
        payload,
        Map::new(),
        fallback,
        broker_timestamp_ms,
    );
    if let Some(alert) = j.alert.as_mut() {
        // where the message came from; built only for the few that alert
        let source = &mut alert.source;
        source.insert("topic".into(), Value::from(msg.topic()));
        source.insert("partition".into(), Value::from(msg.partition()));
        source.insert("offset".into(), Value::from(msg.offset()));
        if let Some(k) = msg.key() {
            source.insert(
                "key".into(),
                Value::from(String::from_utf8_lossy(k).into_owned()),
            );
        }
        if let Some(ts) = broker_timestamp_ms {
            source.insert("timestamp".into(), Value::from(ts));
        }
    }
    workspace.buffers = scanner.into_buffers();
    processed.scan_seconds = started.map(|t| t.elapsed().as_secs_f64());
    if !j.tallies.is_empty() {
        note_spread_sender(workspace, ruleset, &j, msg, shared);
    }

    if j.transcoded {
        shared.metrics.transcoded.inc();
    }
    if let Some(err) = &j.rejected {
        let reason = err.reason();
        processed.dead_letter(msg, dlq_topic, reason, &err.to_string());
        processed.outcome = "dead_letter";
        return processed;
    }
    let label = msgtype_label(j.msgtype.as_deref());
    if label == "other" {
        if let Some(t) = &j.msgtype {
            shared.note_unknown_msgtype(t);
        }
    }
    if j.textless {
        shared.metrics.textless.with_label_values(&[label]).inc();
        processed.outcome = "textless";
    }
    if let Some(why) = &j.evidence_withheld {
        tracing::warn!(reason = %why, "alert published without its quotes of the message: sealing them failed");
    }
    if let Some(alert) = &j.alert {
        let key = match alert.source.get("msgid") {
            Some(Value::String(s)) => s.clone().into_bytes(),
            Some(other) => other.to_string().into_bytes(),
            None => fallback.to_string().into_bytes(),
        };
        match serde_json::to_vec(alert) {
            Ok(payload) => {
                let produced = processed.produced_mut();
                produced.outgoing.push(Outgoing {
                    topic: alert_topic.to_string(),
                    key,
                    payload: Some(payload),
                    headers: vec![
                        ("ruleset_version", alert.ruleset_version.as_bytes().to_vec()),
                        ("content-type", b"application/json".to_vec()),
                        ("alert_id", alert.alert_id.as_bytes().to_vec()),
                    ],
                });
                let withdrawal = alert.is_withdrawal();
                produced.alert = Some(AlertTally {
                    severity: alert.severity,
                    audience: alert.audience,
                    hits: alert
                        .hits
                        .iter()
                        .filter(|_| !withdrawal)
                        .map(|h| HitTally {
                            category: h.category.clone(),
                            severity: h.severity,
                            evasions: h.evasions.clone(),
                        })
                        .collect(),
                    bulk: alert.bulk.iter().map(|b| b.category.clone()).collect(),
                    withdrawal,
                });
                processed.outcome = "alert";
            }
            Err(e) => {
                // cannot happen for our own types; never drop silently
                processed.dead_letter(msg, dlq_topic, "alert_encoding", &e.to_string());
                processed.outcome = "dead_letter";
            }
        }
    }
    if !j.problems.is_empty() {
        let pointers: Vec<&str> = j.problems.iter().map(|p| p.pointer.as_str()).collect();
        let detail = format!("unreadable field(s) {}", pointers.join(", "));
        processed.dead_letter(msg, dlq_topic, "unreadable_field", &detail);
        if processed.outcome == "clean" {
            processed.outcome = "dead_letter";
        }
    }
    processed
}

#[cfg(test)]
mod tests {
    use super::{Recent, Workspace, SCAN_TIMING_EVERY};

    #[test]
    fn one_message_in_every_few_is_timed_starting_with_the_first() {
        let mut w = Workspace::default();
        let timed: Vec<usize> = (0..3 * SCAN_TIMING_EVERY as usize)
            .filter(|_| w.time_next())
            .collect();
        let every = SCAN_TIMING_EVERY as usize;
        assert_eq!(timed, vec![0, every, 2 * every]);
    }

    #[test]
    fn recent_keeps_one_value_per_key_whatever_the_order() {
        let mut recent = Recent::default();
        let mut made = 0;
        for key in ["a", "a", "b", "a", "c", "b", "b", "a"] {
            let v: &mut Vec<&str> = recent.get_or_insert_with(key, || {
                made += 1;
                Vec::new()
            });
            v.push(key);
        }
        assert_eq!(made, 3);
        let values: Vec<Vec<&str>> = recent.values_mut().map(|v| v.clone()).collect();
        assert_eq!(
            values,
            vec![vec!["a"; 4], vec!["b"; 3], vec!["c"]],
            "first-use order, every lookup on its own key"
        );
    }
}
