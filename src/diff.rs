//! What changes between two list sets: entries added and removed per
//! category, directive changes, and, over a sample corpus, which messages
//! would newly alert or stop alerting — the impact preview a reviewer reads
//! before approving a change.
//!
//! ```
//! use wordwarden::diff::{diff_lists, impact};
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let old = WordListSet::from_sources(vec![("a.txt".into(), "内幕\n".into())]);
//! let new = WordListSet::from_sources(vec![(
//!     "a.txt".into(),
//!     "#! severity: high\n#! pinyin: mixed\n#! homophones: on\n#! audience: external\n#! bulk: 5 critical\n内幕\n底价\n".into(),
//! )]);
//! let d = diff_lists(&old, &new);
//! assert_eq!(d.categories["a"].added, vec!["底价"]);
//! assert_eq!(
//!     d.categories["a"].changed,
//!     vec![
//!         "severity: medium -> high",
//!         "pinyin: on -> mixed",
//!         "homophones: off -> on",
//!         "audience: any -> external",
//!         "bulk: off -> 5 critical",
//!     ]
//! );
//!
//! let (o, n) = (Ruleset::builder().build(&old).unwrap(), Ruleset::builder().build(&new).unwrap());
//! let sample = ["报价底价是多少", "内幕", "有nei幕吗"].map(String::from);
//! let i = impact(&o, &n, &sample);
//! assert_eq!(i.newly_alerting, vec![0, 2]);
//! assert!(i.stopped_alerting.is_empty());
//! // `内幕` alerts in both, now high instead of medium
//! assert_eq!(i.severity_changed, vec![1]);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::envelope::InputFormat;
use crate::judge::Judge;
use crate::lists::{Bulk, ListFile, WordListSet};
use crate::people::PeopleGroup;
use crate::ruleset::Ruleset;

/// Changes of one category.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CategoryDiff {
    /// Entries (as written) only in the new set.
    pub added: Vec<String>,
    /// Entries only in the old set.
    pub removed: Vec<String>,
    /// Directive changes (`severity: medium -> high`), or the file added/removed.
    pub changed: Vec<String>,
}

/// Changes per category.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ListDiff {
    /// Old version.
    pub old_version: String,
    /// New version.
    pub new_version: String,
    /// Categories with any change.
    pub categories: BTreeMap<String, CategoryDiff>,
    /// People groups (`*.people`) with any change: ids added and removed
    /// (as written; compared without regard to ASCII case), or the group
    /// added or removed.
    pub groups: BTreeMap<String, CategoryDiff>,
}

/// Compares two list sets entry by entry.
pub fn diff_lists(old: &WordListSet, new: &WordListSet) -> ListDiff {
    let by_cat = |s: &WordListSet| -> BTreeMap<String, ListFile> {
        s.files()
            .iter()
            .map(|f| (f.category.clone(), f.clone()))
            .collect()
    };
    let (o, n) = (by_cat(old), by_cat(new));
    let mut out = ListDiff {
        old_version: old.version().to_string(),
        new_version: new.version().to_string(),
        ..Default::default()
    };
    let cats: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    for cat in cats {
        let entries = |f: Option<&ListFile>| -> BTreeSet<String> {
            f.map(|f| f.entries.iter().map(|e| e.written.clone()).collect())
                .unwrap_or_default()
        };
        let (of, nf) = (o.get(cat), n.get(cat));
        let (oe, ne) = (entries(of), entries(nf));
        let mut d = CategoryDiff {
            added: ne.difference(&oe).cloned().collect(),
            removed: oe.difference(&ne).cloned().collect(),
            changed: Vec::new(),
        };
        match (of, nf) {
            (None, Some(_)) => d.changed.push("list added".into()),
            (Some(_), None) => d.changed.push("list removed".into()),
            (Some(a), Some(b)) => {
                if a.severity != b.severity {
                    d.changed
                        .push(format!("severity: {} -> {}", a.severity, b.severity));
                }
                if a.match_mode != b.match_mode {
                    d.changed.push(
                        format!("match: {:?} -> {:?}", a.match_mode, b.match_mode).to_lowercase(),
                    );
                }
                if a.pinyin != b.pinyin {
                    d.changed
                        .push(format!("pinyin: {:?} -> {:?}", a.pinyin, b.pinyin).to_lowercase());
                }
                if a.homophones != b.homophones {
                    let on_off = |on: bool| if on { "on" } else { "off" };
                    d.changed.push(format!(
                        "homophones: {} -> {}",
                        on_off(a.homophones),
                        on_off(b.homophones)
                    ));
                }
                if a.audience != b.audience {
                    d.changed.push(format!(
                        "audience: {} -> {}",
                        a.audience.name(),
                        b.audience.name()
                    ));
                }
                if a.bulk != b.bulk {
                    let bulk = |b: Option<Bulk>| b.map_or("off".to_string(), |b| b.to_string());
                    d.changed
                        .push(format!("bulk: {} -> {}", bulk(a.bulk), bulk(b.bulk)));
                }
                if a.people != b.people {
                    d.changed
                        .push(format!("people: {} -> {}", a.people, b.people));
                }
                if a.window != b.window {
                    d.changed
                        .push(format!("written: {} -> {}", a.window, b.window));
                }
                if a.description != b.description {
                    d.changed.push("description changed".into());
                }
            }
            (None, None) => {}
        }
        if !(d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty()) {
            out.categories.insert(cat.clone(), d);
        }
    }
    out.groups = diff_groups(old.groups(), new.groups());
    out
}

