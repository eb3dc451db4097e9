//! `wordwarden review --brokers .. --verdict false_positive ALERT_ID..`: an
//! analyst's verdict on alerts, kept on the review topic, and read back by
//! `report` (verdicts counted; the terms with the most false alarms, for
//! the lists' maintainers) and `tail --unreviewed` (what is still to look
//! at).
//!
//! One record a verdict, keyed by the alert's id (a compacted topic keeps
//! each alert's last verdict, and a verdict given again replaces the one
//! before): `{"kind": "review", "time", "alert_id", "verdict", "by",
//! "terms", "note"}`; `terms`, for a false positive, names the hits that
//! were wrong where the alert has others that were not. The record holds
//! no message text; the note is the analyst's own (at most
//! [`MAX_NOTE_CHARS`] characters), and the documentation asks them not to
//! copy the message into it. Written with the acknowledgement of every
//! in-sync replica, and with `--audit-topic`, recorded in the audit trail
//! first (as `review`).

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rdkafka::message::Message;
use serde::{Deserialize, Serialize};

use super::access::write_quietly;
use super::topic_reader::{ReaderGroup, Start, TopicReader};

/// The review topic's default name.
pub const DEFAULT_TOPIC: &str = "wordwarden.reviews";

/// The longest note a verdict carries, in characters: a reason, not a
/// copy of the conversation.
const MAX_NOTE_CHARS: usize = 500;

/// What an analyst found an alert to be.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Verdict {
    /// A real concern: followed up.
    Confirmed,
    /// The hit was wrong: the term matched words that mean something else
    /// (`特色情景` read as `色情`). What the lists' maintainers fix, with an
    /// allow phrase or a narrower term.
    FalsePositive,
    /// The hit was right and the message no concern (an approved disclosure,
    /// a training example).
    Dismissed,
}

impl Verdict {
    /// The verdict's name, as records and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::FalsePositive => "false_positive",
            Verdict::Dismissed => "dismissed",
        }
    }
}

/// One verdict on the review topic.
#[derive(Debug, Serialize, Deserialize)]
struct ReviewRecord {
    kind: String,
    /// Unix time.
    time: f64,
    alert_id: String,
    verdict: Verdict,
    by: String,
    /// For a false positive: the terms of the hits that were wrong (none:
    /// every hit of the alert).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    terms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// An alert's last verdict, as `report` counts it and `tail --json`
/// prints it beside the alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub verdict: Verdict,
    /// For a false positive: the terms of the hits that were wrong (empty:
    /// every hit of the alert).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
}

impl Review {
    /// Whether the alert's hit on `term` was found a false positive, of an
    /// alert with hits on `alert_terms`: the review names it, or names no
    /// term the alert has a hit on (none, or only a mistyped one: then
    /// every hit, as without `--term`, rather than none).
    pub fn wrong(&self, term: &str, alert_terms: &[&str]) -> bool {
        self.verdict == Verdict::FalsePositive
            && (self.terms.iter().any(|t| t == term)
                || !self.terms.iter().any(|t| alert_terms.contains(&t.as_str())))
    }

