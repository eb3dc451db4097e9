//! `wordwarden tail --brokers .. --alert-topic ..`: the alert feed for an
//! analyst, readable and colored, with filters; `--json` for piping.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rdkafka::message::Message;
use wordwarden::alert::seal::EvidenceOpener;
use wordwarden::alert::Alert;
use wordwarden::audience::Audience;
use wordwarden::detect::Confidence;
use wordwarden::fold::percent_decoded;
use wordwarden::lists::Severity;

use super::alert_feed::{at_offset, written_ms, FeedArgs};
use super::review::{Review, Verdict};
use super::topic_reader::{ReaderGroup, Start, TopicReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    feed: FeedArgs,
    /// Start at the beginning of the topic instead of new alerts only.
    #[arg(long)]
    from_beginning: bool,
    /// Start at the alerts written from this time on: a while ago
    /// (`24h`, `30m`, `7d`) or a time (`2026-12-01T08:00:00Z`,
    /// `2026-12-01T16:00:00+08:00`; UTC without an offset).
    #[arg(long, conflicts_with = "from_beginning", value_parser = super::parse_since)]
    since: Option<SystemTime>,
    /// Print each alert as one JSON line (with `--review-topic`, a reviewed
    /// one with its last verdict: `"review": {"verdict", "terms"}`).
    #[arg(long)]
    json: bool,
    /// Stop after this many alerts.
    #[arg(long)]
    limit: Option<usize>,
    /// Stop after this many seconds without a new alert.
    #[arg(long)]
    idle_exit: Option<u64>,
    /// Only alerts no analyst has given a verdict on (`wordwarden review`),
    /// as the review topic (`--review-topic`) held when tail started: what
    /// is still to look at.
    #[arg(long)]
    unreviewed: bool,
    /// Open the alerts' sealed evidence (their quotes of the messages,
    /// sealed by the engine's `evidence_recipients`) with the age
    /// identities in this file (`wordwarden keygen`, `age-keygen`;
    /// repeatable, for keys rotated); `--json` then prints the alerts
    /// opened. The access record says the evidence was opened.
    #[arg(
        long = "evidence-identity",
        value_name = "KEY_FILE",
        env = "WORDWARDEN_EVIDENCE_IDENTITY"
    )]
    evidence_identities: Vec<std::path::PathBuf>,
}

/// Opens what it can of each alert's sealed evidence; says why not once a
/// reason (on stderr), and what an alert still sealed is shown with.
struct Evidence {
    opener: Option<EvidenceOpener>,
    said: std::collections::HashSet<String>,
}

impl Evidence {
    /// Opens `alert`'s evidence where it is sealed and an identity opens
    /// it; else the reason it stays sealed, for the alert's text.
    fn open(&mut self, alert: &mut Alert) -> Option<String> {
        alert.sealed.as_ref()?;
        let Some(opener) = self.opener.as_mut() else {
            return Some("--evidence-identity opens it".into());
        };
        let why = opener.open(alert).err()?.to_string();
        if self.said.insert(why.clone()) {
            eprintln!("alert {}: evidence not opened: {why}", alert.alert_id);
        }
        Some(why)
    }
}

/// `shown`, an alert's lines, with its verdict at the end of its last line.
fn with_verdict(mut shown: String, verdict: Option<Verdict>, color: bool) -> String {
    if let Some(v) = verdict {
        let end = shown.trim_end_matches('\n').len();
        shown.insert_str(
            end,
            &paint(&format!("  [reviewed: {}]", v.name()), "32", color),
        );
    }
    shown
}

