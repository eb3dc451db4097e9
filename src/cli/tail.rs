//! `wordwarden tail --brokers .. --alert-topic ..`: the alert feed for an
//! analyst, readable and colored, with filters; `--json` for piping.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use wordwarden::alert::Alert;
use wordwarden::audience::Audience;
use wordwarden::lists::Severity;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kafka bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// The alert topic.
    #[arg(long, default_value = "wordwarden.alerts")]
    alert_topic: String,
    /// Only alerts of at least this severity.
    #[arg(long, default_value = "info")]
    severity: String,
    /// Only alerts with a hit in this category or below it (repeatable).
    #[arg(long)]
    category: Vec<String>,
    /// Only alerts with a hit written to get past a filter (`内*幕*消*息`,
    /// `sh1t`, a phone number in numerals): the hits' `evasions`.
    #[arg(long)]
    evasive: bool,
    /// Only alerts on messages to or from someone outside the company (a
    /// WeCom external contact): the alerts' `audience`.
    #[arg(long)]
    external: bool,
    /// Start at the beginning of the topic instead of new alerts only.
    #[arg(long)]
    from_beginning: bool,
    /// Start at the alerts written from this time on: a while ago
    /// (`24h`, `30m`, `7d`) or a UTC time (`2026-12-01T08:00:00Z`).
    #[arg(long, conflicts_with = "from_beginning", value_parser = super::parse_since)]
    since: Option<SystemTime>,
    /// Print each alert as one JSON line.
    #[arg(long)]
    json: bool,
    /// Stop after this many alerts.
    #[arg(long)]
    limit: Option<usize>,
    /// Stop after this many seconds without a new alert.
    #[arg(long)]
    idle_exit: Option<u64>,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    props: Vec<(String, String)>,
}

/// When the judged message was written: WeCom's `msgtime`, else the Kafka
/// timestamp (both milliseconds), to the second in UTC.
fn written_at(source: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let ms = ["msgtime", "timestamp"]
        .iter()
        .find_map(|&k| source.get(k).and_then(serde_json::Value::as_u64))?;
    let at = UNIX_EPOCH.checked_add(Duration::from_millis(ms))?;
    Some(humantime::format_rfc3339_seconds(at).to_string())
}

fn wanted(a: &Alert, min: Severity, categories: &[String], evasive: bool, external: bool) -> bool {
    a.severity >= min
        && (!evasive || a.is_evasive())
        && (!external || a.audience == Audience::External)
        && (categories.is_empty()
            || a.hits.iter().any(|h| {
                categories.iter().any(|c| {
                    h.category == *c
                        || h.category
                            .starts_with(&format!("{}/", c.trim_end_matches('/')))
                })
            }))
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn render(a: &Alert, color: bool) -> String {
    let sev = match a.severity {
        Severity::Critical => paint("CRITICAL", "1;31", color),
        Severity::High => paint("HIGH    ", "31", color),
        Severity::Medium => paint("MEDIUM  ", "33", color),
        Severity::Low => paint("LOW     ", "36", color),
        Severity::Info => paint("INFO    ", "2", color),
    };
    let mut cats: Vec<&str> = a.hits.iter().map(|h| h.category.as_str()).collect();
    cats.dedup();
    let terms: Vec<String> = a
        .hits
        .iter()
        .map(|h| {
            let mut hit = format!("{} «{}»", h.term, h.matched);
            if !h.evasions.is_empty() {
                let kinds = format!("[{}]", wordwarden::evasion::names(&h.evasions));
                hit.push(' ');
                hit.push_str(&paint(&kinds, "35", color));
            }
            hit
        })
        .collect();
    let s = &a.source;
    let who = match (
        s.get("from").and_then(|v| v.as_str()),
        s.get("roomid").and_then(|v| v.as_str()),
    ) {
        (Some(f), Some(r)) if !r.is_empty() => format!("{f} in {r}"),
        (Some(f), _) => f.to_string(),
        _ => String::new(),
    };
    let place = match (s.get("topic"), s.get("partition"), s.get("offset")) {
        (Some(t), Some(p), Some(o)) => format!("{}/{p}/{o}", t.as_str().unwrap_or("")),
        _ => String::new(),
    };
    let when = written_at(s).map(|t| t + "  ").unwrap_or_default();
    // leaving the company is what an analyst looks at first
    let audience = match a.audience {
        Audience::External => paint("external  ", "1;33", color),
        Audience::Internal => paint("internal  ", "2", color),
        Audience::Unknown => String::new(),
    };
    format!(
        "{sev} {}  {}\n         {}\n         {}{audience}{}  {}  {}\n",
        paint(&cats.join(", "), "1", color),
        terms.join("; "),
        a.snippet,
        paint(&when, "2", color),
        paint(&who, "2", color),
        paint(&place, "2", color),
        paint(&a.alert_id, "2", color),
    )
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let min: Severity = args.severity.parse().map_err(anyhow::Error::msg)?;
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &args.brokers)
        .set(
            "group.id",
            format!("wordwarden-tail-{}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed");
    for (k, v) in &args.props {
        cfg.set(k, v);
    }
    let consumer: BaseConsumer = cfg.create()?;
    let metadata = consumer.fetch_metadata(Some(&args.alert_topic), Duration::from_secs(10))?;
    let since_ms = args.since.map(|t| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    });
    let mut tpl = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            let offset = match (since_ms, args.from_beginning) {
                // a timestamp, looked up below
                (Some(ms), _) => Offset::Offset(ms),
                (None, true) => Offset::Beginning,
                (None, false) => Offset::End,
            };
            tpl.add_partition_offset(&args.alert_topic, p.id(), offset)?;
        }
    }
    if since_ms.is_some() {
        // the first offset of each partition at or after that time (the
        // end where there is none)
        tpl = consumer.offsets_for_times(tpl, Duration::from_secs(10))?;
    }
    consumer.assign(&tpl)?;
    let color =
        !args.json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::stdout().lock();
    let mut shown = 0usize;
    let mut last = Instant::now();
    loop {
        if args
            .idle_exit
            .is_some_and(|s| last.elapsed() >= Duration::from_secs(s))
        {
            break;
        }
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m?;
        last = Instant::now();
        // the lookup by time is the brokers' (some Kafka-compatible ones
        // answer with an earlier offset): written earlier is skipped here
        let written_ms = m.timestamp().to_millis();
        if since_ms.is_some_and(|since| written_ms.is_some_and(|t| t < since)) {
            continue;
        }
        let Some(alert) = m
            .payload()
            .and_then(|p| serde_json::from_slice::<Alert>(p).ok())
        else {
            eprintln!(
                "skipped a record that is not an alert at offset {}",
                m.offset()
            );
            continue;
        };
        if !wanted(&alert, min, &args.category, args.evasive, args.external) {
            continue;
        }
        if args.json {
            serde_json::to_writer(&mut out, &alert)?;
            writeln!(out)?;
        } else {
            write!(out, "{}", render(&alert, color))?;
        }
        out.flush()?;
        shown += 1;
        if args.limit.is_some_and(|l| shown >= l) {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
