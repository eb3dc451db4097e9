//! Word-list files: parsing, directives, diagnostics and versions.
//!
//! A word-list directory holds `*.txt` files, searched recursively, and
//! beside them any people groups (`*.people`, [`crate::people`]). A file's
//! *category* is its path relative to the directory without `.txt`
//! (`finance/insider.txt` -> `finance/insider`). One entry per line:
//!
//! ```text
//! # a comment
//! #! severity: high           directive (before the first entry): info|low|medium|high|critical
//! #! description: free text
//! #! match: exact             no folding for this file (default: fold)
//! #! pinyin: off              no pinyin variants for this file (default: on; `mixed`: also half pinyin)
//! #! homophones: on           Chinese terms also match characters that sound the same (default: off)
//! #! audience: external       only messages with someone outside the company (default: any)
//! #! bulk: 10 critical        a message with 10 distinct values of this list raises its hits to critical
//! #! people: sender leavers    only messages a member of the people group `leavers` sent (see crate::people)
//! #! from: 2026-11-01          only messages written from then on (see Window)
//! #! until: 2026-12-01         ... and before then
//! 内幕消息                     a term
//! 转账 & 私人账户 ~ 公司账户     combination: every `&` part, none of the `~` parts
//! near:10 转账 & 私人账户        ... with the `&` parts within 10 characters
//! re:(?i)project\s+falcon     a regular expression
//! !特色情                      an allow phrase
//! @cn_id_card                 a built-in detector
//! \!literal                   a backslash escapes a leading ! # @ re: or near:
//! ```
//!
//! Parsing never fails on content: problems become [`Diagnostic`]s with
//! `file:line`, and [`WordListSet::errors`] tells whether the set may be compiled.
//!
//! ```
//! use wordwarden::lists::{WordListSet, EntryKind, Severity};
//!
//! let set = WordListSet::from_sources(vec![(
//!     "finance/insider.txt".into(),
//!     "#! severity: high\n内幕消息\n!内幕消息公告\n".as_bytes().to_vec(),
//! )]);
//! assert!(set.errors().next().is_none());
//! let file = &set.files()[0];
//! assert_eq!(file.category, "finance/insider");
//! assert_eq!(file.severity, Severity::High);
//! assert_eq!(file.entries[0].kind, EntryKind::Term);
//! assert_eq!(file.entries[0].text(), "内幕消息");
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audience::AudienceScope;
use crate::detect::Detector;
use crate::people::{PeopleGroup, PeopleScope, MAX_GROUPS};

/// When the messages a list watches were written (`#! from:`, `#! until:`):
/// a deal's code names are an insider's words until the deal is announced,
/// and a watch list of them has dates. A message whose time is unknown
/// (plain text) is watched.
///
/// ```
/// use wordwarden::lists::WordListSet;
///
/// let set = WordListSet::from_sources(vec![(
///     "deals.txt".into(),
///     "#! from: 2026-11-01\n#! until: 2026-12-01T00:00:00+08:00\n青松计划\n".into(),
/// )]);
/// let window = set.files()[0].window;
/// assert_eq!(window.to_string(), "from 2026-11-01T00:00:00Z until 2026-11-30T16:00:00Z");
/// assert!(window.admits(Some(1_794_700_800_000))); // 2026-11-15T00:00:00Z
/// assert!(!window.admits(Some(1_796_083_200_000))); // 2026-12-01T00:00:00Z, past its end
/// assert!(!window.admits(Some(1_793_404_800_000))); // 2026-10-31, before it
/// assert!(window.admits(None)); // written when, unknown
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Messages written at or after this time.
    pub from: Option<jiff::Timestamp>,
    /// Messages written before this time.
    pub until: Option<jiff::Timestamp>,
}

impl Window {
    /// Whether the list watches messages whenever they were written (no
    /// `#! from:` or `#! until:`).
    pub fn is_always(&self) -> bool {
        self.from.is_none() && self.until.is_none()
    }

    /// Whether a message written at `written_ms` (milliseconds since the
    /// epoch; `None`: unknown) falls in the window.
    pub fn admits(&self, written_ms: Option<i64>) -> bool {
        let Some(ms) = written_ms else {
            return true;
        };
        self.from.is_none_or(|from| ms >= from.as_millisecond())
            && self.until.is_none_or(|until| ms < until.as_millisecond())
    }
}

impl fmt::Display for Window {
    /// `from 2026-11-01T00:00:00Z until 2026-12-01T00:00:00Z`, either half
    /// alone, or `always`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.from, self.until) {
            (None, None) => f.write_str("always"),
            (Some(from), None) => write!(f, "from {from}"),
            (None, Some(until)) => write!(f, "until {until}"),
            (Some(from), Some(until)) => write!(f, "from {from} until {until}"),
        }
    }
}

impl Serialize for Window {
    /// `{"from": "2026-11-01T00:00:00Z", "until": …}`, each when set.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        if let Some(from) = self.from {
            map.serialize_entry("from", &from.to_string())?;
        }
        if let Some(until) = self.until {
            map.serialize_entry("until", &until.to_string())?;
        }
        map.end()
    }
}

/// A time as `#! from:` and `#! until:` take it: RFC 3339
/// (`2026-12-01T08:00:00Z`, `2026-12-01T16:00:00+08:00`), or a date or
/// time without an offset, in UTC (`2026-12-01`: its midnight UTC).
pub fn parse_time(value: &str) -> Result<jiff::Timestamp, String> {
    let utc = jiff::tz::TimeZone::UTC;
    value
        .parse::<jiff::Timestamp>()
        .or_else(|_| {
            (value.parse::<jiff::civil::DateTime>())
                .and_then(|t| t.to_zoned(utc.clone()))
                .map(|t| t.timestamp())
        })
        .or_else(|_| {
            (value.parse::<jiff::civil::Date>())
                .and_then(|d| d.to_zoned(utc))
                .map(|t| t.timestamp())
        })
        .map_err(|_| {
            format!(
                "{value:?} is no time (2026-12-01, 2026-12-01T08:00:00Z, \
                 2026-12-01T00:00:00+08:00)"
            )
        })
}

