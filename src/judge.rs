//! One message in, one judgement out: decode the envelope, scan its text
//! fields, build the alert. Shared by `scan`, the streaming engine and the
//! benchmarks, so every path judges a message the same way.
//!
//! ```
//! use wordwarden::envelope::InputFormat;
//! use wordwarden::judge::Judge;
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![("leak.txt".into(), "客户名单\n".into())]);
//! let rs = Ruleset::builder().build(&lists).unwrap();
//! let judge = Judge::new(InputFormat::Text);
//! let mut scanner = rs.scanner();
//! let j = judge.judge(&rs, &mut scanner, "发你客户名单".as_bytes(), Default::default(), "line:1");
//! assert_eq!(j.alert.unwrap().hits[0].term, "客户名单");
//! ```

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::alert::seal::EvidenceSealer;
use crate::alert::{Alert, AlertBuilder, AlertGroups};
use crate::encoding::Charset;
use crate::envelope::{decode, to_utf8, DecodeError, FieldProblem, InputFormat, TextField};
use crate::evasion::Evasion;
use crate::pseudonym::Pseudonymizer;
use crate::ruleset::{Findings, Hit, Ruleset, Scanner};
use crate::split::{Run, Speaker, SplitOptions, SplitWindow};
use crate::tally::BulkTally;
use crate::withdrawn::{Alerted, AlertedMessages};

/// Decodes, scans and builds alerts for one input format.
#[derive(Debug, Clone)]
pub struct Judge {
    format: InputFormat,
    alerts: AlertBuilder,
    max_message_bytes: usize,
    pseudonymizer: Option<Pseudonymizer>,
    sealer: Option<Arc<EvidenceSealer>>,
    split: Option<SplitOptions>,
    bulk_tally_values: usize,
    remembered_alerts: usize,
    input_encoding: Option<Charset>,
}

/// What one ordered stream of messages (one engine consumer, one `scan`)
/// remembers of its senders for [`Judge::judge_next`]: their runs of short
/// messages ([`crate::split`]), the values they sent of lists whose
/// `#! bulk:` threshold looks back over time ([`crate::tally`]) and the
/// messages that alerted, should their senders withdraw them
/// ([`crate::withdrawn`]). Made by
/// [`Judge::memory`]; bounded, in memory, rebuilt by judging the messages
/// it reaches back to again ([`StreamMemory::reach_ms`]), as the engine
/// does for a partition new to a consumer.
///
/// ```
/// use wordwarden::envelope::InputFormat;
/// use wordwarden::judge::Judge;
/// use wordwarden::lists::{Severity, WordListSet};
/// use wordwarden::ruleset::Ruleset;
///
/// let pii = "#! severity: high\n#! bulk: 3 critical within 1h\n@cn_mobile\n";
/// let lists = WordListSet::from_sources(vec![("pii.txt".into(), pii.into())]);
/// let rs = Ruleset::builder().build(&lists).unwrap();
/// let judge = Judge::new(InputFormat::wecom());
/// let mut memory = judge.memory();
/// let mut scanner = rs.scanner();
/// let mut severities = Vec::new();
/// for (i, number) in ["13812340001", "13912340002", "13712340003"].iter().enumerate() {
///     let rec = serde_json::json!({"msgid": format!("m{i}"), "from": "li", "tolist": ["wmOutsider"],
///         "msgtime": 1_764_000_000_000i64 + i as i64 * 60_000, "msgtype": "text",
///         "text": {"content": format!("客户电话 {number}")}});
///     let bytes = rec.to_string();
///     let j = judge.judge_next(&rs, &mut scanner, &mut memory, bytes.as_bytes(), Default::default(), "x", None);
///     severities.push(j.alert.unwrap().severity);
/// }
/// // the third number in three minutes makes a roster
/// assert_eq!(severities, [Severity::High, Severity::High, Severity::Critical]);
/// assert_eq!(memory.tally().values_held(), 3);
/// ```
#[derive(Debug)]
pub struct StreamMemory {
    runs: Option<SplitWindow>,
    tally: BulkTally,
    alerted: AlertedMessages,
}

impl StreamMemory {
    /// The runs of short messages, when the judge looks for terms split
    /// across messages.
    pub fn runs(&self) -> Option<&SplitWindow> {
        self.runs.as_ref()
    }

    /// The values of timed bulk lists.
    pub fn tally(&self) -> &BulkTally {
        &self.tally
    }

    /// The recent messages that alerted.
    pub fn alerted(&self) -> &AlertedMessages {
        &self.alerted
    }

    /// Remembers an alerting message judged out of order
    /// ([`Judgement::alerted`]), in its place in the stream: a later
    /// record withdrawing it then alerts.
    pub fn remember(&mut self, alerted: Alerted) {
        self.alerted.remember(alerted);
    }

    /// How far back, in milliseconds, what this memory keeps can reach
    /// when `ruleset` judges a message: a run of short messages spans up to
    /// its fragments' gaps, a timed bulk list its `within`; 0 when it keeps
    /// nothing. A consumer given a partition reads this far back to
    /// remember what its previous owner did.
    ///
    /// ```
    /// use wordwarden::envelope::InputFormat;
    /// use wordwarden::judge::Judge;
    /// use wordwarden::lists::WordListSet;
    /// use wordwarden::ruleset::Ruleset;
    /// use wordwarden::split::SplitOptions;
    ///
    /// let pii = "#! bulk: 10 critical within 1h\n@cn_mobile\n";
    /// let lists = WordListSet::from_sources(vec![("pii.txt".into(), pii.into())]);
    /// let rs = Ruleset::builder().build(&lists).unwrap();
    /// let judge = Judge::new(InputFormat::wecom());
    /// assert_eq!(judge.memory().reach_ms(&rs), 3_600_000);
    /// // runs of up to eight short messages, each within a minute of the last
    /// let runs = judge.split_messages(Some(SplitOptions::default()));
    /// let plain = Ruleset::builder().build(&WordListSet::from_sources(vec![("a.txt".into(), "内幕\n".into())])).unwrap();
    /// assert_eq!(runs.memory().reach_ms(&plain), 8 * 60_000);
    /// ```
    pub fn reach_ms(&self, ruleset: &Ruleset) -> i64 {
        let runs = self.runs.as_ref().map_or(0, |w| {
            let o = w.options();
            o.gap_ms.saturating_mul(o.max_fragments.max(1) as i64)
        });
        let timed = ruleset
            .stats()
            .bulk
            .values()
            .filter_map(|b| b.within_secs)
            .max()
            .map_or(0, |s| i64::from(s) * 1000);
        runs.max(timed)
    }
}

/// What became of one message.
#[derive(Debug, Clone, Default)]
pub struct Judgement {
    /// The alert, when the message had hits.
    pub alert: Option<Alert>,
    /// Why the message could not be decoded at all (goes to the dead letters).
    pub rejected: Option<DecodeError>,
    /// Places that could not be read while the rest was scanned.
    pub problems: Vec<FieldProblem>,
    /// WeCom message type.
    pub msgtype: Option<std::borrow::Cow<'static, str>>,
    /// True for a message that was not UTF-8, read in the input's
    /// encoding ([`Judge::input_encoding`]).
    pub transcoded: bool,
    /// True for a decoded message with no text to scan (pictures, voice, ...).
    pub textless: bool,
    /// Distinct hits per (category, severity), for metrics.
    pub hit_count: usize,
    /// Why the alert carries no quotes of its message: sealing them failed
    /// ([`Judge::seal_evidence`]), so they were left out rather than
    /// published in the clear.
    pub evidence_withheld: Option<String>,
    /// A short message that [`Judge::judge_next`] would keep in its
    /// [`SplitWindow`] (the judge was told to look for terms split across
    /// messages): a caller that judged it out of order judges it again, in
    /// order, with a window.
    pub fragment: bool,
    /// The message, of input that names its senders, holds values of a list
    /// whose `#! bulk:` threshold looks back over the sender's earlier
    /// messages (`within`): a caller that judged it out of order judges it
    /// again, in order, with its [`StreamMemory`].
    pub tallied: bool,
    /// A record withdrawing an earlier message (a WeCom `revoke`): judged
    /// with a [`StreamMemory`] it alerts where that message did
    /// ([`crate::withdrawn`]); a caller that judged it out of order judges
    /// it again, in order, with its memory, having handed that memory the
    /// alerting messages before it ([`Judgement::alerted`]).
    pub withdrawal: bool,
    /// The alert as a [`StreamMemory`] keeps it, for a message of input
    /// naming its people judged without one (out of order): a caller
    /// following the stream hands it to [`StreamMemory::remember`] in the
    /// message's place. `None` when judged with a memory (it remembered
    /// the alert itself) or without an alert.
    pub alerted: Option<Alerted>,
    /// Judged with a [`StreamMemory`]: for each such list (by category),
    /// its distinct values with those the sender sent in this conversation
    /// within its time, and the messages that sent them, whether or not
    /// they reach the threshold.
    pub tallies: Vec<(String, crate::tally::Tallied)>,
}

