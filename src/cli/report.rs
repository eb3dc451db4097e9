//! `wordwarden report --brokers .. --alert-topic .. [--since 24h]`: what the
//! alert feed held over a period, for a compliance review; `--input FILE`
//! sums up alerts as `scan` writes them instead (an archive export reviewed
//! offline). Alerts by
//! severity, audience, category and evasion, then what metrics cannot hold
//! (their labels are bounded by design): the terms that fired most, and the
//! senders and conversations with the most alerts.
//!
//! Each alert counts once: an at-least-once engine may publish one twice
//! after a restart, and its `alert_id` says so. The report names senders as
//! the alerts do (pseudonyms where the engine pseudonymizes) and never
//! prints message text: no snippets, no matched slices.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rdkafka::message::Message;
use serde::Serialize;
use wordwarden::alert::Alert;
use wordwarden::audience::Audience;
use wordwarden::detect::Confidence;
use wordwarden::lists::Severity;

use super::alert_feed::{at_offset, written_ms, FeedArgs};
use super::review::{Verdict, Verdicts};
use super::topic_reader::millis;
use super::topic_reader::{ReaderGroup, Start, TopicReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The alerts written from this time on: a while ago (`24h`, `7d`) or a
    /// time (`2026-12-01T08:00:00Z`, `2026-12-01T16:00:00+08:00`; UTC without
    /// an offset). Default: the last 24 hours.
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
    /// Sum up the alerts of this file instead (`-`: stdin), one a line as
    /// `scan` writes them; `--since`/`--until` then pick by when the
    /// messages were written.
    #[arg(long, conflicts_with = "from_beginning")]
    input: Option<std::path::PathBuf>,
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
    /// With the review topic read: how many have a verdict, and how many
    /// of those are false positives.
    #[serde(skip_serializing_if = "Option::is_none")]
    reviewed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    false_positives: Option<usize>,
}

#[derive(Debug)]
struct Tally {
    alerts: usize,
    external: usize,
    highest: Severity,
    reviewed: usize,
    false_positives: usize,
}

// by hand: `Severity`'s own default is `medium`, the lists' default
impl Default for Tally {
    fn default() -> Self {
        Tally {
            alerts: 0,
            external: 0,
            highest: Severity::Info,
            reviewed: 0,
            false_positives: 0,
        }
    }
}

impl Tally {
    /// Counts `a`, with whether it was reviewed and found a false positive
    /// (for a term's row: its hit on that term).
    fn add(&mut self, a: &Alert, reviewed: bool, false_positive: bool) {
        self.alerts += 1;
        self.external += usize::from(a.audience == Audience::External);
        self.highest = self.highest.max(a.severity);
        self.reviewed += usize::from(reviewed);
        self.false_positives += usize::from(false_positive);
    }

    /// Its row, named `name`; the review counts where verdicts were read.
    fn ranked(&self, name: String, reviews: bool) -> Ranked {
        Ranked {
            name,
            alerts: self.alerts,
            external: self.external,
            highest: self.highest,
            reviewed: reviews.then_some(self.reviewed),
            false_positives: reviews.then_some(self.false_positives),
        }
    }
}

