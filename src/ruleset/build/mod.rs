//! Compiling a [`WordListSet`] into a [`Ruleset`].

mod keys;
mod pinyin;
mod pinyin_alternates;
mod regexes;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::automaton::{CharAutomaton, KeyLength, SortedKeys};
use super::matchers::{AllowPhrase, Combo, ExactAutomaton, ExactMatcher, FoldedMatcher};
use super::pair_filter::PairFilter;
use super::patterns::{Alt, PatternTable, Target, NO_RUNS};
use super::prefix_filter::PrefixFilter;
use super::{Rule, RuleKind, Ruleset, RulesetError, RulesetStats, Scope};
use crate::audience::AudienceScope;
use crate::detect::Detector;
use crate::fold::{fold_char, fold_term, is_word_char, FoldEntry};
use crate::lists::{
    entry_text, Bulk, Combination, Diagnostic, Entry, EntryKind, Level, ListFile, MatchMode,
    Pinyin, WordListSet,
};
use crate::people::{PeopleGroup, PeopleIndex};
use keys::{folded_chars, key_from_chars, term_key, FoldedKey, KeyArena, KeyRef};
use pinyin::pinyin_variants;
use regexes::{build_regexes, folded_regex};

/// Compile options.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub pinyin: bool,
    pub stretch: bool,
    pub max_hits: usize,
    pub regex_size_limit: usize,
    pub max_combinations: usize,
    pub max_regexes: usize,
    /// Every list as `#! match: exact`: no folding, no pinyin.
    pub raw: bool,
    /// Build the Chinese and the ASCII automata side by side.
    pub parallel: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pinyin: true,
            stretch: true,
            max_hits: 100,
            regex_size_limit: 1 << 20,
            max_combinations: 10_000,
            max_regexes: 1_000,
            raw: false,
            parallel: true,
        }
    }
}

/// Builds a [`Ruleset`] from a [`WordListSet`].
///
/// ```
/// use wordwarden::lists::WordListSet;
/// use wordwarden::ruleset::Ruleset;
///
/// let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕\n".into())]);
/// let rs = Ruleset::builder().pinyin(false).max_hits(10).build(&lists).unwrap();
/// assert_eq!(rs.find("neimu").len(), 0);
/// assert_eq!(rs.find("内幕").len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RulesetBuilder {
    options: Options,
}

impl RulesetBuilder {
    /// Default options: pinyin variants and stretch folding on, 100 hits per
    /// message, 1 MiB per compiled regex, 10,000 combination rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also match the toneless pinyin of Chinese terms of 2-4 characters
    /// (`neimu` for 内幕), with word boundaries. Default on; a list can turn
    /// it off with `#! pinyin: off`.
    pub fn pinyin(mut self, on: bool) -> Self {
        self.options.pinyin = on;
        self
    }

    /// Collapse repeated characters (`老老鼠鼠仓仓` matches 老鼠仓); terms that
    /// repeat a character themselves still need at least that many. Default on.
    pub fn stretch(mut self, on: bool) -> Self {
        self.options.stretch = on;
        self
    }

    /// Most distinct hits reported per message; more set `truncated`.
    pub fn max_hits(mut self, n: usize) -> Self {
        self.options.max_hits = n.max(1);
        self
    }

    /// Compiled size limit of each regular expression, in bytes.
    pub fn regex_size_limit(mut self, bytes: usize) -> Self {
        self.options.regex_size_limit = bytes;
        self
    }

    /// Most combination rules a set may hold.
    pub fn max_combinations(mut self, n: usize) -> Self {
        self.options.max_combinations = n;
        self
    }

    /// Match every list as written, as if each file said `#! match: exact`:
    /// no folding, no pinyin, no stretch; word boundaries, allow phrases,
    /// combinations, regexes and detectors still apply. For lists of exact
    /// identifiers, and to measure what folding costs (`wordwarden bench
    /// --mode raw`). Default off.
    ///
    /// ```
    /// use wordwarden::lists::WordListSet;
    /// use wordwarden::ruleset::RulesetBuilder;
    ///
    /// let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕消息".into())]);
    /// let raw = RulesetBuilder::new().raw(true).build(&lists).unwrap();
    /// assert_eq!(raw.scanner().scan(&["有内幕消息"]).hits.len(), 1);
    /// // traditional characters are not folded in raw mode
    /// assert!(raw.scanner().scan(&["有內幕消息"]).hits.is_empty());
    /// ```
    pub fn raw(mut self, on: bool) -> Self {
        self.options.raw = on;
        self
    }

