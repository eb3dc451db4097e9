//! The compiled form of a word-list set: one character-wise Aho-Corasick
//! automaton over folded text for every folded term, combination part and allow
//! phrase; a byte-wise `aho-corasick` automaton for `#! match: exact` files;
//! regular expressions; and the validated detectors.
//!
//! ```
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![
//!     ("finance/insider.txt".into(), "#! severity: high\n内幕消息\n".into()),
//!     ("adult.txt".into(), "色情\n!特色情\n".into()),
//! ]);
//! let ruleset = Ruleset::builder().build(&lists).unwrap();
//!
//! let text = "有內*幕 消😀息吗";
//! let hits = ruleset.find(text);
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].term(), "内幕消息");
//! assert_eq!(hits[0].category(), "finance/insider");
//! assert_eq!(&text[hits[0].start..hits[0].end], "內*幕 消😀息");
//!
//! // an allow phrase protects the innocent phrase around a term
//! assert!(ruleset.find("特色情景喜剧").is_empty());
//! ```

mod automaton;
mod build;
pub(crate) mod masked;
mod matchers;
mod pair_filter;
mod patterns;
mod prefix_filter;
mod scan;

use std::sync::Arc;

use serde::Serialize;

use crate::audience::{Audience, AudienceScope};
use crate::detect::{self, assess, Assessment, Confidence, Detector};
use crate::lists::{Bulk, Diagnostic, ListError, Severity, Window};
use crate::people::{Conversation, PeopleIndex, PeopleScope};

pub use build::RulesetBuilder;
pub use scan::{Candidate, ScanBuffers, Scanner, Verdict};

/// What produced a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A term.
    Term,
    /// A combination rule.
    Combination,
    /// A regular expression.
    Regex,
    /// A built-in detector.
    Detector,
}

/// A reportable rule: a term, combination, regex or detector of one list.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The entry as written in its list.
    pub term: String,
    /// The list's category.
    pub category: Arc<str>,
    /// The list's severity.
    pub severity: Severity,
    /// Which messages the list watches (`#! audience:`).
    pub audience: AudienceScope,
    /// Whose messages the list watches, and written when (`#! people:`,
    /// `#! from:`, `#! until:`), shared by its rules.
    pub scope: Arc<Scope>,
    /// What kind of rule.
    pub kind: RuleKind,
    /// The list file (relative path).
    pub file: Arc<str>,
    /// 1-based line in the file.
    pub line: usize,
}

/// Which messages a list watches beyond its audience: whose (`#! people:`)
/// and written when (`#! from:`, `#! until:`). One a list file, shared by
/// its rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Whose messages.
    pub people: PeopleScope,
    /// Written when.
    pub window: Window,
}

impl Scope {
    /// Every message (no directive).
    pub fn is_everything(&self) -> bool {
        self.people.is_any() && self.window.is_always()
    }
}

impl Rule {
    /// Whether the rule's list watches a message of `conversation`: its
    /// audience, its people and when it was written.
    pub fn watches(&self, conversation: &Conversation) -> bool {
        self.audience.admits(conversation.audience)
            && self.scope.people.admits(conversation)
            && self.scope.window.admits(conversation.written_ms)
    }

    /// The built-in detector a detector rule names (`@bank_card`), read as
    /// its list's line was.
    pub fn detector(&self) -> Option<crate::detect::Detector> {
        (self.kind == RuleKind::Detector)
            .then(|| crate::lists::detector_entry(&self.term)?.ok())
            .flatten()
    }
}

/// One reported hit: the first place a rule fired in a message, and how often.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'r> {
    rule: &'r Rule,
    /// Index of the text field (0 for single-text messages).
    pub field: usize,
    /// Start byte offset in the original text of that field.
    pub start: usize,
    /// End byte offset in the original text of that field.
    pub end: usize,
    /// How many separate places the rule fired at in the message.
    pub count: u32,
    /// The severity of a `#! bulk:` threshold the message reached (the
    /// lowest where none did): the list's own is read from the rule only
    /// when asked, as a hit's rule is a cache miss on a large list and a
    /// scan that counts hits never asks.
    raised_to: Severity,
}

