//! `wordwarden redrive --brokers .. --dlq-topic ..`: send dead letters back
//! to be judged again, once what put them there is fixed (a raised
//! `max_message_bytes`, a corrected `json_pointer`, a producer that sent bad
//! bytes and was repaired).
//!
//! Reads the dead-letter topic from its beginning (or `--since`) to its end,
//! keeps the letters of the `--reason`s asked for, and produces each one's
//! bytes and key to the topic it came from (its `source_topic` header) or to
//! `--to`, with headers `redriven_from` (dead-letter topic/partition/offset)
//! and `redriven_reason`. A letter cut to fit the dead-letter topic
//! (`truncated`) is not the message and is never sent. A letter that fails
//! again is dead-lettered again; alerts of a message judged twice carry the
//! same `alert_id`, and its new letter keeps the `redriven_from` header, so
//! a later run counts how many it sends that failed after a redrive
//! already. Prints one JSON line of counts, never message bytes.
//!
//! Without `--group` every run reads its whole range again: run twice
//! before the cause is fixed and each letter goes back twice, and its new
//! letters with it. `--group` commits where a run stopped, once every letter
//! it sent was taken, and the next run of that group starts there: each
//! letter is sent once, however often redrive runs.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde::Serialize;

use super::access::Deliveries;
use super::topic_reader::{ReaderGroup, Start, TopicReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kafka bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// The dead-letter topic.
    #[arg(long, default_value = "wordwarden.dlq")]
    dlq_topic: String,
    /// Only letters dead-lettered for this reason (repeatable): `too_large`,
    /// `not_utf8`, `not_json`, `no_text`, `too_deep`, `empty`,
    /// `unreadable_field`. Without it, every letter.
    #[arg(long)]
    reason: Vec<String>,
    /// Only letters written from this time on: a while ago (`24h`, `7d`) or
    /// a time (`2026-12-01T08:00:00Z`, `2026-12-01T16:00:00+08:00`; UTC
    /// without an offset).
    #[arg(long, value_parser = super::parse_since)]
    since: Option<SystemTime>,
    /// Remember where this run stopped under this consumer group: the next
    /// run with the same group starts after the last letter this one read,
    /// so each letter is sent once however often redrive runs (use one group
    /// per `--reason` or per incident: the letters a run passes over are
    /// behind that group too). Committed only when every letter sent was
    /// taken, never on a dry run. Where the group's position is no longer in
    /// the topic (retention deleted letters past it, or the topic was made
    /// anew), librdkafka's `auto.offset.reset` applies: the end, unless
    /// `-X auto.offset.reset=earliest`.
    #[arg(long)]
    group: Option<String>,
    /// Send every letter to this topic instead of the one it came from.
    #[arg(long)]
    to: Option<String>,
    /// Count what would be sent where, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Give up when the topic yields nothing for this many seconds before
    /// its end is reached, or deliveries take longer.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    props: Vec<(String, String)>,
    #[command(flatten)]
    access: super::access::AccessArgs,
}

/// What a run did, printed as one JSON line.
#[derive(Debug, Default, Serialize)]
struct Summary {
    /// Letters read from the dead-letter topic.
    read: usize,
    /// Letters sent (or, with `--dry-run`, that would be).
    redriven: usize,
    dry_run: bool,
    /// Sent, by target topic.
    to: BTreeMap<String, usize>,
    /// Sent, by the reason they had been dead-lettered for.
    by_reason: BTreeMap<String, usize>,
    /// Sent letters of messages that an earlier redrive had sent back and
    /// that failed again (their `redriven_from` header): that cause was not
    /// fixed then.
    failed_after_redrive: usize,
    /// Not sent, by why not: `other_reason`, `before_since`, `truncated`,
    /// `no_source_topic`, `loops_back` (the target is the dead-letter topic).
    skipped: BTreeMap<&'static str, usize>,
    /// Sends the brokers refused.
    failed: usize,
    /// With `--group`: the group, and whether this run's stop was committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    committed: Option<bool>,
}