    /// Build the automaton of Chinese keys and the one of all-ASCII keys
    /// (pinyin variants, Latin terms) on two threads. Default on. Off, they
    /// build one after the other, leaving the other core to scanning, as
    /// reloads do. With `daachorse`'s builder, whose working memory was
    /// several times its automaton, that choice mattered (1M terms: 2.4-2.6 s
    /// parallel against 3.6-4.9 s alone; beside a scanning core a peak of
    /// 1,185-1,230 MiB parallel against 1,069-1,121). The own builder is
    /// fast enough that parallel no longer saves time in a reload, and
    /// one after the other frees the first automaton's key list before the
    /// second is built: reload bench, 1M terms, peak 562 MiB parallel
    /// against 528-530 (2.06x against 1.94x the steady state), compile
    /// 1.6 s both ways.
    ///
    /// ```
    /// use wordwarden::lists::WordListSet;
    /// use wordwarden::ruleset::RulesetBuilder;
    ///
    /// let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕\n".into())]);
    /// let rs = RulesetBuilder::new().parallel(false).build(&lists).unwrap();
    /// assert_eq!(rs.find("neimu").len(), 1);
    /// ```
    pub fn parallel(mut self, on: bool) -> Self {
        self.options.parallel = on;
        self
    }

    /// Compiles the set. Fails with every error diagnostic when the set has
    /// parse or compile errors; warnings are kept on the ruleset.
    pub fn build(&self, lists: &WordListSet) -> Result<Ruleset, RulesetError> {
        let version = lists.version().to_string();
        let files = lists.files().iter().map(Cow::Borrowed);
        self.compile_files(lists.diagnostics(), lists.groups(), version, files)
    }

    /// Like [`build`](Self::build), but consumes the lists: each entry's
    /// written text moves into its rule instead of being copied, and each
    /// file is freed once its entries are compiled, before the automata are
    /// built. For callers that do not need the lists afterwards (the engine
    /// at start and on every reload).
    ///
    /// ```
    /// use wordwarden::lists::WordListSet;
    /// use wordwarden::ruleset::RulesetBuilder;
    ///
    /// let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕消息".into())]);
    /// let ruleset = RulesetBuilder::new().build_from(lists).unwrap();
    /// assert_eq!(ruleset.rules().len(), 1);
    /// ```
    pub fn build_from(&self, lists: WordListSet) -> Result<Ruleset, RulesetError> {
        let (diagnostics, version) = (lists.diagnostics().to_vec(), lists.version().to_string());
        let groups = lists.groups().to_vec();
        let files = lists.into_files().into_iter().map(Cow::Owned);
        self.compile_files(&diagnostics, &groups, version, files)
    }

    /// The compile behind [`build`](Self::build) and
    /// [`build_from`](Self::build_from): borrowed or owned files. An owned
    /// file's entries are consumed as they are compiled (each term's text
    /// moves into its rule) and the file is dropped before the next.
    fn compile_files<'a>(
        &self,
        diagnostics: &[Diagnostic],
        groups: &[PeopleGroup],
        version: String,
        files: impl IntoIterator<Item = Cow<'a, ListFile>>,
    ) -> Result<Ruleset, RulesetError> {
        let mut c = Compiler::new(self.options.clone());
        c.people = PeopleIndex::new(groups);
        c.people_groups = groups
            .iter()
            .map(|g| (g.name.clone(), g.ids.len()))
            .collect();
        c.diags.extend(diagnostics.iter().cloned());
        for file in files {
            match file {
                Cow::Borrowed(f) => c.add_file(f, f.entries.iter().cloned()),
                Cow::Owned(mut f) => {
                    let entries = std::mem::take(&mut f.entries);
                    c.add_file(&f, entries.into_iter());
                }
            }
        }
        c.finish(version)
    }
}

/// A pattern waiting for its automaton. Kept small (its key lives in the
/// compiler's [`KeyArena`], its origin is two numbers): a 1M-term set with
/// pinyin holds about two million of these at the compile's peak.
struct PendingPattern {
    key: KeyRef,
    units: u32,
    bound_start: bool,
    bound_end: bool,
    alt: Alt,
    /// Where it was written, for duplicate warnings.
    origin: Origin,
    seq: u32,
}

/// A list file (index into [`Compiler::files`]) and a 1-based line.
#[derive(Clone, Copy)]
struct Origin {
    file: u32,
    line: u32,
}