/// The report, as `--json` prints it.
#[derive(Debug, Default, Serialize)]
struct Report {
    /// The alert topic read, or the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    /// `None`: from the beginning of the topic.
    since: Option<String>,
    until: Option<String>,
    /// Distinct alerts that pass the filters.
    alerts: usize,
    /// Alerts published more than once, counted once.
    duplicates: usize,
    /// Alerts on a sender withdrawing a message that had alerted: counted
    /// here only (their hits are that message's alert's, counted with it).
    withdrawn: usize,
    /// Of those, the messages someone other than their sender withdrew (a
    /// group's owner or administrator: `withdrawn.sender`).
    withdrawn_by_others: usize,
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
    /// Alerts by how sure they are ([`Alert::confidence`]: `medium` where
    /// they rest only on numbers with no word naming them near).
    by_confidence: BTreeMap<Confidence, usize>,
    /// Alerts on messages holding a list's values in bulk (`#! bulk:`), by
    /// the list's category.
    by_bulk: BTreeMap<String, usize>,
    /// Alerts on messages sent or received by a member of each people
    /// group (the alerts' `groups`).
    by_group: BTreeMap<String, usize>,
    /// `term (category)`.
    top_terms: Vec<Ranked>,
    /// With the review topic read: the alerts by their verdict
    /// (`unreviewed`: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    reviews: Option<BTreeMap<&'static str, usize>>,
    /// With the review topic read: the terms with the most alerts found
    /// false positives, for the lists' maintainers (a false positive counts
    /// for the terms its review names, else for each of the alert's).
    #[serde(skip_serializing_if = "Option::is_none")]
    false_positive_terms: Option<Vec<Ranked>>,
    /// False positives whose review names a term (`review --term`) the
    /// alert has no hit on, a typo most likely: where it names none of
    /// the alert's terms, the alert counts for each of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    false_positives_naming_no_hit: Option<usize>,
    /// The senders (`source.from`).
    top_senders: Vec<Ranked>,
    /// Group chats (`source.roomid`).
    top_conversations: Vec<Ranked>,
    /// Hours east of UTC of the days in `by_day`.
    utc_offset_hours: i32,
    /// Alerts a day (`YYYY-MM-DD`), by when their messages were written, in
    /// date order; days without alerts left out.
    by_day: Vec<Ranked>,
}

/// The alert a record holds, if it is one.
fn read_alert(bytes: &[u8]) -> Option<Alert> {
    serde_json::from_slice(bytes).ok()
}

fn ranked(tallies: &HashMap<String, Tally>, top: usize, reviews: bool) -> Vec<Ranked> {
    let mut rows: Vec<Ranked> = tallies
        .iter()
        .map(|(name, t)| t.ranked(name.clone(), reviews))
        .collect();
    rows.sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.name.cmp(&b.name)));
    rows.truncate(top);
    rows
}

/// The terms with alerts found false positives, the most first (then the
/// highest share of their reviewed alerts).
fn false_positive_terms(tallies: &HashMap<String, Tally>, top: usize) -> Vec<Ranked> {
    let mut rows: Vec<&String> = tallies
        .iter()
        .filter(|(_, t)| t.false_positives > 0)
        .map(|(name, _)| name)
        .collect();
    // by count, then by share (a/b > c/d as a*d > c*b), then by name
    rows.sort_by(|a, b| {
        let (ta, tb) = (&tallies[*a], &tallies[*b]);
        tb.false_positives
            .cmp(&ta.false_positives)
            .then_with(|| {
                (tb.false_positives * ta.reviewed).cmp(&(ta.false_positives * tb.reviewed))
            })
            .then_with(|| a.cmp(b))
    });
    rows.truncate(top);
    rows.into_iter()
        .map(|name| tallies[name].ranked(name.clone(), true))
        .collect()
}

/// The report being summed up, one alert at a time.
#[derive(Default)]
struct Summing {
    report: Report,
    /// The review topic's verdicts, when it was read.
    verdicts: Option<Verdicts>,
    seen: HashSet<String>,
    terms: HashMap<String, Tally>,
    senders: HashMap<String, Tally>,
    rooms: HashMap<String, Tally>,
    /// By day number since the epoch, in the report's offset from UTC.
    days: BTreeMap<i64, Tally>,
    first: Option<u64>,
    last: Option<u64>,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

impl Summing {
    /// Counts the alerts' verdicts too, where the review topic was read.
    fn with_verdicts(mut self, verdicts: Option<Verdicts>) -> Summing {
        if let Some(v) = &verdicts {
            if v.unreadable > 0 {
                eprintln!(
                    "{} records on the review topic are not verdicts",
                    v.unreadable
                );
            }
        }
        self.report.reviews = verdicts.as_ref().map(|_| BTreeMap::new());
        self.verdicts = verdicts;
        self
    }