/// A list's volume threshold (`#! bulk: 10 critical`): one phone number in
/// a chat is a contact shared, fifty are a customer list leaving. A message
/// holding `at_least` distinct values of the list between its rules (the
/// numbers and addresses its detectors found, the strings its regexes
/// matched, the terms and combinations that fired) raises each of the
/// list's hits in it to `severity`, and its alert says so.
///
/// With `within` (`#! bulk: 10 critical within 1h`) the values a sender
/// sent in the same conversation over that time count too: a roster sent
/// one number a message reaches the threshold on the message that brings
/// the tenth ([`Judge::judge_next`](crate::judge::Judge::judge_next), where
/// the input names its senders). With `across conversations` after the
/// time (`#! bulk: 10 critical within 1d across conversations`) the values
/// the sender sent in every conversation count: a roster sent a number each
/// to ten outsiders (the input then keyed by sender, so that one consumer
/// sees all of a sender's messages).
///
/// ```
/// use wordwarden::lists::{Bulk, Severity, WordListSet};
///
/// let set = WordListSet::from_sources(vec![(
///     "personal/pii.txt".into(),
///     "#! severity: high\n#! bulk: 10 critical within 1h\n@cn_mobile\n".into(),
/// )]);
/// assert!(set.errors().next().is_none());
/// assert_eq!(
///     set.files()[0].bulk,
///     Some(Bulk {
///         at_least: 10,
///         severity: Severity::Critical,
///         within_secs: Some(3600),
///         across_conversations: false,
///     })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bulk {
    /// Distinct values in one message that make it bulk (2 or more).
    pub at_least: u32,
    /// The severity its hits are raised to.
    pub severity: Severity,
    /// Also count the values the same sender sent in the same conversation
    /// this many seconds before (at most [`BULK_MAX_WITHIN_SECS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_secs: Option<u32>,
    /// With `within_secs`: the values the sender sent in any conversation
    /// count, not only this one's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub across_conversations: bool,
}

impl fmt::Display for Bulk {
    /// As written after `#! bulk:`, the time in its largest whole unit
    /// (`10 critical within 1h`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.at_least, self.severity)?;
        if let Some(secs) = self.within_secs {
            let (n, unit) = [(86_400, 'd'), (3600, 'h'), (60, 'm')]
                .into_iter()
                .find(|(unit, _)| secs % unit == 0)
                .map_or((secs, 's'), |(size, unit)| (secs / size, unit));
            write!(f, " within {n}{unit}")?;
            if self.across_conversations {
                write!(f, " across conversations")?;
            }
        }
        Ok(())
    }
}

/// The longest time a `#! bulk: ... within` threshold may look back: a
/// week. What it remembers is held in memory, one stream's, and lost on a
/// restart.
pub const BULK_MAX_WITHIN_SECS: u32 = 7 * 24 * 3600;

/// The most distinct values a `#! bulk:` threshold may ask for: more than a
/// message of the largest size holds of any kind of personal data.
pub const BULK_MAX_VALUES: u32 = 100_000;

/// How serious a hit of a list is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium (the default).
    #[default]
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used in lists, alerts and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown severity {s:?} (info, low, medium, high, critical)"))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a file's entries are folded before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// Full folding (the default).
    #[default]
    Fold,
    /// Exact bytes, no folding (`#! match: exact`).
    Exact,
}

/// Which pinyin spellings a file's Chinese terms of 2-4 characters also
/// match (`#! pinyin:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pinyin {
    /// None (`#! pinyin: off`).
    Off,
    /// The whole term in pinyin (`neimu` for 内幕; the default).
    #[default]
    On,
    /// Also the term written part in characters, part in pinyin (`内mu`,
    /// `nei幕`, `内幕xiaoxi` for 内幕消息): 14 more spellings for a term of
    /// four characters, more where a character has another reading, so
    /// meant for short lists of terms people evade this way.
    Mixed,
    /// Also the term's pinyin initials (`nmxx` for 内幕消息, `tmd` for
    /// 他妈的), for terms of 3-4 characters: chat abbreviates this way. Two
    /// letters are too many other things (`sb` may be a word of its own
    /// list), and three or four stand as a word of their own only
    /// (`nmxx`, not `nmxxyz`), so meant for short lists of such words.
    Initials,
}

/// What one entry of a list file is. A term's, regex's or allow phrase's
/// text is [`Entry::text`], a part of the written line, so a parsed entry
/// holds one string (a 1M-term list parses into about 85 MiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A term.
    Term,
    /// Every `all` part and none of the `none` parts occur in the same message.
    Combination(Box<Combination>),
    /// A regular expression (Rust `regex` syntax).
    Regex,
    /// An allow phrase.
    Allow,
    /// A built-in validated detector.
    Detector(Detector),
}

/// The parts of a combination rule (`A & B ~ C`, `near:20 A & B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combination {
    /// Parts that must all occur.
    pub all: Vec<String>,
    /// Parts none of which may occur.
    pub none: Vec<String>,
    /// `near:N`: the `all` parts must lie within N characters of one field
    /// of the message, from the first one's first character to the last
    /// one's last, counting letters, digits and Chinese characters (not
    /// spaces, punctuation or emoji); `None`: anywhere in the message.
    pub within: Option<u32>,
}

/// The widest `near:N` window, in characters: wider is the whole message
/// for any chat message.
pub const NEAR_MAX_CHARS: u32 = 1_000;

/// An entry and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in its file.
    pub line: usize,
    /// The entry as written (trimmed): what alerts report as `term`.
    pub written: String,
    /// What the entry is.
    pub kind: EntryKind,
}

impl Entry {
    /// What a term, regex or allow phrase says: the written line without
    /// its marker (a term's escaping `\`, `re:`, an allow phrase's `!` and
    /// the spaces after it). Other entries: the written line.
    ///
    /// ```
    /// use wordwarden::lists::{EntryKind, WordListSet};
    ///
    /// let set = WordListSet::from_sources(vec![(
    ///     "a.txt".into(),
    ///     "内幕\n\\!literal\nre:falcon\\d+\n! 特色情\n".into(),
    /// )]);
    /// let texts: Vec<(&EntryKind, &str)> =
    ///     set.files()[0].entries.iter().map(|e| (&e.kind, e.text())).collect();
    /// assert_eq!(
    ///     texts,
    ///     [
    ///         (&EntryKind::Term, "内幕"),
    ///         (&EntryKind::Term, "!literal"),
    ///         (&EntryKind::Regex, "falcon\\d+"),
    ///         (&EntryKind::Allow, "特色情"),
    ///     ]
    /// );
    /// ```
    pub fn text(&self) -> &str {
        entry_text(&self.kind, &self.written)
    }
}

/// [`Entry::text`] of an entry taken apart (the compile moves `written` into
/// its rule).
pub(crate) fn entry_text<'w>(kind: &EntryKind, written: &'w str) -> &'w str {
    match kind {
        EntryKind::Term => written.strip_prefix('\\').unwrap_or(written),
        EntryKind::Regex => written.strip_prefix("re:").unwrap_or(written),
        EntryKind::Allow => written.strip_prefix('!').map_or(written, str::trim),
        EntryKind::Combination(_) | EntryKind::Detector(_) => written,
    }
}