impl Judge {
    /// A judge with default alert options and a 1 MiB message limit.
    pub fn new(format: InputFormat) -> Self {
        Judge {
            format,
            alerts: AlertBuilder::new(),
            max_message_bytes: 1 << 20,
            pseudonymizer: None,
            sealer: None,
            split: None,
            bulk_tally_values: 100_000,
            remembered_alerts: crate::withdrawn::REMEMBERED_ALERTS,
            input_encoding: None,
        }
    }

    /// Read the messages that are not UTF-8 in `charset` (`input_encoding`:
    /// an archiver writing GB18030 or Big5; [`crate::envelope::to_utf8`]);
    /// `None` (the default): they are rejected `not_utf8`, naming the
    /// encoding they read as.
    pub fn input_encoding(mut self, charset: Option<Charset>) -> Self {
        self.input_encoding = charset;
        self
    }

    /// Also look for terms split across short messages ([`crate::split`]),
    /// in the [`StreamMemory`] that [`Judge::memory`] makes, where the
    /// input names its senders (WeCom records, `json` told where); `None`
    /// (the default): each message alone.
    pub fn split_messages(mut self, options: Option<SplitOptions>) -> Self {
        self.split = options.filter(|_| self.format.names_people());
        self
    }

    /// The most values of timed bulk lists ([`crate::tally`]) one
    /// [`StreamMemory`] holds (default 100,000; 150-410 bytes each, a
    /// sender with a single value costing most).
    pub fn bulk_tally_values(mut self, n: usize) -> Self {
        self.bulk_tally_values = n;
        self
    }

    /// The most alerting messages one [`StreamMemory`] remembers, should
    /// their senders withdraw them ([`crate::withdrawn`]; default
    /// [`REMEMBERED_ALERTS`](crate::withdrawn::REMEMBERED_ALERTS)); 0:
    /// none, and a withdrawal never alerts.
    pub fn remembered_alerts(mut self, n: usize) -> Self {
        self.remembered_alerts = n;
        self
    }

    /// An empty memory for [`Judge::judge_next`]: runs of short messages
    /// when the judge looks for them, a tally of timed bulk lists' values,
    /// and room for the alerting messages a withdrawal may name.
    pub fn memory(&self) -> StreamMemory {
        StreamMemory {
            runs: self.split.map(SplitWindow::new),
            tally: BulkTally::new(self.bulk_tally_values),
            alerted: AlertedMessages::with_capacity(self.remembered_alerts),
        }
    }

    /// Replace user ids in alerts' `source` with keyed pseudonyms.
    pub fn pseudonymize(mut self, p: Option<Pseudonymizer>) -> Self {
        self.pseudonymizer = p;
        self
    }

    /// Seal every alert's quotes of its message (`matched`, `snippet`,
    /// `text`) to the analysts' keys ([`crate::alert::seal`]).
    pub fn seal_evidence(mut self, sealer: Option<Arc<EvidenceSealer>>) -> Self {
        self.sealer = sealer;
        self
    }

    /// Alert options (context window, full-text categories).
    pub fn alerts(mut self, alerts: AlertBuilder) -> Self {
        self.alerts = alerts;
        self
    }

