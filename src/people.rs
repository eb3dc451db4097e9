//! People groups: lists that watch what some people send, or what passes
//! between two groups of people.
//!
//! A securities firm keeps an information barrier (信息隔离墙) between the
//! desks that learn of deals before they are public (investment banking)
//! and the desks that could trade on them (research, sales, proprietary
//! trading): `下周停牌` among bankers is work; sent across the wall it is an
//! insider tip. And some people are watched more closely than others for a
//! while: staff who have resigned and are serving their notice, a desk under
//! review.
//!
//! A list directory may hold **people groups**: `*.people` files, one
//! sender or recipient id per line (a WeCom `userid`, or an address for
//! `json` input told where its people are), named like lists by their path
//! without the extension (`people/research.people` is `people/research`).
//! A list says whose messages it watches with `#! people:` ([`PeopleScope`]):
//!
//! ```text
//! #! people: sender people/leavers            messages a member sent
//! #! people: participant people/under-review  messages a member sent or received
//! #! people: between people/ibd people/research
//!                                             messages one group's member sent to the other's
//! #! people: not sender people/compliance     every message but those a member sent
//! ```
//!
//! `not` leaves out people whose work it is to write a list's words: the
//! compliance team discussing `内幕交易`, a bot posting the trading rules.
//! Several `#! people:` lines in one file must all hold
//! (`sender people/traders` and `not participant people/compliance`).
//!
//! Ids compare without regard to ASCII case (WeCom's `userid`s and email
//! addresses are case-insensitive). A group may list WeCom group chats by
//! their `roomid` too: a message sent into one counts as received by the
//! group. A message that names no one (plain
//! text, `json` input not told where its people are) is watched by every
//! list, as for `#! audience:`: where wordwarden cannot tell, a missed leak
//! costs more than an alert too many.
//!
//! ```
//! use wordwarden::audience::Audience;
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![
//!     ("people/ibd.people".into(), "zhang.wei\n".into()),
//!     ("people/research.people".into(), "li.na\n".into()),
//!     ("barrier.txt".into(), "#! people: between people/ibd people/research\n停牌\n".into()),
//! ]);
//! let rs = Ruleset::builder().build(&lists).unwrap();
//! let mut scanner = rs.scanner();
//! let across = rs.conversation(Audience::Internal, Some("zhang.wei"), ["Li.Na"]);
//! let within = rs.conversation(Audience::Internal, Some("zhang.wei"), ["wang.fang"]);
//! assert_eq!(scanner.scan_for(&["下周停牌"], across).hits.len(), 1);
//! assert!(scanner.scan_for(&["下周停牌"], within).hits.is_empty());
//! // a message naming no one: every list watches it
//! assert_eq!(scanner.scan(&["下周停牌"]).hits.len(), 1);
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::audience::Audience;
use crate::lists::{Diagnostic, Level};

/// The most people groups a list set may hold: a message's memberships are
/// a bit a group.
pub const MAX_GROUPS: usize = 64;

/// A people group: the ids of one `*.people` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleGroup {
    /// The group's name: its path below the list directory without
    /// `.people`.
    pub name: String,
    /// The file, relative to the list directory.
    pub path: String,
    /// The ids, as written, in file order, each once.
    pub ids: Vec<String>,
}

/// A group named by a `#! people:` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    /// Its place among the set's groups (its bit in a [`Conversation`]).
    index: u8,
    name: Arc<str>,
}

impl GroupRef {
    /// The group's name (`people/research`).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn bit(&self) -> u64 {
        // (a set of more than `MAX_GROUPS` groups does not compile; its
        // lists are parsed all the same, and must not panic)
        1u64.checked_shl(u32::from(self.index)).unwrap_or(0)
    }
}

/// Whose messages a list watches (`#! people:`); the default is everyone's.
///
/// ```
/// use wordwarden::lists::WordListSet;
///
/// let set = WordListSet::from_sources(vec![
///     ("leavers.people".into(), "zhang.wei\n".into()),
///     ("exit.txt".into(), "#! people: sender leavers\n客户名单\n".into()),
/// ]);
/// let scope = &set.files()[0].people;
/// assert_eq!(scope.to_string(), "sender leavers");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PeopleScope {
    /// Every message (the default).
    #[default]
    Any,
    /// Messages a member of the group sent.
    Sender(GroupRef),
    /// Messages a member of the group sent or received.
    Participant(GroupRef),
    /// Messages a member of one group sent to a member of the other, either
    /// way (an information barrier).
    Between(GroupRef, GroupRef),
    /// Every message but the ones the inner scope watches (`not sender
    /// people/compliance`).
    Not(Box<PeopleScope>),
    /// Messages every one of these scopes watches (several `#! people:`
    /// lines in one file).
    All(Vec<PeopleScope>),
}

