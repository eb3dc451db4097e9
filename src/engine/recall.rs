//! Recall: a consumer given a partition reads back what its memory would
//! hold of it had it judged the partition all along.
//!
//! A consumer's [`StreamMemory`] (runs of short messages, timed bulk lists'
//! values) is built from the messages it judges. When a partition comes to
//! it (the engine starts, restarts, or the group rebalances), its previous
//! owner's memory of that partition is gone with it: a customer roster
//! sent three numbers a message across a restart would count from zero.
//! The partition itself is the record of what that memory held, so before
//! judging a newly assigned partition's first message the consumer reads
//! the messages just before it, as far back as the memory reaches
//! ([`StreamMemory::reach_ms`] before that message was written, which
//! every message written since was published after: [`since_ms`]) and at most
//! `recall_max_messages`, and judges them into its memory, alerting on
//! nothing (their alerts went out when they were judged first). Where it
//! judged the partition itself up to that message (a rebalance that gave
//! the partition back), it reads nothing; where others judged part of it
//! meanwhile, only that part.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::message::Message as _;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::ClientConfig;
use rustc_hash::FxHashMap;

use crate::judge::{Judge, StreamMemory};
use crate::ruleset::Ruleset;

/// How much earlier than the memory's reach a recall starts: a margin for
/// the clocks of whoever stamps when a message was written (WeCom's
/// servers) and the brokers' clocks.
pub(crate) const CLOCK_MARGIN_MS: i64 = 10 * 60_000;

/// The partitions assigned to one consumer, for its loop to take: the
/// rebalance callback adds them, the loop notices with one atomic load a
/// message. Each partition is held once until taken, so a loop that never
/// takes them (one that remembers nothing) holds at most its topics'
/// partitions.
#[derive(Default)]
pub(crate) struct Assigned {
    generation: AtomicU64,
    partitions: Mutex<std::collections::HashSet<(String, i32)>>,
}

impl Assigned {
    /// Called from the rebalance callback with an assignment's partitions.
    pub fn add(&self, tpl: &TopicPartitionList) {
        let mut held = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
        held.extend(
            tpl.elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition())),
        );
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// Where a consumer stands with the partitions it judges: those assigned
/// and not consumed since, and the next offset of each it has judged.
#[derive(Default)]
pub(crate) struct Continuity {
    generation: u64,
    fresh: Vec<(Box<str>, i32)>,
    /// The last partition looked up in `fresh`: most messages follow one of
    /// the same partition.
    last: Option<(Box<str>, i32)>,
    next: FxHashMap<Box<str>, FxHashMap<i32, i64>>,
}

/// The messages of one partition to read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub topic: String,
    pub partition: i32,
    /// The first message to judge now; nothing at or after it is read.
    pub until: i64,
    /// The consumer judged the partition up to here itself, earlier.
    pub judged_to: Option<i64>,
    /// The brokers' timestamp of the message at `until`.
    pub at_ms: Option<i64>,
    /// When the message at `until` was written, as the memory counts time
    /// ([`Judge::written_ms`]; set by the consumer's workspace).
    pub written_ms: Option<i64>,
}

impl Continuity {
    /// Whether the message at `topic`/`partition`/`offset` is the first of
    /// a newly assigned partition whose earlier messages this consumer has
    /// not judged: what to read back before judging it.
    pub fn due(
        &mut self,
        assigned: &Assigned,
        topic: &str,
        partition: i32,
        offset: i64,
        at_ms: Option<i64>,
    ) -> Option<Span> {
        if !self.pending(assigned) {
            return None;
        }
        if let Some((t, p)) = &self.last {
            if **t == *topic && *p == partition {
                return None;
            }
        }
        let at = self
            .fresh
            .iter()
            .position(|(t, p)| **t == *topic && *p == partition);
        let Some(at) = at else {
            self.last = Some((topic.into(), partition));
            return None;
        };
        self.fresh.swap_remove(at);
        self.last = None;
        let judged_to = self
            .next
            .get(topic)
            .and_then(|p| p.get(&partition))
            .copied();
        // judged up to here, or read again from before (a rewind the
        // memory knows): nothing this consumer does not remember
        if judged_to.is_some_and(|n| offset <= n) || offset <= 0 {
            return None;
        }
        Some(Span {
            topic: topic.to_string(),
            partition,
            until: offset,
            judged_to,
            at_ms,
            written_ms: None,
        })
    }