    /// Messages larger than this are rejected with `too_large`.
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.max_message_bytes = n;
        self
    }

    /// The input format.
    pub fn format(&self) -> &InputFormat {
        &self.format
    }

    /// When a message was written, as its [`StreamMemory`] counts time:
    /// its record's own time (WeCom's `msgtime`, a `json` message's time
    /// pointer), else `produced_ms`; `None` for one that cannot be decoded
    /// and has no `produced_ms`.
    ///
    /// ```
    /// use wordwarden::envelope::InputFormat;
    /// use wordwarden::judge::Judge;
    ///
    /// let judge = Judge::new(InputFormat::wecom());
    /// let rec = br#"{"msgid": "m1", "from": "li", "tolist": ["wang"], "msgtime": 1764000000000,
    ///     "msgtype": "text", "text": {"content": "hi"}}"#;
    /// // exported three hours after it was written
    /// assert_eq!(judge.written_ms(rec, Some(1764010800000)), Some(1764000000000));
    /// assert_eq!(judge.written_ms(b"not json", Some(7)), Some(7));
    /// ```
    pub fn written_ms(&self, bytes: &[u8], produced_ms: Option<i64>) -> Option<i64> {
        if bytes.len() > self.max_message_bytes {
            return produced_ms;
        }
        let Ok(bytes) = to_utf8(bytes, self.input_encoding) else {
            return produced_ms;
        };
        let Ok(msg) = decode(&bytes, &self.format) else {
            return produced_ms;
        };
        msg.source
            .msgtime()
            .or_else(|| self.format.participation(&bytes, &msg.source).written_ms)
            .or(produced_ms)
    }

    /// Judges one message. `source` is merged into the alert's `source`
    /// (topic/partition/offset, or line); `fallback_identity` identifies the
    /// message when it has no id of its own (formatted only for alerts).
    /// The message was written when its record says (WeCom's `msgtime`),
    /// else at `source`'s `timestamp` if it has one.
    pub fn judge(
        &self,
        ruleset: &Ruleset,
        scanner: &mut Scanner<'_>,
        bytes: &[u8],
        source: Map<String, Value>,
        fallback_identity: impl std::fmt::Display,
    ) -> Judgement {
        let produced_ms = source.get("timestamp").and_then(Value::as_i64);
        self.judge_at(
            ruleset,
            scanner,
            bytes,
            source,
            fallback_identity,
            produced_ms,
        )
    }

    /// [`Judge::judge`] for a message produced at `produced_ms` (its Kafka
    /// timestamp, milliseconds since the epoch), its time where its record
    /// names none: the engine's path, which builds `source` only for an
    /// alert.
    pub fn judge_at(
        &self,
        ruleset: &Ruleset,
        scanner: &mut Scanner<'_>,
        bytes: &[u8],
        source: Map<String, Value>,
        fallback_identity: impl std::fmt::Display,
        produced_ms: Option<i64>,
    ) -> Judgement {
        self.judge_in(
            ruleset,
            scanner,
            None,
            bytes,
            source,
            fallback_identity,
            produced_ms,
        )
    }

    /// [`Judge::judge_at`] for the next message of an ordered stream,
    /// whose senders' recent messages `memory` keeps. A term that the sender
    /// split across this and their short messages before it (`内`, `幕`,
    /// `消息`) is reported on this one, as a hit in the field `#split` (the
    /// run's text, the fragments joined) tagged `split_messages`, with the
    /// earlier messages' ids in the alert's `split_from`. The values of a
    /// list with a timed threshold (`#! bulk: 10 critical within 1h`) that
    /// the sender sent in this conversation within that time count with
    /// this message's own: reaching it raises the list's hits here, and the
    /// alert's `bulk` names the earlier messages. The alert's id stays the
    /// message's own. Only messages that name their sender (WeCom records,
    /// `json` with a sender pointer) are remembered.
    ///
    /// ```
    /// use wordwarden::envelope::InputFormat;
    /// use wordwarden::judge::Judge;
    /// use wordwarden::lists::WordListSet;
    /// use wordwarden::ruleset::Ruleset;
    /// use wordwarden::split::SplitOptions;
    ///
    /// let lists = WordListSet::from_sources(vec![("leak.txt".into(), "内幕消息\n".into())]);
    /// let rs = Ruleset::builder().build(&lists).unwrap();
    /// let judge = Judge::new(InputFormat::wecom()).split_messages(Some(SplitOptions::default()));
    /// let mut memory = judge.memory();
    /// let mut scanner = rs.scanner();
    /// let mut alerts = Vec::new();
    /// for (i, text) in ["内", "幕", "消息"].iter().enumerate() {
    ///     let rec = serde_json::json!({"msgid": format!("m{i}"), "from": "li", "tolist": ["wang"],
    ///         "msgtime": 1_764_000_000_000i64 + i as i64 * 3_000, "msgtype": "text", "text": {"content": text}});
    ///     let bytes = rec.to_string();
    ///     let j = judge.judge_next(&rs, &mut scanner, &mut memory, bytes.as_bytes(), Default::default(), "x", None);
    ///     alerts.extend(j.alert);
    /// }
    /// assert_eq!(alerts.len(), 1);
    /// assert_eq!(alerts[0].hits[0].field.as_deref(), Some("#split"));
    /// assert_eq!(alerts[0].hits[0].matched, "内幕消息");
    /// assert_eq!(alerts[0].split_from, ["m0", "m1"]);
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn judge_next(
        &self,
        ruleset: &Ruleset,
        scanner: &mut Scanner<'_>,
        memory: &mut StreamMemory,
        bytes: &[u8],
        source: Map<String, Value>,
        fallback_identity: impl std::fmt::Display,
        produced_ms: Option<i64>,
    ) -> Judgement {
        self.judge_in(
            ruleset,
            scanner,
            Some(memory),
            bytes,
            source,
            fallback_identity,
            produced_ms,
        )
    }

    /// An alert's `source`: the caller's entries, the message's `ids`
    /// where the caller's name none, pseudonymized as configured.
    fn with_ids(
        &self,
        mut source: Map<String, Value>,
        ids: impl IntoIterator<Item = (String, Value)>,
    ) -> Map<String, Value> {
        for (k, v) in ids {
            source.entry(k).or_insert(v);
        }
        if let Some(p) = &self.pseudonymizer {
            p.apply(&mut source);
        }
        source
    }

    /// [`Judge::judge_next`] where there is a memory, else
    /// [`Judge::judge_at`]: the engine's consumers, which have one or not
    /// by configuration.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn judge_in(
        &self,
        ruleset: &Ruleset,
        scanner: &mut Scanner<'_>,
        memory: Option<&mut StreamMemory>,
        bytes: &[u8],
        source: Map<String, Value>,
        fallback_identity: impl std::fmt::Display,
        produced_ms: Option<i64>,
    ) -> Judgement {
        if bytes.len() > self.max_message_bytes {
            return Judgement {
                rejected: Some(DecodeError::TooLarge {
                    size: bytes.len(),
                    max: self.max_message_bytes,
                }),
                ..Default::default()
            };
        }
        let transcoded = match to_utf8(bytes, self.input_encoding) {
            Ok(b) => b,
            Err(e) => {
                return Judgement {
                    rejected: Some(e),
                    ..Default::default()
                }
            }
        };
        // ids and participants are read from the same text as the fields
        let bytes = &*transcoded;
        let msg = match decode(bytes, &self.format) {
            Ok(m) => m,
            Err(e) => {
                return Judgement {
                    rejected: Some(e),
                    ..Default::default()
                }
            }
        };
        let textless = msg.fields.is_empty() && msg.problems.is_empty();
        let mut judgement = Judgement {
            problems: msg.problems.clone(),
            msgtype: msg.msgtype.clone(),
            textless,
            transcoded: matches!(transcoded, std::borrow::Cow::Owned(_)),
            ..Default::default()
        };
        let (window, mut tally, alerted) = match memory {
            Some(m) => (m.runs.as_mut(), Some(&mut m.tally), Some(&mut m.alerted)),
            None => (None, None, None),
        };
        judgement.withdrawal = msg.withdraws.is_some();
        if let (Some(withdrawn), Some(alerted)) = (msg.withdraws.as_deref(), alerted.as_deref()) {
            let identity = identity(msg.id.as_deref(), fallback_identity);
            let source = self.with_ids(source, msg.source.into_map());
            judgement.alert = alerted.withdrawal(withdrawn, ruleset.version(), &identity, source);
            return judgement;
        }
        if msg.fields.is_empty() {
            return judgement;
        }
        let fragment = |options: &SplitOptions| {
            msg.fields.len() == 1 && options.is_fragment(&msg.fields[0].text)
        };
        let options = window.as_ref().map(|w| *w.options()).or(self.split);
        judgement.fragment = options.as_ref().is_some_and(fragment);
        let window = window.filter(|_| judgement.fragment);
        // the fields as they are: no list of texts allocated per message
        let mut findings = scanner.scan(&msg.fields);
        if findings.hits.is_empty() && window.is_none() {
            return judgement;
        }
        let identity = identity(msg.id.as_deref(), fallback_identity);
        // A short message joins its sender's run: the sender read from a
        // WeCom record's ids as they are, a `json` message parsed for them.
        let mut people = None;
        let mut run = window.and_then(|window| {
            let (speaker, sent_ms) = match self.format.participants() {
                Some(_) => {
                    let p = self.format.participation(bytes, &msg.source);
                    let said = (p.speaker(), p.written_ms.or(produced_ms));
                    people = Some(p);
                    said
                }
                None => (msg.source.speaker(), msg.source.msgtime().or(produced_ms)),
            };
            window.push(speaker?, sent_ms, &identity, &msg.fields[0].text)
        });
        let mut crossing = match &run {
            Some(run) => crossing_hits(scanner, run),
            None => Vec::new(),
        };
        if findings.hits.is_empty() && crossing.is_empty() {
            return judgement;
        }
        // Who the message went between is read from its ids only for a
        // message with hits. A hit of a list that watches other
        // conversations (`#! audience: external` among colleagues, `#!
        // people:` of other people) has the message scanned again for its
        // own: rare, and the scan decides which hits the per-message limit
        // keeps.
        let people = people.unwrap_or_else(|| self.format.participation(bytes, &msg.source));
        let audience = people.audience;
        let written_ms = (msg.source.msgtime()).or(people.written_ms).or(produced_ms);
        let conversation = people.conversation(ruleset).written_at(written_ms);
        if findings
            .hits
            .iter()
            .any(|h| !h.rule().watches(&conversation))
        {
            findings = scanner.scan_for(&msg.fields, conversation);
        }
        crossing.retain(|h| h.rule().watches(&conversation));
        let split = run
            .as_mut()
            .and_then(|run| split_hits(run, crossing, msg.fields.len(), &mut findings.hits));
        judgement.tallied = !findings.timed_values.is_empty() && self.format.names_people();
        if let Some(tally) = tally.as_mut().filter(|_| judgement.tallied) {
            // the ids are read for a message with hits already (a speaker
            // is someone in a conversation: its sender is named)
            if let (Some(speaker), Some(from)) = (people.speaker(), people.from.as_deref()) {
                judgement.tallies =
                    tally_bulk(tally, (speaker, from), written_ms, &identity, &mut findings);
            }
        }
        judgement.hit_count = findings.hits.len();
        if findings.hits.is_empty() {
            return judgement;
        }
        // a WeCom record's ids are in its source already
        let named_apart = self.format.participants().is_some();
        let source = self.with_ids(
            source,
            msg.source.into_map().into_iter().chain(
                named_apart
                    .then(|| people.into_source())
                    .into_iter()
                    .flatten(),
            ),
        );
        let with_run;
        let fields = match &split {
            Some((run, _)) => {
                with_run = msg.fields.iter().cloned().chain([run.clone()]).collect();
                &with_run
            }
            None => &msg.fields,
        };
        judgement.alert = self
            .alerts
            .build(
                ruleset.version(),
                identity.as_bytes(),
                source,
                fields,
                &findings,
            )
            .map(|mut alert| {
                if let Some((_, earlier)) = split {
                    // the message's own id, however its run went: a
                    // redelivery after a restart (no run) is the same alert
                    alert.alert_id =
                        crate::alert::alert_id(ruleset.version(), identity.as_bytes(), &msg.fields);
                    for hit in &mut alert.hits {
                        if hit.field.as_deref() == Some(SPLIT_FIELD) {
                            hit.evasions.push(Evasion::SplitMessages);
                        }
                    }
                    alert.split_from = earlier;
                }
                for (category, tallied) in &judgement.tallies {
                    if let Some(b) = alert.bulk.iter_mut().find(|b| &b.category == category) {
                        b.earlier_messages =
                            tallied.earlier.iter().map(|id| id.to_string()).collect();
                    }
                }
                let (sender, recipients) = ruleset.groups_of(&conversation);
                let names = |names: Vec<&str>| names.into_iter().map(String::from).collect();
                let groups = AlertGroups {
                    sender: names(sender),
                    recipients: names(recipients),
                };
                Alert {
                    audience,
                    groups,
                    ..alert
                }
            });
        if let (Some(sealer), Some(alert)) = (&self.sealer, judgement.alert.as_mut()) {
            if let Err(e) = sealer.seal(alert) {
                // never publish what was to be sealed; the alert still goes
                alert.drop_quotes();
                judgement.evidence_withheld = Some(e.to_string());
            }
        }
        // by the record's own id only: a withdrawal names its message by it
        if let (Some(alert), Some(id)) = (judgement.alert.as_ref(), msg.id.as_deref()) {
            match alerted {
                Some(alerted) => alerted.remember(Alerted::of(id, written_ms, alert)),
                None if self.format.names_people() && self.remembered_alerts > 0 => {
                    judgement.alerted = Some(Alerted::of(id, written_ms, alert));
                }
                None => {}
            }
        }
        judgement
    }
}