impl PeopleScope {
    /// Whether a list with this scope watches a message of `conversation`.
    /// A message that names no one is watched.
    pub fn admits(&self, conversation: &Conversation) -> bool {
        conversation.audience.is_unknown() || self.holds(conversation)
    }

    /// Whether the scope holds of a conversation whose people are known.
    fn holds(&self, c: &Conversation) -> bool {
        match self {
            PeopleScope::Any => true,
            PeopleScope::Sender(g) => c.sender & g.bit() != 0,
            PeopleScope::Participant(g) => (c.sender | c.recipients) & g.bit() != 0,
            PeopleScope::Between(a, b) => {
                let (a, b) = (a.bit(), b.bit());
                (c.sender & a != 0 && c.recipients & b != 0)
                    || (c.sender & b != 0 && c.recipients & a != 0)
            }
            PeopleScope::Not(inner) => !inner.holds(c),
            PeopleScope::All(scopes) => scopes.iter().all(|s| s.holds(c)),
        }
    }

    /// Whether this is the default, everyone's messages.
    pub fn is_any(&self) -> bool {
        *self == PeopleScope::Any
    }

    /// The names of the groups the scope names.
    pub fn group_names(&self) -> Vec<&str> {
        match self {
            PeopleScope::Any => Vec::new(),
            PeopleScope::Sender(g) | PeopleScope::Participant(g) => vec![g.name()],
            PeopleScope::Between(a, b) => vec![a.name(), b.name()],
            PeopleScope::Not(inner) => inner.group_names(),
            PeopleScope::All(scopes) => scopes.iter().flat_map(|s| s.group_names()).collect(),
        }
    }

    /// This scope and `more` both (a file's next `#! people:` line).
    pub(crate) fn and(self, more: PeopleScope) -> PeopleScope {
        match (self, more) {
            (PeopleScope::Any, s) | (s, PeopleScope::Any) => s,
            (PeopleScope::All(mut scopes), s) => {
                scopes.push(s);
                PeopleScope::All(scopes)
            }
            (first, s) => PeopleScope::All(vec![first, s]),
        }
    }

    /// Reads a directive's value (`sender people/leavers`, `between A B`)
    /// against the set's groups.
    pub(crate) fn parse(value: &str, groups: &[PeopleGroup]) -> Result<PeopleScope, String> {
        let group = |name: &str| -> Result<GroupRef, String> {
            match groups.iter().position(|g| g.name == name) {
                Some(index) => Ok(GroupRef {
                    // (past `MAX_GROUPS` the set is refused: see `bit`)
                    index: u8::try_from(index).unwrap_or(u8::MAX),
                    name: name.into(),
                }),
                None if groups.is_empty() => Err(format!(
                    "no people group {name:?}: the list directory has no *.people files"
                )),
                None => Err(format!(
                    "no people group {name:?} (the groups: {})",
                    groups
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        };
        let words: Vec<&str> = value.split_whitespace().collect();
        let (not, words) = match words[..] {
            ["not", ref rest @ ..] => (true, rest),
            ref all => (false, all),
        };
        let scope = match *words {
            ["any"] if !not => PeopleScope::Any,
            ["sender", g] => PeopleScope::Sender(group(g)?),
            ["participant", g] => PeopleScope::Participant(group(g)?),
            ["between", a, b] => PeopleScope::Between(group(a)?, group(b)?),
            _ => {
                return Err(format!(
                    "people takes `sender GROUP`, `participant GROUP` or `between GROUP GROUP`, \
                     each maybe after `not`, or `any`; not {value:?}"
                ))
            }
        };
        Ok(match not {
            true => PeopleScope::Not(Box::new(scope)),
            false => scope,
        })
    }
}

impl fmt::Display for PeopleScope {
    /// As the directive writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeopleScope::Any => f.write_str("any"),
            PeopleScope::Sender(g) => write!(f, "sender {}", g.name),
            PeopleScope::Participant(g) => write!(f, "participant {}", g.name),
            PeopleScope::Between(a, b) => write!(f, "between {} {}", a.name, b.name),
            PeopleScope::Not(inner) => write!(f, "not {inner}"),
            PeopleScope::All(scopes) => {
                let each: Vec<String> = scopes.iter().map(ToString::to_string).collect();
                f.write_str(&each.join("; "))
            }
        }
    }
}

impl serde::Serialize for PeopleScope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Who a message went between, as lists' scopes read it: its
/// [`Audience`], and which people groups its sender and its recipients
/// belong to. Made by [`Ruleset::conversation`](crate::ruleset::Ruleset::conversation);
/// an [`Audience`] alone is a conversation whose people are in no group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conversation {
    /// Internal, external, or unknown (the message names no one).
    pub audience: Audience,
    /// When the message was written, in milliseconds since the epoch, if
    /// known: for lists with `#! from:` or `#! until:`
    /// ([`crate::lists::Window`]).
    pub written_ms: Option<i64>,
    /// The groups of the sender, a bit a group.
    sender: u64,
    /// The groups of the recipients together.
    recipients: u64,
}