    /// Whether some newly assigned partition has not had a message yet:
    /// one atomic load when none has been assigned since the last call.
    pub fn pending(&mut self, assigned: &Assigned) -> bool {
        let generation = assigned.generation.load(Ordering::Acquire);
        if generation != self.generation {
            self.generation = generation;
            let mut new = assigned
                .partitions
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for (t, p) in new.drain() {
                if !self.fresh.iter().any(|(ft, fp)| **ft == *t && *fp == p) {
                    self.fresh.push((t.into(), p));
                }
            }
            self.last = None;
        }
        !self.fresh.is_empty()
    }

    /// Records that this consumer judged `topic`/`partition` up to
    /// `next` (exclusive).
    pub fn judged(&mut self, topic: &str, partition: i32, next: i64) {
        match self.next.get_mut(topic) {
            Some(p) => {
                p.insert(partition, next);
            }
            None => {
                self.next
                    .entry(topic.into())
                    .or_default()
                    .insert(partition, next);
            }
        }
    }
}

/// How one recall went.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Recalled {
    /// The first offset read back.
    pub from: i64,
    /// Messages judged into the memory.
    pub messages: u64,
    /// Whether it read everything from `from` up to the span's end (not cut
    /// short by its time limit or a stop).
    pub complete: bool,
    /// Whether `recall_max_messages` held it back from messages still
    /// within the memory's reach.
    pub capped: bool,
}

/// The limits of a recall.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Messages of one partition read back at most.
    pub max_messages: i64,
    /// When to give up (the rest is not remembered).
    pub deadline: Instant,
}

/// Where reading back before a message published at `at_ms` and written at
/// `written_ms` starts, by the brokers' timestamps, for a memory that
/// reaches `reach_ms` back. The memory goes by when messages were written,
/// and a message is published after it is written: one within reach was
/// published at or after the written time less the reach, however late an
/// archive exporter published either (an exporter that was down publishes
/// hours of messages at once). Ten minutes more for the two clocks.
///
/// ```
/// use wordwarden::engine::recall::since_ms;
///
/// let hour = 3_600_000;
/// // published as written: an hour and ten minutes back
/// assert_eq!(since_ms(10 * hour, Some(10 * hour), hour), 8 * hour + 50 * 60_000);
/// // published three hours late: from an hour before it was written
/// assert_eq!(since_ms(13 * hour, Some(10 * hour), hour), 8 * hour + 50 * 60_000);
/// // no written time: the memory goes by the brokers' time
/// assert_eq!(since_ms(10 * hour, None, hour), 8 * hour + 50 * 60_000);
/// ```
pub fn since_ms(at_ms: i64, written_ms: Option<i64>, reach_ms: i64) -> i64 {
    at_ms
        .min(written_ms.unwrap_or(at_ms))
        .saturating_sub(reach_ms)
        .saturating_sub(CLOCK_MARGIN_MS)
}

/// What to read back of one partition: the messages before `until`,
/// published at or after `since_ms` (by the brokers' timestamps), at most
/// `max_messages` of them, none before `floor`.
#[derive(Debug, Clone)]
pub struct ReadBack<'a> {
    /// The topic.
    pub topic: &'a str,
    /// The partition.
    pub partition: i32,
    /// The first offset not read.
    pub until: i64,
    /// The first offset that may be read.
    pub floor: i64,
    /// Messages published before this are passed over.
    pub since_ms: Option<i64>,
    /// Messages read at most.
    pub max_messages: i64,
    /// When to give up.
    pub deadline: Instant,
}

/// How [`read_back`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBackEnd {
    /// The first offset read.
    pub from: i64,
    /// Whether it read up to `until` (not cut short by the deadline or a
    /// stop).
    pub complete: bool,
    /// Whether `max_messages` held it back: the first message it read was
    /// published since `since_ms` (or there is no such time), so messages
    /// before it may be too.
    pub capped: bool,
}

