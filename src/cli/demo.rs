//! `wordwarden demo`: the whole pipeline on librdkafka's in-process mock
//! cluster, with a bundled sample of archived WeCom chat. Needs nothing installed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use wordwarden::alert::Alert;
use wordwarden::engine::{self, Config, Shared};
use wordwarden::judge::SPLIT_FIELD;
use wordwarden::lists::Severity;

const SAMPLE: &str = include_str!("../../deploy/demo/wecom-sample.jsonl");

/// The Kafka key an archive's producer should give a record: its
/// conversation ([`Participation::conversation_key`]). Empty for a line
/// that is no record.
///
/// [`Participation::conversation_key`]: wordwarden::envelope::Participation::conversation_key
fn conversation_key(line: &str) -> String {
    match wordwarden::envelope::decode(line.as_bytes(), &wordwarden::envelope::InputFormat::wecom())
    {
        Ok(msg) => msg.source.participation().conversation_key(),
        Err(_) => String::new(),
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Word-list directory (default: the bundled `wordlists/`).
    #[arg(long)]
    wordlists: Option<PathBuf>,
    /// WeCom archive records, one JSON object per line (default: the bundled sample).
    #[arg(long)]
    sample: Option<PathBuf>,
    /// HTTP address for /metrics while the demo runs.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_addr: String,
    /// Keep serving /metrics this many seconds after the summary.
    #[arg(long, default_value_t = 0)]
    linger: u64,
}

fn bundled_wordlists() -> PathBuf {
    let here = PathBuf::from("wordlists");
    if here.is_dir() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wordlists")
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sample = match &args.sample {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => SAMPLE.to_string(),
    };
    let lines: Vec<&str> = sample.lines().filter(|l| !l.trim().is_empty()).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(demo(args, lines))
}

async fn demo(args: Args, lines: Vec<&str>) -> anyhow::Result<ExitCode> {
    let mock = MockCluster::new(1)?;
    let brokers = mock.bootstrap_servers();
    let mut config = Config {
        brokers: brokers.clone(),
        group: "wordwarden-demo".into(),
        wordlists: args.wordlists.clone().unwrap_or_else(bundled_wordlists),
        metrics_addr: args.metrics_addr.clone(),
        ..Config::default()
    };
    config
        .kafka
        .insert("session.timeout.ms".into(), "6000".into());
    mock.create_topic(&config.input_topics[0], 4, 1)?;
    mock.create_topic(&config.alert_topic, 1, 1)?;
    mock.create_topic(&config.dlq_topic, 1, 1)?;
    // where the commands printed with `--linger` record who read what
    let audit_topic = "wordwarden.audit";
    mock.create_topic(audit_topic, 1, 1)?;
    config.audit_topic = Some(audit_topic.into());
    // where `review` keeps analysts' verdicts on alerts
    let review_topic = super::review::DEFAULT_TOPIC;
    mock.create_topic(review_topic, 1, 1)?;

    println!(
        "wordwarden demo: {} archived WeCom records through the real pipeline",
        lines.len()
    );
    println!(
        "  librdkafka mock cluster at {brokers}; metrics at http://{}/metrics",
        config.metrics_addr
    );

    let shared = Shared::new(&config)?;
    let expected = lines.len() as i64;
    let started = Instant::now();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn(engine::run(config.clone(), shared.clone(), async move {
        let _ = stopped.await;
    }));
    // the records go in once every consumer has joined the group: records
    // already there would be read by the first to join and, when the next
    // one joins, possibly read again by its new owner (at-least-once), and
    // the demo would count them twice
    let consumers = config.consumer_count() as i64;
    while shared.members_joined.load(Ordering::Relaxed) < consumers
        && started.elapsed() < Duration::from_secs(60)
        && !engine.is_finished()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if engine.is_finished() {
        // it failed to start (a taken metrics port, say): say why at once
        engine.await.context("the engine task failed")??;
        anyhow::bail!("the engine stopped before reading anything");
    }
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()?;
    for line in &lines {
        let key = conversation_key(line);
        producer
            .send(
                FutureRecord::to(&config.input_topics[0])
                    .key(&key)
                    .payload(*line),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(e, _)| e)?;
    }
    while shared.processed.load(Ordering::Relaxed) < expected
        && started.elapsed() < Duration::from_secs(120)
        && !engine.is_finished()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    engine.await.context("the engine task failed")??;
    let elapsed = started.elapsed();

    let alerts: Vec<Alert> = read_topic(&brokers, &config.alert_topic)?
        .into_iter()
        .filter_map(|(payload, _)| serde_json::from_slice(&payload).ok())
        .collect();
    let dead = read_topic(&brokers, &config.dlq_topic)?;
    print_summary(&shared, &alerts, &dead, expected, elapsed);

    if args.linger > 0 {
        println!(
            "serving /metrics and the mock cluster for {} s more; meanwhile, for example:",
            args.linger
        );
        if let Some(first) = alerts.first() {
            println!(
                "  wordwarden review --brokers {brokers} --verdict false_positive --note 'a test' \
                 {} --audit-topic {audit_topic} --actor you",
                first.alert_id
            );
        }
        println!(
            "  wordwarden report --brokers {brokers} --alert-topic {} --from-beginning \
             --review-topic {review_topic} --audit-topic {audit_topic} --actor you",
            config.alert_topic
        );
        println!(
            "  wordwarden tail --brokers {brokers} --alert-topic {} --from-beginning --external \
             --review-topic {review_topic} --unreviewed --audit-topic {audit_topic} --actor you",
            config.alert_topic
        );
        println!(
            "  wordwarden audit --brokers {brokers} --audit-topic {audit_topic} --from-beginning"
        );
        println!(
            "  wordwarden redrive --brokers {brokers} --dlq-topic {} --dry-run",
            config.dlq_topic
        );
        println!(
            "  wordwarden check --brokers {brokers} --group {} --input-topic {} --alert-topic {} --dlq-topic {} --wordlists {}",
            config.group,
            config.input_topics.join(" --input-topic "),
            config.alert_topic,
            config.dlq_topic,
            config.wordlists.display()
        );
        let h = engine::http::serve(
            &config.metrics_addr,
            engine::http::AppState::metrics_only(shared.clone()),
            tokio::time::sleep(Duration::from_secs(args.linger)),
        )
        .await?;
        let _ = h.await;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every (payload, reason header) on a topic, from the beginning.
fn read_topic(brokers: &str, topic: &str) -> anyhow::Result<Vec<(Vec<u8>, String)>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "wordwarden-demo-reader")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(5))?;
    let mut tpl = rdkafka::TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            tpl.add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    let mut out = Vec::new();
    let mut idle_since = Instant::now();
    while idle_since.elapsed() < Duration::from_secs(1) {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let reason = m
                    .headers()
                    .and_then(|h| {
                        h.iter()
                            .find(|h| h.key == "reason")
                            .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).into_owned()))
                    })
                    .unwrap_or_default();
                out.push((m.payload().map(<[u8]>::to_vec).unwrap_or_default(), reason));
                idle_since = Instant::now();
            }
            Some(Err(e)) => return Err(e.into()),
            None => {}
        }
    }
    Ok(out)
}

