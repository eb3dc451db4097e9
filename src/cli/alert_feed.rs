//! The alert feed an analyst reads, and which of its alerts: what `tail`
//! and `report` share.

use std::time::{Duration, SystemTime};

use wordwarden::alert::Alert;
use wordwarden::audience::Audience;
use wordwarden::detect::Confidence;
use wordwarden::lists::Severity;

use super::review::Verdicts;

#[derive(Debug, Clone, clap::Args)]
pub struct FeedArgs {
    /// Kafka bootstrap servers.
    #[arg(long)]
    pub brokers: Option<String>,
    /// The alert topic.
    #[arg(long, default_value = "wordwarden.alerts")]
    pub alert_topic: String,
    /// Only alerts of at least this severity.
    #[arg(long, default_value = "info", value_parser = parse_severity)]
    severity: Severity,
    /// Only alerts with a hit in this category or below it (repeatable).
    #[arg(long)]
    category: Vec<String>,
    /// Only alerts with a hit written to get past a filter (`内*幕*消*息`,
    /// `sh1t`, a phone number in numerals): the hits' `evasions`.
    #[arg(long)]
    evasive: bool,
    /// Only alerts on messages to or from someone outside the company (a
    /// WeCom external contact, an address outside `internal_domains`): the
    /// alerts' `audience`.
    #[arg(long)]
    external: bool,
    /// Only alerts on messages holding a list's values in bulk (a list's
    /// `#! bulk:` threshold reached: ten ID card numbers, a customer
    /// roster): the alerts' `bulk`.
    #[arg(long)]
    bulk: bool,
    /// Only alerts on a sender withdrawing (WeCom recall, 撤回) a message
    /// that had alerted: the alerts' `withdrawn`.
    #[arg(long)]
    withdrawn: bool,
    /// Only alerts at least this sure: `high` leaves out the alerts whose
    /// every hit is a number with no word naming it near (a card's, a
    /// mobile's, a landline's, a Taiwan or Hong Kong identity card's
    /// number alone; the hits' `confidence`), unless a bulk threshold was
    /// reached.
    #[arg(long, default_value = "medium")]
    min_confidence: Confidence,
    /// Only alerts on messages this person sent (repeatable): the alerts'
    /// `source.from`, as they carry it (a pseudonym under
    /// `pseudonymize_ids`).
    #[arg(long)]
    sender: Vec<String>,
    /// Only alerts on messages this person sent or received (repeatable):
    /// `source.from` or one of `source.tolist`.
    #[arg(long)]
    participant: Vec<String>,
    /// Only alerts on messages in this group chat (repeatable): `source.roomid`.
    #[arg(long)]
    room: Vec<String>,
    /// Only alerts on messages sent or received by a member of this people
    /// group (`*.people`; repeatable): the alerts' `groups`.
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Hours east of UTC that times are shown in and days counted by (`8`:
    /// China Standard Time).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true,
          value_parser = clap::value_parser!(i32).range(-12..=14))]
    pub utc_offset: i32,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    pub props: Vec<(String, String)>,
    /// The review topic, where `wordwarden review` keeps analysts' verdicts:
    /// `report` counts them (and the terms with the most false alarms),
    /// `tail` shows them and `--unreviewed` leaves reviewed alerts out.
    /// Read once, from its beginning, before the alerts.
    #[arg(long, env = "WORDWARDEN_REVIEW_TOPIC")]
    pub review_topic: Option<String>,
    #[command(flatten)]
    pub access: super::access::AccessArgs,
}

/// When the judged message was written, in milliseconds: WeCom's
/// `msgtime`, else the input record's Kafka `timestamp`.
pub fn written_ms(a: &Alert) -> Option<u64> {
    ["msgtime", "timestamp"]
        .iter()
        .find_map(|&k| a.source.get(k).and_then(serde_json::Value::as_u64))
}

/// `t` to the second at `utc_offset_hours` east of UTC:
/// `2026-12-01T16:00:00+08:00`, or `2026-12-01T08:00:00Z` at UTC (and for
/// an offset no time zone has, which `--utc-offset` does not accept). Any
/// time: a message's time is whatever its record says (`msgtime` in the
/// year 285,000), a `--since` may be before 1970; a time no calendar here
/// shows (beyond the years -9999 to 9999) is given in seconds.
pub fn at_offset(t: SystemTime, utc_offset_hours: i32) -> String {
    let Ok(ts) = jiff::Timestamp::try_from(t) else {
        return match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => format!("{} s after 1970", d.as_secs()),
            Err(e) => format!("{} s before 1970", e.duration().as_secs()),
        };
    };
    let offset = i8::try_from(utc_offset_hours)
        .ok()
        .filter(|&h| h != 0)
        .and_then(|h| jiff::tz::Offset::from_hours(h).ok());
    match offset {
        Some(o) => ts
            .to_zoned(o.to_time_zone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        None => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// `source[key]` as text, when it is.
fn source_str<'a>(a: &'a Alert, key: &str) -> Option<&'a str> {
    a.source.get(key).and_then(serde_json::Value::as_str)
}

