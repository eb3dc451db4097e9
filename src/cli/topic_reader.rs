//! Reading every partition of one topic from a point on: what `tail`,
//! `report` and `redrive` share. Reads as `read_committed` (an exactly-once
//! engine's aborted attempts are never seen), under a throwaway group that
//! commits nothing, or (`redrive --group`) under a group whose positions it
//! resumes from and commits.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use wordwarden::engine::FirstErrorContext;

/// Where reading starts.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    Beginning,
    /// What is written from now on.
    End,
    /// The first records written at or after this time.
    Since(SystemTime),
}

impl Start {
    /// Where `--since` and `--from-beginning` say to start, else `otherwise`.
    pub fn from_flags(since: Option<SystemTime>, from_beginning: bool, otherwise: Start) -> Start {
        match (since, from_beginning) {
            (Some(t), _) => Start::Since(t),
            (None, true) => Start::Beginning,
            (None, false) => otherwise,
        }
    }

    /// What was written `ago` before now on.
    pub fn ago(ago: Duration) -> Start {
        Start::Since(SystemTime::now() - ago)
    }
}

/// The consumer group a reader reads under.
#[derive(Debug, Clone, Copy)]
pub enum ReaderGroup<'a> {
    /// Its own, named after the command (`wordwarden-tail-PID`); it commits
    /// nothing.
    Throwaway(&'a str),
    /// This group: each partition starts where the group committed a
    /// position, where it has one, and the caller may commit
    /// ([`TopicReader::commit`]).
    Resuming(&'a str),
}

/// `what` went wrong, with the reason librdkafka gave for the first client
/// error when it gave one.
fn failed(consumer: &BaseConsumer<FirstErrorContext>, what: String) -> String {
    // (a record taken while waiting for the reason is not lost: nothing
    // reads on after a failure)
    format!("{what}{}", FirstErrorContext::because(consumer))
}

pub struct TopicReader {
    pub consumer: BaseConsumer<FirstErrorContext>,
    topic: String,
    since_ms: Option<i64>,
    /// Partitions not at their end yet (reading to the end); a cell, so a
    /// record borrowed from the consumer can be read beside the reader.
    open: Cell<usize>,
}

/// Milliseconds since the epoch, as Kafka timestamps count (0 before it).
pub fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A `read_committed` consumer that commits only when asked to, under
/// `group`.
fn reader(
    brokers: &str,
    props: &[(String, String)],
    group: ReaderGroup<'_>,
    eof: bool,
) -> anyhow::Result<BaseConsumer<FirstErrorContext>> {
    let group_id = match group {
        ReaderGroup::Throwaway(who) => format!("wordwarden-{who}-{}", std::process::id()),
        ReaderGroup::Resuming(group) => group.to_string(),
    };
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", brokers)
        .set("group.id", group_id)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", if eof { "true" } else { "false" })
        .set("isolation.level", "read_committed");
    for (k, v) in props {
        cfg.set(k, v);
    }
    Ok(cfg.create_with_context(FirstErrorContext::default())?)
}

/// The payload of the record at `topic`/`partition`/`offset`, and its
/// timestamp (milliseconds since the epoch) where it has one; an error
/// when there is none there (never written, or deleted since).
pub fn read_one(
    brokers: &str,
    props: &[(String, String)],
    topic: &str,
    partition: i32,
    offset: i64,
    timeout: Duration,
) -> anyhow::Result<(Option<Vec<u8>>, Option<i64>)> {
    let consumer = reader(brokers, props, ReaderGroup::Throwaway("explain"), true)?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    consumer.assign(&tpl)?;
    let started = Instant::now();
    while started.elapsed() < timeout {
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            Some(Err(e)) => {
                return Err(e).with_context(|| failed(&consumer, format!("reading {topic}")))
            }
            Some(Ok(m)) if m.offset() == offset => {
                return Ok((m.payload().map(<[u8]>::to_vec), m.timestamp().to_millis()))
            }
            Some(Ok(_)) => break,
        }
    }
    anyhow::bail!("no record at {topic}/{partition}/{offset}")
}

/// One message read back: its payload, the brokers' timestamp, its offset.
pub type Earlier = (Vec<u8>, Option<i64>, i64);

/// The messages of `topic`/`partition` before `until` published at or
/// after `since_ms`, at most `max` of them, in order (what the engine's
/// recall reads for a consumer given the partition), and how that went
/// (cut short by `timeout`, or held back by `max`).
#[allow(clippy::too_many_arguments)]
pub fn read_before(
    brokers: &str,
    props: &[(String, String)],
    topic: &str,
    partition: i32,
    until: i64,
    since_ms: Option<i64>,
    max: i64,
    timeout: Duration,
) -> anyhow::Result<(Vec<Earlier>, wordwarden::engine::recall::ReadBackEnd)> {
    let consumer = reader(brokers, props, ReaderGroup::Throwaway("explain"), true)?;
    let what = wordwarden::engine::recall::ReadBack {
        topic,
        partition,
        until,
        floor: 0,
        since_ms,
        max_messages: max,
        deadline: Instant::now() + timeout,
    };
    let mut earlier = Vec::new();
    let end = wordwarden::engine::recall::read_back(&consumer, &what, &|| false, |m| {
        if let Some(payload) = m.payload() {
            earlier.push((payload.to_vec(), m.timestamp().to_millis(), m.offset()));
        }
    })
    .with_context(|| {
        failed(
            &consumer,
            format!("reading {topic}/{partition} before {until}"),
        )
    })?;
    Ok((earlier, end))
}