fn header<'m>(m: &'m BorrowedMessage<'_>, key: &str) -> Option<&'m str> {
    let headers = m.headers()?;
    headers
        .iter()
        .filter(|h| h.key == key)
        .last()
        .and_then(|h| std::str::from_utf8(h.value?).ok())
}

/// Where a letter goes and the reason it was dead-lettered for, or why it
/// does not go.
fn target<'a>(
    m: &'a BorrowedMessage<'_>,
    args: &'a Args,
    reader: &TopicReader,
) -> Result<(&'a str, &'a str), &'static str> {
    let reason = header(m, "reason").unwrap_or("unknown");
    if !args.reason.is_empty() && !args.reason.iter().any(|r| r == reason) {
        return Err("other_reason");
    }
    if reader.before_since(m) {
        return Err("before_since");
    }
    if header(m, "truncated") == Some("true") {
        return Err("truncated");
    }
    let to = match &args.to {
        Some(to) => to.as_str(),
        None => header(m, "source_topic")
            .filter(|t| !t.is_empty())
            .ok_or("no_source_topic")?,
    };
    if to == args.dlq_topic {
        return Err("loops_back");
    }
    Ok((to, reason))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let timeout = Duration::from_secs(args.timeout_secs);
    (args.access).record(&args.brokers, &args.props, "redrive", &args.dlq_topic)?;
    let start = args.since.map_or(Start::Beginning, Start::Since);
    let reader = TopicReader::open(
        &args.brokers,
        &args.dlq_topic,
        start,
        true,
        &args.props,
        match &args.group {
            Some(group) => ReaderGroup::Resuming(group),
            None => ReaderGroup::Throwaway("redrive"),
        },
        timeout,
    )?;
    let producer: Option<BaseProducer<Deliveries>> = if args.dry_run {
        None
    } else {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", &args.brokers)
            .set("enable.idempotence", "true");
        for (k, v) in &args.props {
            cfg.set(k, v);
        }
        Some(cfg.create_with_context(Deliveries::default())?)
    };
    let mut summary = Summary {
        dry_run: args.dry_run,
        group: args.group.clone(),
        ..Default::default()
    };
    // where the next run of the group starts, by partition
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    loop {
        let m = match reader.next_to_end(timeout) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => return Err(e.context(format!("after {} letters", summary.read))),
        };
        summary.read += 1;
        next.insert(m.partition(), m.offset() + 1);
        let (to, reason) = match target(&m, &args, &reader) {
            Ok(place) => place,
            Err(why) => {
                *summary.skipped.entry(why).or_default() += 1;
                continue;
            }
        };
        *summary.to.entry(to.to_string()).or_default() += 1;
        *summary.by_reason.entry(reason.to_string()).or_default() += 1;
        summary.redriven += 1;
        summary.failed_after_redrive += usize::from(header(&m, "redriven_from").is_some());
        let Some(producer) = &producer else {
            continue;
        };
        let from = format!("{}/{}/{}", m.topic(), m.partition(), m.offset());
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "redriven_from",
                value: Some(&from),
            })
            .insert(Header {
                key: "redriven_reason",
                value: Some(reason),
            });
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(to).headers(headers);
        // (the engine writes an empty key for a message that had none)
        if let Some(key) = m.key().filter(|k| !k.is_empty()) {
            record = record.key(key);
        }
        if let Some(payload) = m.payload() {
            record = record.payload(payload);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(100));
                }
                Err((e, _)) => return Err(e).context(format!("sending to {to}")),
            }
        }
        producer.poll(Duration::ZERO);
    }
    if let Some(producer) = &producer {
        producer
            .flush(timeout)
            .context("waiting for the brokers to take every letter")?;
        let failed = producer.context().failures();
        summary.failed = failed.0;
        if let Some(first) = failed.1 {
            eprintln!("{} letters were not taken: {first}", failed.0);
        }
    }
    if args.group.is_some() {
        // a refused letter is read again by the next run
        let commit = !args.dry_run && summary.failed == 0 && !next.is_empty();
        if commit {
            reader.commit(&next)?;
        }
        summary.committed = Some(commit);
    }
    println!("{}", serde_json::to_string(&summary)?);
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