/// The people groups' changes, by group name.
fn diff_groups(old: &[PeopleGroup], new: &[PeopleGroup]) -> BTreeMap<String, CategoryDiff> {
    let by_name = |gs: &[PeopleGroup]| -> BTreeMap<String, BTreeMap<String, String>> {
        gs.iter()
            .map(|g| {
                let ids = g.ids.iter().map(|id| (id.to_ascii_lowercase(), id.clone()));
                (g.name.clone(), ids.collect())
            })
            .collect()
    };
    let (o, n) = (by_name(old), by_name(new));
    let mut out = BTreeMap::new();
    for name in o.keys().chain(n.keys()).collect::<BTreeSet<_>>() {
        let (og, ng) = (o.get(name), n.get(name));
        let only = |a: Option<&BTreeMap<String, String>>, b: Option<&BTreeMap<String, String>>| {
            a.into_iter()
                .flatten()
                .filter(|(key, _)| !b.is_some_and(|b| b.contains_key(*key)))
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>()
        };
        let d = CategoryDiff {
            added: only(ng, og),
            removed: only(og, ng),
            changed: match (og, ng) {
                (None, Some(_)) => vec!["group added".into()],
                (Some(_), None) => vec!["group removed".into()],
                _ => Vec::new(),
            },
        };
        if !(d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty()) {
            out.insert(name.clone(), d);
        }
    }
    out
}

/// What a change does to a corpus.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Impact {
    /// Messages scanned.
    pub messages: usize,
    /// Indexes of messages that alert only with the new set.
    pub newly_alerting: Vec<usize>,
    /// Indexes of messages that alert only with the old set.
    pub stopped_alerting: Vec<usize>,
    /// Indexes of messages that alert with both sets at a different
    /// severity (a `#! severity:` or `#! bulk:` change).
    pub severity_changed: Vec<usize>,
    /// Per category: (messages newly hitting it, messages no longer hitting it).
    pub per_category: BTreeMap<String, (usize, usize)>,
    /// Messages alerting before and after.
    pub alerting_before: usize,
    /// Messages alerting after.
    pub alerting_after: usize,
}

/// Scans `messages` (text, one a message) with both rulesets and reports
/// the differences: [`impact_of`] for text.
pub fn impact(old: &Ruleset, new: &Ruleset, messages: &[String]) -> Impact {
    impact_of(old, new, &Judge::new(InputFormat::Text), messages)
}