    /// Counts `alert`, read from a record (unless the record was not one,
    /// or it is one already counted, or one the filters leave out).
    fn add(&mut self, alert: Option<Alert>, feed: &FeedArgs) {
        let Some(alert) = alert else {
            self.report.unreadable += 1;
            return;
        };
        if !feed.admits(&alert) {
            return;
        }
        if !self.seen.insert(alert.alert_id.clone()) {
            self.report.duplicates += 1;
            return;
        }
        if let Some(withdrawn) = &alert.withdrawn {
            self.report.withdrawn += 1;
            self.report.withdrawn_by_others += usize::from(withdrawn.sender.is_some());
            return;
        }
        let review = self.verdicts.as_ref().and_then(|v| v.of(&alert.alert_id));
        let verdict = review.map(|r| r.verdict);
        let (reviewed, false_positive) =
            (verdict.is_some(), verdict == Some(Verdict::FalsePositive));
        let report = &mut self.report;
        if let Some(reviews) = &mut report.reviews {
            *reviews
                .entry(verdict.map_or("unreviewed", Verdict::name))
                .or_default() += 1;
        }
        report.alerts += 1;
        *report.by_severity.entry(alert.severity).or_default() += 1;
        *report.by_audience.entry(alert.audience.name()).or_default() += 1;
        *report.by_confidence.entry(alert.confidence()).or_default() += 1;
        if let Some(ms) = written_ms(&alert) {
            self.first = Some(self.first.map_or(ms, |f| f.min(ms)));
            self.last = Some(self.last.map_or(ms, |l| l.max(ms)));
            let local_ms = i64::try_from(ms)
                .unwrap_or(i64::MAX)
                .saturating_add(i64::from(report.utc_offset_hours) * 3600 * 1000);
            self.days
                .entry(local_ms.div_euclid(DAY_MS))
                .or_default()
                .add(&alert, reviewed, false_positive);
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
        for b in &alert.bulk {
            *report.by_bulk.entry(b.category.clone()).or_default() += 1;
        }
        let groups: BTreeSet<&String> = alert
            .groups
            .sender
            .iter()
            .chain(&alert.groups.recipients)
            .collect();
        for g in groups {
            *report.by_group.entry(g.clone()).or_default() += 1;
        }
        // a false positive counts for the terms whose hits were wrong
        let alert_terms: Vec<&str> = alert.hits.iter().map(|h| h.term.as_str()).collect();
        if let Some(r) = review.filter(|r| r.names_a_term_not_hit(&alert_terms)) {
            if r.verdict == Verdict::FalsePositive {
                *report.false_positives_naming_no_hit.get_or_insert(0) += 1;
            }
        }
        let hit_terms: HashMap<String, bool> = alert
            .hits
            .iter()
            .map(|h| {
                let wrong = review.is_some_and(|r| r.wrong(&h.term, &alert_terms));
                (format!("{} ({})", h.term, h.category), wrong)
            })
            .collect();
        for (t, wrong) in hit_terms {
            self.terms
                .entry(t)
                .or_default()
                .add(&alert, reviewed, wrong);
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
            self.senders
                .entry(from)
                .or_default()
                .add(&alert, reviewed, false_positive);
        }
        if let Some(room) = text_of("roomid") {
            self.rooms
                .entry(room)
                .or_default()
                .add(&alert, reviewed, false_positive);
        }
    }

    fn finish(self, top: usize) -> Report {
        let offset = self.report.utc_offset_hours;
        let at = |ms: u64| at_offset(UNIX_EPOCH + Duration::from_millis(ms), offset);
        // (a day's number already counts in the offset: its midnight as if
        // UTC; beyond the years -9999 to 9999, which a record's `msgtime`
        // may say, the day's number)
        let date = |day: i64| match jiff::Timestamp::from_millisecond(day.saturating_mul(DAY_MS)) {
            Ok(midnight) => midnight.strftime("%Y-%m-%d").to_string(),
            Err(_) => format!("day {day} after 1970"),
        };
        let reviews = self.verdicts.is_some();
        let by_day = self
            .days
            .iter()
            .map(|(&day, t)| t.ranked(date(day), reviews))
            .collect();
        Report {
            by_day,
            first_message_at: self.first.map(at),
            last_message_at: self.last.map(at),
            top_terms: ranked(&self.terms, top, reviews),
            false_positive_terms: reviews.then(|| false_positive_terms(&self.terms, top)),
            top_senders: ranked(&self.senders, top, reviews),
            top_conversations: ranked(&self.rooms, top, reviews),
            ..self.report
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let report = match &args.input {
        Some(path) => from_file(path, &args)?,
        None => from_topic(&args)?,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render(&report))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The alerts on the alert topic written from `--since` (default: the last
/// 24 hours) up to `--until`, by the alert records' own times.
fn from_topic(args: &Args) -> anyhow::Result<Report> {
    let brokers = args
        .feed
        .brokers
        .as_deref()
        .context("--brokers, or --input with alerts as `scan` writes them")?;
    let timeout = Duration::from_secs(args.timeout_secs);
    let start = Start::from_flags(
        args.since,
        args.from_beginning,
        Start::ago(Duration::from_secs(24 * 3600)),
    );
    let feed = &args.feed;
    (feed.access).record(brokers, &feed.props, "report", &feed.alert_topic)?;
    let reader = TopicReader::open(
        brokers,
        &args.feed.alert_topic,
        start,
        true,
        &args.feed.props,
        ReaderGroup::Throwaway("report"),
        timeout,
    )?;
    let until_ms = args.until.map(millis);
    let mut summing = Summing::default().with_verdicts(feed.verdicts(timeout)?);
    summing.report.utc_offset_hours = args.feed.utc_offset;
    summing.report.topic = Some(args.feed.alert_topic.clone());
    summing.report.since = match start {
        Start::Since(t) => Some(at_offset(t, args.feed.utc_offset)),
        _ => None,
    };
    summing.report.until = args.until.map(|t| at_offset(t, args.feed.utc_offset));
    while let Some(m) = reader.next_to_end(timeout)? {
        if reader.outside(&m, until_ms) {
            continue;
        }
        summing.add(m.payload().and_then(read_alert), &args.feed);
    }
    Ok(summing.finish(args.top))
}

/// The alerts of a file (`-`: stdin), one a line as `scan` writes them; with
/// `--since`/`--until`, those whose message was written in between (an
/// alert that does not say when is kept).
fn from_file(path: &std::path::Path, args: &Args) -> anyhow::Result<Report> {
    let reader = super::open_input(Some(path))?;
    let (since_ms, until_ms) = (args.since.map(millis), args.until.map(millis));
    let verdicts = args.feed.verdicts(Duration::from_secs(args.timeout_secs))?;
    let mut summing = Summing::default().with_verdicts(verdicts);
    summing.report.utc_offset_hours = args.feed.utc_offset;
    summing.report.file = Some(path.display().to_string());
    summing.report.since = args.since.map(|t| at_offset(t, args.feed.utc_offset));
    summing.report.until = args.until.map(|t| at_offset(t, args.feed.utc_offset));
    for line in reader.split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let alert = read_alert(&line);
        let written = alert
            .as_ref()
            .and_then(written_ms)
            .map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
        if written.is_some_and(|t| since_ms.is_some_and(|s| t < s))
            || written.is_some_and(|t| until_ms.is_some_and(|u| t >= u))
        {
            continue;
        }
        summing.add(alert, &args.feed);
    }
    Ok(summing.finish(args.top))
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
    let mut s = match (&r.topic, &r.file) {
        (Some(topic), _) => format!(
            "alerts on {topic} from {} to {}\n",
            r.since.as_deref().unwrap_or("the beginning"),
            r.until.as_deref().unwrap_or("now")
        ),
        (None, file) => {
            let file = match file.as_deref() {
                Some("-") | None => "stdin",
                Some(f) => f,
            };
            match (&r.since, &r.until) {
                (None, None) => format!("alerts in {file}\n"),
                (since, until) => format!(
                    "alerts in {file} on messages written from {} to {}\n",
                    since.as_deref().unwrap_or("the first"),
                    until.as_deref().unwrap_or("the last")
                ),
            }
        }
    };
    s += &format!("alerts      {}", r.alerts);
    if r.duplicates > 0 {
        s += &format!(" ({} published twice, counted once)", r.duplicates);
    }
    if r.unreadable > 0 {
        s += &format!(" ({} records that are not alerts)", r.unreadable);
    }
    s.push('\n');
    if r.withdrawn > 0 {
        let by_others = match r.withdrawn_by_others {
            0 => String::new(),
            n => format!(", {n} of them by someone other than their sender"),
        };
        s += &format!(
            "withdrawn   {} (alerting messages their senders then withdrew{by_others}; not in the counts below)\n",
            r.withdrawn
        );
    }
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
        "confidence  {}\n",
        inline(r.by_confidence.iter().rev().map(|(k, n)| (k.name(), *n)))
    );
    s += &format!(
        "evasions    {}\n",
        inline(r.by_evasion.iter().map(|(k, n)| (k, *n)))
    );
    s += &format!(
        "bulk        {}\n",
        inline(r.by_bulk.iter().map(|(k, n)| (k, *n)))
    );
    if !r.by_group.is_empty() {
        s += &format!(
            "groups      {}\n",
            inline(r.by_group.iter().map(|(k, n)| (k, *n)))
        );
    }
    if let Some(reviews) = &r.reviews {
        s += &format!(
            "reviews     {}\n",
            inline(reviews.iter().map(|(k, n)| (*k, *n)))
        );
    }
    let mut categories: Vec<(&String, &usize)> = r.by_category.iter().collect();
    categories.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    s += "categories\n";
    for (c, n) in categories {
        s += &format!("  {n:>6}  {c}\n");
    }
    let by_day = match r.utc_offset_hours {
        0 => "by day (UTC, when written)".to_string(),
        h => format!("by day (UTC{h:+}, when written)"),
    };
    for (title, rows) in [
        ("top terms", &r.top_terms),
        ("top senders", &r.top_senders),
        ("top conversations", &r.top_conversations),
        (by_day.as_str(), &r.by_day),
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
            let reviewed = match (row.reviewed, row.false_positives) {
                (Some(n @ 1..), Some(0)) => format!(", {n} reviewed"),
                (Some(n @ 1..), Some(f)) => format!(", {n} reviewed, false positives {f}"),
                _ => String::new(),
            };
            s += &format!(
                "  {:>6}  {}  (highest {}{external}{reviewed})\n",
                row.alerts,
                row.name,
                row.highest.as_str()
            );
        }
    }
    if let Some(rows) = r.false_positive_terms.as_ref().filter(|r| !r.is_empty()) {
        s += "false positives by term (for the lists' maintainers)\n";
        if let Some(n) = r.false_positives_naming_no_hit {
            s += &format!(
                "  (reviews of {n} name a term their alert has no hit on, mistyped \
                 most likely; where a review names none of its alert's terms, each \
                 of them counts)\n"
            );
        }
        for row in rows {
            s += &format!(
                "  {:>6}  {}  (of {} reviewed, {} alerts)\n",
                row.false_positives.unwrap_or(0),
                row.name,
                row.reviewed.unwrap_or(0),
                row.alerts
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
    fn days_begin_at_midnight_in_the_report_s_offset_from_utc() {
        let written = |id: &str, msgtime: u64, severity: &str| -> Alert {
            serde_json::from_value(serde_json::json!({
                "alert_id": id, "ruleset_version": "v", "severity": severity,
                "audience": "internal", "source": {"msgtime": msgtime}, "hits": [],
                "snippet": ""
            }))
            .expect("an alert")
        };
        // 2024-11-25T15:59:59Z, a second later, and a day before
        let alerts = [
            written("a", 1_732_550_399_000, "low"),
            written("b", 1_732_550_400_000, "high"),
            written("c", 1_732_464_000_000, "info"),
        ];
        let days = |offset: i32| -> Vec<(String, usize, Severity)> {
            let feed = FeedArgs::parsed(&[]);
            let mut summing = Summing::default();
            summing.report.utc_offset_hours = offset;
            for a in &alerts {
                summing.add(Some(a.clone()), &feed);
            }
            let report = summing.finish(10);
            let last = report.last_message_at.clone().unwrap_or_default();
            let expected = match offset {
                0 => "2024-11-25T16:00:00Z",
                8 => "2024-11-26T00:00:00+08:00",
                _ => "2024-11-25T04:00:00-12:00",
            };
            assert_eq!(last, expected);
            report
                .by_day
                .into_iter()
                .map(|d| (d.name, d.alerts, d.highest))
                .collect()
        };
        let day = |d: &str, n, s| (d.to_string(), n, s);
        assert_eq!(
            days(0),
            [
                day("2024-11-24", 1, Severity::Info),
                day("2024-11-25", 2, Severity::High)
            ]
        );
        assert_eq!(
            days(8),
            [
                day("2024-11-25", 2, Severity::Low),
                day("2024-11-26", 1, Severity::High)
            ]
        );
        assert_eq!(days(-12)[0], day("2024-11-24", 1, Severity::Info));
        // whatever a record's `msgtime` says: the first day, the day before
        // it west of UTC, and times no calendar here shows (the year
        // 285,000; a `u64` beyond `i64`)
        let far = [0, 9_000_000_000_000_000, u64::MAX];
        let names = |offset: i32| -> Vec<String> {
            let feed = FeedArgs::parsed(&[]);
            let mut summing = Summing::default();
            summing.report.utc_offset_hours = offset;
            for (i, ms) in far.iter().enumerate() {
                summing.add(Some(written(&i.to_string(), *ms, "low")), &feed);
            }
            summing
                .finish(10)
                .by_day
                .into_iter()
                .map(|d| d.name)
                .collect()
        };
        assert_eq!(
            names(0),
            [
                "1970-01-01",
                "day 104166666 after 1970",
                "day 106751991167 after 1970"
            ]
        );
        assert_eq!(names(-5)[0], "1969-12-31");
    }

    /// Alerts are counted by how sure they are, and `--min-confidence high`
    /// leaves out those resting only on numbers alone.
    #[test]
    fn alerts_are_counted_by_confidence() {
        let with_hit = |id: &str, confidence: &str| -> Alert {
            serde_json::from_value(serde_json::json!({
                "alert_id": id, "ruleset_version": "v", "severity": "high",
                "source": {}, "snippet": "",
                "hits": [{"term": "@bank_card", "category": "personal/pii", "severity": "high",
                    "start": 0, "end": 16, "count": 1, "confidence": confidence}]
            }))
            .expect("an alert")
        };
        let alerts = [
            with_hit("a", "medium"),
            with_hit("b", "high"),
            with_hit("c", "medium"),
        ];
        let report_of = |filters: &[&str]| {
            let feed = FeedArgs::parsed(filters);
            let mut summing = Summing::default();
            for a in &alerts {
                summing.add(Some(a.clone()), &feed);
            }
            summing.finish(10)
        };
        let all = report_of(&[]);
        assert_eq!(
            serde_json::to_value(&all).unwrap()["by_confidence"],
            serde_json::json!({"medium": 2, "high": 1})
        );
        assert!(
            render(&all).contains("\nconfidence  high 1  medium 2\n"),
            "{}",
            render(&all)
        );
        let sure = report_of(&["--min-confidence", "high"]);
        assert_eq!(sure.alerts, 1);
        assert_eq!(
            serde_json::to_value(&sure).unwrap()["by_confidence"],
            serde_json::json!({"high": 1})
        );
    }

    /// An alert on a withdrawal repeats its message's alert's hits: it
    /// counts as a withdrawal only, not as a second alert on those terms
    /// and that sender.
    #[test]
    fn withdrawals_are_counted_apart() {
        let sent: Alert = serde_json::from_value(serde_json::json!({
            "alert_id": "sent", "ruleset_version": "v", "severity": "high",
            "source": {"from": "li", "msgid": "m1"}, "snippet": "",
            "hits": [{"term": "内幕消息", "category": "finance/insider", "severity": "high",
                "start": 0, "end": 12, "matched": "内幕消息", "count": 1}]
        }))
        .expect("an alert");
        let mut withdrawal = sent.clone();
        withdrawal.alert_id = "revoke".into();
        withdrawal.withdrawn = Some(wordwarden::alert::AlertWithdrawn {
            msgid: "m1".into(),
            alert_id: "sent".into(),
            sender: None,
        });
        let feed = FeedArgs::parsed(&[]);
        let mut summing = Summing::default();
        for a in [&sent, &withdrawal, &withdrawal] {
            summing.add(Some(a.clone()), &feed);
        }
        let report = summing.finish(10);
        assert_eq!(
            (report.alerts, report.withdrawn, report.duplicates),
            (1, 1, 1)
        );
        assert_eq!(report.top_terms[0].alerts, 1);
        assert_eq!(report.top_senders[0].alerts, 1);
        let shown = render(&report);
        assert!(
            shown.contains("\nwithdrawn   1 (alerting messages their senders then withdrew"),
            "{shown}"
        );
        // one withdrawn by a group's owner
        let mut by_owner = withdrawal.clone();
        by_owner.alert_id = "revoke-by-owner".into();
        if let Some(w) = by_owner.withdrawn.as_mut() {
            w.sender = Some("li".into());
        }
        let mut with_owner = Summing::default();
        for a in [&sent, &withdrawal, &by_owner] {
            with_owner.add(Some(a.clone()), &feed);
        }
        let report = with_owner.finish(10);
        assert_eq!((report.withdrawn, report.withdrawn_by_others), (2, 1));
        assert!(
            render(&report).contains(
                "\nwithdrawn   2 (alerting messages their senders then withdrew, 1 of them by someone other than their sender;"
            ),
            "{}",
            render(&report)
        );
        // none: no line
        let mut none = Summing::default();
        none.add(Some(sent), &feed);
        assert!(!render(&none.finish(10)).contains("withdrawn"));
    }

    /// With the review topic read: alerts by verdict, each term's reviewed
    /// alerts and false positives, and the terms with the most of them.
    #[test]
    fn verdicts_are_counted_by_alert_and_by_term() {
        let with_hits = |id: &str, terms: &[&str]| -> Alert {
            let hits: Vec<serde_json::Value> = terms
                .iter()
                .map(|t| {
                    serde_json::json!({"term": t, "category": "c", "severity": "high",
                        "start": 0, "end": 1, "matched": "x", "count": 1})
                })
                .collect();
            serde_json::from_value(serde_json::json!({
                "alert_id": id, "ruleset_version": "v", "severity": "high",
                "source": {"from": "li"}, "hits": hits, "snippet": ""
            }))
            .expect("an alert")
        };
        let id = |n: u8| format!("{n:032x}");
        let all: &[&str] = &[];
        let verdicts = Verdicts::from_pairs([
            (id(1), Verdict::FalsePositive, all),
            (id(2), Verdict::FalsePositive, all),
            (id(3), Verdict::Confirmed, all),
            (id(4), Verdict::FalsePositive, all),
            // of its two hits, the one on 色情 was wrong
            (id(6), Verdict::FalsePositive, &["色情"]),
            // a term mistyped: it counts for the alert's own
            (id(7), Verdict::FalsePositive, &["老鼠舱"]),
            (id(9), Verdict::Dismissed, all),
        ]);
        let feed = FeedArgs::parsed(&[]);
        let mut summing = Summing::default().with_verdicts(Some(verdicts));
        for (n, terms) in [
            (1, &["色情"][..]),
            (2, &["色情"]),
            (3, &["色情", "内幕消息"]),
            (4, &["老鼠仓"]),
            (5, &["内幕消息"]),
            // published twice: counted once
            (5, &["内幕消息"]),
            (6, &["色情", "@cn_mobile"]),
            (7, &["老鼠仓"]),
        ] {
            summing.add(Some(with_hits(&id(n), terms)), &feed);
        }
        let report = summing.finish(10);
        let reviews = report.reviews.clone().expect("reviews");
        assert_eq!(
            reviews.into_iter().collect::<Vec<_>>(),
            [("confirmed", 1), ("false_positive", 5), ("unreviewed", 1)]
        );
        let row = |r: &Ranked| (r.name.clone(), r.alerts, r.reviewed, r.false_positives);
        let fp: Vec<_> = report
            .false_positive_terms
            .as_ref()
            .expect("false positive terms")
            .iter()
            .map(row)
            .collect();
        assert_eq!(
            fp,
            [
                ("色情 (c)".to_string(), 4, Some(4), Some(3)),
                ("老鼠仓 (c)".to_string(), 2, Some(2), Some(2)),
            ]
        );
        assert_eq!(report.false_positives_naming_no_hit, Some(1));
        let terms: Vec<_> = report.top_terms.iter().map(row).collect();
        assert_eq!(terms[1], ("内幕消息 (c)".to_string(), 2, Some(1), Some(0)));
        assert_eq!(
            terms[3],
            ("@cn_mobile (c)".to_string(), 1, Some(1), Some(0))
        );
        assert_eq!(
            report.top_senders.iter().map(row).collect::<Vec<_>>(),
            [("li".to_string(), 7, Some(6), Some(5))]
        );
        let shown = render(&report);
        assert!(
            shown.contains("\nreviews     confirmed 1  false_positive 5  unreviewed 1\n"),
            "{shown}"
        );
        assert!(
            shown.contains("       4  色情 (c)  (highest high, 4 reviewed, false positives 3)\n"),
            "{shown}"
        );
        assert!(
            shown.contains(
                "false positives by term (for the lists' maintainers)\n  (reviews of 1 name a term their alert has no hit on, mistyped most likely; where a review names none of its alert's terms, each of them counts)\n       3  色情 (c)  (of 4 reviewed, 4 alerts)\n       2  老鼠仓 (c)  (of 2 reviewed, 2 alerts)\n"
            ),
            "{shown}"
        );
        // without the review topic: none of it
        let mut plain = Summing::default();
        plain.add(Some(with_hits(&id(1), &["色情"])), &feed);
        let plain = plain.finish(10);
        assert!(plain.reviews.is_none() && plain.false_positive_terms.is_none());
        assert!(plain.false_positives_naming_no_hit.is_none());
        assert_eq!(plain.top_terms[0].reviewed, None);
        let json = serde_json::to_string(&plain).expect("json");
        assert!(
            !json.contains("review") && !json.contains("false_positive"),
            "{json}"
        );
        assert!(!render(&plain).contains("review"));
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
                .add(&alert(severity, audience), false, false);
        }
        let rows: Vec<(String, usize, usize, Severity)> = ranked(&t, 3, false)
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