impl TopicReader {
    /// Assigns every partition of `topic` from `start` (from the group's
    /// position, where a [`ReaderGroup::Resuming`] group has one). With
    /// `to_end`, the reader reports each partition's end
    /// ([`TopicReader::next_to_end`]).
    pub fn open(
        brokers: &str,
        topic: &str,
        start: Start,
        to_end: bool,
        props: &[(String, String)],
        group: ReaderGroup<'_>,
        timeout: Duration,
    ) -> anyhow::Result<TopicReader> {
        let consumer = reader(brokers, props, group, to_end)?;
        let metadata = consumer
            .fetch_metadata(Some(topic), timeout)
            .with_context(|| failed(&consumer, format!("cannot read the metadata of {topic}")))?;
        let since_ms = match start {
            Start::Since(t) => Some(millis(t)),
            _ => None,
        };
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics() {
            if let Some(e) = t.error() {
                anyhow::bail!("no topic {topic}: {:?}", RDKafkaErrorCode::from(e));
            }
            for p in t.partitions() {
                let offset = match (start, since_ms) {
                    // a timestamp, looked up below
                    (_, Some(ms)) => Offset::Offset(ms),
                    (Start::Beginning, _) => Offset::Beginning,
                    _ => Offset::End,
                };
                tpl.add_partition_offset(topic, p.id(), offset)?;
            }
        }
        if since_ms.is_some() {
            // the first offset of each partition at or after that time (the
            // end where there is none)
            tpl = consumer.offsets_for_times(tpl, timeout)?;
        }
        if let ReaderGroup::Resuming(group) = group {
            let committed = consumer
                .committed_offsets(tpl.clone(), timeout)
                .with_context(|| {
                    failed(
                        &consumer,
                        format!("cannot read where group {group} stopped"),
                    )
                })?;
            // (a position the topic no longer has is librdkafka's
            // `auto.offset.reset`: not checked against the watermarks here,
            // which tansu reports by batch, not by record)
            for p in committed.elements() {
                if let Offset::Offset(at) = p.offset() {
                    tpl.set_partition_offset(topic, p.partition(), Offset::Offset(at))?;
                }
            }
        }
        let open = Cell::new(if to_end { tpl.count() } else { 0 });
        consumer.assign(&tpl)?;
        Ok(TopicReader {
            consumer,
            topic: topic.to_string(),
            since_ms,
            open,
        })
    }

    /// Commits, for the reader's group, `next` offsets by partition: where
    /// the next run of a [`ReaderGroup::Resuming`] group starts.
    pub fn commit(&self, next: &std::collections::BTreeMap<i32, i64>) -> anyhow::Result<()> {
        let mut tpl = TopicPartitionList::new();
        for (&partition, &offset) in next {
            tpl.add_partition_offset(&self.topic, partition, Offset::Offset(offset))?;
        }
        self.consumer
            .commit(&tpl, rdkafka::consumer::CommitMode::Sync)
            .with_context(|| format!("cannot commit where this run stopped in {}", self.topic))
    }

    /// Whether `m` was written before the start time: the lookup by time is
    /// the brokers' (some Kafka-compatible ones answer with an earlier
    /// offset), so such records are passed over by the caller.
    pub fn before_since(&self, m: &BorrowedMessage<'_>) -> bool {
        self.since_ms
            .is_some_and(|since| m.timestamp().to_millis().is_some_and(|t| t < since))
    }

    /// Whether `m` lies outside the period read: before its start time, or
    /// written at or after `until_ms`.
    pub fn outside(&self, m: &BorrowedMessage<'_>, until_ms: Option<i64>) -> bool {
        self.before_since(m)
            || until_ms.is_some_and(|u| m.timestamp().to_millis().is_some_and(|t| t >= u))
    }

    /// The next record, until every partition has reached its end as it is
    /// when reached: `None` then. An error when nothing comes for `timeout`
    /// before that.
    pub fn next_to_end(&self, timeout: Duration) -> anyhow::Result<Option<BorrowedMessage<'_>>> {
        let started = Instant::now();
        while self.open.get() > 0 {
            if started.elapsed() >= timeout {
                anyhow::bail!(failed(
                    &self.consumer,
                    format!(
                        "{} yielded nothing for {} s before its end",
                        self.topic,
                        timeout.as_secs()
                    )
                ));
            }
            match self.consumer.poll(Duration::from_millis(200)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => self.open.set(self.open.get() - 1),
                Some(Err(e)) => {
                    return Err(e)
                        .with_context(|| failed(&self.consumer, format!("reading {}", self.topic)))
                }
                Some(Ok(m)) => return Ok(Some(m)),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_cannot_reach_the_brokers_says_why() {
        // a port nothing listens on: librdkafka's reason is the refused
        // connection, and the command's error carries it
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let brokers = format!("127.0.0.1:{port}");
        let err = TopicReader::open(
            &brokers,
            "alerts",
            Start::Beginning,
            true,
            &[],
            ReaderGroup::Throwaway("test"),
            Duration::from_secs(1),
        )
        .err()
        .expect("no broker there");
        let said = format!("{err:#}");
        assert!(
            said.starts_with("cannot read the metadata of alerts (librdkafka: ")
                && said.contains("Connection refused"),
            "{said}"
        );
    }
}