struct Compiler {
    options: Options,
    rules: Vec<Rule>,
    allows: Vec<AllowPhrase>,
    combos: Vec<Combo>,
    folded: Vec<PendingPattern>,
    exact: Vec<PendingPattern>,
    /// The homophone keys of `#! homophones: on` lists' terms and allow
    /// phrases: their characters' representatives ([`crate::fold::homophone`]).
    homophones: Vec<PendingPattern>,
    /// Run lengths of the folded alts that have them ([`Alt::runs`]).
    runs: Vec<u16>,
    /// The pending patterns' keys.
    keys: KeyArena,
    /// The list files' paths, by [`Origin::file`].
    files: Vec<Arc<str>>,
    regex_folded: Vec<(String, u32)>,
    regex_exact: Vec<(String, u32)>,
    detectors: Vec<(Detector, u32)>,
    /// The lists with a volume threshold (`#! bulk:`), by category.
    bulk: Vec<(Arc<str>, Bulk)>,
    masked: super::masked::MaskedTerms,
    /// The members of the set's people groups.
    people: PeopleIndex,
    /// The groups' sizes, for the stats.
    people_groups: std::collections::BTreeMap<String, usize>,
    diags: Vec<Diagnostic>,
}

/// Terms with fewer Chinese characters than this get no homophones: a
/// syllable has dozens of characters, and two-character terms' homophones
/// are everyday words (`非但` for `飞单`, `去四` for `去死`: 93 chance hits
/// on the bundled lists over a 30 MB chat sample, against 8 hits without).
/// Such homophones are listed as terms (`涩情`).
const HOMOPHONES_MIN_CHARS: usize = 3;

impl Compiler {
    fn new(options: Options) -> Self {
        Compiler {
            options,
            rules: Vec::new(),
            allows: Vec::new(),
            combos: Vec::new(),
            folded: Vec::new(),
            exact: Vec::new(),
            homophones: Vec::new(),
            runs: Vec::new(),
            keys: KeyArena::default(),
            files: Vec::new(),
            regex_folded: Vec::new(),
            regex_exact: Vec::new(),
            detectors: Vec::new(),
            bulk: Vec::new(),
            masked: Default::default(),
            people: PeopleIndex::default(),
            people_groups: Default::default(),
            diags: Vec::new(),
        }
    }

    fn diag(&mut self, file: &str, line: usize, level: Level, code: &'static str, message: String) {
        self.diags.push(Diagnostic {
            file: file.to_string(),
            line,
            level,
            code,
            message,
        });
    }

    /// Stores a pending key; a compile error (once) and `None` for a list
    /// set whose keys pass 4 GiB.
    fn key(&mut self, key: &str, origin: Origin) -> Option<KeyRef> {
        let stored = self.keys.push(key);
        if stored.is_none() && !self.diags.iter().any(|d| d.code == "too-large") {
            let file = self.files.get(origin.file as usize).cloned();
            self.diag(
                file.as_deref().unwrap_or(""),
                origin.line as usize,
                Level::Error,
                "too-large",
                "the word lists' terms pass 4 GiB; split the set across instances".into(),
            );
        }
        stored
    }

    /// Stores run lengths in the run table; where they start.
    fn store_runs(&mut self, runs: Option<Box<[u16]>>) -> u32 {
        let Some(runs) = runs else {
            return NO_RUNS;
        };
        // at most one run a key character, and the keys fit in 4 GiB
        let start = u32::try_from(self.runs.len()).unwrap_or(NO_RUNS);
        self.runs.extend_from_slice(&runs);
        start
    }

    /// Adds the homophone key of `text`, a term or allow phrase of a
    /// `#! homophones: on` list, if it has [`HOMOPHONES_MIN_CHARS`] Chinese
    /// characters or more. The key does not stretch (the walk over
    /// homophones does not).
    fn add_homophone(&mut self, text: &str, target: Target, origin: Origin) {
        let chars: Vec<char> = folded_chars(text)
            .into_iter()
            .map(crate::fold::homophone)
            .collect();
        let chinese = chars
            .iter()
            .filter(|&&c| crate::fold::is_chinese(c))
            .count();
        if chinese < HOMOPHONES_MIN_CHARS {
            return;
        }
        if let Some(p) = self.pending(key_from_chars(&chars, false), target, false, origin) {
            self.homophones.push(p);
        }
    }

    /// A folded key (from [`key_from_chars`]) as a pattern for `target`,
    /// its key and run lengths stored; `None` when the key cannot be stored
    /// (a diagnostic says why).
    fn pending(
        &mut self,
        (key, units, runs, bound_start, bound_end): FoldedKey,
        target: Target,
        pinyin: bool,
        origin: Origin,
    ) -> Option<PendingPattern> {
        let key = self.key(&key, origin)?;
        Some(PendingPattern {
            key,
            units,
            bound_start,
            bound_end,
            alt: Alt {
                runs: self.store_runs(runs),
                target,
                pinyin,
            },
            origin,
            seq: 0,
        })
    }