/// Reads `what` with `consumer` (assigned to the partition for it; told
/// the partition's end, `enable.partition.eof`), handing each message
/// published since `since_ms` to `each`, in order. It asks the brokers
/// where that time starts (one that cannot look it up, or answers an
/// earlier offset, costs only the reading of what is passed over).
pub fn read_back<C: rdkafka::consumer::ConsumerContext>(
    consumer: &BaseConsumer<C>,
    what: &ReadBack<'_>,
    stopping: &dyn Fn() -> bool,
    mut each: impl FnMut(&rdkafka::message::BorrowedMessage<'_>),
) -> Result<ReadBackEnd, KafkaError> {
    let (topic, partition) = (what.topic, what.partition);
    let by_count = what.until - what.max_messages.max(0);
    let mut from = by_count.max(what.floor).max(0);
    // where the brokers say the time starts, when they say
    let mut by_time = None;
    if let Some(since) = what.since_ms.filter(|_| from < what.until) {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(since))?;
        let wait = what.deadline.saturating_duration_since(Instant::now());
        match consumer.offsets_for_times(tpl, wait) {
            Ok(found) => {
                if let Some(Offset::Offset(o)) =
                    found.find_partition(topic, partition).map(|e| e.offset())
                {
                    by_time = Some(o);
                    from = from.max(o);
                }
            }
            Err(e) => tracing::debug!(error = %e, "no offset by time to read back from"),
        }
    }
    let mut end = ReadBackEnd {
        from,
        complete: true,
        capped: false,
    };
    if from >= what.until {
        return Ok(end);
    }
    // the count, not the floor, the partition's start or the time, set
    // where to start: the first message read says whether it cut the time
    let mut first =
        from == by_count && by_count > what.floor && by_count > 0 && by_time != Some(by_count);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(from))?;
    consumer.assign(&tpl)?;
    while Instant::now() < what.deadline && !stopping() {
        let m = match consumer.poll(Duration::from_millis(100)) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(p))) if p == partition => return Ok(end),
            Some(Err(KafkaError::PartitionEOF(_))) => continue,
            Some(Err(e)) => return Err(e),
            Some(Ok(m)) => m,
        };
        // a reader used before may still hand over what it fetched then
        if m.partition() != partition || m.topic() != topic {
            continue;
        }
        if m.offset() >= what.until {
            return Ok(end);
        }
        let at = m.timestamp().to_millis();
        // a broker's lookup by time may answer an earlier offset than the
        // first message since then (tansu: the partition's start)
        let before = at.zip(what.since_ms).is_some_and(|(at, since)| at < since);
        if std::mem::take(&mut first) {
            end.capped = !before;
        }
        if before {
            continue;
        }
        each(&m);
    }
    end.complete = false;
    Ok(end)
}

/// Reads `span` back with the recaller's reader (assigned, never in a
/// group, committing nothing) and judges its messages into `memory`.
/// `stopping` is asked between messages.
pub(crate) fn recall(
    recaller: &Recaller,
    judge: &Judge,
    ruleset: &Ruleset,
    memory: &mut StreamMemory,
    span: &Span,
    limits: Limits,
    stopping: &dyn Fn() -> bool,
) -> Result<Recalled, KafkaError> {
    let reach = memory.reach_ms(ruleset);
    let mut reader = recaller.reader.lock().unwrap_or_else(|p| p.into_inner());
    let consumer = match reader.take() {
        Some(c) => c,
        None => recaller.client.create()?,
    };
    let what = ReadBack {
        topic: &span.topic,
        partition: span.partition,
        until: span.until,
        floor: span.judged_to.unwrap_or(0),
        // what was published before this is out of the memory's reach
        since_ms: span.at_ms.map(|at| since_ms(at, span.written_ms, reach)),
        max_messages: limits.max_messages,
        deadline: limits.deadline,
    };
    let mut scanner = ruleset.scanner();
    let mut messages = 0;
    let read = read_back(&consumer, &what, stopping, |m| {
        let Some(payload) = m.payload() else { return };
        // judged for what it leaves in the memory; its alert went out when
        // the partition's owner judged it
        let _ = judge.judge_next(
            ruleset,
            &mut scanner,
            memory,
            payload,
            Default::default(),
            format_args!("{}/{}/{}", span.topic, span.partition, m.offset()),
            m.timestamp().to_millis(),
        );
        messages += 1;
    });
    // kept for the next recall, fetching nothing meanwhile; after an error,
    // the next one starts afresh
    if read.is_ok() && consumer.unassign().is_ok() {
        *reader = Some(consumer);
    }
    let end = read?;
    Ok(Recalled {
        from: end.from,
        messages,
        complete: end.complete,
        capped: end.capped,
    })
}

/// The recall consumer's settings: the engine's connection settings, read
/// committed (an aborted message was never judged), never committing, from
/// the earliest message where `from` is gone, told the partition's end.
pub(crate) fn client(config: &super::Config) -> ClientConfig {
    let mut c = super::clients::plain(config);
    c.set("group.id", format!("{}-recall", config.group))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed");
    c
}

/// Shared by a consumer's loop: what it needs to recall.
pub(crate) struct Recaller {
    pub client: ClientConfig,
    pub max_messages: i64,
    pub timeout: Duration,
    /// One reader for a consumer's recalls (a partition each, one after
    /// another): connecting a consumer a partition would cost a startup
    /// with many partitions a broker round trip or a TLS handshake each.
    reader: std::sync::Mutex<Option<BaseConsumer>>,
}

