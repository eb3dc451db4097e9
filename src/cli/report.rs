//! `wordwarden report --brokers .. --alert-topic .. [--since 24h]`: what the
//! alert feed held over a period, for a compliance review. Alerts by
//! severity, audience, category and evasion, then what metrics cannot hold
//! (their labels are bounded by design): the terms that fired most, and the
//! senders and conversations with the most alerts.
//!
//! Each alert counts once: an at-least-once engine may publish one twice
//! after a restart, and its `alert_id` says so. The report names senders as
//! the alerts do (pseudonyms where the engine pseudonymizes) and never
//! prints message text: no snippets, no matched slices.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::message::Message;
use serde::Serialize;
use wordwarden::alert::Alert;
use wordwarden::audience::Audience;
use wordwarden::lists::Severity;

use super::alert_feed::FeedArgs;
use super::topic_reader::{Start, TopicReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The alerts written from this time on: a while ago (`24h`, `7d`) or a
    /// UTC time (`2026-12-01T08:00:00Z`). Default: the last 24 hours.
    #[arg(long, conflicts_with = "from_beginning", value_parser = super::parse_since)]
    since: Option<SystemTime>,
    /// Every alert the topic holds.
    #[arg(long)]
    from_beginning: bool,
    /// And before this time (default: up to now).
    #[arg(long, value_parser = super::parse_since)]
    until: Option<SystemTime>,
    #[command(flatten)]
    feed: FeedArgs,
    /// Rows in each ranking.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// Give up when the topic yields nothing for this many seconds before
    /// its end is reached.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

/// One row of a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Ranked {
    name: String,
    alerts: usize,
    /// Of them, with someone outside the company.
    external: usize,
    /// The highest severity among them.
    highest: Severity,
}

#[derive(Debug)]
struct Tally {
    alerts: usize,
    external: usize,
    highest: Severity,
}

// by hand: `Severity`'s own default is `medium`, the lists' default
impl Default for Tally {
    fn default() -> Self {
        Tally {
            alerts: 0,
            external: 0,
            highest: Severity::Info,
        }
    }
}

impl Tally {
    fn add(&mut self, a: &Alert) {
        self.alerts += 1;
        self.external += usize::from(a.audience == Audience::External);
        self.highest = self.highest.max(a.severity);
    }
}

/// The report, as `--json` prints it.
#[derive(Debug, Default, Serialize)]
struct Report {
    topic: String,
    /// `None`: from the beginning of the topic.
    since: Option<String>,
    until: Option<String>,
    /// Distinct alerts that pass the filters.
    alerts: usize,
    /// Alerts published more than once, counted once.
    duplicates: usize,
    /// Records that are not alerts.
    unreadable: usize,
    /// When the first and last of the messages were written.
    first_message_at: Option<String>,
    last_message_at: Option<String>,
    by_severity: BTreeMap<Severity, usize>,
    by_audience: BTreeMap<&'static str, usize>,
    /// Alerts with a hit in each category.
    by_category: BTreeMap<String, usize>,
    /// Alerts with a hit written to get past a filter, by kind.
    by_evasion: BTreeMap<String, usize>,
    /// `term (category)`.
    top_terms: Vec<Ranked>,
    /// The senders (`source.from`).
    top_senders: Vec<Ranked>,
    /// Group chats (`source.roomid`).
    top_conversations: Vec<Ranked>,
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// When the judged message was written: WeCom's `msgtime`, else the input
/// record's Kafka timestamp (both in milliseconds).
fn message_ms(a: &Alert) -> Option<u64> {
    ["msgtime", "timestamp"]
        .iter()
        .find_map(|&k| a.source.get(k).and_then(serde_json::Value::as_u64))
}

fn ranked(tallies: HashMap<String, Tally>, top: usize) -> Vec<Ranked> {
    let mut rows: Vec<Ranked> = tallies
        .into_iter()
        .map(|(name, t)| Ranked {
            name,
            alerts: t.alerts,
            external: t.external,
            highest: t.highest,
        })
        .collect();
    rows.sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.name.cmp(&b.name)));
    rows.truncate(top);
    rows
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let timeout = Duration::from_secs(args.timeout_secs);
    let start = match (args.since, args.from_beginning) {
        (Some(t), _) => Start::Since(t),
        (None, true) => Start::Beginning,
        (None, false) => Start::Since(SystemTime::now() - Duration::from_secs(24 * 3600)),
    };
    let reader = TopicReader::open(
        &args.feed.brokers,
        &args.feed.alert_topic,
        start,
        true,
        &args.feed.props,
        "report",
        timeout,
    )?;
    let until_ms = args.until.map(millis);
    let mut report = Report {
        topic: args.feed.alert_topic.clone(),
        since: match start {
            Start::Since(t) => Some(rfc3339(t)),
            _ => None,
        },
        until: args.until.map(rfc3339),
        ..Default::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let (mut terms, mut senders, mut rooms) = (HashMap::new(), HashMap::new(), HashMap::new());
    let (mut first, mut last): (Option<u64>, Option<u64>) = (None, None);
    while let Some(m) = reader.next_to_end(timeout)? {
        if reader.before_since(&m)
            || until_ms.is_some_and(|u| m.timestamp().to_millis().is_some_and(|t| t >= u))
        {
            continue;
        }
        let Some(alert) = m
            .payload()
            .and_then(|p| serde_json::from_slice::<Alert>(p).ok())
        else {
            report.unreadable += 1;
            continue;
        };
        if !args.feed.admits(&alert) {
            continue;
        }
        if !seen.insert(alert.alert_id.clone()) {
            report.duplicates += 1;
            continue;
        }
        report.alerts += 1;
        *report.by_severity.entry(alert.severity).or_default() += 1;
        *report.by_audience.entry(alert.audience.name()).or_default() += 1;
        if let Some(ms) = message_ms(&alert) {
            first = Some(first.map_or(ms, |f| f.min(ms)));
            last = Some(last.map_or(ms, |l| l.max(ms)));
        }
        // each category, evasion and term once an alert
        let categories: HashSet<&str> = alert.hits.iter().map(|h| h.category.as_str()).collect();
        for c in categories {
            *report.by_category.entry(c.to_string()).or_default() += 1;
        }
        let evasions: HashSet<&str> = alert
            .hits
            .iter()
            .flat_map(|h| h.evasions.iter().map(|e| e.name()))
            .collect();
        for e in evasions {
            *report.by_evasion.entry(e.to_string()).or_default() += 1;
        }
        let hit_terms: HashSet<String> = alert
            .hits
            .iter()
            .map(|h| format!("{} ({})", h.term, h.category))
            .collect();
        for t in hit_terms {
            terms.entry(t).or_insert_with(Tally::default).add(&alert);
        }
        let text_of = |key: &str| {
            alert
                .source
                .get(key)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(from) = text_of("from") {
            senders
                .entry(from)
                .or_insert_with(Tally::default)
                .add(&alert);
        }
        if let Some(room) = text_of("roomid") {
            rooms.entry(room).or_insert_with(Tally::default).add(&alert);
        }
    }
    let at = |ms: u64| rfc3339(UNIX_EPOCH + Duration::from_millis(ms));
    report.first_message_at = first.map(at);
    report.last_message_at = last.map(at);
    report.top_terms = ranked(terms, args.top);
    report.top_senders = ranked(senders, args.top);
    report.top_conversations = ranked(rooms, args.top);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render(&report))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `name n  name n ...` of a breakdown.
fn inline<K: std::fmt::Display>(counts: impl IntoIterator<Item = (K, usize)>) -> String {
    let parts: Vec<String> = counts
        .into_iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("  ")
    }
}