/// Whether `wanted` is empty (no such filter) or holds `id`.
fn wanted(wanted: &[String], id: Option<&str>) -> bool {
    wanted.is_empty() || id.is_some_and(|id| wanted.iter().any(|w| w == id))
}

impl FeedArgs {
    /// The verdicts on the review topic, when `--review-topic` is given.
    pub fn verdicts(&self, timeout: Duration) -> anyhow::Result<Option<Verdicts>> {
        let Some(topic) = &self.review_topic else {
            return Ok(None);
        };
        let Some(brokers) = &self.brokers else {
            anyhow::bail!("--review-topic {topic} is read from the brokers: --brokers is required");
        };
        Verdicts::read(brokers, &self.props, topic, timeout).map(Some)
    }

    /// Whether `a` passes every filter given.
    pub fn admits(&self, a: &Alert) -> bool {
        let from = source_str(a, "from");
        let recipients = a.source.get("tolist").and_then(serde_json::Value::as_array);
        a.severity >= self.severity
            && (!self.evasive || a.is_evasive())
            && (!self.external || a.audience == Audience::External)
            && (!self.bulk || a.is_bulk())
            && (!self.withdrawn || a.is_withdrawal())
            && a.confidence() >= self.min_confidence
            && (self.groups.is_empty() || self.groups.iter().any(|g| a.groups.holds(g)))
            && wanted(&self.sender, from)
            && wanted(&self.room, source_str(a, "roomid"))
            && (wanted(&self.participant, from)
                || recipients
                    .is_some_and(|to| to.iter().any(|r| wanted(&self.participant, r.as_str()))))
            && (self.category.is_empty()
                || a.hits.iter().any(|h| {
                    self.category.iter().any(|c| {
                        let c = c.trim_end_matches('/');
                        h.category == c
                            || h.category
                                .strip_prefix(c)
                                .is_some_and(|below| below.starts_with('/'))
                    })
                }))
    }
}