    fn add_pattern(
        &mut self,
        text: &str,
        (mode, pinyin): (MatchMode, Pinyin),
        target: Target,
        origin: Origin,
    ) -> bool {
        match mode {
            MatchMode::Fold => {
                let chars = folded_chars(text);
                let folded_key = key_from_chars(&chars, self.options.stretch);
                if folded_key.0.is_empty() {
                    return false;
                }
                let pinyin = match target {
                    Target::Rule(_) if self.options.pinyin => pinyin,
                    _ => Pinyin::Off,
                };
                for variant in pinyin_variants(&chars, pinyin) {
                    // an end in pinyin needs a word boundary, an end in
                    // characters (a mixed variant's) none
                    let variant_key = term_key(&variant, self.options.stretch);
                    let Some(p) = self.pending(variant_key, target, true, origin) else {
                        return true;
                    };
                    self.folded.push(p);
                }
                if let Some(p) = self.pending(folded_key, target, false, origin) {
                    self.folded.push(p);
                }
                true
            }
            MatchMode::Exact => {
                if text.is_empty() {
                    return false;
                }
                let first = text.chars().next().map(fold_first).unwrap_or(' ');
                let last = text.chars().next_back().map(fold_first).unwrap_or(' ');
                let Some(key) = self.key(text, origin) else {
                    return true;
                };
                self.exact.push(PendingPattern {
                    key,
                    units: text.chars().count() as u32,
                    bound_start: is_word_char(first),
                    bound_end: is_word_char(last),
                    alt: Alt {
                        runs: NO_RUNS,
                        target,
                        pinyin: false,
                    },
                    origin,
                    seq: 0,
                });
                true
            }
        }
    }

