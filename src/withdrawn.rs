//! Alerts on messages their senders withdrew.
//!
//! A WeCom sender may withdraw (撤回, "recall") a message after sending it;
//! the archive keeps the message and adds a `revoke` record naming it
//! (`pre_msgid`). A message that alerted and was then withdrawn is a
//! signal of its own: the sender knew it should not have been sent. (Where
//! the `revoke` record comes from someone else, a group's owner or
//! administrator recalling a member's message, the alert names the
//! message's sender: [`AlertWithdrawn::sender`].)
//! (Called withdrawals here, as neither Kafka's partition revokes nor the
//! engine's recall of a partition's earlier messages.) The judge of an ordered stream
//! ([`crate::judge::Judge::judge_next`]) remembers its recent alerting
//! messages ([`AlertedMessages`], part of the
//! [`StreamMemory`](crate::judge::StreamMemory)) and, on a `revoke` record
//! naming one of them, raises an alert on that record: the original
//! alert's hits (without their quotes: the original alert has them),
//! severity, audience and groups, the `revoke` record's own `source`, and
//! [`Alert::withdrawn`] naming the message and its alert.
//!
//! ```
//! use wordwarden::envelope::InputFormat;
//! use wordwarden::judge::Judge;
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![("leak.txt".into(), "内幕消息\n".into())]);
//! let rs = Ruleset::builder().build(&lists).unwrap();
//! let judge = Judge::new(InputFormat::wecom());
//! let mut memory = judge.memory();
//! let mut scanner = rs.scanner();
//! let sent = r#"{"msgid":"m1","from":"li","tolist":["wang"],"msgtime":1764000000000,"msgtype":"text","text":{"content":"有内幕消息"}}"#;
//! let revoke = r#"{"msgid":"m2","from":"li","tolist":["wang"],"msgtime":1764000030000,"msgtype":"revoke","revoke":{"pre_msgid":"m1"}}"#;
//! let first = judge.judge_next(&rs, &mut scanner, &mut memory, sent.as_bytes(), Default::default(), "x", None);
//! let second = judge.judge_next(&rs, &mut scanner, &mut memory, revoke.as_bytes(), Default::default(), "x", None);
//! let (first, second) = (first.alert.unwrap(), second.alert.unwrap());
//! let withdrawn = second.withdrawn.as_ref().unwrap();
//! assert_eq!((withdrawn.msgid.as_str(), &withdrawn.alert_id), ("m1", &first.alert_id));
//! assert_eq!(second.hits[0].term, "内幕消息");
//! assert_eq!(second.hits[0].matched, ""); // quoted once, in the first alert
//! assert_eq!(second.source["msgid"], "m2");
//! ```
//!
//! Remembered in memory only, bounded: the last [`REMEMBERED_ALERTS`]
//! alerting messages of the stream by default
//! ([`Judge::remembered_alerts`](crate::judge::Judge::remembered_alerts)),
//! none older than [`WITHDRAWAL_WITHIN_MS`] before the newest (WeCom lets a
//! sender withdraw a message for a limited time). A consumer newly given a partition remembers the alerts of the
//! messages it reads back for its memory (as far as split runs and timed
//! bulk lists reach, [`crate::judge::StreamMemory::reach_ms`]), not those
//! before.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::alert::{alert_id, Alert, AlertWithdrawn};

/// Alerting messages one stream remembers at most (about 1 KB each for an
/// alert of two hits, without its quotes: 10 MB at most).
pub const REMEMBERED_ALERTS: usize = 10_000;

/// How long after an alerting message a withdrawal of it still raises an
/// alert, in milliseconds (24 hours; WeCom allows less).
pub const WITHDRAWAL_WITHIN_MS: i64 = 24 * 3_600_000;

/// A message's alert as [`AlertedMessages`] keeps it (its quotes and
/// `source` but for its sender dropped), for a caller that judged the
/// message out of order to hand to the
/// [`StreamMemory`](crate::judge::StreamMemory) that follows the stream
/// ([`Judgement::alerted`](crate::judge::Judgement::alerted)).
#[derive(Debug, Clone)]
pub struct Alerted {
    msgid: String,
    written_ms: Option<i64>,
    alert: Alert,
}