/// Judges `records` (messages of `judge`'s input format, in order) with
/// both rulesets as the engine does, and reports the differences. Where
/// the format names senders, each side remembers them from record to
/// record ([`Judge::judge_next`]): a term split across messages, a list
/// counting a sender's values over time (`#! bulk: … within`). A record
/// that cannot be decoded alerts on neither side.
///
/// ```
/// use wordwarden::diff::impact_of;
/// use wordwarden::envelope::InputFormat;
/// use wordwarden::judge::Judge;
/// use wordwarden::lists::WordListSet;
/// use wordwarden::ruleset::Ruleset;
///
/// let pii = |bulk: &str| {
///     let list = format!("#! severity: high\n{bulk}@cn_mobile\n");
///     Ruleset::builder().build(&WordListSet::from_sources(vec![("pii.txt".into(), list.into())])).unwrap()
/// };
/// let (old, new) = (pii("#! bulk: 3 critical\n"), pii("#! bulk: 3 critical within 1h\n"));
/// let roster: Vec<String> = (0..3)
///     .map(|i| serde_json::json!({"msgid": format!("m{i}"), "from": "li", "tolist": ["wmOutsider"],
///         "msgtime": 1_764_000_000_000i64 + i * 60_000, "msgtype": "text",
///         "text": {"content": format!("电话 1381234000{i}")}}).to_string())
///     .collect();
/// let i = impact_of(&old, &new, &Judge::new(InputFormat::wecom()), &roster);
/// // the third number in three minutes, critical only with `within`
/// assert_eq!(i.severity_changed, [2]);
/// ```
pub fn impact_of<R: AsRef<[u8]>>(
    old: &Ruleset,
    new: &Ruleset,
    judge: &Judge,
    records: &[R],
) -> Impact {
    let mut out = Impact {
        messages: records.len(),
        ..Default::default()
    };
    let (mut so, mut sn) = (old.scanner(), new.scanner());
    let remembers = judge.format().names_people();
    let (mut mo, mut mn) = (
        remembers.then(|| judge.memory()),
        remembers.then(|| judge.memory()),
    );
    // the categories hit and the alert's severity
    let judged =
        |j: crate::judge::Judgement| -> (BTreeSet<String>, Option<crate::lists::Severity>) {
            match j.alert {
                Some(a) => (
                    a.hits.into_iter().map(|h| h.category).collect(),
                    Some(a.severity),
                ),
                None => (BTreeSet::new(), None),
            }
        };
    for (i, r) in records.iter().enumerate() {
        let line = format_args!("line:{}", i + 1);
        let (before, highest_before) = judged(judge.judge_in(
            old,
            &mut so,
            mo.as_mut(),
            r.as_ref(),
            Default::default(),
            line,
            None,
        ));
        let (after, highest_after) = judged(judge.judge_in(
            new,
            &mut sn,
            mn.as_mut(),
            r.as_ref(),
            Default::default(),
            line,
            None,
        ));
        if let (Some(b), Some(a)) = (highest_before, highest_after) {
            if a != b {
                out.severity_changed.push(i);
            }
        }
        if !before.is_empty() {
            out.alerting_before += 1;
        }
        if !after.is_empty() {
            out.alerting_after += 1;
        }
        match (before.is_empty(), after.is_empty()) {
            (true, false) => out.newly_alerting.push(i),
            (false, true) => out.stopped_alerting.push(i),
            _ => {}
        }
        for c in after.difference(&before) {
            out.per_category.entry(c.clone()).or_default().0 += 1;
        }
        for c in before.difference(&after) {
            out.per_category.entry(c.clone()).or_default().1 += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list moved behind an information barrier shows its scope's change,
    /// and its groups their members' (case aside); over a corpus named by
    /// no one, nothing changes.
    #[test]
    fn people_scopes_and_groups_show_their_changes() {
        let set = |ibd: &str, scope: &str| {
            WordListSet::from_sources(vec![
                ("ibd.people".into(), ibd.into()),
                ("research.people".into(), "li.na\n".into()),
                ("barrier.txt".into(), format!("{scope}停牌\n").into()),
            ])
        };
        let old = set("zhang.wei\nqian\n", "");
        let new = set("Zhang.Wei\nzhao\n", "#! people: between ibd research\n");
        let d = diff_lists(&old, &new);
        assert_eq!(
            d.categories["barrier"].changed,
            ["people: any -> between ibd research"]
        );
        assert_eq!(d.groups["ibd"].added, ["zhao"]);
        assert_eq!(d.groups["ibd"].removed, ["qian"]);
        assert!(!d.groups.contains_key("research"));
        let gone = WordListSet::from_sources(vec![("barrier.txt".into(), "停牌\n".into())]);
        assert_eq!(
            diff_lists(&old, &gone).groups["ibd"].changed,
            ["group removed"]
        );
    }

    /// A new `#! bulk:` threshold shows as a directive change and, over a
    /// corpus, as the messages it raises: they alert before and after, at
    /// another severity.
    #[test]
    fn a_bulk_threshold_shows_the_messages_it_raises() {
        let lists = |directive: &str| {
            WordListSet::from_sources(vec![(
                "pii.txt".into(),
                format!("#! severity: high\n{directive}@cn_mobile\n").into_bytes(),
            )])
        };
        let (old, new) = (lists(""), lists("#! bulk: 2 critical\n"));
        let d = diff_lists(&old, &new);
        assert_eq!(d.categories["pii"].changed, ["bulk: off -> 2 critical"]);
        let timed = lists("#! bulk: 2 critical within 1h\n");
        let d = diff_lists(&new, &timed);
        assert_eq!(
            d.categories["pii"].changed,
            ["bulk: 2 critical -> 2 critical within 1h"]
        );
        let (o, n) = (
            Ruleset::builder().build(&old).unwrap(),
            Ruleset::builder().build(&new).unwrap(),
        );
        let sample = [
            "电话 13812345678",
            "名单 13812345678 13912345678",
            "13812345678 再发一遍 13812345678",
            "没有号码",
        ]
        .map(String::from);
        let i = impact(&o, &n, &sample);
        assert_eq!(i.severity_changed, [1]);
        assert_eq!((i.alerting_before, i.alerting_after), (3, 3));
        assert!(i.newly_alerting.is_empty() && i.stopped_alerting.is_empty());
    }
}