/// What an alert is keyed by: the message's own id, else `fallback` (its
/// place: topic/partition/offset, a line).
fn identity(id: Option<&str>, fallback: impl std::fmt::Display) -> std::borrow::Cow<'_, str> {
    match id {
        Some(id) => std::borrow::Cow::Borrowed(id),
        None => std::borrow::Cow::Owned(fallback.to_string()),
    }
}

/// Adds the values of timed bulk lists in `findings` to the sender's tally
/// in this conversation (in any, for a list counting across
/// conversations), and where their count with the earlier messages' values reaches
/// a list's threshold that the message alone did not, raises the list's
/// hits. Returns each list's category and count.
fn tally_bulk(
    tally: &mut BulkTally,
    (in_conversation, from): (Speaker, &str),
    sent_ms: Option<i64>,
    identity: &str,
    findings: &mut Findings<'_>,
) -> Vec<(String, crate::tally::Tallied)> {
    let mut counted = Vec::new();
    for (category, values) in std::mem::take(&mut findings.timed_values) {
        let Some(finding) = findings.bulk.iter_mut().find(|b| b.category == category) else {
            continue;
        };
        let speaker = match finding.bulk.across_conversations {
            true => Speaker::anywhere(from),
            false => in_conversation,
        };
        let tallied = tally.add(speaker, category, finding.bulk, sent_ms, identity, values);
        if tallied.values > finding.values {
            finding.values = tallied.values;
            let (reached, severity) = (finding.reached(), finding.bulk.severity);
            if reached {
                for hit in findings
                    .hits
                    .iter_mut()
                    .filter(|h| h.category() == category)
                {
                    hit.raise_to(severity);
                }
            }
        }
        counted.push((category.to_string(), tallied));
    }
    counted
}

/// The field of a hit found in a run of short messages: the run's text.
pub const SPLIT_FIELD: &str = "#split";

/// Adds to `hits`, as field `field`, the hits found in `run` (the
/// fragments joined) that cross from earlier fragments into the newest,
/// each once a run. Returns the run's text as a field and the earlier
/// messages' identities, when it added any.
fn split_hits<'r>(
    run: &mut Run<'_>,
    crossing: Vec<Hit<'r>>,
    field: usize,
    hits: &mut Vec<Hit<'r>>,
) -> Option<(TextField<'static>, Vec<String>)> {
    let mut earlier: Vec<String> = Vec::new();
    let before = hits.len();
    for mut hit in crossing {
        if run.report_once(rule_key(&hit), hit.start, hit.end) {
            for id in run.earlier_within(hit.start, hit.end) {
                if !earlier.iter().any(|e| e == id) {
                    earlier.push(id.to_string());
                }
            }
            hit.field = field;
            hits.push(hit);
        }
    }
    (hits.len() > before).then(|| {
        let text = TextField {
            pointer: Some(std::borrow::Cow::Borrowed(SPLIT_FIELD)),
            text: std::borrow::Cow::Owned(run.text().to_string()),
        };
        (text, earlier)
    })
}

/// The hits in `run` that cross from earlier fragments into the newest.
/// A scan reports each rule's first place only, so where a rule's first
/// place lies before the newest fragment (a term in one earlier message,
/// or one reported when it was the newest), the run is scanned again from
/// the fragment after it, until no such place hides a later one: at most
/// once a fragment, and almost always not at all.
fn crossing_hits<'r>(scanner: &mut Scanner<'r>, run: &Run<'_>) -> Vec<Hit<'r>> {
    let newest = run.newest_start();
    let mut found: Vec<Hit<'r>> = Vec::new();
    let mut from = 0;
    loop {
        let mut hiding: Option<usize> = None;
        for mut hit in scanner.scan(&[&run.text()[from..]]).hits {
            hit.start += from;
            hit.end += from;
            if run.crosses_into_newest(hit.start, hit.end) {
                let known = found
                    .iter()
                    .any(|f| std::ptr::eq(f.rule(), hit.rule()) && f.start == hit.start);
                if !known {
                    found.push(hit);
                }
            } else if hit.end <= newest {
                hiding = Some(hiding.map_or(hit.start, |h| h.min(hit.start)));
            }
        }
        match hiding.and_then(|at| run.next_fragment_after(at)) {
            Some(next) if next < newest => from = next,
            _ => return found,
        }
    }
}