    /// Compiles `entries`, the entries of `file` (whose own `entries` are
    /// not read: an owned file's are taken out to be consumed).
    fn add_file(&mut self, file: &ListFile, entries: impl Iterator<Item = Entry>) {
        let category: Arc<str> = Arc::from(file.category.as_str());
        let path: Arc<str> = Arc::from(file.path.as_str());
        let file_index = self.files.len() as u32;
        self.files.push(path.clone());
        if let Some(bulk) = file.bulk {
            self.bulk.push((category.clone(), bulk));
        }
        // one scope a file, shared by its rules
        let scope = Arc::new(Scope {
            people: file.people.clone(),
            window: file.window,
        });
        let match_mode = if self.options.raw {
            MatchMode::Exact
        } else {
            file.match_mode
        };
        let pinyin = if self.options.raw {
            Pinyin::Off
        } else {
            file.pinyin
        };
        let mode = (match_mode, pinyin);
        let homophones = file.homophones && match_mode == MatchMode::Fold;
        // room for every entry's rule and patterns (a term and its pinyin)
        // at once: grown by doubling, a 1M-term list's tables were copied
        // into fresh memory again and again, a sixth of the compile spent
        // on those copies and on the kernel zeroing the pages they landed on
        let entries_hint = entries.size_hint().0;
        self.rules.reserve(entries_hint);
        let (pending, patterns_hint) = match match_mode {
            MatchMode::Fold => (
                &mut self.folded,
                entries_hint * (1 + usize::from(pinyin != Pinyin::Off)),
            ),
            MatchMode::Exact => (&mut self.exact, entries_hint),
        };
        pending.reserve(patterns_hint);
        // keys of a few characters (a CJK character is 3 bytes, a pinyin
        // syllable up to 6); longer ones grow it as before
        self.keys.reserve(patterns_hint * 24);
        for entry in entries {
            let Entry {
                line,
                written,
                kind,
            } = entry;
            let origin = Origin {
                file: file_index,
                line: u32::try_from(line).unwrap_or(u32::MAX),
            };
            let rule = |kind, term| Rule {
                term,
                category: category.clone(),
                severity: file.severity,
                audience: file.audience,
                scope: scope.clone(),
                kind,
                file: path.clone(),
                line,
            };
            match &kind {
                EntryKind::Term => {
                    let id = self.rules.len() as u32;
                    let term = entry_text(&kind, &written);
                    if self.add_pattern(term, mode, Target::Rule(id), origin) {
                        if match_mode == MatchMode::Fold {
                            self.masked.add(term, id);
                            if let Some(edge) = noise_at_edge(term) {
                                self.diag(
                                    &file.path,
                                    line,
                                    Level::Warning,
                                    "noise-at-edge",
                                    format!(
                                        "term {term:?} {edge}, which folding skips: it matches \
                                         where {:?} does, and alerts name it as written; \
                                         leave it out, or match it as written (`#! match: \
                                         exact`, `re:`)",
                                        fold_term(term)
                                    ),
                                );
                            }
                        }
                        if homophones {
                            self.add_homophone(term, Target::Rule(id), origin);
                        }
                        self.rules.push(rule(RuleKind::Term, written));
                    } else {
                        self.diag(
                            &file.path,
                            line,
                            Level::Error,
                            "empty-term",
                            format!("term {:?} is empty after folding (only noise or invisible characters)", written),
                        );
                    }
                }
                EntryKind::Allow => {
                    let id = self.allows.len() as u32;
                    let phrase = entry_text(&kind, &written);
                    if self.add_pattern(phrase, mode, Target::Allow(id), origin) {
                        if homophones {
                            self.add_homophone(phrase, Target::Allow(id), origin);
                        }
                        self.allows.push(AllowPhrase {
                            written,
                            file: path.clone(),
                            line,
                        });
                    } else {
                        self.diag(
                            &file.path,
                            line,
                            Level::Error,
                            "empty-term",
                            format!("allow phrase {:?} is empty after folding", written),
                        );
                    }
                }
                EntryKind::Combination(combination) => {
                    let Combination { all, none, within } = &**combination;
                    if self.combos.len() >= self.options.max_combinations {
                        self.diag(
                            &file.path,
                            line,
                            Level::Error,
                            "too-many-combinations",
                            format!(
                                "more than {} combination rules",
                                self.options.max_combinations
                            ),
                        );
                        continue;
                    }
                    let combo = self.combos.len() as u32;
                    // the part the rule cannot be without is index 0, the
                    // only `&` part that makes a field worth walking in full
                    // (Alt::is_quiet): the longest, the likeliest to be rare
                    // (`用 & signal`: signal, not 用)
                    let first = (0..all.len())
                        .rev()
                        .max_by_key(|&i| all[i].chars().count())
                        .unwrap_or(0);
                    let idx_of = |i: usize| match i.cmp(&first) {
                        std::cmp::Ordering::Less => i + 1,
                        std::cmp::Ordering::Equal => 0,
                        std::cmp::Ordering::Greater => i,
                    };
                    let parts = all
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (p, false, idx_of(i)))
                        .chain(none.iter().enumerate().map(|(i, p)| (p, true, i)));
                    let mut ok = true;
                    for (part, negated, idx) in parts {
                        let idx = idx as u16;
                        let target = Target::Part {
                            combo,
                            negated,
                            idx,
                        };
                        if !self.add_pattern(part, mode, target, origin) {
                            ok = false;
                            self.diag(
                                &file.path,
                                line,
                                Level::Error,
                                "empty-term",
                                format!("combination part {part:?} is empty after folding"),
                            );
                        }
                    }
                    if ok {
                        let rule_id = self.rules.len() as u32;
                        self.rules.push(rule(RuleKind::Combination, written));
                        self.combos.push(Combo {
                            rule: rule_id,
                            all: all.len() as u16,
                            within: *within,
                        });
                    } else {
                        // keep combo ids dense: a failed rule still takes its slot
                        self.combos.push(Combo {
                            rule: u32::MAX,
                            all: u16::MAX,
                            within: None,
                        });
                    }
                }
                EntryKind::Regex => {
                    let re = entry_text(&kind, &written);
                    let (pattern, matches_nothing) = if match_mode == MatchMode::Fold {
                        // the text regexes see is lowercased: case-insensitive,
                        // `Project` still finds `PROJECT`
                        folded_regex(re)
                    } else {
                        (re.to_string(), false)
                    };
                    let limit = self.options.regex_size_limit;
                    match regex::RegexBuilder::new(&pattern)
                        .size_limit(limit)
                        .dfa_size_limit(limit)
                        .build()
                    {
                        Ok(_) => {
                            if matches_nothing {
                                self.diag(
                                    &file.path,
                                    line,
                                    Level::Warning,
                                    "regex-matches-nothing",
                                    format!(
                                        "regex {re} can match no text: folded lists see lowercase, width-folded text, and it asks for upper case in a case-sensitive part (or for nothing at all)"
                                    ),
                                );
                            }
                            let n = self.regex_folded.len() + self.regex_exact.len();
                            if n >= self.options.max_regexes {
                                self.diag(
                                    &file.path,
                                    line,
                                    Level::Error,
                                    "too-many-regexes",
                                    format!(
                                        "more than {} regular expressions",
                                        self.options.max_regexes
                                    ),
                                );
                                continue;
                            }
                            let id = self.rules.len() as u32;
                            self.rules.push(rule(RuleKind::Regex, written));
                            match match_mode {
                                MatchMode::Fold => self.regex_folded.push((pattern, id)),
                                MatchMode::Exact => self.regex_exact.push((pattern, id)),
                            }
                        }
                        Err(e) => {
                            let msg = e
                                .to_string()
                                .lines()
                                .last()
                                .unwrap_or("")
                                .trim()
                                .to_string();
                            self.diag(
                                &file.path,
                                line,
                                Level::Error,
                                "bad-regex",
                                format!("invalid regular expression {re:?}: {msg}"),
                            );
                        }
                    }
                }
                EntryKind::Detector(d) => {
                    let id = self.rules.len() as u32;
                    self.rules.push(rule(RuleKind::Detector, written));
                    self.detectors.push((*d, id));
                }
            }
        }
    }

    /// Duplicate and single-character warnings. Expects `folded` and `exact`
    /// sorted by key (stable, so the first of equal keys is the earlier line).
    fn duplicate_and_flood_warnings(&mut self) {
        let mut warnings = Vec::new();
        let keys = &self.keys;
        let path = |o: Origin| self.files.get(o.file as usize).map_or("", |f| &**f);
        for list in [&self.folded, &self.exact] {
            let mut i = 0;
            while i < list.len() {
                let mut j = i + 1;
                while j < list.len() && keys.get(list[j].key) == keys.get(list[i].key) {
                    j += 1;
                }
                let group = &list[i..j];
                for (k, p) in group.iter().enumerate() {
                    let Target::Rule(r) = p.alt.target else {
                        continue;
                    };
                    let rule = &self.rules[r as usize];
                    if p.alt.pinyin || rule.kind != RuleKind::Term {
                        continue;
                    }
                    let earlier = group[..k].iter().find(|q| match q.alt.target {
                        Target::Rule(qr) => {
                            !q.alt.pinyin
                                && q.alt.runs(&self.runs, q.units)
                                    == p.alt.runs(&self.runs, p.units)
                                && self.rules[qr as usize].kind == RuleKind::Term
                                && self.rules[qr as usize].category == rule.category
                        }
                        _ => false,
                    });
                    let warn = |code, message| Diagnostic {
                        file: path(p.origin).to_string(),
                        line: p.origin.line as usize,
                        level: Level::Warning,
                        code,
                        message,
                    };
                    if let Some(first) = earlier {
                        warnings.push(warn(
                            "duplicate-term",
                            format!(
                                "{:?} is the same as {}:{} after folding",
                                rule.term,
                                path(first.origin),
                                first.origin.line
                            ),
                        ));
                    }
                    if p.units == 1 && p.alt.runs == NO_RUNS {
                        warnings.push(warn(
                            "single-char-term",
                            format!(
                                "{:?} is a single character after folding and will flood alerts; write the phrases it appears in",
                                rule.term
                            ),
                        ));
                    }
                }
                i = j;
            }
        }
        self.diags.extend(warnings);
    }

    fn finish(mut self, version: String) -> Result<Ruleset, RulesetError> {
        // unstable sort with the insertion order as tie-break: the first of
        // equal keys stays the earlier line, without merge sort's copying
        let keys = &self.keys;
        for list in [&mut self.folded, &mut self.exact, &mut self.homophones] {
            for (i, p) in list.iter_mut().enumerate() {
                p.seq = i as u32;
            }
            list.sort_unstable_by(|a, b| keys.order(a.key, b.key).then(a.seq.cmp(&b.seq)));
        }
        self.duplicate_and_flood_warnings();
        let (errors, warnings): (Vec<_>, Vec<_>) = std::mem::take(&mut self.diags)
            .into_iter()
            .partition(|d| d.level == Level::Error);
        if !errors.is_empty() {
            return Err(RulesetError::Invalid(errors));
        }
        let pattern_count = self.folded.len() + self.exact.len() + self.homophones.len();
        // each automaton's keys copied out in order, so the arena (every key,
        // in insertion order) is gone before the automata are built
        let folded_keys = group_folded(std::mem::take(&mut self.folded), &self.keys)?;
        let exact_keys = group_exact(std::mem::take(&mut self.exact), &self.keys)?;
        let homophone_keys = group_folded(std::mem::take(&mut self.homophones), &self.keys)?;
        self.keys = KeyArena::default();
        // (their alts' run lengths index the same table)
        let homophones = match homophone_keys.patterns.is_empty() {
            true => None,
            false => build_folded(homophone_keys, self.runs.clone(), self.options.parallel)?,
        };
        let folded = build_folded(
            folded_keys,
            std::mem::take(&mut self.runs),
            self.options.parallel,
        )?;
        let exact = build_exact(exact_keys)?;
        let regex_folded = build_regexes(&self.regex_folded, self.options.regex_size_limit)?;
        let regex_exact = build_regexes(&self.regex_exact, self.options.regex_size_limit)?;
        let mut detector_kinds: Vec<Detector> = self.detectors.iter().map(|d| d.0).collect();
        detector_kinds.sort();
        detector_kinds.dedup();

        let mut rules_per_category = BTreeMap::new();
        for r in &self.rules {
            *rules_per_category
                .entry(r.category.to_string())
                .or_insert(0) += 1;
        }
        let automaton_bytes = folded.as_ref().map_or(0, FoldedMatcher::heap_bytes)
            + homophones.as_ref().map_or(0, FoldedMatcher::heap_bytes)
            + exact.as_ref().map_or(0, |e| {
                e.automaton.heap_bytes() + e.prefixes.as_ref().map_or(0, PrefixFilter::heap_bytes)
            });
        let stats = RulesetStats {
            patterns: pattern_count,
            rules_per_category,
            allow_phrases: self.allows.len(),
            regexes: self.regex_folded.len() + self.regex_exact.len(),
            detectors: detector_kinds
                .iter()
                .map(|d| d.name().to_string())
                .collect(),
            bulk: self
                .bulk
                .iter()
                .map(|(category, bulk)| (category.to_string(), *bulk))
                .collect(),
            people_groups: std::mem::take(&mut self.people_groups),
            automaton_bytes,
        };
        let scoped = self
            .rules
            .iter()
            .any(|r| r.audience != AudienceScope::Any || !r.scope.is_everything());
        Ok(Ruleset {
            version,
            rules: self.rules,
            allows: self.allows,
            combos: self.combos,
            folded,
            homophones,
            exact,
            regex_folded,
            regex_exact,
            detectors: self.detectors,
            masked: (!self.masked.is_empty()).then_some(self.masked),
            detector_kinds,
            bulk: self.bulk,
            scoped,
            people: self.people,
            options: self.options,
            warnings,
            stats,
        })
    }
}