impl Conversation {
    /// The same conversation, its message written at `written_ms`
    /// (milliseconds since the epoch) when that is known.
    pub fn written_at(self, written_ms: Option<i64>) -> Conversation {
        Conversation { written_ms, ..self }
    }
}

impl From<Audience> for Conversation {
    fn from(audience: Audience) -> Self {
        Conversation {
            audience,
            ..Default::default()
        }
    }
}

/// The members of a set's people groups, for looking a message's ids up.
#[derive(Debug, Default)]
pub(crate) struct PeopleIndex {
    /// The groups' names, by bit.
    names: Vec<Arc<str>>,
    /// Each id (lowercased) and its groups, a bit a group.
    members: FxHashMap<Box<str>, u64>,
}

impl PeopleIndex {
    pub(crate) fn new(groups: &[PeopleGroup]) -> Self {
        let mut members = FxHashMap::<Box<str>, u64>::default();
        for (i, g) in groups.iter().enumerate().take(MAX_GROUPS) {
            for id in &g.ids {
                *members.entry(id.to_ascii_lowercase().into()).or_default() |= 1 << i;
            }
        }
        let names = groups
            .iter()
            .take(MAX_GROUPS)
            .map(|g| g.name.as_str().into())
            .collect();
        PeopleIndex { names, members }
    }

    /// The names of the groups the sender and the recipients of `c` are in.
    pub(crate) fn groups_of(&self, c: &Conversation) -> (Vec<&str>, Vec<&str>) {
        let names = |bits: u64| -> Vec<&str> {
            (self.names.iter().enumerate())
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, n)| n.as_ref())
                .collect()
        };
        (names(c.sender), names(c.recipients))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Every (group name, id) pair, ids lowercased, in no order.
    #[cfg(feature = "engine")]
    pub(crate) fn members(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.members.iter().flat_map(move |(id, bits)| {
            (self.names.iter().enumerate())
                .filter(move |(i, _)| bits & (1 << i) != 0)
                .map(move |(_, name)| (name.as_ref(), id.as_ref()))
        })
    }

    fn bits_of(&self, id: &str) -> u64 {
        let key = if id.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(id.to_ascii_lowercase())
        } else {
            Cow::Borrowed(id)
        };
        self.members.get(key.as_ref()).copied().unwrap_or(0)
    }

    pub(crate) fn conversation<'a>(
        &self,
        audience: Audience,
        sender: Option<&str>,
        recipients: impl IntoIterator<Item = &'a str>,
    ) -> Conversation {
        if self.members.is_empty() {
            return audience.into();
        }
        Conversation {
            audience,
            written_ms: None,
            sender: sender.map_or(0, |id| self.bits_of(id)),
            recipients: recipients
                .into_iter()
                .fold(0, |bits, id| bits | self.bits_of(id)),
        }
    }
}

