//! The alert model: what the alert topic and `scan` emit (a JSON contract).
//!
//! ```json
//! {"alert_id": "…", "ruleset_version": "…", "severity": "high",
//!  "source": {"topic": "chat", "partition": 0, "offset": 42, "msgid": "…"},
//!  "hits": [{"term": "内幕消息", "category": "finance/insider", "severity": "high",
//!            "start": 3, "end": 20, "matched": "内*幕*消*息", "count": 1,
//!            "evasions": ["separators"]}],
//!  "snippet": "…有内*幕*消*息，明天…"}
//! ```
//!
//! `start`/`end` are UTF-8 byte offsets into the original text of the field the
//! hit was found in (`field`, a JSON pointer, for JSON and WeCom input), and
//! `matched` is exactly that slice. The snippet holds the matched regions with a
//! few characters of context each, never the whole message (minimum necessary).
//! Personal data (phone, ID card and bank card numbers, e-mail addresses,
//! licence plates) is shown with its middle masked wherever the alert quotes the message, unless
//! [`AlertBuilder::mask_personal_data`] turns that off; credentials (keys,
//! tokens, passwords in URLs) always are: see [`mask`].
//!
//! ```
//! use wordwarden::alert::AlertBuilder;
//! use wordwarden::envelope::TextField;
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![("leak.txt".into(), "客户名单\n".into())]);
//! let rs = Ruleset::builder().build(&lists).unwrap();
//! let text = "这是我们全部的客户名单，别外传，谢谢大家配合";
//! let fields = [TextField::plain(text)];
//! let findings = rs.scan_fields(&[text]);
//! let alert = AlertBuilder::new().context_chars(2).build(
//!     rs.version(), b"msg-1", Default::default(), &fields, &findings,
//! ).unwrap();
//! assert_eq!(alert.hits[0].matched, "客户名单");
//! assert_eq!(alert.snippet, "…部的客户名单，别…");
//!
//! // personal data in the quoted text is masked by default
//! let text = "客户名单发13812345678";
//! let fields = [TextField::plain(text)];
//! let findings = rs.scan_fields(&[text]);
//! let alert = AlertBuilder::new().context_chars(12).build(
//!     rs.version(), b"msg-2", Default::default(), &fields, &findings,
//! ).unwrap();
//! assert_eq!(alert.snippet, "客户名单发138****5678");
//! ```

pub mod mask;
pub mod seal;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::audience::Audience;
use crate::detect::Confidence;
use crate::envelope::TextField;
use crate::evasion::Evasion;
use crate::lists::Severity;
use crate::ruleset::Findings;
use mask::Masks;

/// One alert: a message with at least one hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Deterministic: the same message judged by the same ruleset gets the same
    /// id, so consumers can deduplicate redeliveries.
    pub alert_id: String,
    /// Content hash of the word lists that judged the message.
    pub ruleset_version: String,
    /// The highest severity among the hits.
    pub severity: Severity,
    /// Who the message went between: `internal` (colleagues only) or
    /// `external` (someone outside the company), from the WeCom ids before
    /// any pseudonymization; absent when the input names no one.
    #[serde(default, skip_serializing_if = "Audience::is_unknown")]
    pub audience: Audience,
    /// Where the message came from (topic/partition/offset, WeCom ids, line).
    pub source: Map<String, Value>,
    /// Distinct (term, category) hits.
    pub hits: Vec<AlertHit>,
    /// The matched regions with a little context each; empty (and absent
    /// from the JSON) once sealed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub snippet: String,
    /// True when the message had more distinct hits than reported.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hits_truncated: bool,
    /// The lists whose volume threshold (`#! bulk:`) the message reached:
    /// why their hits' severity is above their list's. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bulk: Vec<AlertBulk>,
    /// The people groups (`*.people`) its sender and recipients are in,
    /// from their ids before any pseudonymization: an analyst reads
    /// `ibd -> research` without knowing who. Absent when neither side is
    /// in a group.
    #[serde(default, skip_serializing_if = "AlertGroups::is_empty")]
    pub groups: AlertGroups,
    /// The messages before this one that a term split across messages
    /// spans (`hits` in the field `#split`, [`crate::split`]): their
    /// ids (WeCom `msgid`, else topic/partition/offset or line), oldest
    /// first. Absent when no term was split.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split_from: Vec<String>,
    /// On the record of a sender withdrawing a message that had alerted
    /// (a WeCom `revoke`): which message and which alert. Such an alert
    /// repeats that alert's hits without their quotes (`matched`), severity,
    /// audience and groups, under the `revoke` record's own `source`; absent
    /// on every other alert ([`crate::withdrawn`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<AlertWithdrawn>,
    /// The whole message text; only when configured for the category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The quotes of the message (every hit's `matched`, the `snippet`, the
    /// `text`), encrypted to the analysts' keys, where the engine seals
    /// evidence ([`seal`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<seal::SealedEvidence>,
}