/// A parsed list file.
#[derive(Debug, Clone)]
pub struct ListFile {
    /// Path relative to the list directory, `/`-separated.
    pub path: String,
    /// The category: `path` without `.txt`.
    pub category: String,
    /// `#! severity:`.
    pub severity: Severity,
    /// `#! description:`.
    pub description: Option<String>,
    /// `#! match:`.
    pub match_mode: MatchMode,
    /// `#! pinyin: on|off|mixed` (default on): also match the toneless
    /// pinyin of this file's Chinese terms of 2-4 characters.
    pub pinyin: Pinyin,
    /// `#! homophones: on|off` (default off): this file's Chinese terms
    /// also match other characters read the same way, tones aside
    /// (`内幕小溪` for `内幕消息`).
    pub homophones: bool,
    /// `#! audience: any|external` (default any): which messages this
    /// file's rules watch; see [`crate::audience`].
    pub audience: AudienceScope,
    /// `#! bulk: N SEVERITY`: a message holding N distinct values of this
    /// file (N ID card numbers, not one number N times) raises its hits to
    /// SEVERITY.
    pub bulk: Option<Bulk>,
    /// `#! people:` (default any): whose messages this file's rules watch;
    /// see [`crate::people`].
    pub people: PeopleScope,
    /// `#! from:` and `#! until:` (default always): when the messages this
    /// file's rules watch were written.
    pub window: Window,
    /// Entries in file order.
    pub entries: Vec<Entry>,
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth a look; does not block deployment.
    Warning,
    /// Blocks compiling the set.
    Error,
}

/// A problem found in a list file, with its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// File path relative to the list directory.
    pub file: String,
    /// 1-based line (0 for the file as a whole).
    pub line: usize,
    /// Error or warning.
    pub level: Level,
    /// A short stable code (`bad-directive`, `bad-regex`, ...).
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        if self.line == 0 {
            write!(f, "{}: {level}[{}]: {}", self.file, self.code, self.message)
        } else {
            write!(
                f,
                "{}:{}: {level}[{}]: {}",
                self.file, self.line, self.code, self.message
            )
        }
    }
}

/// Errors reading a list directory (content problems are [`Diagnostic`]s).
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The directory or a file could not be read.
    #[error("cannot read word lists at {path}: {cause}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The cause (in the message, not a `source()`: printed once).
        cause: std::io::Error,
    },
}

/// A parsed set of list files with its version and diagnostics.
#[derive(Debug, Clone)]
pub struct WordListSet {
    files: Vec<ListFile>,
    groups: Vec<PeopleGroup>,
    diagnostics: Vec<Diagnostic>,
    version: String,
}

impl WordListSet {
    /// Reads every `*.txt` list and `*.people` group below `dir`
    /// (recursively, sorted by path).
    /// Hidden files and editors' temporary files (`.name`, `name~`, `#name#`)
    /// are ignored so a half-saved file is never read.
    pub fn load_dir(dir: &Path) -> Result<WordListSet, ListError> {
        Ok(WordListSet::from_sources(read_sources(dir)?))
    }
}