impl<'r> Hit<'r> {
    /// The entry as written (`@cn_id_card` for a detector, the whole rule for a
    /// combination).
    pub fn term(&self) -> &'r str {
        &self.rule.term
    }
    /// The category of the list.
    pub fn category(&self) -> &'r str {
        &self.rule.category
    }
    /// The severity of the hit: its list's, or where the message holds
    /// enough of the list's values for its `#! bulk:` threshold
    /// ([`Findings::bulk`]), the threshold's.
    pub fn severity(&self) -> Severity {
        self.rule.severity.max(self.raised_to)
    }
    /// The full rule.
    pub fn rule(&self) -> &'r Rule {
        self.rule
    }
    /// Raises the hit's severity to at least `severity`: a timed `#!
    /// bulk:` threshold reached over the sender's recent messages.
    pub(crate) fn raise_to(&mut self, severity: Severity) {
        self.raised_to = self.raised_to.max(severity);
    }
    /// How the match was written unlike the rule (`内*幕*消*息`: separators),
    /// given the original text of its field; see [`crate::evasion`].
    pub fn evasions(&self, field_text: &str) -> Vec<crate::evasion::Evasion> {
        crate::evasion::evasions(self.rule, field_text, self.start..self.end)
    }
    /// How sure a detector's hit is that it found what the detector names
    /// (`medium`: a card's number with no word naming a card near it), and
    /// the word it rests on, given the original texts of the message's
    /// fields in the order they were scanned; `None` for every other rule.
    /// Its first place's, or where the rule fired at several, the highest
    /// of its detector's places in the message: a word naming one of them
    /// says what they are (`13812345678 转给他，… 我的电话 13912345678`).
    /// See [`crate::detect::assess`].
    pub fn assess(&self, field_texts: &[&str]) -> Option<Assessment> {
        let detector = self.rule.detector()?;
        let first = assess(detector, field_texts.get(self.field)?, self.start..self.end);
        if first.confidence == Confidence::High || self.count < 2 {
            return Some(first);
        }
        let named_elsewhere = field_texts.iter().find_map(|text| {
            (detect::find(text, &[detector]).into_iter())
                .map(|d| assess(detector, text, d.start..d.end))
                .find(|a| a.confidence == Confidence::High)
        });
        Some(named_elsewhere.unwrap_or(first))
    }
}

/// All hits of one message.
#[derive(Debug, Clone, Default)]
pub struct Findings<'r> {
    /// Distinct (term, category) hits, ordered by field and position.
    pub hits: Vec<Hit<'r>>,
    /// True when more distinct hits were found than the configured maximum.
    pub truncated: bool,
    /// The lists with a `#! bulk:` threshold that have hits in the message,
    /// in category order, with their count of distinct values; the hits of
    /// those that reached it ([`BulkFinding::reached`]) have their
    /// [`Hit::severity`] raised.
    pub bulk: Vec<BulkFinding<'r>>,
    /// The distinct values' keys of the lists in `bulk` whose threshold
    /// looks back over time (`within`), for the judge's
    /// [`crate::tally::BulkTally`].
    pub(crate) timed_values: Vec<(&'r str, Vec<u64>)>,
}

/// A list with a volume threshold (`#! bulk:`, [`Bulk`]) and how many of
/// its values one message holds.
///
/// ```
/// use wordwarden::lists::{Severity, WordListSet};
/// use wordwarden::ruleset::Ruleset;
///
/// let lists = WordListSet::from_sources(vec![(
///     "pii.txt".into(),
///     "#! severity: high\n#! bulk: 3 critical\n@cn_mobile\n".into(),
/// )]);
/// let rs = Ruleset::builder().build(&lists).unwrap();
/// // one number three times is one value
/// let once = rs.scan_fields(&["13812345678 13812345678 13812345678"]);
/// assert_eq!((once.bulk[0].values, once.bulk[0].reached()), (1, false));
/// assert_eq!(once.hits[0].severity(), Severity::High);
/// // three numbers, however written, are three
/// let three = rs.scan_fields(&["13812345678 139-1234-5678 一三七一二三四五六七八"]);
/// assert_eq!((three.bulk[0].category, three.bulk[0].values), ("pii", 3));
/// assert!(three.bulk[0].reached());
/// assert_eq!(three.hits[0].severity(), Severity::Critical);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkFinding<'r> {
    /// The list's category.
    pub category: &'r str,
    /// How many distinct values of the list the message holds.
    pub values: u32,
    /// The list's threshold.
    pub bulk: Bulk,
}

impl BulkFinding<'_> {
    /// Whether the message holds enough values for the threshold, which
    /// raised the list's hits to its severity.
    pub fn reached(&self) -> bool {
        self.values >= self.bulk.at_least
    }
}

/// Counts describing a compiled ruleset.
#[derive(Debug, Clone, Serialize)]
pub struct RulesetStats {
    /// Terms (including combination parts and allow phrases) in the automata.
    pub patterns: usize,
    /// Reportable rules per category.
    pub rules_per_category: std::collections::BTreeMap<String, usize>,
    /// Allow phrases.
    pub allow_phrases: usize,
    /// Regular expressions.
    pub regexes: usize,
    /// Detectors in use.
    pub detectors: Vec<String>,
    /// The volume thresholds (`#! bulk:`) by category.
    pub bulk: std::collections::BTreeMap<String, Bulk>,
    /// The people groups (`*.people`) and how many ids each holds.
    pub people_groups: std::collections::BTreeMap<String, usize>,
    /// Approximate heap bytes of the automata.
    pub automaton_bytes: usize,
}