fn render(r: &Report) -> String {
    let mut s = format!(
        "alerts on {} from {} to {}\n",
        r.topic,
        r.since.as_deref().unwrap_or("the beginning"),
        r.until.as_deref().unwrap_or("now")
    );
    s += &format!("alerts      {}", r.alerts);
    if r.duplicates > 0 {
        s += &format!(" ({} published twice, counted once)", r.duplicates);
    }
    if r.unreadable > 0 {
        s += &format!(" ({} records that are not alerts)", r.unreadable);
    }
    s.push('\n');
    if let (Some(f), Some(l)) = (&r.first_message_at, &r.last_message_at) {
        s += &format!("messages    written {f} to {l}\n");
    }
    s += &format!(
        "severity    {}\n",
        inline(r.by_severity.iter().rev().map(|(k, n)| (k.as_str(), *n)))
    );
    s += &format!(
        "audience    {}\n",
        inline(r.by_audience.iter().map(|(k, n)| (*k, *n)))
    );
    s += &format!(
        "evasions    {}\n",
        inline(r.by_evasion.iter().map(|(k, n)| (k, *n)))
    );
    let mut categories: Vec<(&String, &usize)> = r.by_category.iter().collect();
    categories.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    s += "categories\n";
    for (c, n) in categories {
        s += &format!("  {n:>6}  {c}\n");
    }
    for (title, rows) in [
        ("top terms", &r.top_terms),
        ("top senders", &r.top_senders),
        ("top conversations", &r.top_conversations),
    ] {
        if rows.is_empty() {
            continue;
        }
        s += &format!("{title}\n");
        for row in rows {
            let external = if row.external > 0 {
                format!(", {} external", row.external)
            } else {
                String::new()
            };
            s += &format!(
                "  {:>6}  {}  (highest {}{external})\n",
                row.alerts,
                row.name,
                row.highest.as_str()
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(severity: &str, audience: &str) -> Alert {
        serde_json::from_value(serde_json::json!({
            "alert_id": "a", "ruleset_version": "v", "severity": severity,
            "audience": audience, "source": {}, "hits": [], "snippet": ""
        }))
        .expect("an alert")
    }

    #[test]
    fn rankings_order_by_alerts_then_name_and_say_the_highest_severity() {
        let mut t: HashMap<String, Tally> = HashMap::new();
        for (name, severity, audience) in [
            ("b", "low", "internal"),
            ("b", "info", "external"),
            ("a", "low", "internal"),
            ("a", "low", "internal"),
            ("c", "high", "internal"),
            ("c", "critical", "external"),
            ("c", "info", "internal"),
            ("d", "info", "internal"),
        ] {
            t.entry(name.to_string())
                .or_default()
                .add(&alert(severity, audience));
        }
        let rows: Vec<(String, usize, usize, Severity)> = ranked(t, 3)
            .into_iter()
            .map(|r| (r.name, r.alerts, r.external, r.highest))
            .collect();
        assert_eq!(
            rows,
            [
                ("c".to_string(), 3, 1, Severity::Critical),
                ("a".to_string(), 2, 0, Severity::Low),
                ("b".to_string(), 2, 1, Severity::Low),
            ]
        );
    }
}