/// A path below the list directory as lists are named: its components
/// joined by `/`.
pub(crate) fn relative_name(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a path below the list directory (as [`relative_name`] writes it)
/// is hidden (a component starting with `.`, such as a `.git` directory) or
/// an editor's temporary (`name~`, `#name#`): never a list, nor a place that
/// holds one. The word-list watcher ignores changes there by the same rule.
pub(crate) fn is_hidden_or_temporary(rel: &str) -> bool {
    rel.split('/').any(|c| c.starts_with('.')) || rel.ends_with('~') || rel.contains('#')
}

/// Whether a file below the list directory is part of the set: a list
/// (`*.txt`) or a people group (`*.people`).
pub(crate) fn is_source_name(rel: &str) -> bool {
    rel.ends_with(".txt") || rel.ends_with(".people")
}

/// The raw (relative path, bytes) of every list and people group below `dir`, as
/// [`WordListSet::load_dir`] reads them; the word-list topic publishes these.
pub fn read_sources(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, ListError> {
    let meta = std::fs::metadata(dir).map_err(|cause| ListError::Io {
        path: dir.to_path_buf(),
        cause,
    })?;
    if !meta.is_dir() {
        return Err(ListError::Io {
            path: dir.to_path_buf(),
            cause: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
        });
    }
    let mut sources = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| ListError::Io {
            path: e.path().unwrap_or(dir).to_path_buf(),
            cause: e.into(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let rel = relative_name(rel);
        if !is_source_name(&rel) || is_hidden_or_temporary(&rel) {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(|cause| ListError::Io {
            path: entry.path().to_path_buf(),
            cause,
        })?;
        sources.push((rel, bytes));
    }
    Ok(sources)
}

impl WordListSet {
    /// Parses list files given as (relative path, content) pairs; used for
    /// directories, the word-list topic and tests alike.
    pub fn from_sources(mut sources: Vec<(String, Vec<u8>)>) -> WordListSet {
        sources.sort_by(|a, b| a.0.cmp(&b.0));
        let mut hasher = Sha256::new();
        let mut files = Vec::new();
        let mut diagnostics = Vec::new();
        let mut texts = Vec::with_capacity(sources.len());
        for (path, bytes) in &sources {
            hasher.update((path.len() as u64).to_le_bytes());
            hasher.update(path.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
            match std::str::from_utf8(bytes) {
                Ok(text) => texts.push((path.as_str(), text)),
                Err(e) => diagnostics.push(Diagnostic {
                    file: path.clone(),
                    line: 0,
                    level: Level::Error,
                    code: "not-utf8",
                    message: crate::encoding::not_utf8(bytes, e),
                }),
            }
        }
        // the groups first: lists name them
        let (group_texts, list_texts): (Vec<_>, Vec<_>) = texts
            .into_iter()
            .partition(|(path, _)| path.ends_with(".people"));
        let groups: Vec<PeopleGroup> = group_texts
            .into_iter()
            .map(|(path, text)| crate::people::parse_group(path, text, &mut diagnostics))
            .collect();
        if groups.len() > MAX_GROUPS {
            diagnostics.push(Diagnostic {
                file: groups[MAX_GROUPS].path.clone(),
                line: 0,
                level: Level::Error,
                code: "too-many-groups",
                message: format!(
                    "{} people groups; a list set holds {MAX_GROUPS} at most",
                    groups.len()
                ),
            });
        }
        let mut named_in_errors = rustc_hash::FxHashSet::default();
        for (path, text) in list_texts {
            let people = People {
                groups: &groups,
                named_in_errors: &mut named_in_errors,
            };
            files.push(parse_file(path, text, people, &mut diagnostics));
        }
        for group in &groups {
            let named = |f: &ListFile| f.people.group_names().contains(&group.name.as_str());
            // a `#! people:` line in error names it too: its error says
            // what to fix, and a warning of an unused group would mislead
            if !files.iter().any(named) && !named_in_errors.contains(group.name.as_str()) {
                diagnostics.push(Diagnostic {
                    file: group.path.clone(),
                    line: 0,
                    level: Level::Warning,
                    code: "unused-group",
                    message: format!(
                        "no list names the people group {} in `#! people:`",
                        group.name
                    ),
                });
            }
        }
        if !sources.iter().any(|(path, _)| path.ends_with(".txt")) {
            diagnostics.push(Diagnostic {
                file: ".".into(),
                line: 0,
                level: Level::Error,
                code: "empty-set",
                message: "no *.txt word lists found".into(),
            });
        }
        let digest = hasher.finalize();
        let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        WordListSet {
            files,
            groups,
            diagnostics,
            version,
        }
    }

    /// The people groups (`*.people`), sorted by path; see [`crate::people`].
    pub fn groups(&self) -> &[PeopleGroup] {
        &self.groups
    }

    /// The parsed files, sorted by path.
    pub fn files(&self) -> &[ListFile] {
        &self.files
    }

    /// The parsed files, consuming the set (see [`RulesetBuilder::build_from`]).
    ///
    /// [`RulesetBuilder::build_from`]: crate::ruleset::RulesetBuilder::build_from
    pub fn into_files(self) -> Vec<ListFile> {
        self.files
    }

    /// The set as if the entries `errors` name (by file and line) were not
    /// written, without its own errors: what lint checks further, so that
    /// one run shows the warnings of a set with a mistake in it too. The
    /// version stays the set's.
    pub(crate) fn without(&self, errors: &[Diagnostic]) -> WordListSet {
        let named: rustc_hash::FxHashSet<(&str, usize)> = errors
            .iter()
            .filter(|d| d.level == Level::Error)
            .map(|d| (d.file.as_str(), d.line))
            .collect();
        let files = self
            .files
            .iter()
            .map(|f| {
                let mut f = f.clone();
                let path = f.path.clone();
                f.entries
                    .retain(|e| !named.contains(&(path.as_str(), e.line)));
                f
            })
            .collect();
        WordListSet {
            files,
            groups: self.groups.clone(),
            diagnostics: self
                .diagnostics
                .iter()
                .filter(|d| d.level != Level::Error)
                .cloned()
                .collect(),
            version: self.version.clone(),
        }
    }

    /// Every diagnostic found while parsing.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The error-level diagnostics; a set with any may not be compiled.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.level == Level::Error)
    }

    /// A content hash of the set (paths and bytes): the `ruleset_version`.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// What a list's `#! people:` lines are read against: the set's groups;
/// and the words of those lines in error, kept so that a group they name is
/// not also called unused.
struct People<'a, 'g> {
    groups: &'g [PeopleGroup],
    named_in_errors: &'a mut rustc_hash::FxHashSet<&'g str>,
}

fn parse_file<'g>(
    path: &str,
    text: &'g str,
    people: People<'_, 'g>,
    diags: &mut Vec<Diagnostic>,
) -> ListFile {
    let category = path.strip_suffix(".txt").unwrap_or(path).to_string();
    let mut file = ListFile {
        path: path.to_string(),
        category,
        severity: Severity::default(),
        description: None,
        match_mode: MatchMode::default(),
        pinyin: Pinyin::default(),
        homophones: false,
        audience: AudienceScope::Any,
        bulk: None,
        people: PeopleScope::Any,
        window: Window::default(),
        // an entry a line at most: sized once (see `Compiler::add_file`)
        entries: Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 1),
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    // where `#! pinyin:` asked for variants, `#! homophones:` for
    // homophones (for the warnings below)
    let mut pinyin_line = 0;
    let mut homophones_line = 0;
    let mut bulk_line = 0;
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let mut diag = |level, code, message: String| {
            diags.push(Diagnostic {
                file: path.to_string(),
                line,
                level,
                code,
                message,
            })
        };
        if let Some(directive) = trimmed.strip_prefix("#!") {
            if !file.entries.is_empty() {
                diag(
                    Level::Error,
                    "late-directive",
                    "directives must come before the first entry".into(),
                );
                continue;
            }
            let Some((key, value)) = directive.split_once(':') else {
                diag(
                    Level::Error,
                    "bad-directive",
                    format!("directive without `key: value`: {trimmed}"),
                );
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "severity" => match value.parse() {
                    Ok(s) => file.severity = s,
                    Err(e) => diag(Level::Error, "bad-directive", e),
                },
                "description" => file.description = Some(value.to_string()),
                "match" => match value {
                    "exact" => file.match_mode = MatchMode::Exact,
                    "fold" | "folded" => file.match_mode = MatchMode::Fold,
                    other => diag(
                        Level::Error,
                        "bad-directive",
                        format!("unknown match mode {other:?} (exact, fold)"),
                    ),
                },
                "pinyin" => match value {
                    "on" | "true" | "yes" => {
                        file.pinyin = Pinyin::On;
                        pinyin_line = line;
                    }
                    "off" | "false" | "no" => file.pinyin = Pinyin::Off,
                    "mixed" => {
                        file.pinyin = Pinyin::Mixed;
                        pinyin_line = line;
                    }
                    "initials" => {
                        file.pinyin = Pinyin::Initials;
                        pinyin_line = line;
                    }
                    other => diag(
                        Level::Error,
                        "bad-directive",
                        format!("pinyin takes on, off, mixed or initials, not {other:?}"),
                    ),
                },
                "homophones" => match value {
                    "on" | "true" | "yes" => {
                        file.homophones = true;
                        homophones_line = line;
                    }
                    "off" | "false" | "no" => file.homophones = false,
                    other => diag(
                        Level::Error,
                        "bad-directive",
                        format!("homophones takes on or off, not {other:?}"),
                    ),
                },
                "audience" => match value {
                    "any" | "all" => file.audience = AudienceScope::Any,
                    "external" => file.audience = AudienceScope::External,
                    other => diag(
                        Level::Error,
                        "bad-directive",
                        format!("audience takes any or external, not {other:?}"),
                    ),
                },
                "bulk" => match parse_bulk(value) {
                    Ok(bulk) => {
                        file.bulk = Some(bulk);
                        bulk_line = line;
                    }
                    Err(e) => diag(Level::Error, "bad-directive", e),
                },
                "from" | "until" => match parse_time(value) {
                    Ok(t) => {
                        let (from, until) = match key.trim() {
                            "from" => (Some(t), file.window.until),
                            _ => (file.window.from, Some(t)),
                        };
                        if from.zip(until).is_some_and(|(from, until)| from >= until) {
                            diag(
                                Level::Error,
                                "bad-directive",
                                format!(
                                    "`#! until:` must come after `#! from:` ({} is not before {})",
                                    from.map(|t| t.to_string()).unwrap_or_default(),
                                    until.map(|t| t.to_string()).unwrap_or_default()
                                ),
                            );
                        } else {
                            file.window = Window { from, until };
                        }
                    }
                    Err(e) => diag(Level::Error, "bad-directive", e),
                },
                // several lines must all hold
                "people" => match PeopleScope::parse(value, people.groups) {
                    Ok(scope) => file.people = std::mem::take(&mut file.people).and(scope),
                    Err(e) => {
                        people.named_in_errors.extend(value.split_whitespace());
                        diag(Level::Error, "bad-directive", e)
                    }
                },
                other => diag(
                    Level::Error,
                    "bad-directive",
                    format!(
                        "unknown directive {other:?} (severity, description, match, pinyin, homophones, audience, bulk, people, from, until)"
                    ),
                ),
            }
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        // the kind's text is recovered from the written line (`Entry::text`)
        let kind = if trimmed.starts_with('\\') {
            EntryKind::Term
        } else if trimmed.starts_with('!') {
            EntryKind::Allow
        } else if let Some(named) = detector_entry(trimmed) {
            match named {
                Ok(d) => EntryKind::Detector(d),
                Err(e) => {
                    diag(Level::Error, "unknown-detector", e);
                    continue;
                }
            }
        } else if trimmed.starts_with("re:") {
            EntryKind::Regex
        } else if let Some(combo) = parse_combination(trimmed) {
            match combo {
                Ok(EntryKind::Combination(c)) => {
                    let (parts, within) = (c.all.iter(), c.within.unwrap_or(u32::MAX));
                    let chars: usize = parts
                        .map(|p| p.chars().filter(|c| c.is_alphanumeric()).count())
                        .sum();
                    if chars > within as usize {
                        diag(
                            Level::Warning,
                            "near-too-narrow",
                            format!(
                                "the `&` parts have {chars} characters together, more than \
                                 `near:{within}` holds: the rule never fires"
                            ),
                        );
                    }
                    EntryKind::Combination(c)
                }
                Ok(k) => k,
                Err(e) => {
                    diag(Level::Error, "bad-combination", e);
                    continue;
                }
            }
        } else {
            EntryKind::Term
        };
        file.entries.push(Entry {
            line,
            written: trimmed.to_string(),
            kind,
        });
    }
    let terms = file.entries.iter().filter(|e| e.kind == EntryKind::Term);
    let mut warn = |line, code, message: String| {
        diags.push(Diagnostic {
            file: path.to_string(),
            line,
            level: Level::Warning,
            code,
            message,
        })
    };
    if let Some(bulk) = file.bulk.filter(|b| b.severity <= file.severity) {
        warn(
            bulk_line,
            "bulk-not-higher",
            format!(
                "`bulk: {} {}` raises nothing: the list's own severity is {}",
                bulk.at_least, bulk.severity, file.severity
            ),
        );
    }
    if homophones_line > 0 && terms.clone().count() > HOMOPHONES_MAX_TERMS {
        warn(
            homophones_line,
            "large-homophones-list",
            format!(
                "`homophones: on` on more than {HOMOPHONES_MAX_TERMS} terms: a syllable has \
                 dozens of characters, so on large lists terms fire by chance (100,000 random \
                 terms hit 22% of a chat sample); keep it to short lists of terms people \
                 disguise, and check them with `wordwarden lint --corpus`"
            ),
        );
    }
    // variants asked of a list that matches as written
    let exact = file.match_mode == MatchMode::Exact;
    for (line, directive, code, what) in [
        (
            homophones_line,
            "homophones",
            "homophones-in-exact-list",
            "homophones",
        ),
        (
            pinyin_line,
            "pinyin",
            "pinyin-in-exact-list",
            "pinyin variants",
        ),
    ] {
        if exact && line > 0 {
            warn(
                line,
                code,
                format!(
                    "`#! match: exact` lists match as written, without {what}: \
                     `#! {directive}:` does nothing here"
                ),
            );
        }
    }
    if !exact && file.pinyin == Pinyin::Initials && terms.clone().count() > INITIALS_MAX_TERMS {
        warn(
            pinyin_line,
            "large-initials-list",
            format!(
                "`pinyin: initials` on more than {INITIALS_MAX_TERMS} terms: three or four \
                 letters spell many other things (words, codes, names), so on large lists \
                 initials fire by chance; keep it to short lists of words people abbreviate, \
                 and check them with `wordwarden lint --corpus`"
            ),
        );
    }
    if !exact && file.pinyin == Pinyin::Mixed && terms.count() > MIXED_PINYIN_MAX_TERMS {
        warn(
            pinyin_line,
            "large-mixed-pinyin",
            format!(
                "`pinyin: mixed` on more than {MIXED_PINYIN_MAX_TERMS} terms: each Chinese term of \
                 2-4 characters gets 2-14 more keys, more for other readings; keep it to the \
                 short lists of terms people write half in pinyin"
            ),
        );
    }
    file
}

/// `#! bulk: N SEVERITY [within DURATION]`'s value.
fn parse_bulk(value: &str) -> Result<Bulk, String> {
    let usage = "bulk takes a count, a severity and, if the sender's earlier messages \
                 count too, a time: `bulk: 10 critical`, `bulk: 10 critical within 1h` or \
                 `bulk: 10 critical within 1d across conversations`";
    let words: Vec<&str> = value.split_whitespace().collect();
    let (count, severity, within, across_conversations) = match words[..] {
        [count, severity] => (count, severity, None, false),
        [count, severity, "within", time] => (count, severity, Some(time), false),
        [count, severity, "within", time, "across", "conversations"] => {
            (count, severity, Some(time), true)
        }
        _ => return Err(format!("{usage}, not {value:?}")),
    };
    let at_least = match count.parse::<u32>() {
        Ok(n) if (2..=BULK_MAX_VALUES).contains(&n) => n,
        _ => {
            return Err(format!(
                "{usage}; the count is 2 to {BULK_MAX_VALUES}, not {count:?}"
            ))
        }
    };
    let within_secs = match within {
        None => None,
        Some(time) => match parse_duration_secs(time) {
            Some(secs) if (1..=BULK_MAX_WITHIN_SECS).contains(&secs) => Some(secs),
            _ => {
                return Err(format!(
                    "{usage}; the time is a number with s, m, h or d, up to 7d, not {time:?}"
                ))
            }
        },
    };
    Ok(Bulk {
        at_least,
        severity: severity.parse()?,
        within_secs,
        across_conversations,
    })
}

/// `90s`, `30m`, `1h`, `7d` in seconds; `None` for anything else.
fn parse_duration_secs(time: &str) -> Option<u32> {
    let unit = match time.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let number = &time[..time.len() - 1];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse::<u32>().ok()?.checked_mul(unit)
}

/// More terms than this in a `#! homophones: on` file draw a warning:
/// homophones of many terms fire by chance.
const HOMOPHONES_MAX_TERMS: usize = 1_000;

/// More terms than this in a `#! pinyin: initials` file draw a warning:
/// the initials of many terms spell ordinary words and codes.
const INITIALS_MAX_TERMS: usize = 1_000;

/// More terms than this in a `#! pinyin: mixed` file draw a warning: their
/// mixed spellings would outnumber a large list's keys.
const MIXED_PINYIN_MAX_TERMS: usize = 10_000;

/// `A & B ~ C`: `&` and `~` separate parts only with whitespace on both sides,
/// so terms such as `AT&T` stay terms.
/// The detector an entry names (`@bank_card`, `@ bank_card`), where it is
/// one (starts with `@`): what a list's line and a compiled rule's term
/// are both read as.
pub(crate) fn detector_entry(entry: &str) -> Option<Result<Detector, String>> {
    entry.strip_prefix('@').map(|name| name.trim().parse())
}

fn parse_combination(line: &str) -> Option<Result<EntryKind, String>> {
    let mut tokens: Vec<&str> = line.split_whitespace().collect();
    let within = match tokens.first().and_then(|t| t.strip_prefix("near:")) {
        Some(n) => match n.parse::<u32>() {
            Ok(n) if (1..=NEAR_MAX_CHARS).contains(&n) => {
                tokens.remove(0);
                Some(n)
            }
            _ => {
                return Some(Err(format!(
                    "`near:{n}`: a number of characters from 1 to {NEAR_MAX_CHARS} (`near:20 转账 & 私人账户`)"
                )))
            }
        },
        None => None,
    };
    if !tokens.iter().any(|t| *t == "&" || *t == "~") {
        return within.map(|_| {
            Err("`near:N` is for combinations: `near:20 转账 & 私人账户` (a term starting with `near:` is written `\\near:`)".into())
        });
    }
    let mut all = Vec::new();
    let mut none = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut negated = false;
    let mut push = |current: &mut Vec<&str>, negated: bool| -> Result<(), String> {
        if current.is_empty() {
            return Err("empty part in combination rule".into());
        }
        let part = current.join(" ");
        current.clear();
        if negated {
            none.push(part);
        } else {
            all.push(part);
        }
        Ok(())
    };
    for t in tokens {
        match t {
            "&" | "~" => {
                if let Err(e) = push(&mut current, negated) {
                    return Some(Err(e));
                }
                negated = t == "~";
            }
            word => current.push(word),
        }
    }
    if let Err(e) = push(&mut current, negated) {
        return Some(Err(e));
    }
    if all.is_empty() {
        return Some(Err("a combination rule needs at least one `&` part".into()));
    }
    if all.len() < 2 && none.is_empty() {
        return Some(Err(
            "a combination rule needs two `&` parts or a `~` part".into()
        ));
    }
    if within.is_some() && all.len() < 2 {
        return Some(Err("`near:N` needs two `&` parts or more".into()));
    }
    Some(Ok(EntryKind::Combination(Box::new(Combination {
        all,
        none,
        within,
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diagnostics of a file of `n` distinct terms under `directives`.
    fn terms_under(directives: &str, n: usize) -> Vec<Diagnostic> {
        let terms: String = (0..n).map(|i| format!("词{i}\n")).collect();
        parse(&format!("{directives}{terms}")).1
    }

    fn parse(text: &str) -> (ListFile, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let people = People {
            groups: &[],
            named_in_errors: &mut Default::default(),
        };
        (parse_file("t/x.txt", text, people, &mut d), d)
    }

    #[test]
    fn category_from_path() {
        let (f, _) = parse("a\n");
        assert_eq!(f.category, "t/x");
    }

    #[test]
    fn near_combinations() {
        let (f, d) = parse("near:20 转账 & 私人账户 ~ 公司账户\nnear:5 a b & c\n");
        assert!(d.is_empty(), "{d:?}");
        let combos: Vec<&Combination> = f
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Combination(c) => Some(&**c),
                _ => None,
            })
            .collect();
        assert_eq!(combos[0].within, Some(20));
        assert_eq!(combos[0].all, vec!["转账", "私人账户"]);
        assert_eq!(combos[0].none, vec!["公司账户"]);
        assert_eq!((combos[1].within, &combos[1].all[0][..]), (Some(5), "a b"));
        // the line as written is what alerts report
        assert_eq!(f.entries[0].written, "near:20 转账 & 私人账户 ~ 公司账户");
        for (bad, says) in [
            ("near:0 a & b", "from 1 to 1000"),
            ("near:1001 a & b", "from 1 to 1000"),
            ("near:x a & b", "from 1 to 1000"),
            ("near:20 转账", "for combinations"),
            ("near:20 a ~ b", "two `&` parts"),
        ] {
            let (f, d) = parse(&format!("{bad}\n"));
            assert!(f.entries.is_empty(), "{bad}");
            assert_eq!(
                (d.len(), d[0].code, d[0].level),
                (1, "bad-combination", Level::Error),
                "{bad}"
            );
            assert!(d[0].message.contains(says), "{bad}: {d:?}");
        }
        let (f, d) = parse("\\near:20 转账\n");
        assert!(
            d.is_empty() && f.entries[0].text() == "near:20 转账",
            "{d:?}"
        );
        let (f, d) = parse("near:5 转账 & 私人账户\n");
        assert_eq!(f.entries.len(), 1);
        assert_eq!(
            (d[0].code, d[0].level),
            ("near-too-narrow", Level::Warning),
            "{d:?}"
        );
    }

    #[test]
    fn audience_directive() {
        assert_eq!(parse("内幕\n").0.audience, AudienceScope::Any);
        let (f, d) = parse("#! audience: external\n内幕\n");
        assert!(
            d.is_empty() && f.audience == AudienceScope::External,
            "{d:?}"
        );
        let (f, d) = parse("#! audience: any\n内幕\n");
        assert!(d.is_empty() && f.audience == AudienceScope::Any, "{d:?}");
        let (f, d) = parse("#! audience: outside\n内幕\n");
        assert_eq!(f.audience, AudienceScope::Any);
        assert_eq!((d[0].line, d[0].code), (1, "bad-directive"), "{d:?}");
        assert!(d[0].message.contains("any or external"), "{d:?}");
    }

    /// `*.people` files are groups, not lists, and a list names them in
    /// `#! people:`; a group no file defines is an error with its line, one
    /// no list names a warning, and a set of groups alone has no lists.
    #[test]
    fn people_groups_and_directive() {
        let set = WordListSet::from_sources(vec![
            ("people/ibd.people".into(), "zhang.wei\n".into()),
            ("people/desk.people".into(), "qian\n".into()),
            ("people/research.people".into(), "li.na\nli.na\n".into()),
            ("people/unused.people".into(), "wang\n".into()),
            (
                "barrier.txt".into(),
                "#! people: between people/ibd people/research\n停牌\n".into(),
            ),
            (
                "leavers.txt".into(),
                "#! people: sender people/leavers\n客户名单\n".into(),
            ),
            // named in a line in error: its error, and no unused-group
            (
                "typo.txt".into(),
                "#! people: between people/desk people/reserch\n停牌\n".into(),
            ),
            (
                "two.txt".into(),
                "#! people: participant people/ibd\n#! people: not sender people/research\n停牌\n"
                    .into(),
            ),
        ]);
        assert_eq!(set.files().len(), 4);
        assert_eq!(
            set.files()[2].people.to_string(),
            "participant people/ibd; not sender people/research"
        );
        let names: Vec<&str> = set.groups().iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "people/desk",
                "people/ibd",
                "people/research",
                "people/unused"
            ]
        );
        assert_eq!(
            set.files()[0].people.to_string(),
            "between people/ibd people/research"
        );
        assert!(set.files()[1].people.is_any());
        let codes: Vec<_> = set
            .diagnostics()
            .iter()
            .map(|d| (d.file.as_str(), d.line, d.level, d.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("people/research.people", 2, Level::Warning, "duplicate-id"),
                ("leavers.txt", 1, Level::Error, "bad-directive"),
                ("typo.txt", 1, Level::Error, "bad-directive"),
                ("people/unused.people", 0, Level::Warning, "unused-group"),
            ]
        );
        let groups_only =
            WordListSet::from_sources(vec![("a.people".into(), "zhang.wei\n".into())]);
        assert_eq!(
            groups_only.errors().next().map(|d| d.code),
            Some("empty-set")
        );
        // the groups are part of the set's version
        let version = |ids: &str| {
            WordListSet::from_sources(vec![
                ("a.people".into(), ids.into()),
                ("a.txt".into(), "停牌\n".into()),
            ])
            .version()
            .to_string()
        };
        assert_ne!(version("zhang.wei\n"), version("li.na\n"));
    }

    /// `#! from:` and `#! until:` make a window, in any order, times with
    /// or without an offset; a time that is none, or a window that ends
    /// before it starts, is an error at its line.
    #[test]
    fn written_window_directives() {
        let (f, d) = parse("#! until: 2026-12-01T00:00:00+08:00\n#! from: 2026-11-01\n青松计划\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            f.window.to_string(),
            "from 2026-11-01T00:00:00Z until 2026-11-30T16:00:00Z"
        );
        let (f, _) = parse("#! from: 2026-11-01T08:30:00\n青松计划\n");
        assert_eq!(f.window.to_string(), "from 2026-11-01T08:30:00Z");
        assert!(parse("青松计划\n").0.window.is_always());
        let (f, d) = parse("#! from: 2026-12-01\n#! until: 2026-11-01\n#! until: soon\n青松计划\n");
        let lines: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.code)).collect();
        assert_eq!(lines, [(2, "bad-directive"), (3, "bad-directive")]);
        assert!(d[0].message.contains("must come after"), "{}", d[0].message);
        assert!(
            d[1].message.contains("\"soon\" is no time"),
            "{}",
            d[1].message
        );
        assert_eq!(f.window.to_string(), "from 2026-12-01T00:00:00Z");
    }

    /// More groups than a message's bits: an error, and a list naming the
    /// last of them is parsed and linted without a panic.
    #[test]
    fn too_many_people_groups() {
        let mut sources: Vec<(String, Vec<u8>)> = (0..300)
            .map(|i| (format!("g{i:03}.people"), b"zhangwei\n".to_vec()))
            .collect();
        sources.push((
            "a.txt".into(),
            "#! people: between g000 g299\n停牌\n".into(),
        ));
        let set = WordListSet::from_sources(sources);
        assert_eq!(set.errors().next().map(|d| d.code), Some("too-many-groups"));
        let diags = crate::lint::lint(&set, &crate::ruleset::RulesetBuilder::new());
        assert!(
            diags.iter().any(|d| d.code == "too-many-groups"),
            "{diags:?}"
        );
    }

    #[test]
    fn bulk_directive() {
        let (f, d) = parse("#! severity: high\n#! bulk:  10   critical \n@cn_mobile\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            f.bulk,
            Some(Bulk {
                at_least: 10,
                severity: Severity::Critical,
                within_secs: None,
                across_conversations: false,
            })
        );
        let (f, d) = parse("#! bulk: 10 critical within 24h across  conversations\n@cn_mobile\n");
        assert!(d.is_empty(), "{d:?}");
        let bulk = f.bulk.expect("parsed");
        assert!(bulk.across_conversations);
        assert_eq!(
            bulk.to_string(),
            "10 critical within 1d across conversations"
        );
        for (within, secs, shown) in [
            ("90s", 90, "90s"),
            ("120s", 120, "2m"),
            ("30m", 1800, "30m"),
            ("1h", 3600, "1h"),
            ("48h", 172_800, "2d"),
            ("7d", 604_800, "7d"),
        ] {
            let (f, d) = parse(&format!("#! bulk: 3 high within {within}\n@cn_mobile\n"));
            assert!(d.is_empty(), "{d:?}");
            let bulk = f.bulk.expect("parsed");
            assert_eq!(bulk.within_secs, Some(secs), "{within}");
            assert_eq!(bulk.to_string(), format!("3 high within {shown}"));
        }
        assert_eq!(parse("@cn_mobile\n").0.bulk, None);
        for (bad, says) in [
            ("10", "a count, a severity"),
            ("critical 10", "the count is 2 to 100000"),
            ("1 critical", "the count is 2 to 100000"),
            ("100001 critical", "the count is 2 to 100000"),
            ("10 urgent", "unknown severity"),
            ("10 critical now", "a count, a severity"),
            ("10 critical within", "a count, a severity"),
            ("10 critical over 1h", "a count, a severity"),
            ("10 critical across conversations", "a count, a severity"),
            ("10 critical within 1h across", "a count, a severity"),
            ("10 critical within 1h across chats", "a count, a severity"),
            ("10 critical within 1w", "up to 7d"),
            ("10 critical within 8d", "up to 7d"),
            ("10 critical within 0s", "up to 7d"),
            ("10 critical within h", "up to 7d"),
            ("10 critical within -1h", "up to 7d"),
            ("10 critical within 99999999999d", "up to 7d"),
        ] {
            let (f, d) = parse(&format!("#! bulk: {bad}\n@cn_mobile\n"));
            assert_eq!(f.bulk, None, "{bad}");
            assert_eq!(
                (d.len(), d[0].code, d[0].level, d[0].line),
                (1, "bad-directive", Level::Error, 1),
                "{bad}"
            );
            assert!(d[0].message.contains(says), "{bad}: {d:?}");
        }
        // a threshold that raises nothing is a mistake worth a warning
        for list in [
            "#! bulk: 10 high\n#! severity: high\n@cn_mobile\n",
            "#! severity: critical\n#! bulk: 10 high\n@cn_mobile\n",
        ] {
            let (f, d) = parse(list);
            assert!(f.bulk.is_some());
            assert_eq!(
                (d.len(), d[0].code, d[0].level),
                (1, "bulk-not-higher", Level::Warning),
                "{list}"
            );
            assert!(d[0].message.contains("raises nothing"), "{d:?}");
        }
    }

    #[test]
    fn homophones_directive() {
        assert!(!parse("内幕\n").0.homophones);
        let (f, d) = parse("#! homophones: on\n内幕\n");
        assert!(d.is_empty() && f.homophones, "{d:?}");
        let (f, d) = parse("#! homophones: off\n内幕\n");
        assert!(d.is_empty() && !f.homophones, "{d:?}");
        let (_, d) = parse("#! homophones: mixed\n内幕\n");
        assert_eq!(d[0].code, "bad-directive");
        let list = |n: usize| terms_under("#! homophones: on\n", n);
        assert!(list(HOMOPHONES_MAX_TERMS).is_empty());
        let d = list(HOMOPHONES_MAX_TERMS + 1);
        assert_eq!(
            (d.len(), d[0].code, d[0].line),
            (1, "large-homophones-list", 1)
        );
        let (_, d) = parse("#! match: exact\n#! homophones: on\n内幕\n");
        assert_eq!(
            (d.len(), d[0].code, d[0].line, d[0].level),
            (1, "homophones-in-exact-list", 2, Level::Warning)
        );
    }

    #[test]
    fn pinyin_directive_and_a_large_mixed_list() {
        assert_eq!(parse("a\n").0.pinyin, Pinyin::On);
        for (value, pinyin) in [
            ("off", Pinyin::Off),
            ("on", Pinyin::On),
            ("mixed", Pinyin::Mixed),
            ("initials", Pinyin::Initials),
        ] {
            let (f, d) = parse(&format!("#! pinyin: {value}\n内幕\n"));
            assert!(d.is_empty(), "{d:?}");
            assert_eq!(f.pinyin, pinyin);
        }
        let (_, d) = parse("#! pinyin: sometimes\n内幕\n");
        assert_eq!(d[0].code, "bad-directive");
        let list = |n: usize| terms_under("#! severity: high\n#! pinyin: mixed\n", n);
        assert!(list(MIXED_PINYIN_MAX_TERMS).is_empty());
        let d = list(MIXED_PINYIN_MAX_TERMS + 1);
        assert_eq!(
            (d.len(), d[0].code, d[0].line),
            (1, "large-mixed-pinyin", 2)
        );
        assert_eq!(d[0].level, Level::Warning);
        // initials: a warning past a short list's size
        let initials = |n: usize| terms_under("#! pinyin: initials\n", n);
        assert!(initials(INITIALS_MAX_TERMS).is_empty());
        let d = initials(INITIALS_MAX_TERMS + 1);
        assert_eq!(
            (d.len(), d[0].code, d[0].line, d[0].level),
            (1, "large-initials-list", 1, Level::Warning)
        );
        // variants asked of a list that matches as written
        let (_, d) = parse("#! match: exact\n#! pinyin: mixed\n内幕\n");
        assert_eq!(
            (d.len(), d[0].code, d[0].line),
            (1, "pinyin-in-exact-list", 2)
        );
        assert!(parse("#! match: exact\n#! pinyin: off\n内幕\n")
            .1
            .is_empty());
    }

    #[test]
    fn directives_and_comments() {
        let (f, d) =
            parse("# c\n#! severity: critical\n#! description: insider\n#! match: exact\nword\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.description.as_deref(), Some("insider"));
        assert_eq!(f.match_mode, MatchMode::Exact);
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].line, 5);
    }

    #[test]
    fn bad_and_late_directives_are_errors_with_lines() {
        let (_, d) =
            parse("#! severity: extreme\n#! colour: red\n#! nonsense\nw\n#! severity: high\n");
        let lines: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.code)).collect();
        assert_eq!(
            lines,
            vec![
                (1, "bad-directive"),
                (2, "bad-directive"),
                (3, "bad-directive"),
                (5, "late-directive")
            ]
        );
        assert!(d.iter().all(|d| d.level == Level::Error));
    }

    #[test]
    fn entry_kinds() {
        let (f, d) = parse(
            "内幕消息\n转账 & 私人账户 ~ 公司账户\nre:(?i)project\\s+falcon\n!特色情\n@cn_id_card\n\\!literal\n\\#hash\nAT&T\n  spaced  \n",
        );
        assert!(d.is_empty(), "{d:?}");
        let kinds: Vec<(&EntryKind, &str)> =
            f.entries.iter().map(|e| (&e.kind, e.text())).collect();
        assert_eq!(kinds[0], (&EntryKind::Term, "内幕消息"));
        assert_eq!(
            kinds[1].0,
            &EntryKind::Combination(Box::new(Combination {
                all: vec!["转账".into(), "私人账户".into()],
                none: vec!["公司账户".into()],
                within: None,
            }))
        );
        assert_eq!(kinds[2], (&EntryKind::Regex, "(?i)project\\s+falcon"));
        assert_eq!(kinds[3], (&EntryKind::Allow, "特色情"));
        assert_eq!(kinds[4].0, &EntryKind::Detector(Detector::CnIdCard));
        assert_eq!(kinds[5], (&EntryKind::Term, "!literal"));
        assert_eq!(kinds[6], (&EntryKind::Term, "#hash"));
        assert_eq!(kinds[7], (&EntryKind::Term, "AT&T"));
        assert_eq!(kinds[8], (&EntryKind::Term, "spaced"));
        assert_eq!(f.entries[1].written, "转账 & 私人账户 ~ 公司账户");
    }

    #[test]
    fn bad_combination_and_detector() {
        let (f, d) = parse("a & \n& b\n@passport\nx ~ y\n");
        let codes: Vec<&str> = d.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec!["bad-combination", "bad-combination", "unknown-detector"]
        );
        assert_eq!(f.entries.len(), 1); // `x ~ y` is fine
    }

    #[test]
    fn non_utf8_file_is_an_error_and_version_changes_with_content() {
        let a = WordListSet::from_sources(vec![("a.txt".into(), b"x\n".to_vec())]);
        let b = WordListSet::from_sources(vec![("a.txt".into(), b"y\n".to_vec())]);
        assert_ne!(a.version(), b.version());
        assert_eq!(a.version().len(), 16);
        let bad = WordListSet::from_sources(vec![("a.txt".into(), vec![0xff, 0xfe, 0])]);
        let error = bad.errors().next().unwrap();
        assert_eq!(error.code, "not-utf8");
        assert!(error.message.ends_with("is it a binary file?"), "{error}");
        // 内幕消息 saved on Chinese Windows: named, and how to convert it
        let gbk = vec![0xC4, 0xDA, 0xC4, 0xBB, 0xCF, 0xFB, 0xCF, 0xA2, b'\n'];
        let bad = WordListSet::from_sources(vec![("a.txt".into(), gbk)]);
        let error = bad.errors().next().unwrap();
        assert_eq!(error.code, "not-utf8");
        assert!(
            error.message.contains("it reads as gb18030 text"),
            "{error}"
        );
        assert!(
            error.message.contains("iconv -f gb18030 -t UTF-8"),
            "{error}"
        );
    }

    #[test]
    fn empty_set_is_an_error() {
        let s = WordListSet::from_sources(vec![]);
        assert_eq!(s.errors().next().map(|d| d.code), Some("empty-set"));
    }

    #[test]
    fn load_dir_recursive_skips_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("finance")).unwrap();
        std::fs::write(dir.path().join("finance/insider.txt"), "内幕\n").unwrap();
        std::fs::write(dir.path().join("finance/.insider.txt.swp"), "x").unwrap();
        std::fs::write(dir.path().join("finance/insider.txt~"), "x").unwrap();
        std::fs::write(dir.path().join("readme.md"), "x").unwrap();
        let s = WordListSet::load_dir(dir.path()).unwrap();
        let cats: Vec<&str> = s.files().iter().map(|f| f.category.as_str()).collect();
        assert_eq!(cats, vec!["finance/insider"]);
    }
}