/// Errors compiling a ruleset.
#[derive(Debug, thiserror::Error)]
pub enum RulesetError {
    /// The list directory could not be read.
    #[error(transparent)]
    Io(#[from] ListError),
    /// The lists have errors; nothing was compiled.
    #[error("word lists have {} error(s), first: {}", .0.len(), .0.first().map(|d| d.to_string()).unwrap_or_default())]
    Invalid(Vec<Diagnostic>),
    /// The automaton could not be built (too many or too long patterns).
    #[error("cannot build the automaton: {0}")]
    Automaton(String),
}

impl RulesetError {
    /// The diagnostics behind an [`RulesetError::Invalid`].
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            RulesetError::Invalid(d) => d,
            _ => &[],
        }
    }
}

/// A compiled, immutable word-list set. Cheap to share between threads.
pub struct Ruleset {
    pub(crate) version: String,
    pub(crate) rules: Vec<Rule>,
    pub(crate) allows: Vec<matchers::AllowPhrase>,
    pub(crate) combos: Vec<matchers::Combo>,
    pub(crate) folded: Option<matchers::FoldedMatcher>,
    /// The homophone keys of `#! homophones: on` lists, matched against a
    /// field's homophone reading ([`crate::fold::homophone`]).
    pub(crate) homophones: Option<matchers::FoldedMatcher>,
    pub(crate) exact: Option<matchers::ExactMatcher>,
    pub(crate) regex_folded: Option<matchers::RegexGroup>,
    pub(crate) regex_exact: Option<matchers::RegexGroup>,
    pub(crate) detectors: Vec<(Detector, u32)>,
    /// One-word Latin terms of the folded lists, for words hiding letters
    /// behind `*`.
    pub(crate) masked: Option<masked::MaskedTerms>,
    pub(crate) detector_kinds: Vec<Detector>,
    /// The lists with a volume threshold (`#! bulk:`), by category.
    pub(crate) bulk: Vec<(Arc<str>, Bulk)>,
    /// Some list watches only some messages (`#! audience: external`,
    /// `#! people:`), so a message's conversation matters to its scan.
    pub(crate) scoped: bool,
    /// The members of the people groups, for [`Ruleset::conversation`].
    pub(crate) people: PeopleIndex,
    pub(crate) options: build::Options,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) stats: RulesetStats,
}

impl std::fmt::Debug for Ruleset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ruleset")
            .field("version", &self.version)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Ruleset {
    /// A builder with default options.
    pub fn builder() -> RulesetBuilder {
        RulesetBuilder::new()
    }

    /// Loads and compiles a list directory with default options.
    pub fn from_dir(dir: &std::path::Path) -> Result<Ruleset, RulesetError> {
        let lists = crate::lists::WordListSet::load_dir(dir)?;
        RulesetBuilder::new().build_from(lists)
    }

    /// The content hash of the lists it was compiled from.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every reportable rule.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Warnings found while compiling (duplicates, single-character terms).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Counts for status pages and metrics.
    pub fn stats(&self) -> &RulesetStats {
        &self.stats
    }

    /// Whether some list watches only some messages (`#! audience:`,
    /// `#! people:`), so that a message's [`Conversation`] changes what it
    /// hits ([`Scanner::scan_for`]).
    pub fn is_scoped(&self) -> bool {
        self.scoped
    }

    /// Whether the set has people groups (`*.people`), so that a message's
    /// sender and recipients are worth looking up ([`Ruleset::conversation`]).
    pub fn has_people_groups(&self) -> bool {
        !self.people.is_empty()
    }

    /// The conversation of a message between `sender` and `recipients`
    /// (their ids) of `audience`: which of the set's people groups each
    /// side belongs to, for lists with `#! people:` ([`crate::people`]).
    pub fn conversation<'a>(
        &self,
        audience: Audience,
        sender: Option<&str>,
        recipients: impl IntoIterator<Item = &'a str>,
    ) -> Conversation {
        self.people.conversation(audience, sender, recipients)
    }

    /// Every (people group, id) pair, ids lowercased, in no order: what a
    /// reload's audit record compares.
    #[cfg(feature = "engine")]
    pub(crate) fn people_members(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.people.members()
    }

    /// The names of the people groups the sender and the recipients of
    /// `conversation` are in (each side's in the groups' order).
    pub fn groups_of(&self, conversation: &Conversation) -> (Vec<&str>, Vec<&str>) {
        self.people.groups_of(conversation)
    }

    /// Finds every hit in one text.
    pub fn find(&self, text: &str) -> Vec<Hit<'_>> {
        self.scanner().scan(&[text]).hits
    }

    /// Finds every hit across the text fields of one message (combination
    /// rules see all fields together).
    pub fn scan_fields<S: AsRef<str>>(&self, fields: &[S]) -> Findings<'_> {
        self.scanner().scan(fields)
    }

    /// A scanner that reuses its buffers between messages (one per thread).
    pub fn scanner(&self) -> Scanner<'_> {
        Scanner::new(self)
    }

    /// A scanner that uses buffers kept from an earlier scanner.
    pub fn scanner_with(&self, buffers: ScanBuffers) -> Scanner<'_> {
        Scanner::with_buffers(self, buffers)
    }
}