fn fold_first(c: char) -> char {
    match crate::fold::fold_char(c) {
        crate::fold::FoldEntry::One(d) => d,
        crate::fold::FoldEntry::Many(ds) => ds.first().copied().unwrap_or(' '),
        _ => ' ',
    }
}

/// Groups `pending` (sorted by key) into one pattern per distinct key with
/// all its meanings, and hands each distinct key, with its pattern index, to
/// `keep` in order.
fn group(
    pending: Vec<PendingPattern>,
    arena: &KeyArena,
    mut keep: impl FnMut(&str, u32) -> Result<(), RulesetError>,
) -> Result<PatternTable, RulesetError> {
    // at most one pattern a pending one (see `Compiler::add_file` on why
    // these tables are sized before they are filled)
    let mut table = PatternTable::with_capacity(pending.len());
    let mut last_key: Option<&str> = None;
    for p in pending {
        let key = arena.get(p.key);
        if last_key == Some(key) {
            table.push_meaning(p.alt);
            continue;
        }
        let id = table.push_pattern(p.units, p.bound_start, p.bound_end, p.alt)?;
        keep(key, id)?;
        last_key = Some(key);
    }
    Ok(table)
}

/// The folded patterns grouped, their keys split between the two automata.
struct FoldedKeys {
    patterns: PatternTable,
    wide: SortedKeys,
    ascii: SortedKeys,
}