impl Alerted {
    /// Message `msgid`, written at `written_ms`, raised `alert`.
    pub(crate) fn of(msgid: &str, written_ms: Option<i64>, alert: &Alert) -> Self {
        // of its source, only who sent it: to tell a withdrawal by someone else
        let source = alert
            .source
            .get("from")
            .map(|from| Map::from_iter([("from".to_string(), from.clone())]))
            .unwrap_or_default();
        let mut kept = Alert {
            source,
            bulk: Vec::new(),
            split_from: Vec::new(),
            sealed: None,
            ..alert.clone()
        };
        kept.drop_quotes();
        Alerted {
            msgid: msgid.to_string(),
            written_ms,
            alert: kept,
        }
    }
}

/// The recent alerting messages of one stream, by message id: see the
/// module documentation.
#[derive(Debug)]
pub struct AlertedMessages {
    /// Each message's alert, its quotes and `source` but for its sender
    /// (`from`) dropped.
    by_id: FxHashMap<Box<str>, Alert>,
    /// The ids in the order remembered, with when each was written.
    order: VecDeque<(Box<str>, Option<i64>)>,
    capacity: usize,
}

impl Default for AlertedMessages {
    fn default() -> Self {
        AlertedMessages::with_capacity(REMEMBERED_ALERTS)
    }
}