impl Alert {
    /// Whether some hit was written to get past a filter (has `evasions`):
    /// what `tail --evasive` and `scan --evasive` keep.
    pub fn is_evasive(&self) -> bool {
        self.hits.iter().any(|h| !h.evasions.is_empty())
    }

    /// Removes every quote of the message (each hit's `matched`, the
    /// `snippet`, the `text`): what sealing moves into `sealed`
    /// ([`seal`]), and what an alert whose sealing failed goes without.
    pub fn drop_quotes(&mut self) {
        for h in &mut self.hits {
            h.matched.clear();
        }
        self.snippet.clear();
        self.text = None;
    }

    /// Whether this alert is on a sender withdrawing a message that had
    /// alerted (has `withdrawn`): what `tail --withdrawn` keeps, and what
    /// `report` counts apart from the messages that alerted.
    pub fn is_withdrawal(&self) -> bool {
        self.withdrawn.is_some()
    }

    /// On an alert on a withdrawal, who withdrew the message, for a reader:
    /// `its sender`, or `zhang (not its sender, li)` where the withdrawing
    /// record (`source.from`) came from someone else.
    ///
    /// ```
    /// use wordwarden::alert::Alert;
    ///
    /// let alert = |withdrawn: serde_json::Value| -> Alert {
    ///     serde_json::from_value(serde_json::json!({"alert_id": "a2", "ruleset_version": "v",
    ///         "severity": "high", "source": {"from": "zhang"}, "hits": [], "snippet": "",
    ///         "withdrawn": withdrawn})).unwrap()
    /// };
    /// let own = alert(serde_json::json!({"msgid": "m1", "alert_id": "a1"}));
    /// assert_eq!(own.withdrawn_by().as_deref(), Some("its sender"));
    /// let other = alert(serde_json::json!({"msgid": "m1", "alert_id": "a1", "sender": "li"}));
    /// assert_eq!(other.withdrawn_by().as_deref(), Some("zhang (not its sender, li)"));
    /// ```
    pub fn withdrawn_by(&self) -> Option<String> {
        let withdrawn = self.withdrawn.as_ref()?;
        Some(match &withdrawn.sender {
            Some(sender) => {
                let from = self.source.get("from").and_then(Value::as_str);
                format!("{} (not its sender, {sender})", from.unwrap_or("someone"))
            }
            None => "its sender".to_string(),
        })
    }

    /// Whether the message holds some list's values in bulk (has `bulk`):
    /// what `tail --bulk`, `report --bulk` and `scan --bulk` keep.
    pub fn is_bulk(&self) -> bool {
        !self.bulk.is_empty()
    }

    /// How sure the alert is: `medium` where every hit is a detector's at
    /// `medium` confidence ([`AlertHit::confidence`]: numbers with no word
    /// naming them near) and no list's bulk threshold was reached (a roster
    /// of such numbers is what a threshold is for), else `high`: what
    /// `tail`, `report` and `scan` `--min-confidence high` keep.
    pub fn confidence(&self) -> Confidence {
        match self.is_bulk() {
            true => Confidence::High,
            false => (self.hits.iter())
                .map(|h| h.confidence.unwrap_or(Confidence::High))
                .max()
                .unwrap_or(Confidence::High),
        }
    }
}

/// The message a sender withdrew and the alert it had raised
/// ([`Alert::withdrawn`]): `{"msgid": "…", "alert_id": "…"}`, and
/// `"sender"` where someone else withdrew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertWithdrawn {
    /// The withdrawn message's id (the `revoke` record's `pre_msgid`).
    pub msgid: String,
    /// The alert the withdrawn message raised.
    pub alert_id: String,
    /// The withdrawn message's sender, only where the record withdrawing
    /// it came from someone else (the alert's `source.from`: a group's
    /// owner or administrator recalling a member's message); as the
    /// alerts carry ids (a pseudonym under `pseudonymize_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
}