/// The bytes of the pending patterns' keys (the arena also holds the other
/// matcher's): what their sorted key list is sized for.
fn key_bytes(pending: &[PendingPattern]) -> usize {
    pending.iter().map(|p| p.key.len as usize).sum()
}

fn group_folded(
    pending: Vec<PendingPattern>,
    arena: &KeyArena,
) -> Result<FoldedKeys, RulesetError> {
    // either may take every key: reserved address space, touched only as
    // filled
    let bytes = key_bytes(&pending);
    let (mut wide, mut ascii) = (
        SortedKeys::with_capacity(pending.len(), bytes),
        SortedKeys::with_capacity(pending.len(), bytes),
    );
    let patterns = group(pending, arena, |key, id| {
        if key.is_ascii() {
            ascii.push(key, id)
        } else {
            wide.push(key, id)
        }
    })?;
    wide.map_values(|id| patterns.automaton_value(id));
    ascii.map_values(|id| patterns.automaton_value(id));
    Ok(FoldedKeys {
        patterns,
        wide,
        ascii,
    })
}

fn build_folded(
    keys: FoldedKeys,
    runs: Vec<u16>,
    parallel: bool,
) -> Result<Option<FoldedMatcher>, RulesetError> {
    let FoldedKeys {
        patterns,
        wide,
        ascii,
    } = keys;
    if patterns.is_empty() {
        return Ok(None);
    }
    let wide_has_ascii = wide.iter().any(|k| k.chars().any(|c| c.is_ascii()));
    let wide_prefixes = PrefixFilter::new(wide.iter());
    let filler_pairs = PairFilter::new(wide.iter());
    let (wide, ascii) = if parallel {
        std::thread::scope(|s| {
            let ascii = s.spawn(|| CharAutomaton::build(&ascii, KeyLength::Chars));
            let wide = CharAutomaton::build(&wide, KeyLength::Chars);
            let ascii = ascii
                .join()
                .unwrap_or_else(|_| Err(RulesetError::Automaton("compile thread failed".into())));
            (wide, ascii)
        })
    } else {
        // each key list dropped once its automaton is built: the last
        // automaton's keys are all a reload holds beside two rulesets
        let built = CharAutomaton::build(&wide, KeyLength::Chars);
        drop(wide);
        (built, CharAutomaton::build(&ascii, KeyLength::Chars))
    };
    Ok(Some(FoldedMatcher {
        wide: wide?,
        ascii: ascii?,
        wide_has_ascii,
        wide_prefixes,
        filler_pairs,
        patterns,
        runs,
    }))
}