/// Parses a `*.people` file: one id a line; blank lines and `#` comments
/// skipped.
pub(crate) fn parse_group(path: &str, text: &str, diags: &mut Vec<Diagnostic>) -> PeopleGroup {
    let name = path.strip_suffix(".people").unwrap_or(path).to_string();
    let mut ids: Vec<String> = Vec::new();
    let mut seen = rustc_hash::FxHashSet::default();
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    for (idx, raw) in text.lines().enumerate() {
        let id = raw.trim();
        if id.is_empty() || id.starts_with('#') {
            continue;
        }
        let mut diag = |level, code, message: String| {
            diags.push(Diagnostic {
                file: path.to_string(),
                line: idx + 1,
                level,
                code,
                message,
            })
        };
        if id.contains(char::is_whitespace) {
            diag(
                Level::Error,
                "bad-id",
                format!("an id has no spaces: {id:?} (one id a line)"),
            );
        } else if !seen.insert(id.to_ascii_lowercase()) {
            diag(
                Level::Warning,
                "duplicate-id",
                format!("{id} is in this group already"),
            );
        } else {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        diags.push(Diagnostic {
            file: path.to_string(),
            line: 0,
            level: Level::Warning,
            code: "empty-group",
            message:
                "the group has no ids: lists scoped to it watch only messages that name no one"
                    .into(),
        });
    }
    PeopleGroup {
        name,
        path: path.to_string(),
        ids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(defs: &[(&str, &[&str])]) -> Vec<PeopleGroup> {
        defs.iter()
            .map(|(name, ids)| PeopleGroup {
                name: name.to_string(),
                path: format!("{name}.people"),
                ids: ids.iter().map(|s| s.to_string()).collect(),
            })
            .collect()
    }

    /// Each scope against senders and recipients in and out of its groups,
    /// ids in any ASCII case; a message naming no one is always watched.
    #[test]
    fn scopes_admit_by_sender_and_recipients() {
        let gs = groups(&[("ibd", &["Zhang.Wei", "qian"]), ("research", &["li.na"])]);
        let index = PeopleIndex::new(&gs);
        let scope = |v: &str| PeopleScope::parse(v, &gs).expect(v);
        let talk = |from: &str, to: &[&str]| {
            index.conversation(Audience::Internal, Some(from), to.iter().copied())
        };
        let between = scope("between ibd research");
        assert!(between.admits(&talk("zhang.wei", &["LI.NA"])));
        assert!(between.admits(&talk("li.na", &["wang", "QIAN"])));
        assert!(!between.admits(&talk("zhang.wei", &["qian", "wang"])));
        assert!(!between.admits(&talk("wang", &["li.na", "zhang.wei"])));
        let sender = scope("sender research");
        assert!(sender.admits(&talk("li.na", &["wang"])));
        assert!(!sender.admits(&talk("wang", &["li.na"])));
        let participant = scope("participant research");
        assert!(participant.admits(&talk("wang", &["li.na"])));
        assert!(!participant.admits(&talk("wang", &["zhang.wei"])));
        let unknown = index.conversation(Audience::Unknown, None, []);
        for s in [&between, &sender, &participant, &PeopleScope::Any] {
            assert!(s.admits(&unknown), "{s}");
            assert!(!s.is_any() || s.admits(&talk("wang", &[])));
        }
        // an audience alone places no one in a group
        assert!(!sender.admits(&Audience::Internal.into()));
        assert_eq!(between.to_string(), "between ibd research");
        // `not`, and several lines that must all hold
        let not_research = scope("not sender research");
        assert!(!not_research.admits(&talk("li.na", &["wang"])));
        assert!(not_research.admits(&talk("wang", &["li.na"])));
        assert!(not_research.admits(&unknown));
        let both = scope("participant ibd").and(scope("not sender research"));
        assert!(both.admits(&talk("qian", &["li.na"])));
        assert!(!both.admits(&talk("li.na", &["qian"])));
        assert!(!both.admits(&talk("wang", &["li.na"])));
        assert_eq!(both.to_string(), "participant ibd; not sender research");
        assert_eq!(both.group_names(), ["ibd", "research"]);
        assert_eq!(
            PeopleScope::Any.and(scope("sender ibd")),
            scope("sender ibd")
        );
    }

    #[test]
    fn bad_scopes_name_what_is_wrong() {
        let gs = groups(&[("ibd", &["a"])]);
        for (value, wanted) in [
            (
                "sender research",
                "no people group \"research\" (the groups: ibd)",
            ),
            ("between ibd", "people takes"),
            ("everyone", "people takes"),
            ("not any", "people takes"),
            ("not", "people takes"),
        ] {
            let e = PeopleScope::parse(value, &gs).expect_err(value);
            assert!(e.contains(wanted), "{value}: {e}");
        }
        let e = PeopleScope::parse("sender ibd", &[]).expect_err("no groups");
        assert!(e.contains("no *.people files"), "{e}");
    }

    #[test]
    fn group_files_skip_comments_and_flag_duplicates_and_spaces() {
        let mut diags = Vec::new();
        let g = parse_group(
            "people/ibd.people",
            "\u{FEFF}# bankers\nzhang.wei\n\n  qian  \nZHANG.WEI\nli na\n",
            &mut diags,
        );
        assert_eq!(g.name, "people/ibd");
        assert_eq!(g.ids, ["zhang.wei", "qian"]);
        let codes: Vec<_> = diags.iter().map(|d| (d.line, d.code)).collect();
        assert_eq!(codes, [(5, "duplicate-id"), (6, "bad-id")]);
        let mut diags = Vec::new();
        parse_group("empty.people", "# nobody yet\n", &mut diags);
        assert_eq!(diags[0].code, "empty-group");
    }
}