/// The people groups of a message's sender and recipients
/// ([`crate::people`]): `{"sender": ["people/ibd"], "recipients":
/// ["people/research"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroups {
    /// The sender's groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sender: Vec<String>,
    /// The groups of the recipients, together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
}

impl AlertGroups {
    /// Whether neither side is in a group.
    pub fn is_empty(&self) -> bool {
        self.sender.is_empty() && self.recipients.is_empty()
    }

    /// Whether either side is in the group `name`.
    pub fn holds(&self, name: &str) -> bool {
        self.sender
            .iter()
            .chain(&self.recipients)
            .any(|g| g == name)
    }
}

/// A list whose volume threshold the message reached
/// ([`crate::ruleset::BulkFinding`]): `{"category": "personal/pii",
/// "values": 12, "at_least": 10, "severity": "critical"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertBulk {
    /// The list's category.
    pub category: String,
    /// How many distinct values of the list the message holds (twelve
    /// phone numbers; one number twice is one).
    pub values: u32,
    /// The list's threshold.
    pub at_least: u32,
    /// The severity the threshold raised the list's hits to.
    pub severity: Severity,
    /// How far back, in seconds, the sender's earlier messages in the same
    /// conversation count (`#! bulk: 10 critical within 1h`); absent when
    /// only the message's own values count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_secs: Option<u32>,
    /// The sender's earlier messages in every conversation count, not only
    /// this one's (`#! bulk: … within 1d across conversations`); absent
    /// when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub across_conversations: bool,
    /// The earlier messages whose values count in `values` (their ids,
    /// oldest first, at most 100); absent when the message's own are all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_messages: Vec<String>,
}

/// One hit within an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertHit {
    /// The entry as written in the list.
    pub term: String,
    /// The list's category.
    pub category: String,
    /// The list's severity, or its `#! bulk:` threshold's where the message
    /// reached it (see [`Alert::bulk`]).
    pub severity: Severity,
    /// Start byte offset in the field's original text.
    pub start: usize,
    /// End byte offset.
    pub end: usize,
    /// Exactly `text[start..end]`, personal data in it masked (see [`mask`]);
    /// empty (and absent from the JSON) once sealed ([`seal`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub matched: String,
    /// JSON pointer of the text field (JSON and WeCom input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How many places the rule fired at in the message.
    pub count: u32,
    /// How the first match was written unlike the rule (`separators`,
    /// `traditional`, ...; see [`crate::evasion`]); absent when it was
    /// written as the rule is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evasions: Vec<Evasion>,
    /// For a detector's hit, how sure its first match is that it found what
    /// the detector names: `medium` for a card's, a mobile's, a landline's or
    /// a Taiwan or Hong Kong identity card's number with no word naming it near (it may
    /// be an order's or a product's number that passes the check), else
    /// `high` (see [`crate::detect::assess`]); absent for terms, regular
    /// expressions and combinations, which the lists' maintainers wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
}

/// Builds alerts from findings.
#[derive(Debug, Clone)]
pub struct AlertBuilder {
    context_chars: usize,
    max_snippet_segments: usize,
    full_text_categories: Vec<String>,
    mask_personal_data: bool,
}

impl Default for AlertBuilder {
    fn default() -> Self {
        AlertBuilder {
            context_chars: 10,
            max_snippet_segments: 5,
            full_text_categories: Vec::new(),
            mask_personal_data: true,
        }
    }
}

impl AlertBuilder {
    /// Ten characters of context on each side of a hit, at most five regions,
    /// personal data masked.
    pub fn new() -> Self {
        Self::default()
    }

    /// Characters of context on each side of each matched region.
    pub fn context_chars(mut self, n: usize) -> Self {
        self.context_chars = n;
        self
    }

    /// Categories (or category prefixes ending in `/`) whose alerts carry the
    /// whole message text. Empty by default: minimum necessary.
    pub fn full_text_for(mut self, categories: Vec<String>) -> Self {
        self.full_text_categories = categories;
        self
    }

    /// Whether personal data the detectors recognise is shown masked in
    /// `matched`, the snippet and the full text (default: on). Off, an alert
    /// quotes the message as written, but for the secrets of credentials,
    /// which stay masked.
    pub fn mask_personal_data(mut self, on: bool) -> Self {
        self.mask_personal_data = on;
        self
    }