impl Recaller {
    /// From the engine's configuration; `None` when recalls are off.
    pub fn new(config: &super::Config) -> Option<Arc<Recaller>> {
        (config.recall_max_messages > 0).then(|| {
            Arc::new(Recaller {
                client: client(config),
                max_messages: config.recall_max_messages as i64,
                timeout: config.recall_timeout(),
                reader: Default::default(),
            })
        })
    }
}

/// Reads `span` back into `workspace`'s memory off the async workers, by
/// `deadline` at the latest (a consumer's loop polls nothing meanwhile, so
/// recalls one after another share one), counting and logging how it went
/// (ids and counts only). The consumer's loop waits for it: its
/// partitions' messages are judged after.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn recall_into(
    workspace: &mut super::records::Workspace,
    recaller: &Arc<Recaller>,
    judge: &Arc<Judge>,
    ruleset: &Arc<Ruleset>,
    span: Span,
    deadline: Instant,
    shared: &super::Shared,
    stop: &super::stop::Stop,
) {
    let Some(memory) = workspace.memory_mut().take() else {
        return;
    };
    if memory.reach_ms(ruleset) == 0 {
        *workspace.memory_mut() = Some(memory);
        return;
    }
    let started = Instant::now();
    let limits = Limits {
        max_messages: recaller.max_messages,
        deadline,
    };
    let (recaller_, judge_, ruleset_, stop_) = (
        recaller.clone(),
        judge.clone(),
        ruleset.clone(),
        stop.clone(),
    );
    let span_ = span.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut memory = memory;
        let stopping = || stop_.is_requested();
        let r = recall(
            &recaller_,
            &judge_,
            &ruleset_,
            &mut memory,
            &span_,
            limits,
            &stopping,
        );
        (memory, r)
    })
    .await;
    let (memory, outcome) = match read {
        Ok((memory, r)) => (memory, r),
        // a panic judging: the memory it held is lost, not the consumer
        Err(e) => {
            tracing::error!(error = %e, "a recall panicked");
            (judge.memory(), Err(KafkaError::Canceled))
        }
    };
    *workspace.memory_mut() = Some(memory);
    let took_ms = started.elapsed().as_millis() as u64;
    let (topic, partition, until) = (&span.topic, span.partition, span.until);
    let label = match &outcome {
        Ok(r) => {
            shared.metrics.recalled_messages.inc_by(r.messages);
            let label = match (r.complete, r.capped) {
                (false, _) => "partial",
                (true, true) => "capped",
                (true, false) => "complete",
            };
            tracing::info!(
                topic,
                partition,
                from = r.from,
                until,
                messages = r.messages,
                took_ms,
                complete = r.complete,
                capped = r.capped,
                "recalled a newly assigned partition's recent messages"
            );
            label
        }
        Err(e) => {
            tracing::warn!(topic, partition, until, error = %e, took_ms,
                "recall failed: runs and tallies of this partition start afresh");
            "failed"
        }
    };
    shared.metrics.recalls.with_label_values(&[label]).inc();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::InputFormat;
    use crate::lists::WordListSet;
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

    fn assignment(partitions: &[(&str, i32)]) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        for (t, p) in partitions {
            tpl.add_partition(t, *p);
        }
        tpl
    }

    /// A newly assigned partition's first message is due once, unless it
    /// is the partition's first or this consumer judged up to it; after a
    /// gap (others judged meanwhile) only the gap is; a message read again
    /// (a rewind) never is; partitions never assigned are not.
    #[test]
    fn the_first_message_of_a_partition_new_to_the_consumer_is_due() {
        let assigned = Assigned::default();
        let mut c = Continuity::default();
        assert_eq!(c.due(&assigned, "in", 0, 5, None), None, "not assigned");
        assigned.add(&assignment(&[("in", 0), ("in", 1), ("in", 2)]));
        let span = c.due(&assigned, "in", 0, 5, Some(7)).expect("due");
        assert_eq!(
            span,
            Span {
                topic: "in".into(),
                partition: 0,
                until: 5,
                judged_to: None,
                at_ms: Some(7),
                written_ms: None,
            }
        );
        assert_eq!(c.due(&assigned, "in", 0, 6, None), None, "once");
        assert_eq!(
            c.due(&assigned, "in", 1, 0, None),
            None,
            "its first message"
        );
        assert_eq!(c.due(&assigned, "in", 1, 1, None), None, "once, even then");
        c.judged("in", 0, 9);
        c.judged("in", 2, 4);
        // the group gives all three back (eager rebalancing)
        assigned.add(&assignment(&[("in", 0), ("in", 1), ("in", 2)]));
        assert_eq!(c.due(&assigned, "in", 0, 9, None), None, "judged to here");
        assert_eq!(c.due(&assigned, "in", 2, 2, None), None, "read again");
        assigned.add(&assignment(&[("in", 2)]));
        let gap = c
            .due(&assigned, "in", 2, 8, None)
            .expect("others judged 4..8");
        assert_eq!((gap.judged_to, gap.until), (Some(4), 8));
        assert_eq!(c.due(&assigned, "other", 2, 8, None), None, "another topic");
    }

    const PII: &str = "#! severity: high\n#! bulk: 3 critical within 1h\n@cn_mobile\n";

    fn roster_record(i: i64) -> String {
        serde_json::json!({"msgid": format!("m{i}"), "from": "li", "tolist": ["wmOutsider"],
            "msgtime": 1_764_000_000_000i64 + i * 1000, "msgtype": "text",
            "text": {"content": format!("电话 138{i:08}")}})
        .to_string()
    }

    /// A number a message on one partition, the first three a day old;
    /// recalls judge those within the memory's reach, read back at most
    /// `max_messages` (saying when that held them back from messages within
    /// reach), from where the consumer judged to, and stop at their
    /// deadline, remembering the values they read.
    #[test]
    fn a_recall_reads_back_within_its_limits_into_the_memory() {
        let mock = MockCluster::new(1).expect("mock cluster");
        mock.create_topic("in", 1, 1).expect("topic");
        let brokers = mock.bootstrap_servers();
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .expect("producer");
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64;
        for i in 0..10 {
            let record = roster_record(i);
            // the first three a day old: before the memory's reach (the
            // mock cluster cannot look that up, answering the end: they are
            // read and passed over)
            let at = if i < 3 { now_ms - 86_400_000 } else { now_ms };
            producer
                .send(
                    BaseRecord::<(), _>::to("in")
                        .payload(&record)
                        .partition(0)
                        .timestamp(at),
                )
                .expect("queued");
        }
        producer.flush(Duration::from_secs(10)).expect("produced");
        let config = super::super::Config {
            brokers,
            group: "g".into(),
            input_topics: vec!["in".into()],
            ..Default::default()
        };
        // one reader for every read below, as for a consumer's recalls
        let recaller = Recaller::new(&config).expect("on by default");
        let lists = WordListSet::from_sources(vec![("pii.txt".into(), PII.into())]);
        let ruleset = Ruleset::builder().build(&lists).expect("compiles");
        let judge = Judge::new(InputFormat::wecom());
        let span = |judged_to| Span {
            topic: "in".into(),
            partition: 0,
            until: 10,
            judged_to,
            at_ms: Some(now_ms),
            written_ms: None,
        };
        let read = |span: Span, max_messages, timeout: Duration| {
            let mut memory = judge.memory();
            let limits = Limits {
                max_messages,
                deadline: Instant::now() + timeout,
            };
            let r = recall(
                &recaller,
                &judge,
                &ruleset,
                &mut memory,
                &span,
                limits,
                &|| false,
            )
            .expect("read");
            (r, memory.tally().values_held())
        };
        let long = Duration::from_secs(20);
        let all = read(span(None), 100, long);
        // a threshold of 3 keeps a list's newest 3 values
        assert_eq!(
            all,
            (
                Recalled {
                    from: 0,
                    messages: 7,
                    complete: true,
                    capped: false,
                },
                3
            )
        );
        // the count held it back from messages of the last hour
        let (r, _) = read(span(None), 4, long);
        assert_eq!(
            r,
            Recalled {
                from: 6,
                messages: 4,
                complete: true,
                capped: true,
            }
        );
        // the first message read is a day old: the count cut nothing
        let (r, _) = read(span(None), 8, long);
        assert_eq!((r.from, r.messages, r.capped), (2, 7, false));
        let (r, held) = read(span(Some(8)), 4, long);
        assert_eq!(
            (r, held),
            (
                Recalled {
                    from: 8,
                    messages: 2,
                    complete: true,
                    capped: false,
                },
                2
            )
        );
        let (r, held) = read(span(Some(10)), 4, long);
        assert_eq!(
            (r, held),
            (
                Recalled {
                    from: 10,
                    messages: 0,
                    complete: true,
                    capped: false,
                },
                0
            )
        );
        let (r, held) = read(span(None), 100, Duration::ZERO);
        assert_eq!((r.messages, r.complete, held), (0, false, 0), "out of time");
    }
}