/// A key of a hit's rule that outlives a reload: its category and term.
fn rule_key(hit: &Hit<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (hit.category(), hit.term()).hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::Audience;
    use crate::lists::{Severity, WordListSet};

    /// A WeCom text record's ids, kept borrowed while judging, all reach the
    /// alert, escapes and all, next to what the caller passed.
    #[test]
    fn wecom_alert_carries_every_id_of_the_record() {
        let lists = WordListSet::from_sources(vec![("leak.txt".into(), "客户名单\n".into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let judge = Judge::new(InputFormat::wecom());
        let mut scanner = rs.scanner();
        let rec = serde_json::json!({
            "msgid": "m\"1\\", "action": "send", "from": "zhang\u{1}wei", "tolist": ["lina", "王五"],
            "roomid": "wr1", "msgtime": 1547087894783u64, "msgtype": "text",
            "text": {"content": "把客户名单发我"},
        });
        let mut caller = Map::new();
        caller.insert("topic".into(), Value::from("chat"));
        let j = judge.judge(&rs, &mut scanner, rec.to_string().as_bytes(), caller, "x");
        let source = j.alert.expect("alerts").source;
        for key in [
            "msgid", "action", "from", "tolist", "roomid", "msgtime", "msgtype",
        ] {
            assert_eq!(source[key], rec[key], "{key}");
        }
        assert_eq!(source["topic"], "chat");
        assert_eq!(j.msgtype.as_deref(), Some("text"));
    }

    /// A WeCom record from `from` to `tolist` of `msgtype`: `text`, or
    /// `link` with `text` as its title (read the general way).
    fn record(msgtype: &str, from: &str, tolist: &[&str], text: &str) -> Value {
        let body = match msgtype {
            "text" => serde_json::json!({"content": text}),
            _ => serde_json::json!({"title": text}),
        };
        serde_json::json!({"msgid": "m1", "from": from, "tolist": tolist,
            "msgtype": msgtype, msgtype: body})
    }

    /// The alert `judge` makes of `rec`, if any.
    fn alert_of(
        judge: &Judge,
        rs: &Ruleset,
        scanner: &mut Scanner<'_>,
        rec: &Value,
    ) -> Option<Alert> {
        let j = judge.judge(rs, scanner, rec.to_string().as_bytes(), Map::new(), "x");
        j.alert
    }

    /// A list with a window fires on messages written in it: a WeCom
    /// record by its `msgtime`, other input by the Kafka timestamp the
    /// engine passes; a message of unknown time is watched.
    #[test]
    fn a_window_watches_messages_written_in_it() {
        let lists = WordListSet::from_sources(vec![
            (
                "deals.txt".into(),
                "#! from: 2026-11-01\n#! until: 2026-12-01\n青松计划\n".into(),
            ),
            ("any.txt".into(), "内幕消息\n".into()),
        ]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        assert!(rs.is_scoped());
        let (before, inside, after) = (
            1_793_404_800_000u64,
            1_794_700_800_000u64,
            1_796_083_200_000u64,
        );
        let wecom = Judge::new(InputFormat::wecom());
        let mut scanner = rs.scanner();
        let mut terms =
            |judge: &Judge, bytes: Vec<u8>, source: Map<String, Value>| -> Vec<String> {
                let j = judge.judge(&rs, &mut scanner, &bytes, source, "x");
                j.alert.map_or_else(Vec::new, |a| {
                    a.hits.iter().map(|h| h.term.clone()).collect()
                })
            };
        for (msgtype, at, wanted) in [
            ("text", before, vec!["内幕消息"]),
            ("text", inside, vec!["青松计划", "内幕消息"]),
            ("link", inside, vec!["青松计划", "内幕消息"]),
            ("link", after, vec!["内幕消息"]),
        ] {
            let mut rec = record(msgtype, "zhangwei", &["lina"], "青松计划有内幕消息");
            rec["msgtime"] = at.into();
            assert_eq!(
                terms(&wecom, rec.to_string().into_bytes(), Map::new()),
                wanted,
                "{msgtype} {at}"
            );
        }
        let text = Judge::new(InputFormat::Text);
        let kafka = |ms: u64| {
            let mut source = Map::new();
            source.insert("timestamp".into(), ms.into());
            source
        };
        // JSON told where its time is: that time, not the Kafka timestamp
        let json = Judge::new(InputFormat::json_with_participants(
            "/text",
            crate::envelope::Participants {
                time: "/sent".into(),
                ..Default::default()
            },
        ));
        let sent = |at: u64| {
            serde_json::json!({"sent": at, "text": "青松计划"})
                .to_string()
                .into_bytes()
        };
        assert_eq!(terms(&json, sent(inside), kafka(after)), ["青松计划"]);
        assert!(terms(&json, sent(after), kafka(inside)).is_empty());
        let msg = "青松计划".as_bytes().to_vec();
        assert_eq!(terms(&text, msg.clone(), kafka(inside)), ["青松计划"]);
        assert!(terms(&text, msg.clone(), kafka(after)).is_empty());
        assert_eq!(terms(&text, msg, Map::new()), ["青松计划"]);
    }

    /// A list scoped to external conversations fires where a customer is
    /// in the conversation, or no one is named, and never among colleagues;
    /// every alert says which kind its message was, pseudonyms or not.
    #[test]
    fn lists_for_external_conversations_and_the_alerts_audience() {
        let lists = WordListSet::from_sources(vec![
            (
                "leak.txt".into(),
                "#! audience: external\n客户名单\n底价 & 发你\n".into(),
            ),
            ("any.txt".into(), "内幕消息\n".into()),
        ]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        assert!(rs.is_scoped());
        let key = b"a key of at least 16 bytes".as_slice();
        let judge = Judge::new(InputFormat::wecom())
            .pseudonymize(Some(Pseudonymizer::new(key).expect("key")));
        let mut scanner = rs.scanner();
        let customer = "wmAbc123AbCdEfGhIjKlMnOpQ";
        let mut judge_record = |tolist: &[&str], msgtype: &str, text: &str| {
            let rec = record(msgtype, "zhangwei", tolist, text);
            alert_of(&judge, &rs, &mut scanner, &rec).map(|a| {
                let terms: Vec<String> = a.hits.iter().map(|h| h.term.clone()).collect();
                (a.audience, terms)
            })
        };
        for msgtype in ["text", "link"] {
            let ext = judge_record(&["lina", customer], msgtype, "客户名单和底价发你");
            assert_eq!(
                ext,
                Some((
                    Audience::External,
                    vec!["客户名单".to_string(), "底价 & 发你".to_string()]
                )),
                "{msgtype}"
            );
            assert_eq!(judge_record(&["lina"], msgtype, "客户名单和底价发你"), None);
            assert_eq!(
                judge_record(&["lina"], msgtype, "客户名单里有内幕消息"),
                Some((Audience::Internal, vec!["内幕消息".to_string()])),
                "{msgtype}"
            );
        }
        // plain text names no one: the scoped list watches it, no audience
        let text = Judge::new(InputFormat::Text);
        let a = text
            .judge(
                &rs,
                &mut scanner,
                "客户名单".as_bytes(),
                Map::new(),
                "line:1",
            )
            .alert
            .expect("alerts");
        assert_eq!(a.audience, Audience::Unknown);
        let json = serde_json::to_value(&a).expect("serializes");
        assert!(json.get("audience").is_none(), "{json}");
    }

    /// JSON input told where its people are judges them by the company's
    /// domains: the scoped list fires only where an outsider takes part, and
    /// the alert carries the ids as WeCom alerts do (pseudonymized when on).
    #[test]
    fn json_participants_by_the_companys_domains() {
        use crate::audience::InternalDomains;
        use crate::envelope::Participants;
        let lists = WordListSet::from_sources(vec![
            (
                "leak.txt".into(),
                "#! audience: external\n客户名单\n".into(),
            ),
            ("any.txt".into(), "内幕消息\n".into()),
        ]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let format = InputFormat::json_with_participants(
            "/body/text",
            Participants {
                from: "/sender/address".into(),
                to: "/to".into(),
                internal_domains: InternalDomains::new(["example.com"]).expect("domain"),
                ..Default::default()
            },
        );
        assert!(format.names_people());
        let judge = Judge::new(format.clone());
        let mut scanner = rs.scanner();
        let mut judge_json = |judge: &Judge, msg: Value| {
            let j = judge.judge(
                &rs,
                &mut scanner,
                msg.to_string().as_bytes(),
                Map::new(),
                "x",
            );
            j.alert.map(|a| {
                let terms: Vec<String> = a.hits.iter().map(|h| h.term.clone()).collect();
                (a.audience, terms, a.source)
            })
        };
        let msg = |to: Value, text: &str| {
            serde_json::json!({"id": 7, "sender": {"address": "li.na@example.com"}, "to": to,
                "body": {"text": text}})
        };
        let (audience, terms, source) = judge_json(
            &judge,
            msg(
                serde_json::json!(["wang@sh.example.com", "buyer@gmail.com"]),
                "客户名单",
            ),
        )
        .expect("alerts");
        assert_eq!(
            (audience, terms),
            (Audience::External, vec!["客户名单".to_string()])
        );
        assert_eq!(source["from"], "li.na@example.com");
        assert_eq!(
            source["tolist"],
            serde_json::json!(["wang@sh.example.com", "buyer@gmail.com"])
        );
        assert_eq!(source["id"], 7);
        // one recipient as a string
        let (audience, ..) =
            judge_json(&judge, msg(Value::from("buyer@gmail.com"), "客户名单")).expect("alerts");
        assert_eq!(audience, Audience::External);
        // among colleagues the scoped list is silent, the others are not
        let colleagues = serde_json::json!(["wang@example.com", "U024BE7LH"]);
        assert!(judge_json(&judge, msg(colleagues.clone(), "客户名单")).is_none());
        let (audience, terms, _) =
            judge_json(&judge, msg(colleagues, "客户名单有内幕消息")).expect("alerts");
        assert_eq!(
            (audience, terms),
            (Audience::Internal, vec!["内幕消息".to_string()])
        );
        // no one where the pointers lead: unknown, watched
        let (audience, _, source) = judge_json(
            &judge,
            serde_json::json!({"sender": {"address": 5}, "body": {"text": "客户名单"}}),
        )
        .expect("alerts");
        assert_eq!(audience, Audience::Unknown);
        assert!(source.get("from").is_none() && source.get("tolist").is_none());
        // pseudonyms replace the ids, the audience was told before
        let key = b"a key of at least 16 bytes".as_slice();
        let hidden = Judge::new(format).pseudonymize(Some(Pseudonymizer::new(key).expect("key")));
        let (audience, _, source) = judge_json(
            &hidden,
            msg(serde_json::json!(["buyer@gmail.com"]), "客户名单"),
        )
        .expect("alerts");
        assert_eq!(audience, Audience::External);
        assert_ne!(source["from"], "li.na@example.com");
        assert_ne!(source["tolist"][0], "buyer@gmail.com");
    }

    /// A list across an information barrier fires on a WeCom record (read
    /// either way: a text record, a link) or a `json` message whose sender
    /// is on one side and a recipient on the other, never within one side;
    /// pseudonyms hide the ids in the alert, the groups were read before.
    #[test]
    fn people_groups_from_the_records_ids() {
        use crate::audience::InternalDomains;
        use crate::envelope::Participants;
        let lists = WordListSet::from_sources(vec![
            ("ibd.people".into(), "ZhangWei\nli.na@example.com\n".into()),
            (
                "research.people".into(),
                "wangfang\nqian@example.com\nwrResearchDesk\n".into(),
            ),
            (
                "barrier.txt".into(),
                "#! people: between ibd research\n停牌\n".into(),
            ),
            ("any.txt".into(), "内幕消息\n".into()),
        ]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        assert!(rs.is_scoped() && rs.has_people_groups());
        let key = b"a key of at least 16 bytes".as_slice();
        let wecom = Judge::new(InputFormat::wecom())
            .pseudonymize(Some(Pseudonymizer::new(key).expect("key")));
        let mut scanner = rs.scanner();
        let mut terms = |judge: &Judge, rec: Value| -> Vec<String> {
            alert_of(judge, &rs, &mut scanner, &rec).map_or_else(Vec::new, |a| {
                assert_ne!(a.source["from"], "zhangwei");
                a.hits.iter().map(|h| h.term.clone()).collect()
            })
        };
        for msgtype in ["text", "link"] {
            let record =
                |from: &str, tolist: &[&str], text: &str| record(msgtype, from, tolist, text);
            let across = record("zhangwei", &["lina", "WangFang"], "下周停牌，有内幕消息");
            assert_eq!(terms(&wecom, across), ["停牌", "内幕消息"], "{msgtype}");
            let back = record("wangfang", &["zhangwei"], "下周停牌");
            assert_eq!(terms(&wecom, back), ["停牌"], "{msgtype}");
            let within = record("zhangwei", &["lina"], "下周停牌，有内幕消息");
            assert_eq!(terms(&wecom, within), ["内幕消息"], "{msgtype}");
        }
        let json = Judge::new(InputFormat::json_with_participants(
            "/text",
            Participants {
                from: "/from".into(),
                to: "/to".into(),
                internal_domains: InternalDomains::new(["example.com"]).expect("domain"),
                ..Default::default()
            },
        ));
        let msg = |from: &str, to: &str| serde_json::json!({"from": from, "to": [to], "text": "下周停牌"});
        assert_eq!(
            terms(&json, msg("Li.Na@example.com", "qian@example.com")),
            ["停牌"]
        );
        assert!(terms(&json, msg("li.na@example.com", "zhao@example.com")).is_empty());
        // the alert names each side's groups, pseudonyms or not
        let mut groups = |from: &str, to: &str| {
            let rec = serde_json::json!({"msgid": "m", "from": from, "tolist": [to],
                "msgtype": "text", "text": {"content": "有内幕消息"}});
            let j = wecom.judge(
                &rs,
                &mut scanner,
                rec.to_string().as_bytes(),
                Map::new(),
                "x",
            );
            serde_json::to_value(j.alert.expect("alerts")).expect("json")["groups"].clone()
        };
        assert_eq!(
            groups("zhangwei", "WANGFANG"),
            serde_json::json!({"sender": ["ibd"], "recipients": ["research"]})
        );
        assert_eq!(
            groups("lina", "wangfang"),
            serde_json::json!({"recipients": ["research"]})
        );
        assert_eq!(groups("lina", "zhao"), Value::Null);
        // a group may hold a group chat: a message into it is received by
        // the group
        let into_room = serde_json::json!({"msgid": "m2", "from": "zhangwei", "tolist": ["lina"],
            "roomid": "wrResearchDesk", "msgtype": "text", "text": {"content": "下周停牌"}});
        let j = wecom.judge(
            &rs,
            &mut scanner,
            into_room.to_string().as_bytes(),
            Map::new(),
            "x",
        );
        let alert = j.alert.expect("alerts");
        assert_eq!(alert.groups.recipients, ["research"]);
        assert_eq!(alert.hits[0].term, "停牌");
    }

    /// A WeCom text record `id` from `from` (into room `room` when given,
    /// else to `wang`), `secs` seconds into a day.
    fn said(id: &str, from: &str, room: Option<&str>, secs: i64, text: &str) -> Vec<u8> {
        let mut rec = serde_json::json!({"msgid": id, "from": from, "tolist": ["wang"],
            "msgtime": 1_764_000_000_000i64 + secs * 1000, "msgtype": "text",
            "text": {"content": text}});
        if let Some(room) = room {
            rec["roomid"] = room.into();
        }
        rec.to_string().into_bytes()
    }

    /// Judges `messages` in order with one window; each alert as (its
    /// message, its terms, `split_from`).
    fn split_alerts(lists: &str, messages: &[Vec<u8>]) -> Vec<(String, Vec<String>, Vec<String>)> {
        let lists = WordListSet::from_sources(vec![("l.txt".into(), lists.into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let judge = Judge::new(InputFormat::wecom()).split_messages(Some(SplitOptions::default()));
        let mut window = judge.memory();
        let mut scanner = rs.scanner();
        let mut out = Vec::new();
        for bytes in messages {
            let j = judge.judge_next(&rs, &mut scanner, &mut window, bytes, Map::new(), "x", None);
            if let Some(a) = j.alert {
                out.push((
                    a.source["msgid"].as_str().unwrap_or_default().to_string(),
                    a.hits.iter().map(|h| h.term.clone()).collect(),
                    a.split_from,
                ));
            }
        }
        out
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// A judge that seals evidence seals every alert, split ones too, once
    /// its id is settled (the split alert's id is set after it is built):
    /// the analyst's identity opens each, and what they open is the alert
    /// an unsealing judge makes.
    #[test]
    fn sealed_alerts_open_to_what_an_unsealing_judge_makes() {
        let lists = WordListSet::from_sources(vec![("l.txt".into(), "内幕消息\nsb\n".into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let (identity, recipient) = crate::alert::seal::generate_identity();
        let sealer = crate::alert::seal::EvidenceSealer::new([recipient.as_str()]).expect("key");
        let plain = Judge::new(InputFormat::wecom()).split_messages(Some(SplitOptions::default()));
        let sealing = plain.clone().seal_evidence(Some(Arc::new(sealer)));
        let messages = [
            said("m0", "li", None, 0, "内"),
            said("m1", "li", None, 5, "幕！"),
            said("m2", "li", None, 9, "消息sb"),
        ];
        let alerts = |judge: &Judge| {
            let (mut memory, mut scanner) = (judge.memory(), rs.scanner());
            let judged: Vec<Judgement> = messages
                .iter()
                .map(|b| judge.judge_next(&rs, &mut scanner, &mut memory, b, Map::new(), "x", None))
                .collect();
            judged
                .into_iter()
                .filter_map(|j| j.alert)
                .collect::<Vec<_>>()
        };
        let (expected, mut sealed) = (alerts(&plain), alerts(&sealing));
        assert_eq!(expected.len(), 1);
        assert_eq!(expected[0].split_from, ["m0", "m1"]);
        let json = serde_json::to_string(&sealed).expect("json");
        assert!(
            !json.contains("幕！") && json.contains("\"sealed\""),
            "{json}"
        );
        let mut opener =
            crate::alert::seal::EvidenceOpener::from_identities(&identity).expect("identity");
        for a in &mut sealed {
            assert!(opener.open(a).expect("opens"));
        }
        assert_eq!(sealed, expected);
    }

    /// A sender withdrawing a message that alerted: an alert on the
    /// `revoke` record, under its own (pseudonymized) ids, with the
    /// message's hits and no quote of it, sealed or not; none for a
    /// message that did not alert or is not remembered, and none without
    /// a memory (a caller judging out of order is told to judge it again).
    #[test]
    fn a_withdrawn_alerting_message_alerts_again_on_its_revoke() {
        let lists = WordListSet::from_sources(vec![("l.txt".into(), "内幕消息\n".into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let revoke = |id: &str, of: &str| {
            serde_json::json!({"msgid": id, "from": "li", "tolist": ["wang"],
                "msgtime": 1_764_000_060_000i64, "msgtype": "revoke", "revoke": {"pre_msgid": of}})
            .to_string()
            .into_bytes()
        };
        let records = [
            said("m1", "li", None, 0, "有内幕消息"),
            said("m2", "li", None, 10, "明天见"),
            revoke("r1", "m1"),
            revoke("r2", "m2"),
            revoke("r3", "m0"),
        ];
        let (_, recipient) = crate::alert::seal::generate_identity();
        let sealer = crate::alert::seal::EvidenceSealer::new([recipient.as_str()]).expect("key");
        let key = b"a key of at least 16 bytes".as_slice();
        let plain = Judge::new(InputFormat::wecom());
        let hidden = plain
            .clone()
            .pseudonymize(Some(Pseudonymizer::new(key).expect("key")))
            .seal_evidence(Some(Arc::new(sealer)));
        for judge in [&plain, &hidden] {
            let (mut memory, mut scanner) = (judge.memory(), rs.scanner());
            let judged: Vec<Judgement> = records
                .iter()
                .map(|b| judge.judge_next(&rs, &mut scanner, &mut memory, b, Map::new(), "x", None))
                .collect();
            let sent = judged[0].alert.as_ref().expect("alerts");
            let again = judged[2].alert.as_ref().expect("alerts on the withdrawal");
            let withdrawn = again.withdrawn.as_ref().expect("names it");
            assert_eq!(
                (withdrawn.msgid.as_str(), &withdrawn.alert_id),
                ("m1", &sent.alert_id)
            );
            assert_eq!(again.source["msgid"], "r1");
            assert_eq!(
                again.source["from"], sent.source["from"],
                "pseudonymized alike"
            );
            assert_eq!(again.hits[0].term, "内幕消息");
            assert!(again.hits[0].matched.is_empty() && again.sealed.is_none());
            let json = serde_json::to_string(again).expect("json");
            assert!(!json.contains("有内幕"), "{json}");
            assert!(judged[2].withdrawal && judged[2].textless);
            assert!(judged[3].alert.is_none() && judged[4].alert.is_none());
            assert_eq!(memory.alerted().len(), 1);
        }
        // out of order: nothing remembered, no alert, asked to judge again;
        // the alerting message handed over for the memory that follows
        let mut scanner = rs.scanner();
        let alone = plain.judge(&rs, &mut scanner, &records[2], Map::new(), "x");
        assert!(alone.alert.is_none() && alone.withdrawal);
        let sent = plain.judge(&rs, &mut scanner, &records[0], Map::new(), "x");
        let clean = plain.judge(&rs, &mut scanner, &records[1], Map::new(), "x");
        assert!(clean.alerted.is_none());
        let mut memory = plain.memory();
        memory.remember(sent.alerted.expect("handed over"));
        let again = plain.judge_next(
            &rs,
            &mut scanner,
            &mut memory,
            &records[2],
            Map::new(),
            "x",
            None,
        );
        let sent_id = sent.alert.expect("alerts").alert_id;
        assert_eq!(
            again.alert.and_then(|a| a.withdrawn).map(|w| w.alert_id),
            Some(sent_id)
        );
        // judged with a memory, it remembers itself and hands nothing over
        let j = plain.judge_next(
            &rs,
            &mut scanner,
            &mut memory,
            &records[0],
            Map::new(),
            "x",
            None,
        );
        assert!(j.alert.is_some() && j.alerted.is_none());
        // input that names no one has no withdrawals to remember for
        let text = Judge::new(InputFormat::Text);
        let t = text.judge(&rs, &mut scanner, "有内幕消息".as_bytes(), Map::new(), "x");
        assert!(t.alert.is_some() && t.alerted.is_none());
    }

    /// A term sent a few characters a message alerts on the message that
    /// completes it, once, with the earlier ones named; the alert is the
    /// message's own (same id as judged alone).
    #[test]
    fn a_term_split_across_short_messages_alerts_on_the_last() {
        let lists = WordListSet::from_sources(vec![("l.txt".into(), "内幕消息\nsb\n".into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let judge = Judge::new(InputFormat::wecom()).split_messages(Some(SplitOptions::default()));
        let mut window = judge.memory();
        let mut scanner = rs.scanner();
        let messages = [
            said("m0", "li", None, 0, "内"),
            said("m1", "li", None, 5, "幕！"),
            said("m2", "li", None, 9, "消息sb"),
        ];
        let mut judged: Vec<Judgement> = messages
            .iter()
            .map(|b| judge.judge_next(&rs, &mut scanner, &mut window, b, Map::new(), "x", None))
            .collect();
        assert!(judged[0].alert.is_none() && judged[1].alert.is_none());
        assert!(judged.iter().all(|j| j.fragment));
        let alert = judged[2].alert.take().expect("alerts");
        let own = judge
            .judge(&rs, &mut rs.scanner(), &messages[2], Map::new(), "x")
            .alert
            .expect("its own hit alerts alone");
        assert_eq!(alert.alert_id, own.alert_id, "the message's own id");
        assert_eq!(alert.split_from, ["m0", "m1"]);
        let hits: Vec<_> = alert
            .hits
            .iter()
            .map(|h| {
                (
                    h.term.as_str(),
                    h.field.as_deref(),
                    h.matched.as_str(),
                    h.evasions.clone(),
                )
            })
            .collect();
        assert_eq!(
            hits,
            [
                ("sb", Some("/text/content"), "sb", vec![]),
                (
                    "内幕消息",
                    Some(SPLIT_FIELD),
                    "内幕！消息",
                    vec![Evasion::Separators, Evasion::SplitMessages]
                ),
            ]
        );
        assert!(alert.snippet.contains("内幕！消息"), "{}", alert.snippet);
        // judged out of order (no window): each alone, the short ones flagged
        let j = judge.judge(&rs, &mut scanner, &messages[1], Map::new(), "x");
        assert!(j.fragment && j.alert.is_none());
        let plain = Judge::new(InputFormat::wecom());
        assert!(
            !plain
                .judge(&rs, &mut scanner, &messages[1], Map::new(), "x")
                .fragment
        );
        assert!(plain.memory().runs().is_none());
    }

    /// Runs are one sender's in one conversation: others talking between
    /// do not break it; another sender, another conversation, a pause, a
    /// longer message or a broken word boundary make no run.
    #[test]
    fn what_makes_a_run_and_what_does_not() {
        let room = Some("wrDesk");
        let interleaved = [
            said("a", "li", room, 0, "内幕"),
            said("b", "zhao", room, 1, "好的"),
            said("c", "li", room, 2, "消息"),
        ];
        assert_eq!(
            split_alerts("内幕消息\n", &interleaved),
            [("c".to_string(), strings(&["内幕消息"]), strings(&["a"]))]
        );
        // li's first message, then another's: no run
        let other = Some("wrOther");
        for (what, first_room, first, (who, to_room, secs, then)) in [
            ("another sender", room, "内幕", ("zhao", room, 1, "消息")),
            ("another room", room, "内幕", ("li", other, 1, "消息")),
            ("another recipient", None, "内幕", ("li", room, 1, "消息")),
            ("a pause", None, "内幕", ("li", None, 61, "消息")),
            (
                "a longer message last",
                None,
                "内幕",
                ("li", None, 1, "消息你知道的"),
            ),
            (
                "a longer message first",
                None,
                "我知道内幕",
                ("li", None, 1, "消息"),
            ),
        ] {
            let messages = [
                said("a", "li", first_room, 0, first),
                said("b", who, to_room, secs, then),
            ];
            assert_eq!(split_alerts("内幕消息\n", &messages), [], "{what}");
        }
        // li's messages a second apart (ids `0`, `1`, …) against a list:
        // the alerts (message, terms, `split_from`)
        let alerted = |id: &str, terms: &[&str], from: &[&str]| {
            (id.to_string(), strings(terms), strings(from))
        };
        for (what, list, texts, wanted) in [
            (
                "the messages the term spans are named, not the whole run's",
                "内幕消息\n",
                &["有个", "内", "幕", "消息"][..],
                vec![alerted("3", &["内幕消息"], &["1", "2"])],
            ),
            (
                "fragments join with nothing between: a term's boundaries hold",
                "shit\n",
                &["pu", "sh", "it"][..],
                vec![],
            ),
            ("a word split", "shit\n", &["sh", "it"][..], vec![alerted("1", &["shit"], &["0"])]),
            (
                "each term once a run, even as the run grows past it",
                "内幕消息\n",
                &["内", "幕", "消", "息", "息", "嗯"][..],
                vec![alerted("3", &["内幕消息"], &["0", "1", "2"])],
            ),
            (
                "sent again, found again",
                "内幕消息\n",
                &["内", "幕", "消息", "内", "幕", "消息"][..],
                vec![
                    alerted("2", &["内幕消息"], &["0", "1"]),
                    alerted("5", &["内幕消息"], &["3", "4"]),
                ],
            ),
            (
                "a term and a longer one that starts with it: each on the message that completes it",
                "内幕\n内幕消息\n",
                &["内", "幕", "消息"][..],
                vec![
                    alerted("1", &["内幕"], &["0"]),
                    alerted("2", &["内幕消息"], &["0", "1"]),
                ],
            ),
            (
                "a term whole in one short message, then split: both",
                "内幕消息\n",
                &["内幕消息", "内", "幕消息"][..],
                vec![
                    alerted("0", &["内幕消息"], &[]),
                    alerted("2", &["内幕消息"], &["1"]),
                ],
            ),
        ] {
            let messages: Vec<Vec<u8>> = (texts.iter().enumerate())
                .map(|(i, t)| said(&i.to_string(), "li", None, i as i64, t))
                .collect();
            assert_eq!(split_alerts(list, &messages), wanted, "{what}");
        }
        // `json` told where its sender, recipients and time are
        let json = Judge::new(InputFormat::json_with_participants(
            "/text",
            crate::envelope::Participants {
                from: "/from".into(),
                to: "/to".into(),
                time: "/ts".into(),
                ..Default::default()
            },
        ))
        .split_messages(Some(SplitOptions::default()));
        let lists = WordListSet::from_sources(vec![("l.txt".into(), "内幕消息\n".into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let mut window = json.memory();
        let mut scanner = rs.scanner();
        let mut judged = |from: &str, ts: i64, text: &str| {
            let ts = 1_764_000_000_000i64 + ts;
            let m =
                serde_json::json!({"from": from, "to": ["b@example.com"], "ts": ts, "text": text});
            let bytes = m.to_string();
            (json.judge_next(
                &rs,
                &mut scanner,
                &mut window,
                bytes.as_bytes(),
                Map::new(),
                format_args!("line:{ts}"),
                None,
            ))
            .alert
            .map(|a| a.split_from)
        };
        assert_eq!(judged("a@example.com", 0, "内幕"), None);
        // named by where they are, having no ids
        assert_eq!(
            judged("a@example.com", 1_000, "消息"),
            Some(strings(&["line:1764000000000"]))
        );
        assert_eq!(judged("a@example.com", 2_000, "内幕"), None);
        assert_eq!(judged("a@example.com", 70_000, "消息"), None, "a pause");
        // input that names no one makes no runs
        let text = Judge::new(InputFormat::Text).split_messages(Some(SplitOptions::default()));
        assert!(text.memory().runs().is_none());
        let j = text.judge(&rs, &mut scanner, "内幕".as_bytes(), Map::new(), "x");
        assert!(!j.fragment);
    }

    /// An alert's hits' severities, and its `bulk` values and earlier
    /// messages.
    type BulkSeen = (Vec<Severity>, Vec<(u32, Vec<String>)>);

    /// Judges `messages` in order with one memory; each message's bulk as
    /// (its hits' severities, the alert's `bulk` values and earlier
    /// messages), `None` without an alert.
    fn bulk_over_time(lists: &str, messages: &[Vec<u8>]) -> Vec<Option<BulkSeen>> {
        let lists = WordListSet::from_sources(vec![("pii.txt".into(), lists.into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let judge = Judge::new(InputFormat::wecom());
        let mut memory = judge.memory();
        let mut scanner = rs.scanner();
        messages
            .iter()
            .map(|bytes| {
                let j =
                    judge.judge_next(&rs, &mut scanner, &mut memory, bytes, Map::new(), "x", None);
                j.alert.map(|a| {
                    let severities = a.hits.iter().map(|h| h.severity).collect();
                    let bulk = a
                        .bulk
                        .into_iter()
                        .map(|b| (b.values, b.earlier_messages))
                        .collect();
                    (severities, bulk)
                })
            })
            .collect()
    }

    /// A list whose bulk threshold looks back over time counts the values
    /// the sender sent in the same conversation within it: the message
    /// that brings the count to the threshold has its hits raised, and
    /// its alert names the earlier messages; others' values, other
    /// conversations' (unless the list counts across conversations), older
    /// ones, a value sent again, or a list without `within` do not count.
    #[test]
    fn a_roster_sent_a_number_a_message_reaches_a_timed_bulk_threshold() {
        use crate::lists::Severity::{Critical, High};
        let timed = "#! severity: high\n#! bulk: 3 critical within 1h\n@cn_mobile\n";
        let room = Some("wrDesk");
        let roster = [
            said("m1", "li", room, 0, "13812345678"),
            said("m2", "zhao", room, 1, "13612345678"),
            said("m3", "li", room, 600, "电话 13912345678 13912345678"),
            said("m4", "li", None, 700, "13512345678"),
            said("m5", "li", room, 3599, "13712345678"),
            said("m6", "li", room, 3601, "13312345678"),
            said("m7", "li", room, 3602, "13312345678"),
        ];
        let ids = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let judged = bulk_over_time(timed, &roster);
        // the alert names the lists whose threshold the message reached
        let expected = [
            (vec![High], vec![]),
            (vec![High], vec![]), // zhao's own
            (vec![High], vec![]), // two values
            (vec![High], vec![]), // another conversation
            (vec![Critical], vec![(3, ids(&["m1", "m3"]))]),
            (vec![Critical], vec![(3, ids(&["m3", "m5"]))]), // m1 is out of time
            (vec![Critical], vec![(3, ids(&["m3", "m5"]))]), // the same number again
        ];
        let expected: Vec<_> = expected.into_iter().map(Some).collect();
        assert_eq!(judged, expected);
        // across conversations: li's message outside the group chat counts
        let across = bulk_over_time(
            "#! severity: high\n#! bulk: 3 critical within 1h across conversations\n@cn_mobile\n",
            &roster,
        );
        let expected = [
            (vec![High], vec![]),
            (vec![High], vec![]), // zhao's own
            (vec![High], vec![]),
            (vec![Critical], vec![(3, ids(&["m1", "m3"]))]), // another conversation
            (vec![Critical], vec![(4, ids(&["m1", "m3", "m4"]))]),
            (vec![Critical], vec![(4, ids(&["m3", "m4", "m5"]))]), // m1 is out of time
            // the same number again; the tally keeps a threshold's newest
            (vec![Critical], vec![(3, ids(&["m4", "m5"]))]),
        ];
        let expected: Vec<_> = expected.into_iter().map(Some).collect();
        assert_eq!(across, expected);
        // without `within`: each message alone
        let alone = bulk_over_time(
            "#! severity: high\n#! bulk: 3 critical\n@cn_mobile\n",
            &roster,
        );
        assert!(alone
            .iter()
            .flatten()
            .all(|(s, b)| s == &[High] && b.is_empty()));
        // judged alone, the message keeps its own id and its own count
        let lists = WordListSet::from_sources(vec![("pii.txt".into(), timed.into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let judge = Judge::new(InputFormat::wecom());
        let mut memory = judge.memory();
        let mut scanner = rs.scanner();
        let mut last = None;
        for bytes in &roster[..5] {
            let j = judge.judge_next(&rs, &mut scanner, &mut memory, bytes, Map::new(), "x", None);
            assert!(j.tallied);
            last = j.alert;
        }
        let alone = judge
            .judge(&rs, &mut scanner, &roster[4], Map::new(), "x")
            .alert
            .expect("alerts");
        let last = last.expect("alerts");
        assert_eq!(last.alert_id, alone.alert_id);
        assert_eq!((last.severity, alone.severity), (Critical, High));
        assert_eq!(last.bulk[0].within_secs, Some(3600));
        assert!(alone.bulk.is_empty());
    }
}