/// When the judged message was written, to the second, at
/// `utc_offset_hours` east of UTC.
fn written_at(a: &Alert, utc_offset_hours: i32) -> Option<String> {
    let at = UNIX_EPOCH.checked_add(Duration::from_millis(written_ms(a)?))?;
    Some(at_offset(at, utc_offset_hours))
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// The alert's snippet, and where a hit was in a link's percent-encoded
/// words, the snippet with them decoded after it: the escapes are what was
/// written, the decoded words what an analyst reads.
fn with_link_decoded(a: &Alert) -> String {
    let in_a_link = a.hits.iter().any(|h| {
        h.evasions
            .contains(&wordwarden::evasion::Evasion::UrlEncoded)
    });
    match percent_decoded(&a.snippet).filter(|_| in_a_link) {
        Some(decoded) => format!("{}  (decoded: {decoded})", a.snippet),
        None => a.snippet.clone(),
    }
}

/// `sealed`: why the alert's evidence is still sealed, where it is.
fn render(a: &Alert, color: bool, utc_offset_hours: i32, sealed: Option<&str>) -> String {
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
            let mut hit = match sealed {
                Some(_) => format!("{} «{}»", h.term, paint("sealed", "2", color)),
                // quoted in the withdrawn message's own alert, not again
                None if a.is_withdrawal() => h.term.clone(),
                None => format!("{} «{}»", h.term, h.matched),
            };
            if !h.evasions.is_empty() {
                let kinds = format!("[{}]", wordwarden::evasion::names(&h.evasions));
                hit.push(' ');
                hit.push_str(&paint(&kinds, "35", color));
            }
            // a number with no word naming it near: it may be an order's
            if h.confidence == Some(Confidence::Medium) {
                hit.push(' ');
                hit.push_str(&paint("(medium confidence)", "2", color));
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
    let when = written_at(a, utc_offset_hours)
        .map(|t| t + "  ")
        .unwrap_or_default();
    // leaving the company is what an analyst looks at first
    let audience = match a.audience {
        Audience::External => paint("external  ", "1;33", color),
        Audience::Internal => paint("internal  ", "2", color),
        Audience::Unknown => String::new(),
    };
    // the people groups of each side (`ibd -> research`), where the lists
    // have groups: who, under pseudonyms too
    let groups = match &a.groups {
        g if g.is_empty() => String::new(),
        g => {
            let side = |names: &[String]| match names.is_empty() {
                true => "-".to_string(),
                false => names.join(","),
            };
            let said = format!("[{} -> {}]  ", side(&g.sender), side(&g.recipients));
            paint(&said, "36", color)
        }
    };
    // a list's values in bulk: why the alert is above its list's severity
    let bulk: String = a
        .bulk
        .iter()
        .map(|b| {
            let said = match b.earlier_messages.len() {
                0 => format!("[bulk: {} values of {}] ", b.values, b.category),
                n => format!(
                    "[bulk: {} values of {} over {} messages] ",
                    b.values,
                    b.category,
                    n + 1
                ),
            };
            paint(&said, "1;31", color)
        })
        .collect();
    // values in bulk over the sender's recent messages: the ones before
    let earlier: String = a
        .bulk
        .iter()
        .filter(|b| !b.earlier_messages.is_empty())
        .map(|b| {
            let said = format!(
                "  [{} values also in {}]",
                b.category,
                b.earlier_messages.join(", ")
            );
            paint(&said, "31", color)
        })
        .collect();
    // a term sent a few characters a message: the messages before this one
    // an analyst opens to read it whole
    let split = match a.split_from.is_empty() {
        true => String::new(),
        false => {
            let said = format!(
                "  [split across {} messages, after {}]",
                a.split_from.len() + 1,
                a.split_from.join(", ")
            );
            paint(&said, "35", color)
        }
    };
    // a sender taking an alerting message back: which, and its alert
    let withdrawn = match &a.withdrawn {
        Some(_) => paint("[withdrawn] ", "1;35", color),
        None => String::new(),
    };
    format!(
        "{sev} {withdrawn}{bulk}{}  {}\n         {}{split}{earlier}\n         {}{audience}{groups}{}  {}  {}\n",
        paint(&cats.join(", "), "1", color),
        terms.join("; "),
        match (sealed, &a.withdrawn) {
            (Some(why), _) => paint(&format!("(evidence sealed: {why})"), "2", color),
            (None, Some(w)) => format!(
                "({} withdrew message {}, alert {})",
                a.withdrawn_by().unwrap_or_default(),
                w.msgid,
                w.alert_id
            ),
            (None, None) => with_link_decoded(a),
        },
        paint(&when, "2", color),
        paint(&who, "2", color),
        paint(&place, "2", color),
        paint(&a.alert_id, "2", color),
    )
}

/// The ids of the alerts shown lately, to show each once: the last
/// [`RecentIds::KEEP`] (a redelivered alert follows its first copy within
/// the engine's in-flight window).
#[derive(Default)]
struct RecentIds {
    set: std::collections::HashSet<String>,
    order: std::collections::VecDeque<String>,
}

impl RecentIds {
    const KEEP: usize = 200_000;

    /// Whether `id` is new; remembers it.
    fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == Self::KEEP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let start = Start::from_flags(args.since, args.from_beginning, Start::End);
    let brokers = args
        .feed
        .brokers
        .as_deref()
        .context("--brokers is required")?;
    let feed = &args.feed;
    if args.unreviewed && feed.review_topic.is_none() {
        anyhow::bail!("--unreviewed needs the review topic: --review-topic");
    }
    let mut evidence = Evidence {
        opener: match args.evidence_identities.is_empty() {
            true => None,
            false => Some(EvidenceOpener::from_files(&args.evidence_identities)?),
        },
        said: Default::default(),
    };
    let access = match evidence.opener {
        Some(_) => feed.access.opening_evidence(),
        None => feed.access.clone(),
    };
    access.record(brokers, &feed.props, "tail", &feed.alert_topic)?;
    let verdicts = feed.verdicts(Duration::from_secs(30))?;
    let reader = TopicReader::open(
        brokers,
        &args.feed.alert_topic,
        start,
        false,
        &args.feed.props,
        ReaderGroup::Throwaway("tail"),
        Duration::from_secs(10),
    )?;
    let color =
        !args.json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::stdout().lock();
    let mut shown = 0usize;
    let mut seen = RecentIds::default();
    let mut last = Instant::now();
    loop {
        if args
            .idle_exit
            .is_some_and(|s| last.elapsed() >= Duration::from_secs(s))
        {
            break;
        }
        let Some(m) = reader.consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m?;
        last = Instant::now();
        if reader.before_since(&m) {
            continue;
        }
        let Some(mut alert) = m
            .payload()
            .and_then(|p| serde_json::from_slice::<Alert>(p).ok())
        else {
            eprintln!(
                "skipped a record that is not an alert at offset {}",
                m.offset()
            );
            continue;
        };
        if !args.feed.admits(&alert) {
            continue;
        }
        // an at-least-once engine may publish an alert twice after a
        // restart; its id says so
        if !seen.insert(&alert.alert_id) {
            continue;
        }
        let review = verdicts.as_ref().and_then(|v| v.of(&alert.alert_id));
        let verdict = review.map(|r| r.verdict);
        if args.unreviewed && verdict.is_some() {
            continue;
        }
        let sealed = evidence.open(&mut alert);
        if args.json {
            serde_json::to_writer(
                &mut out,
                &Printed {
                    alert: &alert,
                    review,
                },
            )?;
            writeln!(out)?;
        } else {
            let shown = render(&alert, color, args.feed.utc_offset, sealed.as_deref());
            write!(out, "{}", with_verdict(shown, verdict, color))?;
        }
        out.flush()?;
        shown += 1;
        if args.limit.is_some_and(|l| shown >= l) {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An alert as `--json` prints it: as published (its evidence opened where
/// a key opens it), and with `--review-topic` its last verdict, `review`.
#[derive(serde::Serialize)]
struct Printed<'a> {
    #[serde(flatten)]
    alert: &'a Alert,
    #[serde(skip_serializing_if = "Option::is_none")]
    review: Option<&'a Review>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sealed evidence shows as sealed, with what opens it.
    #[test]
    fn sealed_evidence_shows_as_sealed_with_why() {
        let alert: Alert = serde_json::from_value(serde_json::json!({
            "alert_id": "a1", "ruleset_version": "v", "severity": "high",
            "source": {"from": "sunli"},
            "hits": [{"term": "客户名单", "category": "leak", "severity": "high",
                      "start": 0, "end": 12, "count": 1}],
            "sealed": {"scheme": "s", "key": "k", "nonce": "n", "data": "d"},
        }))
        .expect("a sealed alert reads");
        let mut evidence = Evidence {
            opener: None,
            said: Default::default(),
        };
        let mut copy = alert.clone();
        let why = evidence.open(&mut copy);
        assert_eq!(why.as_deref(), Some("--evidence-identity opens it"));
        assert_eq!(copy, alert);
        let shown = render(&alert, false, 0, why.as_deref());
        assert!(
            shown.starts_with(
                "HIGH     leak  客户名单 «sealed»\n         (evidence sealed: --evidence-identity opens it)\n"
            ),
            "{shown}"
        );
        // an alert that was never sealed needs no identity
        let mut plain = alert.clone();
        plain.sealed = None;
        assert_eq!(evidence.open(&mut plain), None);
    }

    /// An alert on a withdrawal says so, names the message and its alert,
    /// and quotes nothing (the message's own alert does).
    #[test]
    fn an_alert_on_a_withdrawal_says_so() {
        let alert: Alert = serde_json::from_value(serde_json::json!({
            "alert_id": "b2", "ruleset_version": "v", "severity": "high",
            "source": {"from": "li", "msgid": "m2"},
            "hits": [{"term": "内幕消息", "category": "finance/insider", "severity": "high",
                "start": 0, "end": 12, "count": 1}],
            "withdrawn": {"msgid": "m1", "alert_id": "a1"}
        }))
        .expect("an alert");
        let shown = render(&alert, false, 0, None);
        assert!(
            shown.starts_with("HIGH     [withdrawn] finance/insider  内幕消息\n         (its sender withdrew message m1, alert a1)\n"),
            "{shown}"
        );
        // a group's owner recalling a member's message
        let mut by_owner = alert;
        by_owner.source.insert("from".into(), "zhang".into());
        if let Some(w) = by_owner.withdrawn.as_mut() {
            w.sender = Some("li".into());
        }
        let shown = render(&by_owner, false, 0, None);
        assert!(
            shown.contains(
                "\n         (zhang (not its sender, li) withdrew message m1, alert a1)\n"
            ),
            "{shown}"
        );
    }

    /// A hit in a link's percent-encoded words shows the snippet as
    /// written and decoded; other snippets as written only.
    #[test]
    fn a_hit_in_a_links_escapes_shows_the_snippet_decoded() {
        let alert = |evasions: serde_json::Value| -> Alert {
            serde_json::from_value(serde_json::json!({
                "alert_id": "a1", "ruleset_version": "v", "severity": "high",
                "source": {"from": "li"},
                "hits": [{"term": "客户名单", "category": "secrets/sent-outside", "severity": "high",
                    "start": 11, "end": 47, "matched": "%E5%AE%A2%E6%88%B7%E5%90%8D%E5%8D%95",
                    "count": 1, "evasions": evasions}],
                "snippet": "…com/s/%E5%AE%A2%E6%88%B7%E5%90%8D%E5%8D%95.xlsx"
            }))
            .expect("an alert")
        };
        let shown = render(&alert(serde_json::json!(["url_encoded"])), false, 0, None);
        assert!(
            shown.contains("…com/s/%E5%AE%A2%E6%88%B7%E5%90%8D%E5%8D%95.xlsx  (decoded: …com/s/客户名单.xlsx)\n"),
            "{shown}"
        );
        let shown = render(&alert(serde_json::json!([])), false, 0, None);
        assert!(!shown.contains("decoded"), "{shown}");
    }

    /// A detector's hit with no word naming its number near says it is
    /// of medium confidence; a sure one, and a term's, say nothing.
    #[test]
    fn a_number_alone_says_medium_confidence() {
        let alert = |confidence: Option<&str>| -> Alert {
            let mut hit = serde_json::json!({"term": "@bank_card", "category": "personal/pii",
                "severity": "high", "start": 3, "end": 19, "matched": "4111********1111",
                "count": 1});
            if let Some(c) = confidence {
                hit["confidence"] = c.into();
            }
            serde_json::from_value(serde_json::json!({
                "alert_id": "a1", "ruleset_version": "v", "severity": "high",
                "source": {"from": "li"}, "hits": [hit], "snippet": "转 4111********1111"
            }))
            .expect("an alert")
        };
        let shown = render(&alert(Some("medium")), false, 0, None);
        assert!(
            shown.contains("@bank_card «4111********1111» (medium confidence)"),
            "{shown}"
        );
        for sure in [Some("high"), None] {
            let shown = render(&alert(sure), false, 0, None);
            assert!(!shown.contains("confidence"), "{shown}");
        }
    }

    /// An alert raised by a list's values in bulk says so on its first
    /// line, before its categories: why it is above its list's severity.
    #[test]
    fn an_alert_in_bulk_says_so() {
        let alert: Alert = serde_json::from_value(serde_json::json!({
            "alert_id": "a1", "ruleset_version": "v", "severity": "critical",
            "audience": "external", "source": {"from": "sunli"},
            "hits": [{"term": "@cn_mobile", "category": "personal/pii",
                      "severity": "critical", "start": 0, "end": 11,
                      "matched": "138****0345", "count": 12}],
            "snippet": "张伟 138****0345",
            "bulk": [{"category": "personal/pii", "values": 12, "at_least": 10,
                      "severity": "critical"}],
        }))
        .expect("an alert");
        let shown = render(&alert, false, 0, None);
        assert!(
            shown.starts_with(
                "CRITICAL [bulk: 12 values of personal/pii] personal/pii  @cn_mobile «138****0345»\n"
            ),
            "{shown}"
        );
        let one = Alert {
            bulk: Vec::new(),
            ..alert.clone()
        };
        assert!(
            render(&one, false, 0, None).starts_with("CRITICAL personal/pii  @cn_mobile"),
            "{}",
            render(&one, false, 0, None)
        );
        // values in bulk over the sender's messages name the ones before
        let mut over_time = alert.clone();
        over_time.bulk[0].earlier_messages = vec!["m1".into(), "m2".into()];
        let shown = render(&over_time, false, 0, None);
        assert!(
            shown.starts_with("CRITICAL [bulk: 12 values of personal/pii over 3 messages] "),
            "{shown}"
        );
        assert!(
            shown.contains("\n         张伟 138****0345  [personal/pii values also in m1, m2]\n"),
            "{shown}"
        );
        // a term split across messages names the messages before
        let mut split = one.clone();
        split.split_from = vec!["m1".into(), "m2".into()];
        let shown = render(&split, false, 0, None);
        assert!(
            shown
                .contains("\n         张伟 138****0345  [split across 3 messages, after m1, m2]\n"),
            "{shown}"
        );
        // the people groups of each side, where the lists have groups
        let mut barrier = one.clone();
        barrier.groups.sender = vec!["people/ibd".into()];
        let shown = render(&barrier, false, 0, None);
        assert!(shown.contains("[people/ibd -> -]  "), "{shown}");
        barrier.groups.recipients = vec!["people/research".into(), "people/leavers".into()];
        let shown = render(&barrier, false, 0, None);
        assert!(
            shown.contains("[people/ibd -> people/research,people/leavers]  "),
            "{shown}"
        );
        assert!(!render(&one, false, 0, None).contains(" -> "));
        // a verdict at the end of the last line
        let reviewed = with_verdict(
            render(&one, false, 0, None),
            Some(Verdict::FalsePositive),
            false,
        );
        assert!(
            reviewed.ends_with("  [reviewed: false_positive]\n"),
            "{reviewed}"
        );
        assert_eq!(
            reviewed.lines().count(),
            render(&one, false, 0, None).lines().count()
        );
        assert_eq!(
            with_verdict(render(&one, false, 0, None), None, false),
            render(&one, false, 0, None)
        );
    }

    #[test]
    fn recent_ids_show_each_alert_once_and_forget_the_oldest() {
        let mut seen = RecentIds::default();
        assert!(seen.insert("a"));
        assert!(!seen.insert("a"));
        for i in 0..RecentIds::KEEP {
            assert!(seen.insert(&i.to_string()));
        }
        assert_eq!(seen.set.len(), RecentIds::KEEP);
        // "a" went out first
        assert!(seen.insert("a"));
        assert!(!seen.insert(&(RecentIds::KEEP - 1).to_string()));
    }
}