impl AlertedMessages {
    /// A memory of at most `capacity` alerting messages (0: none).
    pub fn with_capacity(capacity: usize) -> Self {
        AlertedMessages {
            by_id: FxHashMap::default(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// How many alerting messages it holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The most it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Remembers an alerting message; forgets the oldest past the capacity
    /// or the time. A message judged again (redelivered) keeps its place.
    pub(crate) fn remember(&mut self, alerted: Alerted) {
        let Alerted {
            msgid,
            written_ms,
            alert,
        } = alerted;
        if self.capacity == 0 {
            return;
        }
        if let Some(known) = self.by_id.get_mut(msgid.as_str()) {
            *known = alert;
            return;
        }
        self.by_id.insert(msgid.as_str().into(), alert);
        self.order.push_back((msgid.into(), written_ms));
        let oldest_kept = written_ms.map(|ms| ms.saturating_sub(WITHDRAWAL_WITHIN_MS));
        while let Some((id, at)) = self.order.front() {
            let too_old = matches!((at, oldest_kept), (Some(at), Some(oldest)) if *at < oldest);
            if self.order.len() <= self.capacity && !too_old {
                break;
            }
            self.by_id.remove(id);
            self.order.pop_front();
        }
    }

    /// The alert on a record (`identity`, with `source`) withdrawing message
    /// `msgid`, when that message alerted: its alert's hits, severity,
    /// audience and groups, under the record's source and an id of the
    /// record's own (the same record judged again gets the same id).
    pub(crate) fn withdrawal(
        &self,
        msgid: &str,
        ruleset_version: &str,
        identity: &str,
        source: Map<String, Value>,
    ) -> Option<Alert> {
        let original = self.by_id.get(msgid)?;
        // both as the alerts carry them: pseudonyms of one key compare too
        let sender = original.source.get("from").and_then(Value::as_str);
        let by_someone_else = match (sender, source.get("from").and_then(Value::as_str)) {
            (Some(sender), Some(from)) => sender != from,
            _ => false,
        };
        Some(Alert {
            alert_id: alert_id(ruleset_version, identity.as_bytes(), &[]),
            ruleset_version: ruleset_version.to_string(),
            withdrawn: Some(AlertWithdrawn {
                msgid: msgid.to_string(),
                alert_id: original.alert_id.clone(),
                sender: sender.filter(|_| by_someone_else).map(String::from),
            }),
            source,
            ..original.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertHit;
    use crate::lists::Severity;

    fn alert(id: &str) -> Alert {
        let hit = AlertHit {
            term: "内幕消息".into(),
            category: "finance/insider".into(),
            severity: Severity::High,
            start: 3,
            end: 15,
            matched: "内幕消息".into(),
            field: Some("/text/content".into()),
            count: 1,
            evasions: Vec::new(),
            confidence: None,
        };
        let mut source = Map::new();
        source.insert("msgid".into(), Value::from(id));
        source.insert("from".into(), Value::from("li"));
        Alert {
            alert_id: format!("alert-{id}"),
            ruleset_version: "v1".into(),
            severity: Severity::High,
            audience: Default::default(),
            source,
            hits: vec![hit],
            snippet: "有内幕消息".into(),
            hits_truncated: false,
            bulk: Vec::new(),
            groups: Default::default(),
            split_from: vec!["m0".into()],
            withdrawn: None,
            text: Some("有内幕消息".into()),
            sealed: None,
        }
    }

    #[test]
    fn a_withdrawal_repeats_the_alert_without_its_quotes() {
        let mut alerted = AlertedMessages::default();
        alerted.remember(Alerted::of("m1", Some(1_000), &alert("m1")));
        let mut source = Map::new();
        source.insert("msgid".into(), Value::from("r1"));
        let got = alerted
            .withdrawal("m1", "v2", "r1", source.clone())
            .unwrap();
        assert_eq!(
            got.withdrawn,
            Some(AlertWithdrawn {
                msgid: "m1".into(),
                alert_id: "alert-m1".into(),
                sender: None
            })
        );
        assert_eq!(got.source, source);
        assert_eq!(got.ruleset_version, "v2");
        assert_eq!(got.alert_id, alert_id("v2", b"r1", &[]));
        assert_eq!((got.hits.len(), got.hits[0].term.as_str()), (1, "内幕消息"));
        assert_eq!(got.severity, Severity::High);
        assert!(got.hits[0].matched.is_empty() && got.snippet.is_empty() && got.text.is_none());
        assert!(got.split_from.is_empty());
        assert!(alerted.withdrawal("m2", "v2", "r1", Map::new()).is_none());
    }

    /// A withdrawal from someone other than the message's sender (a
    /// group's owner recalling a member's message) names the sender; one
    /// by the sender, or naming no one, does not.
    #[test]
    fn a_withdrawal_by_someone_else_names_the_sender() {
        let mut alerted = AlertedMessages::default();
        alerted.remember(Alerted::of("m1", Some(1_000), &alert("m1")));
        let by = |from: Option<&str>| {
            let source: Map<String, Value> = from
                .map(|f| Map::from_iter([("from".to_string(), Value::from(f))]))
                .unwrap_or_default();
            alerted
                .withdrawal("m1", "v", "r1", source)
                .and_then(|a| a.withdrawn)
                .and_then(|w| w.sender)
        };
        assert_eq!(by(Some("zhang")).as_deref(), Some("li"));
        assert_eq!(by(Some("li")), None);
        assert_eq!(by(None), None);
    }

    #[test]
    fn forgets_the_oldest_past_its_capacity_or_a_day() {
        let mut alerted = AlertedMessages::with_capacity(2);
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            alerted.remember(Alerted::of(id, Some(i as i64), &alert(id)));
        }
        assert_eq!(alerted.len(), 2);
        assert!(alerted.withdrawal("a", "v", "r", Map::new()).is_none());
        assert!(alerted.withdrawal("b", "v", "r", Map::new()).is_some());
        // a message judged again keeps its place: "b" is still the oldest
        alerted.remember(Alerted::of("b", Some(1), &alert("b")));
        alerted.remember(Alerted::of("d", Some(3), &alert("d")));
        assert!(alerted.withdrawal("b", "v", "r", Map::new()).is_none());
        assert!(alerted.withdrawal("c", "v", "r", Map::new()).is_some());
        // a day later the earlier ones are gone, whatever the room
        let mut roomy = AlertedMessages::default();
        roomy.remember(Alerted::of("old", Some(0), &alert("old")));
        roomy.remember(Alerted::of("edge", Some(1), &alert("edge")));
        roomy.remember(Alerted::of(
            "new",
            Some(WITHDRAWAL_WITHIN_MS + 1),
            &alert("new"),
        ));
        assert!(roomy.withdrawal("old", "v", "r", Map::new()).is_none());
        assert!(roomy.withdrawal("edge", "v", "r", Map::new()).is_some());
        assert_eq!(roomy.len(), 2);
        // none remembered where told to keep none
        let mut none = AlertedMessages::with_capacity(0);
        none.remember(Alerted::of("a", None, &alert("a")));
        assert!(none.is_empty());
    }
}