/// How often each name occurs, in name order: `a=2, b=1`.
fn tally<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in names {
        *counts.entry(name).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(n, c)| format!("{n}={c}")).collect();
    parts.join(", ")
}

/// One category's line of the summary.
struct CategorySummary {
    hits: usize,
    /// The list's own: the lowest of its hits' (a list's values in bulk
    /// raise the hits of that message).
    severity: Severity,
    /// (an evasion caught, the example as printed)
    examples: Vec<(bool, String)>,
}

fn print_summary(
    shared: &Shared,
    alerts: &[Alert],
    dead: &[(Vec<u8>, String)],
    total: i64,
    elapsed: Duration,
) {
    let textless: u64 = shared
        .metrics
        .processed
        .with_label_values(&["wecom.messages", "textless"])
        .get();
    let withdrawals: Vec<&Alert> = alerts.iter().filter(|a| a.is_withdrawal()).collect();
    let on_withdrawals = match withdrawals.len() {
        0 => String::new(),
        n => format!(" ({n} on a sender withdrawing a message that had alerted)"),
    };
    println!();
    println!(
        "processed {} of {total} records in {:.1} s: {} alerts{on_withdrawals}, {} without text (pictures, voice, recalls), {} dead-lettered",
        shared.processed.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        alerts.len(),
        textless,
        dead.len()
    );
    println!(
        "alerts by audience (external: someone outside the company in the conversation): {}",
        tally(alerts.iter().map(|a| a.audience.name()))
    );
    println!(
        "alerts by confidence (medium: resting only on numbers with no word naming them near, which `tail --min-confidence high` leaves out): {}",
        tally(alerts.iter().map(|a| a.confidence().name()))
    );
    let mut by_category: BTreeMap<&str, CategorySummary> = BTreeMap::new();
    let mut evasions_caught: Vec<&str> = Vec::new();
    // a withdrawal's hits are its message's, counted with that alert
    for a in alerts.iter().filter(|a| !a.is_withdrawal()) {
        for h in &a.hits {
            let c = by_category
                .entry(&h.category)
                .or_insert_with(|| CategorySummary {
                    hits: 0,
                    severity: h.severity,
                    examples: Vec::new(),
                });
            c.hits += 1;
            c.severity = c.severity.min(h.severity);
            let field = h.field.as_deref().unwrap_or("");
            let example = match h.evasions.is_empty() {
                true => format!("{} «{}» in {field}", h.term, h.matched),
                false => format!(
                    "{} «{}» in {field} ({})",
                    h.term,
                    h.matched,
                    wordwarden::evasion::names(&h.evasions)
                ),
            };
            c.examples.push((!h.evasions.is_empty(), example));
            evasions_caught.extend(h.evasions.iter().map(|e| e.name()));
        }
    }
    println!("\nhits by category (evasions caught first):");
    for (cat, c) in &mut by_category {
        println!("  {cat:<32} {:<8} {:>3}", c.severity.as_str(), c.hits);
        // stable: in order otherwise
        c.examples.sort_by_key(|(evasive, _)| !*evasive);
        for (_, ex) in c.examples.iter().take(2) {
            println!("      e.g. {ex}");
        }
    }
    if !evasions_caught.is_empty() {
        println!(
            "\nevasions caught (hits written unlike their rule): {}",
            tally(evasions_caught.into_iter())
        );
    }
    for a in alerts {
        for b in &a.bulk {
            match b.within_secs.filter(|_| !b.earlier_messages.is_empty()) {
                None => println!(
                    "\nin bulk ({} or more values of a list in one message: its hits raised to \
                     {}): {} values of {} in one {} message",
                    b.at_least,
                    b.severity,
                    b.values,
                    b.category,
                    a.audience.name()
                ),
                Some(secs) => println!(
                    "\nin bulk over time ({} or more values of a list from one sender to one \
                     conversation within {} min: its hits raised to {}): {} values of {} over {} \
                     {} messages, raised on the last",
                    b.at_least,
                    secs / 60,
                    b.severity,
                    b.values,
                    b.category,
                    b.earlier_messages.len() + 1,
                    a.audience.name()
                ),
            }
        }
    }
    for a in alerts {
        for h in a
            .hits
            .iter()
            .filter(|h| h.field.as_deref() == Some(SPLIT_FIELD))
        {
            println!(
                "\nsplit across messages (a term sent a few characters a message): {} «{}» \
                 over {} messages, alerted on the last",
                h.term,
                h.matched,
                a.split_from.len() + 1
            );
        }
    }
    for a in &withdrawals {
        let terms: Vec<&str> = a.hits.iter().map(|h| h.term.as_str()).collect();
        if let Some(w) = &a.withdrawn {
            println!(
                "\nwithdrawn after alerting ({} recalled it): message {} ({}); \
                 a {} alert raised on the recall",
                a.withdrawn_by().unwrap_or_default(),
                w.msgid,
                terms.join(", "),
                a.severity
            );
        }
    }
    if !dead.is_empty() {
        println!(
            "\ndead letters by reason: {}",
            tally(dead.iter().map(|(_, r)| r.as_str()))
        );
    }
    if let Some(a) = alerts.first() {
        println!("\none alert as published to the alert topic:");
        println!("{}", serde_json::to_string_pretty(a).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::conversation_key;

    /// Both sides of a one-to-one chat share a key; a group chat is its
    /// room; a broken line has none.
    #[test]
    fn records_are_keyed_by_conversation() {
        let there = r#"{"from":"li","tolist":["wang"],"roomid":"","msgtype":"image","image":{}}"#;
        let back = r#"{"from":"wang","tolist":["li"],"msgtype":"text","text":{"content":"hi"}}"#;
        assert_eq!(conversation_key(there), "li,wang");
        assert_eq!(conversation_key(back), "li,wang");
        let room = r#"{"from":"li","tolist":["wang","zhao"],"roomid":"wr1","msgtype":"revoke"}"#;
        assert_eq!(conversation_key(room), "wr1");
        assert_eq!(conversation_key("{not json"), "");
    }
}