fn group_exact(
    pending: Vec<PendingPattern>,
    arena: &KeyArena,
) -> Result<(PatternTable, SortedKeys), RulesetError> {
    let mut keys = SortedKeys::with_capacity(pending.len(), key_bytes(&pending));
    let patterns = group(pending, arena, |key, id| keys.push(key, id))?;
    // (a byte automaton, for all-ASCII keys, reports key indexes instead:
    // the same as pattern ids, one pattern a key)
    keys.map_values(|id| patterns.automaton_value(id));
    Ok((patterns, keys))
}

fn build_exact(
    (patterns, keys): (PatternTable, SortedKeys),
) -> Result<Option<ExactMatcher>, RulesetError> {
    if keys.is_empty() {
        return Ok(None);
    }
    let automaton = if keys.iter().all(|k| k.is_ascii()) {
        ExactAutomaton::Bytes(
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::Standard)
                .build(keys.iter())
                .map_err(|e| RulesetError::Automaton(e.to_string()))?,
        )
    } else {
        // byte lengths: the exact walk reads the written text, so a match
        // starts at its end less its key's bytes
        match CharAutomaton::build(&keys, KeyLength::Bytes)? {
            Some(automaton) => ExactAutomaton::Chars(automaton),
            None => return Ok(None),
        }
    };
    let prefixes = match automaton {
        ExactAutomaton::Chars(_) => PrefixFilter::new(keys.iter()),
        ExactAutomaton::Bytes(_) => None,
    };
    Ok(Some(ExactMatcher {
        automaton,
        prefixes,
        patterns,
    }))
}

/// Where a folded term begins or ends with a character folding skips
/// (punctuation, symbols, emoji: `色情网站,`, `【内部】`, `c++`), what it
/// is, said for a warning: a comma left from an imported list, or a
/// symbol the maintainer meant to match, which the term then matches
/// without.
fn noise_at_edge(term: &str) -> Option<String> {
    let noise = |c: &char| matches!(fold_char(*c), FoldEntry::Noise);
    match (term.chars().next(), term.chars().next_back()) {
        (Some(first), _) if noise(&first) => Some(format!("begins with {first:?}")),
        (_, Some(last)) if noise(&last) => Some(format!("ends with {last:?}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key becomes one pattern holding all its meanings in the order
    /// they came, the first inline and the rest apart; the automaton's
    /// values count the patterns.
    #[test]
    fn grouping_keeps_every_meaning_of_a_key() {
        let mut arena = KeyArena::default();
        let pending: Vec<PendingPattern> =
            [("a", 0), ("a", 1), ("a", 2), ("b", 3), ("c", 4), ("c", 5)]
                .into_iter()
                .map(|(key, rule)| PendingPattern {
                    key: arena.push(key).expect("fits"),
                    units: 1,
                    bound_start: false,
                    bound_end: false,
                    alt: Alt {
                        runs: NO_RUNS,
                        target: Target::Rule(rule),
                        pinyin: false,
                    },
                    origin: Origin { file: 0, line: 1 },
                    seq: rule,
                })
                .collect();
        let mut keys = Vec::new();
        let table = group(pending, &arena, |key, id| {
            keys.push((key.to_string(), id));
            Ok(())
        })
        .expect("groups");
        assert_eq!(keys, [("a".into(), 0), ("b".into(), 1), ("c".into(), 2)]);
        let rules = |id| {
            let p = table.get(id);
            table
                .alts(p)
                .map(|a| match a.target {
                    Target::Rule(r) => r,
                    _ => u32::MAX,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(rules(0), [0, 1, 2]);
        assert_eq!(rules(1), [3]);
        assert_eq!(rules(2), [4, 5]);
    }

    #[test]
    fn duplicate_warning_names_the_first_place() {
        let lists =
            WordListSet::from_sources(vec![("leak.txt".into(), "内幕\n消息\n內幕\n".into())]);
        let rs = RulesetBuilder::new().build(&lists).unwrap();
        let dup: Vec<_> = rs
            .warnings()
            .iter()
            .filter(|d| d.code == "duplicate-term")
            .collect();
        assert_eq!(dup.len(), 1, "{dup:?}");
        assert_eq!((dup[0].file.as_str(), dup[0].line), ("leak.txt", 3));
        assert!(dup[0].message.contains("leak.txt:1"), "{}", dup[0].message);
    }
}