    /// The alert for a message, or `None` when it has no hits. `identity` is a
    /// stable id of the message (WeCom msgid, or topic/partition/offset).
    pub fn build(
        &self,
        ruleset_version: &str,
        identity: &[u8],
        source: Map<String, Value>,
        fields: &[TextField<'_>],
        findings: &Findings<'_>,
    ) -> Option<Alert> {
        if findings.hits.is_empty() {
            return None;
        }
        // one set of masks a field, for the few messages that alert
        let masks: Vec<Masks> = fields
            .iter()
            .map(|f| {
                if self.mask_personal_data {
                    Masks::of(&f.text)
                } else {
                    Masks::of_credentials(&f.text)
                }
            })
            .collect();
        let texts: Vec<&str> = fields.iter().map(|f| &*f.text).collect();
        let mut hits = Vec::with_capacity(findings.hits.len());
        for h in &findings.hits {
            let field = fields.get(h.field)?;
            // a hit outside its field's text makes no alert, as before masking
            field.text.get(h.start..h.end)?;
            let matched = masks[h.field].render(&field.text, h.start..h.end);
            hits.push(AlertHit {
                term: h.term().to_string(),
                category: h.category().to_string(),
                severity: h.severity(),
                start: h.start,
                end: h.end,
                matched,
                field: field.pointer.as_deref().map(str::to_string),
                count: h.count,
                evasions: h.evasions(&field.text),
                confidence: h.assess(&texts).map(|a| a.confidence),
            });
        }
        let severity = hits.iter().map(|h| h.severity).max().unwrap_or_default();
        let snippet = self.snippet(fields, findings, &masks);
        let text = self.full_text(&hits, fields, &masks);
        Some(Alert {
            alert_id: alert_id(ruleset_version, identity, fields),
            ruleset_version: ruleset_version.to_string(),
            severity,
            audience: Audience::Unknown,
            groups: AlertGroups::default(),
            source,
            hits,
            snippet,
            hits_truncated: findings.truncated,
            bulk: findings
                .bulk
                .iter()
                .filter(|b| b.reached())
                .map(|b| AlertBulk {
                    category: b.category.to_string(),
                    values: b.values,
                    at_least: b.bulk.at_least,
                    severity: b.bulk.severity,
                    within_secs: b.bulk.within_secs,
                    across_conversations: b.bulk.across_conversations,
                    earlier_messages: Vec::new(),
                })
                .collect(),
            split_from: Vec::new(),
            withdrawn: None,
            text,
            sealed: None,
        })
    }

    fn full_text(
        &self,
        hits: &[AlertHit],
        fields: &[TextField<'_>],
        masks: &[Masks],
    ) -> Option<String> {
        let wanted = hits.iter().any(|h| {
            self.full_text_categories.iter().any(|c| {
                if let Some(prefix) = c.strip_suffix('/') {
                    h.category.starts_with(&format!("{prefix}/"))
                } else {
                    &h.category == c
                }
            })
        });
        wanted.then(|| {
            fields
                .iter()
                .zip(masks)
                .map(|(f, m)| m.render(&f.text, 0..f.text.len()))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// Matched regions widened by the context window, merged where they
    /// overlap, joined with ` … `.
    fn snippet(
        &self,
        fields: &[TextField<'_>],
        findings: &Findings<'_>,
        masks: &[Masks],
    ) -> String {
        let mut regions: Vec<(usize, usize, usize)> = Vec::new(); // field, start, end
        for h in &findings.hits {
            let Some(field) = fields.get(h.field) else {
                continue;
            };
            let text = field.text.as_ref();
            let start = back_chars(text, h.start, self.context_chars);
            let end = forward_chars(text, h.end, self.context_chars);
            regions.push((h.field, start, end));
        }
        regions.sort();
        let mut merged: Vec<(usize, usize, usize)> = Vec::new();
        for r in regions {
            match merged.last_mut() {
                Some(m) if m.0 == r.0 && r.1 <= m.2 => m.2 = m.2.max(r.2),
                _ => merged.push(r),
            }
        }
        let mut out = String::new();
        for (i, (f, start, end)) in merged.iter().take(self.max_snippet_segments).enumerate() {
            let text = fields[*f].text.as_ref();
            if i > 0 {
                out.push(' ');
            }
            if *start > 0 {
                out.push('…');
            }
            masks[*f].render_into(text, *start..*end, &mut out, |c| {
                if c.is_control() {
                    ' '
                } else {
                    c
                }
            });
            if *end < text.len() {
                out.push('…');
            }
        }
        out
    }
}

fn back_chars(text: &str, at: usize, n: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(at, |(i, _)| i)
}

fn forward_chars(text: &str, at: usize, n: usize) -> usize {
    let mut end = at;
    for c in text[at..].chars().take(n) {
        end += c.len_utf8();
    }
    end
}

/// SHA-256 of the ruleset version, the message identity and its text fields,
/// shortened to 128 bits of hex.
pub fn alert_id(ruleset_version: &str, identity: &[u8], fields: &[TextField<'_>]) -> String {
    let mut h = Sha256::new();
    h.update(ruleset_version.as_bytes());
    h.update([0]);
    h.update((identity.len() as u64).to_le_bytes());
    h.update(identity);
    for f in fields {
        h.update(f.pointer.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update((f.text.len() as u64).to_le_bytes());
        h.update(f.text.as_bytes());
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::NAMING_WORD_CHARS;
    use crate::lists::WordListSet;
    use crate::ruleset::Ruleset;

    fn rs(src: &str) -> Ruleset {
        Ruleset::builder()
            .build(&WordListSet::from_sources(vec![(
                "c.txt".into(),
                src.into(),
            )]))
            .unwrap()
    }

    /// The alert `rs` raises on `text` alone, with the default builder.
    fn alert_of(rs: &Ruleset, text: &str) -> Alert {
        let fields = [TextField::plain(text)];
        let findings = rs.scan_fields(&[text]);
        AlertBuilder::new()
            .build(rs.version(), b"m", Default::default(), &fields, &findings)
            .unwrap()
    }

    #[test]
    fn snippet_merges_and_separates_regions() {
        let r = rs("aaa\nbbb\n");
        let text = "xx aaa yy bbb zz ......................................... aaa";
        let f = [TextField::plain(text)];
        let findings = r.scan_fields(&[text]);
        let a = AlertBuilder::new()
            .context_chars(3)
            .build("v", b"1", Map::new(), &f, &findings)
            .unwrap();
        assert_eq!(a.snippet, "xx aaa yy bbb zz…");
        assert_eq!(a.hits.len(), 2);
        assert_eq!(a.hits[0].count, 2);
    }

    #[test]
    fn ids_are_deterministic_and_depend_on_version_and_message() {
        let f = [TextField::plain("内幕")];
        assert_eq!(alert_id("v1", b"m", &f), alert_id("v1", b"m", &f));
        assert_ne!(alert_id("v1", b"m", &f), alert_id("v2", b"m", &f));
        assert_ne!(alert_id("v1", b"m", &f), alert_id("v1", b"n", &f));
        assert_eq!(alert_id("v1", b"m", &f).len(), 32);
    }

    /// A list's values in bulk raise its hits and the alert, and the alert
    /// says which list and how many values; below the threshold the alert
    /// has no `bulk` at all, so alerts without it read as before.
    #[test]
    fn bulk_raises_the_alert_and_says_why() {
        let lists = WordListSet::from_sources(vec![
            (
                "pii.txt".into(),
                "#! severity: medium\n#! bulk: 3 critical\n@cn_mobile\n".into(),
            ),
            ("leak.txt".into(), "#! severity: high\n客户名单\n".into()),
        ]);
        let rs = Ruleset::builder().build(&lists).unwrap();
        let alert_of = |text: &str| alert_of(&rs, text);
        let two = alert_of("客户名单 13812345678 13912345678");
        assert_eq!(two.severity, Severity::High);
        assert!(two.bulk.is_empty());
        assert!(!serde_json::to_string(&two).unwrap().contains("bulk"));
        let three = alert_of("客户名单 13812345678 13912345678 13712345678");
        assert_eq!(three.severity, Severity::Critical);
        let severities: Vec<Severity> = three.hits.iter().map(|h| h.severity).collect();
        assert_eq!(severities, [Severity::High, Severity::Critical]);
        let json = serde_json::to_value(&three).unwrap();
        assert_eq!(
            json["bulk"],
            serde_json::json!([{"category": "pii", "values": 3, "at_least": 3, "severity": "critical"}])
        );
        let read: Alert = serde_json::from_value(json).unwrap();
        assert_eq!(read, three);
    }

    #[test]
    fn severity_is_highest_and_full_text_only_when_configured() {
        let lists = WordListSet::from_sources(vec![
            ("a.txt".into(), "#! severity: low\n甲乙\n".into()),
            ("b/c.txt".into(), "#! severity: critical\n丙丁\n".into()),
        ]);
        let r = Ruleset::builder().build(&lists).unwrap();
        let text = "甲乙和丙丁";
        let f = [TextField::plain(text)];
        let findings = r.scan_fields(&[text]);
        let a = AlertBuilder::new()
            .build("v", b"1", Map::new(), &f, &findings)
            .unwrap();
        assert_eq!(a.severity, Severity::Critical);
        assert!(a.text.is_none());
        let a = AlertBuilder::new()
            .full_text_for(vec!["b/".into()])
            .build("v", b"1", Map::new(), &f, &findings)
            .unwrap();
        assert_eq!(a.text.as_deref(), Some(text));
    }

    /// A detector's hit says how sure it is, a term's says nothing; the
    /// alert is `medium` only where all its hits are, and no bulk threshold
    /// was reached.
    #[test]
    fn confidence_of_hits_and_of_the_alert() {
        let lists = WordListSet::from_sources(vec![
            (
                "pii.txt".into(),
                "#! bulk: 3 critical\n@cn_mobile\n@bank_card\n".into(),
            ),
            ("leak.txt".into(), "客户名单\n".into()),
        ]);
        let rs = Ruleset::builder().build(&lists).unwrap();
        let alert_of = |text: &str| alert_of(&rs, text);
        let hits = |a: &Alert| -> Vec<(String, Option<Confidence>)> {
            (a.hits.iter())
                .map(|h| (h.term.clone(), h.confidence))
                .collect()
        };
        let alone = alert_of("明天 13812345678 到");
        assert_eq!(
            hits(&alone),
            [("@cn_mobile".into(), Some(Confidence::Medium))]
        );
        assert_eq!(alone.confidence(), Confidence::Medium);
        let json = serde_json::to_value(&alone).unwrap();
        assert_eq!(json["hits"][0]["confidence"], "medium");
        let read: Alert = serde_json::from_value(json).unwrap();
        assert_eq!(read, alone);

        let named = alert_of("手机 13812345678，卡 4111111111111111");
        assert_eq!(
            hits(&named),
            [
                ("@cn_mobile".into(), Some(Confidence::High)),
                ("@bank_card".into(), Some(Confidence::Medium)),
            ]
        );
        assert_eq!(named.confidence(), Confidence::High);

        // a rule's places: a word naming any of them names them all
        let far = "，".repeat(NAMING_WORD_CHARS);
        let second_named = alert_of(&format!("13812345678 给他{far}我的电话 13912345678"));
        assert_eq!(
            hits(&second_named),
            [("@cn_mobile".into(), Some(Confidence::High))]
        );
        assert_eq!(second_named.hits[0].count, 2);
        let neither = alert_of(&format!("13812345678 给他{far}还有 13912345678"));
        assert_eq!(
            hits(&neither),
            [("@cn_mobile".into(), Some(Confidence::Medium))]
        );

        let with_term = alert_of("客户名单 13812345678");
        assert_eq!(
            hits(&with_term),
            [
                ("客户名单".into(), None),
                ("@cn_mobile".into(), Some(Confidence::Medium)),
            ]
        );
        assert_eq!(with_term.confidence(), Confidence::High);
        let json = serde_json::to_string(&with_term).unwrap();
        assert_eq!(json.matches("\"confidence\"").count(), 1, "{json}");

        // a detector written with a space after its `@`, as lists accept
        let spaced = Ruleset::builder()
            .build(&WordListSet::from_sources(vec![(
                "pii.txt".into(),
                "@ cn_mobile\n".into(),
            )]))
            .unwrap();
        let spaced = super::tests::alert_of(&spaced, "明天 13812345678 到");
        assert_eq!(
            hits(&spaced),
            [("@ cn_mobile".into(), Some(Confidence::Medium))]
        );

        let roster = alert_of("13812345678 13912345678 13712345678");
        assert!(roster.is_bulk());
        assert!(roster
            .hits
            .iter()
            .all(|h| h.confidence == Some(Confidence::Medium)));
        assert_eq!(roster.confidence(), Confidence::High);
    }

    #[test]
    fn no_hits_no_alert() {
        let r = rs("aaa\n");
        let f = [TextField::plain("nothing")];
        let findings = r.scan_fields(&["nothing"]);
        assert!(AlertBuilder::new()
            .build("v", b"1", Map::new(), &f, &findings)
            .is_none());
    }
}