    /// Whether the review names a term its alert (with hits on
    /// `alert_terms`) has no hit on: `review` takes `--term` as typed, and
    /// `report` says how many did.
    pub fn names_a_term_not_hit(&self, alert_terms: &[&str]) -> bool {
        self.terms
            .iter()
            .any(|t| !alert_terms.contains(&t.as_str()))
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The alerts' ids (`alert_id`, as `tail` and the alerts show them).
    #[arg(required = true, value_name = "ALERT_ID")]
    alert_ids: Vec<String>,
    /// What the alerts were: `confirmed` (a real concern), `false_positive`
    /// (the term matched words that mean something else: for the lists'
    /// maintainers), `dismissed` (the hit was right, the message no
    /// concern).
    #[arg(long, value_enum)]
    verdict: Verdict,
    /// With `--verdict false_positive`, where an alert's other hits were
    /// right: the hits that were wrong, by their term as the alert names
    /// it (`色情`, `@cn_mobile`; repeatable). Without it, all of them.
    #[arg(long = "term", value_name = "TERM")]
    terms: Vec<String>,
    /// Why, briefly (at most 500 characters). Not the message's text: the
    /// review topic is read by more people than the archive.
    #[arg(long)]
    note: Option<String>,
    /// Kafka bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// The review topic (best compacted: each alert's last verdict is kept).
    #[arg(long, default_value = DEFAULT_TOPIC, env = "WORDWARDEN_REVIEW_TOPIC")]
    review_topic: String,
    /// Give up when the brokers have not taken the verdicts in this many
    /// seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    props: Vec<(String, String)>,
    #[command(flatten)]
    access: super::access::AccessArgs,
}

/// Whether `id` is an alert's id: 32 lower-case hexadecimal digits.
fn is_alert_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The verdict records `args` asks for, one an alert (each id once), or
/// what is wrong with the command line.
fn records(args: &Args, by: &str, time: f64) -> anyhow::Result<Vec<ReviewRecord>> {
    let bad: Vec<&str> = args
        .alert_ids
        .iter()
        .map(String::as_str)
        .filter(|id| !is_alert_id(id))
        .collect();
    if !bad.is_empty() {
        anyhow::bail!(
            "not an alert id (32 lower-case hexadecimal digits, the alerts' `alert_id`): {}",
            bad.join(", ")
        );
    }
    if !args.terms.is_empty() && args.verdict != Verdict::FalsePositive {
        anyhow::bail!("--term names the hits that were wrong: only with --verdict false_positive");
    }
    if let Some(note) = &args.note {
        let chars = note.chars().count();
        if chars > MAX_NOTE_CHARS {
            anyhow::bail!(
                "the note has {chars} characters, at most {MAX_NOTE_CHARS}: a reason, not \
                 the conversation"
            );
        }
    }
    let mut ids: Vec<&String> = args.alert_ids.iter().collect();
    ids.sort();
    ids.dedup();
    Ok(ids
        .into_iter()
        .map(|id| ReviewRecord {
            kind: "review".into(),
            time,
            alert_id: id.clone(),
            verdict: args.verdict,
            by: by.to_string(),
            terms: args.terms.clone(),
            note: args.note.clone().filter(|n| !n.trim().is_empty()),
        })
        .collect())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let records = records(&args, &args.access.actor(), time)?;
    (args.access).record(&args.brokers, &args.props, "review", &args.review_topic)?;
    let keyed = records
        .iter()
        .map(|r| Ok((r.alert_id.as_str(), serde_json::to_string(r)?)))
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    let timeout = Duration::from_secs(args.timeout_secs);
    write_quietly(
        &args.brokers,
        &args.props,
        &args.review_topic,
        &keyed,
        timeout,
    )
    .map_err(|cause| {
        anyhow::anyhow!(
            "the verdicts were not all written to {} ({cause})",
            args.review_topic
        )
    })?;
    println!(
        "{}",
        serde_json::json!({
            "recorded": records.len(),
            "verdict": args.verdict.name(),
            "review_topic": args.review_topic,
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Each reviewed alert's last verdict, as read from the review topic.
#[derive(Debug, Default)]
pub struct Verdicts {
    by_alert: HashMap<String, Review>,
    /// Records that are not verdicts.
    pub unreadable: usize,
}

impl Verdicts {
    /// The last verdict on the alert `alert_id`, if it has one.
    pub fn of(&self, alert_id: &str) -> Option<&Review> {
        self.by_alert.get(alert_id)
    }

    /// These verdicts, as if read in this order.
    #[cfg(test)]
    pub fn from_pairs<'t>(
        pairs: impl IntoIterator<Item = (String, Verdict, &'t [&'t str])>,
    ) -> Verdicts {
        let review = |verdict, terms: &[&str]| Review {
            verdict,
            terms: terms.iter().map(|t| t.to_string()).collect(),
        };
        Verdicts {
            by_alert: pairs
                .into_iter()
                .map(|(id, verdict, terms)| (id, review(verdict, terms)))
                .collect(),
            unreadable: 0,
        }
    }

    /// Takes one record of the review topic, read in order: a later verdict
    /// on an alert replaces an earlier one.
    fn add(&mut self, payload: Option<&[u8]>) {
        match payload.and_then(|p| serde_json::from_slice::<ReviewRecord>(p).ok()) {
            Some(r) if r.kind == "review" && is_alert_id(&r.alert_id) => {
                let review = Review {
                    verdict: r.verdict,
                    terms: r.terms,
                };
                self.by_alert.insert(r.alert_id, review);
            }
            _ => self.unreadable += 1,
        }
    }

    /// Every verdict on `topic`, read from its beginning to its end (a
    /// verdict on an alert is in one partition, by its key, so the last
    /// read is the last given).
    pub fn read(
        brokers: &str,
        props: &[(String, String)],
        topic: &str,
        timeout: Duration,
    ) -> anyhow::Result<Verdicts> {
        let reader = TopicReader::open(
            brokers,
            topic,
            Start::Beginning,
            true,
            props,
            ReaderGroup::Throwaway("reviews"),
            timeout,
        )
        .with_context(|| format!("reading the verdicts on {topic}"))?;
        let mut verdicts = Verdicts::default();
        while let Some(m) = reader.next_to_end(timeout)? {
            verdicts.add(m.payload());
        }
        Ok(verdicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &[&str]) -> Result<Args, clap::Error> {
        let mut argv = vec!["review", "--brokers", "b:9092"];
        argv.extend(line);
        super::super::parse_args(&argv)
    }

    const A: &str = "fffc6817cd9affa90763d99d84b5b0ef";
    const B: &str = "0bc370f8d1481eb449ae4b29a88ad51c";

    #[test]
    fn a_verdict_is_one_record_an_alert_without_message_text() {
        let args = parsed(&[
            "--verdict",
            "false_positive",
            "--note",
            "特色情景 is a place",
            A,
            B,
            A,
        ])
        .expect("parsed");
        let got = records(&args, "analyst-7", 1.5).expect("records");
        let json: Vec<String> = got
            .iter()
            .map(|r| serde_json::to_string(r).expect("json"))
            .collect();
        assert_eq!(
            json,
            [
                format!(
                    r#"{{"kind":"review","time":1.5,"alert_id":"{B}","verdict":"false_positive","by":"analyst-7","note":"特色情景 is a place"}}"#
                ),
                format!(
                    r#"{{"kind":"review","time":1.5,"alert_id":"{A}","verdict":"false_positive","by":"analyst-7","note":"特色情景 is a place"}}"#
                ),
            ]
        );
        // no note, or a blank one: none in the record
        let args = parsed(&["--verdict", "confirmed", "--note", " ", A]).expect("parsed");
        let got = records(&args, "a", 0.0).expect("records");
        assert!(got[0].note.is_none());
        assert!(!serde_json::to_string(&got[0])
            .expect("json")
            .contains("note"));
    }

    #[test]
    fn what_is_no_alert_id_or_too_long_a_note_is_refused() {
        assert!(parsed(&["--verdict", "confirmed"]).is_err(), "no id");
        assert!(
            parsed(&["--verdict", "maybe", A]).is_err(),
            "no such verdict"
        );
        for bad in [
            "FFFC6817CD9AFFA90763D99D84B5B0EF",
            "fffc6817",
            "topic/0/12",
            "",
        ] {
            let args = parsed(&["--verdict", "confirmed", A, bad]).expect("parsed");
            let err = records(&args, "a", 0.0).expect_err(bad).to_string();
            assert!(
                err.starts_with("not an alert id") && err.ends_with(bad),
                "{err}"
            );
        }
        // the hits that were wrong are named only for a false positive
        let args = parsed(&["--verdict", "confirmed", "--term", "色情", A]).expect("parsed");
        let err = records(&args, "a", 0.0).expect_err("--term").to_string();
        assert!(
            err.starts_with("--term names the hits that were wrong"),
            "{err}"
        );
        let args = parsed(&["--verdict", "false_positive", "--term", "色情", A]).expect("parsed");
        let json = serde_json::to_string(&records(&args, "a", 0.0).expect("records")[0]);
        assert!(json.expect("json").contains(r#""terms":["色情"]"#));
        let long = "很".repeat(MAX_NOTE_CHARS + 1);
        let args = parsed(&["--verdict", "dismissed", "--note", &long, A]).expect("parsed");
        let err = records(&args, "a", 0.0).expect_err("too long").to_string();
        assert!(err.starts_with("the note has 501 characters"), "{err}");
        let fits = "很".repeat(MAX_NOTE_CHARS);
        let args = parsed(&["--verdict", "dismissed", "--note", &fits, A]).expect("parsed");
        assert!(records(&args, "a", 0.0).is_ok());
    }

    #[test]
    fn the_last_verdict_on_an_alert_counts() {
        let mut v = Verdicts::default();
        let record = |id: &str, verdict: &str| {
            format!(
                r#"{{"kind":"review","time":1,"alert_id":"{id}","verdict":"{verdict}","by":"x"}}"#
            )
        };
        v.add(Some(record(A, "confirmed").as_bytes()));
        v.add(Some(record(B, "dismissed").as_bytes()));
        v.add(Some(record(A, "false_positive").as_bytes()));
        // not verdicts: another kind, an unknown verdict, a bad id, no JSON
        v.add(Some(record(A, "maybe").as_bytes()));
        v.add(Some(record("nope", "confirmed").as_bytes()));
        v.add(Some(
            br#"{"kind":"access","time":1,"alert_id":"x","verdict":"confirmed","by":"x"}"#,
        ));
        v.add(Some(b"\xff"));
        v.add(None);
        let verdict = |id: &str| v.of(id).map(|r| r.verdict);
        assert_eq!(verdict(A), Some(Verdict::FalsePositive));
        assert_eq!(verdict(B), Some(Verdict::Dismissed));
        assert_eq!(verdict(&"0".repeat(32)), None);
        assert_eq!((v.by_alert.len(), v.unreadable), (2, 5));
        // the hits that were wrong, where the record names them
        let mut v = Verdicts::default();
        let named = format!(
            r#"{{"kind":"review","time":1,"alert_id":"{A}","verdict":"false_positive","by":"x","terms":["色情"]}}"#
        );
        v.add(Some(named.as_bytes()));
        let review = v.of(A).expect("reviewed");
        let on_alert = ["色情", "@cn_mobile"];
        assert!(review.wrong("色情", &on_alert) && !review.wrong("@cn_mobile", &on_alert));
        assert!(!review.names_a_term_not_hit(&on_alert));
        let all = Review {
            verdict: Verdict::FalsePositive,
            terms: vec![],
        };
        assert!(all.wrong("色情", &on_alert) && all.wrong("@cn_mobile", &on_alert));
        assert!(!all.names_a_term_not_hit(&on_alert));
        // a term the alert has no hit on (mistyped) blames nothing it names:
        // every hit then, as without `--term`; said by `report`
        let mistyped = Review {
            verdict: Verdict::FalsePositive,
            terms: vec!["色清".to_string()],
        };
        assert!(mistyped.wrong("色情", &on_alert) && mistyped.wrong("@cn_mobile", &on_alert));
        assert!(mistyped.names_a_term_not_hit(&on_alert));
        // one right and one mistyped: the right one alone
        let half = Review {
            verdict: Verdict::FalsePositive,
            terms: vec!["色清".to_string(), "@cn_mobile".to_string()],
        };
        assert!(!half.wrong("色情", &on_alert) && half.wrong("@cn_mobile", &on_alert));
        assert!(half.names_a_term_not_hit(&on_alert));
        let confirmed = Review {
            verdict: Verdict::Confirmed,
            terms: vec![],
        };
        assert!(!confirmed.wrong("色情", &on_alert));
    }
}