#[cfg(test)]
impl FeedArgs {
    /// The feed's arguments from a command line's (`["--sender", "li"]`).
    pub fn parsed(args: &[&str]) -> FeedArgs {
        let line: Vec<&str> = std::iter::once("feed")
            .chain(args.iter().copied())
            .collect();
        super::parse_args(&line).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(filters: &[&str], alerts: &[Alert]) -> Vec<String> {
        let feed = FeedArgs::parsed(filters);
        alerts
            .iter()
            .filter(|a| feed.admits(a))
            .map(|a| a.alert_id.clone())
            .collect()
    }

    fn alert(id: &str, source: serde_json::Value) -> Alert {
        serde_json::from_value(serde_json::json!({
            "alert_id": id, "ruleset_version": "v", "severity": "high",
            "audience": "internal", "hits": [], "snippet": "", "source": source,
        }))
        .expect("an alert")
    }

    /// `--bulk` keeps the alerts whose message reached a list's `#! bulk:`
    /// threshold; alerts written before the field existed have none.
    #[test]
    fn bulk_keeps_the_alerts_with_values_in_bulk() {
        let mut roster = alert("roster", serde_json::json!({}));
        roster.bulk = serde_json::from_value(serde_json::json!([
            {"category": "personal/pii", "values": 12, "at_least": 10, "severity": "critical"}
        ]))
        .expect("bulk");
        let alerts = [alert("one", serde_json::json!({})), roster];
        assert_eq!(admitted(&[], &alerts), ["one", "roster"]);
        assert_eq!(admitted(&["--bulk"], &alerts), ["roster"]);
    }

    /// `--min-confidence high` leaves out the alerts resting only on
    /// numbers with no word naming them near; alerts written before hits
    /// had a confidence, and terms' hits, have none and are kept.
    #[test]
    fn min_confidence_leaves_out_numbers_alone() {
        let with_hits = |id: &str, hits: serde_json::Value| {
            let mut a = alert(id, serde_json::json!({}));
            a.hits = serde_json::from_value(hits).expect("hits");
            a
        };
        let hit = |term: &str, confidence: Option<&str>| {
            let mut h = serde_json::json!({"term": term, "category": "pii", "severity": "high",
                                           "start": 0, "end": 11, "count": 1});
            if let Some(c) = confidence {
                h["confidence"] = c.into();
            }
            h
        };
        let mut roster = with_hits(
            "roster",
            serde_json::json!([hit("@cn_mobile", Some("medium"))]),
        );
        roster.bulk = serde_json::from_value(serde_json::json!([
            {"category": "pii", "values": 12, "at_least": 10, "severity": "critical"}
        ]))
        .expect("bulk");
        let alerts = [
            with_hits(
                "alone",
                serde_json::json!([hit("@cn_mobile", Some("medium"))]),
            ),
            with_hits(
                "named",
                serde_json::json!([
                    hit("@bank_card", Some("medium")),
                    hit("@cn_mobile", Some("high"))
                ]),
            ),
            with_hits(
                "term",
                serde_json::json!([hit("@bank_card", Some("medium")), hit("客户名单", None)]),
            ),
            with_hits("older", serde_json::json!([hit("@bank_card", None)])),
            roster,
        ];
        let all = ["alone", "named", "term", "older", "roster"];
        assert_eq!(admitted(&[], &alerts), all);
        assert_eq!(admitted(&["--min-confidence", "medium"], &alerts), all);
        assert_eq!(
            admitted(&["--min-confidence", "high"], &alerts),
            ["named", "term", "older", "roster"]
        );
        let bad = super::super::parse_args::<FeedArgs>(&["feed", "--min-confidence", "low"]);
        assert!(bad.is_err());
    }

    /// `--withdrawn` keeps the alerts on a sender withdrawing a message
    /// that had alerted.
    #[test]
    fn withdrawn_keeps_the_alerts_on_withdrawals() {
        let mut revoke = alert("revoke", serde_json::json!({"msgid": "m2"}));
        revoke.withdrawn = serde_json::from_value(serde_json::json!(
            {"msgid": "m1", "alert_id": "sent"}
        ))
        .expect("withdrawn");
        let alerts = [alert("sent", serde_json::json!({"msgid": "m1"})), revoke];
        assert_eq!(admitted(&[], &alerts), ["sent", "revoke"]);
        assert_eq!(admitted(&["--withdrawn"], &alerts), ["revoke"]);
    }

    /// `--group` keeps the alerts whose sender or a recipient is in one of
    /// the groups named; alerts without groups pass only without it.
    #[test]
    fn group_keeps_the_alerts_of_a_people_group() {
        let mut across = alert("across", serde_json::json!({}));
        across.groups = serde_json::from_value(serde_json::json!(
            {"sender": ["people/ibd"], "recipients": ["people/research", "people/leavers"]}
        ))
        .expect("groups");
        let mut sent = alert("sent", serde_json::json!({}));
        sent.groups.sender = vec!["people/leavers".into()];
        let alerts = [alert("none", serde_json::json!({})), across, sent];
        assert_eq!(admitted(&[], &alerts), ["none", "across", "sent"]);
        assert_eq!(
            admitted(&["--group", "people/research"], &alerts),
            ["across"]
        );
        assert_eq!(
            admitted(&["--group", "people/leavers"], &alerts),
            ["across", "sent"]
        );
        assert_eq!(
            admitted(
                &["--group", "people/ibd", "--group", "people/leavers"],
                &alerts
            ),
            ["across", "sent"]
        );
    }

    #[test]
    fn times_are_shown_at_the_offset_asked_for() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_576_000);
        assert_eq!(at_offset(t, 0), "2025-12-01T08:00:00Z");
        assert_eq!(at_offset(t, 8), "2025-12-01T16:00:00+08:00");
        assert_eq!(at_offset(t, -5), "2025-12-01T03:00:00-05:00");
        assert_eq!(at_offset(t, 14), "2025-12-01T22:00:00+14:00");
        assert_eq!(at_offset(t, 300), "2025-12-01T08:00:00Z");
        assert_eq!(FeedArgs::parsed(&["--utc-offset", "-12"]).utc_offset, -12);
        // whatever a record or a flag says, without a panic: before 1970,
        // and a `msgtime` of 9e15 ms (the year 285,000)
        let before = SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(315_619_200);
        assert_eq!(at_offset(before, 0), "1960-01-01T00:00:00Z");
        assert_eq!(at_offset(before, 8), "1960-01-01T08:00:00+08:00");
        let far = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(9_000_000_000_000_000);
        assert_eq!(at_offset(far, 0), "9000000000000 s after 1970");
        assert_eq!(at_offset(far, 8), "9000000000000 s after 1970");
    }

    #[test]
    fn people_and_group_chats_filter_by_the_ids_the_alerts_carry() {
        let alerts = [
            alert(
                "a",
                serde_json::json!({"from": "zhang", "tolist": ["li", "wang"]}),
            ),
            alert(
                "b",
                serde_json::json!({"from": "li", "tolist": ["zhang"], "roomid": "wr1"}),
            ),
            alert(
                "c",
                serde_json::json!({"from": "wang", "tolist": [], "roomid": "wr2"}),
            ),
            alert("d", serde_json::json!({"topic": "chat", "offset": 4})),
        ];
        assert_eq!(admitted(&[], &alerts), ["a", "b", "c", "d"]);
        assert_eq!(admitted(&["--sender", "li"], &alerts), ["b"]);
        assert_eq!(
            admitted(&["--sender", "li", "--sender", "wang"], &alerts),
            ["b", "c"]
        );
        assert_eq!(admitted(&["--participant", "li"], &alerts), ["a", "b"]);
        assert_eq!(admitted(&["--participant", "wang"], &alerts), ["a", "c"]);
        assert_eq!(admitted(&["--room", "wr1"], &alerts), ["b"]);
        assert_eq!(
            admitted(&["--room", "wr2", "--participant", "li"], &alerts),
            Vec::<String>::new()
        );
        assert_eq!(
            admitted(&["--sender", "nobody"], &alerts),
            Vec::<String>::new()
        );
    }
}
