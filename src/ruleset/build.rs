//! Compiling a [`WordListSet`] into a [`Ruleset`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use pinyin::ToPinyin;

use super::automaton::{CharAutomaton, KeyLength, SortedKeys};
use super::pinyin_alternates::PINYIN_ALTERNATES;
use super::{Rule, RuleKind, Ruleset, RulesetError, RulesetStats};
use crate::audience::AudienceScope;
use crate::detect::Detector;
use crate::fold::is_word_char;
use crate::lists::{
    entry_text, Combination, Diagnostic, Entry, EntryKind, Level, ListFile, MatchMode, Pinyin,
    WordListSet,
};

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
        self.compile_files(lists.diagnostics(), version, files)
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
        let files = lists.into_files().into_iter().map(Cow::Owned);
        self.compile_files(&diagnostics, version, files)
    }

    /// The compile behind [`build`](Self::build) and
    /// [`build_from`](Self::build_from): borrowed or owned files. An owned
    /// file's entries are consumed as they are compiled (each term's text
    /// moves into its rule) and the file is dropped before the next.
    fn compile_files<'a>(
        &self,
        diagnostics: &[Diagnostic],
        version: String,
        files: impl IntoIterator<Item = Cow<'a, ListFile>>,
    ) -> Result<Ruleset, RulesetError> {
        let mut c = Compiler::new(self.options.clone());
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

/// Something a pattern occurrence stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Rule(u32),
    Allow(u32),
    Part { combo: u32, negated: bool, idx: u16 },
}

/// One meaning of a pattern: what it stands for, and the minimum run length of
/// each unit when the written term repeats characters (`二二`).
#[derive(Debug, Clone)]
pub(crate) struct Alt {
    /// Where this meaning's run lengths start in the matcher's run table
    /// (one a unit), or [`NO_RUNS`]: only terms that repeat a character
    /// have them, so they live apart and an alt stays 16 bytes.
    pub runs: u32,
    pub target: Target,
    pub pinyin: bool,
}

/// An [`Alt`] without run lengths.
pub(crate) const NO_RUNS: u32 = u32::MAX;

impl Alt {
    /// Whether this meaning has run lengths (its term repeats a character,
    /// so some unit's is over one).
    #[inline(always)]
    pub fn has_runs(&self) -> bool {
        self.runs != NO_RUNS
    }

    /// The minimum run length of each of the pattern's `units`, if any.
    pub fn runs<'t>(&self, table: &'t [u16], units: u32) -> Option<&'t [u16]> {
        if !self.has_runs() {
            return None;
        }
        let start = self.runs as usize;
        table.get(start..start + units as usize)
    }
}

/// A distinct key as matched: how long it is, whether its ends need a word
/// boundary, and its first meaning inline, so that resolving a match reads
/// one 32-byte record (one cache line) of a large list. Apart, the pattern
/// and its meanings were two cache misses a match: on text dense with hits,
/// two thirds of the time spent deciding matches.
#[derive(Debug, Clone)]
#[repr(align(32))]
pub(crate) struct Pattern {
    pub units: u32,
    pub bound_start: bool,
    pub bound_end: bool,
    /// Meanings past the first (the same key in several lists, or as a
    /// term's pinyin and as another term), at `more_start..` of
    /// [`PatternTable::more`].
    more_start: u32,
    more_len: u32,
    first: Alt,
}

/// The bit that marks an automaton value as a rule id (see
/// [`PatternTable::automaton_value`]); values without it index the patterns.
pub(crate) const RULE_VALUE: u32 = 1 << 31;

/// The bit that marks a pattern's automaton value when every meaning of the
/// pattern needs some character of the text repeated (see
/// [`PatternTable::automaton_value`]). Pattern ids stay below it.
const REPEATS_VALUE: u32 = 1 << 30;

/// What an automaton value stands for: a plain term's rule, else the pattern
/// to read.
#[inline(always)]
pub(crate) fn rule_of_value(value: u32) -> Result<u32, u32> {
    if value & RULE_VALUE != 0 {
        Ok(value & !RULE_VALUE)
    } else {
        Err(value & !REPEATS_VALUE)
    }
}

/// Whether every meaning of the value's pattern needs some unit's run longer
/// than one (a term that repeats a character, as `的的` folds to the key `的`
/// that must occur twice in a row): where each unit of the match occurs once,
/// all of them are dropped, which is decided without reading the pattern.
#[inline(always)]
pub(crate) fn needs_repeat(value: u32) -> bool {
    value & (RULE_VALUE | REPEATS_VALUE) == REPEATS_VALUE
}

/// The patterns of one matcher, indexed by the values of its automata
/// (those of plain terms stand for their rule instead).
#[derive(Clone, Default)]
pub(crate) struct PatternTable {
    patterns: Vec<Pattern>,
    more: Vec<Alt>,
}

impl PatternTable {
    /// Pattern `id`.
    #[inline(always)]
    pub fn get(&self, id: u32) -> &Pattern {
        &self.patterns[id as usize]
    }

    /// The meanings of `pattern`, first to last.
    #[inline(always)]
    pub fn alts<'t>(&'t self, pattern: &'t Pattern) -> impl Iterator<Item = &'t Alt> + 't {
        let start = pattern.more_start as usize;
        let more = self
            .more
            .get(start..start + pattern.more_len as usize)
            .unwrap_or_default();
        std::iter::once(&pattern.first).chain(more)
    }

    /// What the automata hold for pattern `id`: for a plain term (one
    /// meaning, a rule, no word boundary to check, no run lengths, not
    /// pinyin) the rule, tagged by [`RULE_VALUE`], so that its matches are
    /// decided without reading the pattern: on text dense with hits that read
    /// was a cache miss a match. For a pattern all of whose meanings have run
    /// lengths, `id` tagged by [`REPEATS_VALUE`] (see [`needs_repeat`]): on
    /// Chinese chat a list's `哈哈` or `的的` ends at every `哈` or `的`, and
    /// half of the matches of a dense list were such keys, each read to be
    /// dropped. Otherwise `id`.
    fn automaton_value(&self, id: u32) -> u32 {
        let Some(p) = self.patterns.get(id as usize) else {
            return id;
        };
        match p.first {
            Alt {
                runs: NO_RUNS,
                target: Target::Rule(rule),
                pinyin: false,
            } if p.more_len == 0 && !p.bound_start && !p.bound_end && rule < RULE_VALUE => {
                rule | RULE_VALUE
            }
            _ if self.alts(p).all(Alt::has_runs) => id | REPEATS_VALUE,
            _ => id,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    fn heap_bytes(&self) -> usize {
        self.patterns.len() * std::mem::size_of::<Pattern>()
            + self.more.len() * std::mem::size_of::<Alt>()
    }
}

/// The folded patterns, split by their keys into two automata that share one
/// pattern table (automaton values index `patterns`):
/// - `wide`: keys with a non-ASCII character, walked over every unit (over
///   non-ASCII units only when none of its keys has an ASCII character);
/// - `ascii`: all-ASCII keys (pinyin variants, Latin terms), walked over ASCII
///   units only. A match of an all-ASCII key spans ASCII units only, so on any
///   other unit this automaton would fall back to its root anyway: the walk
///   resets it instead of stepping it, and Chinese text costs it nothing.
///
/// The two build in parallel by default (pinyin variants are about half the
/// states of a Chinese list; scan speed the same), reloads in turn: the
/// figures are on [`RulesetBuilder::parallel`].
pub(crate) struct FoldedMatcher {
    pub wide: Option<CharAutomaton>,
    pub ascii: Option<CharAutomaton>,
    /// Some wide key contains an ASCII character (`qq号`); otherwise the walk
    /// skips the wide automaton on ASCII units too.
    pub wide_has_ascii: bool,
    /// The wide keys' first units: both walks step the wide automaton only
    /// where one may start. Mixed keys (`加我vx`) included: without the
    /// filter one such key in a list halved the scan (100k terms: 200 MB/s
    /// against 357 with it, 395 for the list without the key).
    pub wide_prefixes: Option<PrefixFilter>,
    pub patterns: PatternTable,
    /// The alts' run lengths, end to end.
    pub runs: Vec<u16>,
}

/// A Bloom filter (two bits a key) of the first three units of every key of
/// one automaton (all of a key shorter than three): a run of units that
/// starts like no key cannot hold one, and testing that reads two bits of a
/// cache-sized table where stepping the automaton reads its states, a likely
/// cache miss a unit. Blocked by cache line: the last two tested units pick
/// one 64-byte block and both the pair and the triple test read it, so a unit
/// costs one miss at most. The walks step an automaton only from a unit where
/// some key may start until it is back within two units of its root
/// (`GatedLane` in scan.rs). 32-64 bits a key (the block count is a power of
/// two; 100k keys: 512 KiB) up to 2 MiB; larger lists share the 2 MiB (1M
/// terms: about 30 keys a block, more false "may start"s, still faster than
/// stepping throughout).
pub(crate) struct PrefixFilter {
    blocks: Box<[[u64; 8]]>,
    shift: u32,
    /// Key lengths present below three units.
    singles: bool,
    pairs: bool,
    triples: bool,
}

impl PrefixFilter {
    /// Most blocks a filter may have (2 MiB): an unblocked 8 MiB filter fell
    /// out of the caches and measured slower than stepping the automaton; 1M
    /// keys in 2 MiB measured faster than in 8.
    const MAX_LOG2_BLOCKS: u32 = 15;

    /// The filter of `keys`, or none for none (or a key holding `'\0'`,
    /// which the walks' window uses for "no unit").
    fn new<'k>(keys: impl ExactSizeIterator<Item = &'k str> + Clone) -> Option<PrefixFilter> {
        let count = keys.len();
        // '\0' stands for "no unit" in the walk's window
        if count == 0 || keys.clone().any(|k| k.contains('\0')) {
            return None;
        }
        // 32 bits a key: sixteen keys a 512-bit block on average. In the
        // engine, beside librdkafka's message buffers, 100k keys in 512 KiB
        // cost 5% less CPU a message than in 1 MiB (pipeline bench, six and
        // seven alternating runs); alone (`wordwarden bench`) no difference
        let log2 = (count / 16 + 1).next_power_of_two().trailing_zeros().max(7);
        let log2 = log2.min(Self::MAX_LOG2_BLOCKS);
        let mut f = PrefixFilter {
            blocks: vec![[0u64; 8]; 1 << log2].into_boxed_slice(),
            shift: 64 - log2,
            singles: false,
            pairs: false,
            triples: false,
        };
        for k in keys {
            let mut cs = k.chars();
            let (a, b, c) = (cs.next(), cs.next(), cs.next());
            match (a, b, c) {
                (Some(a), None, _) => {
                    f.singles = true;
                    f.insert('\0', a, Self::key1(a));
                }
                (Some(a), Some(b), None) => {
                    f.pairs = true;
                    f.insert(a, b, Self::key2(a, b));
                }
                (Some(a), Some(b), Some(c)) => {
                    f.triples = true;
                    f.insert(b, c, Self::key3(a, b, c));
                }
                _ => {}
            }
        }
        Some(f)
    }

    // one, two or three 21-bit characters, tagged by their count
    #[inline(always)]
    fn key1(a: char) -> u64 {
        u64::from(a) | (1 << 63)
    }
    #[inline(always)]
    fn key2(a: char, b: char) -> u64 {
        u64::from(a) | u64::from(b) << 21 | (1 << 62)
    }
    #[inline(always)]
    fn key3(a: char, b: char, c: char) -> u64 {
        u64::from(a) | u64::from(b) << 21 | u64::from(c) << 42
    }

    /// The block of the two units `a b` (`a` is `'\0'` for a single unit).
    #[inline(always)]
    fn block(&self, a: char, b: char) -> usize {
        let pair = u64::from(a) | u64::from(b) << 21;
        (pair.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Two bit positions in a 512-bit block.
    #[inline(always)]
    fn bits(key: u64) -> (usize, usize) {
        let h = key.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        ((h >> 55) as usize, ((h >> 46) & 511) as usize)
    }

    fn insert(&mut self, a: char, b: char, key: u64) {
        let block = self.block(a, b);
        let (p, q) = Self::bits(key);
        let words = &mut self.blocks[block];
        words[p >> 6] |= 1 << (p & 63);
        words[q >> 6] |= 1 << (q & 63);
    }

    #[inline(always)]
    fn contains(words: &[u64; 8], key: u64) -> bool {
        let (p, q) = Self::bits(key);
        (words[p >> 6] >> (p & 63)) & (words[q >> 6] >> (q & 63)) & 1 == 1
    }

    /// Whether a key may start at one of the units `u2 u1 u0` (`'\0'` for
    /// none), by the units up to the last.
    #[inline(always)]
    pub fn may_start(&self, u2: char, u1: char, u0: char) -> bool {
        if self.singles && Self::contains(&self.blocks[self.block('\0', u0)], Self::key1(u0)) {
            return true;
        }
        if u1 == '\0' {
            return false;
        }
        let words = &self.blocks[self.block(u1, u0)];
        (self.pairs && Self::contains(words, Self::key2(u1, u0)))
            || (self.triples && u2 != '\0' && Self::contains(words, Self::key3(u2, u1, u0)))
    }

    pub fn heap_bytes(&self) -> usize {
        self.blocks.len() * 64
    }
}

impl FoldedMatcher {
    pub fn heap_bytes(&self) -> usize {
        self.wide.as_ref().map_or(0, |a| a.heap_bytes())
            + self.ascii.as_ref().map_or(0, |a| a.heap_bytes())
            + self
                .wide_prefixes
                .as_ref()
                .map_or(0, PrefixFilter::heap_bytes)
            + self.patterns.heap_bytes()
            + self.runs.len() * 2
    }
}

/// The automaton of `#! match: exact` patterns: byte-wise `aho-corasick` when
/// every pattern is ASCII, where it is fastest; char-wise ([`CharAutomaton`])
/// as soon as one is not (2-4x faster on CJK text: one transition per
/// character instead of three per UTF-8 byte).
pub(crate) enum ExactAutomaton {
    Bytes(aho_corasick::AhoCorasick),
    Chars(CharAutomaton),
}

impl ExactAutomaton {
    /// Calls `each(value, start, end)` for every occurrence, overlapping: the
    /// automaton value of its pattern (see [`rule_of_value`]).
    /// Out of line, so its inlined transition loop stays out of the folded
    /// walks' code (see [`Walk::step`](super::automaton::Walk::step)).
    #[inline(never)]
    pub fn for_each_overlapping(&self, text: &str, mut each: impl FnMut(u32, usize, usize)) {
        match self {
            ExactAutomaton::Bytes(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    each(m.pattern().as_u32(), m.start(), m.end());
                }
            }
            ExactAutomaton::Chars(automaton) => {
                let mut walk = automaton.walk();
                for (at, ch) in text.char_indices() {
                    walk.step_inlined(ch);
                    if walk.has_match() {
                        let end = at + ch.len_utf8();
                        // built with byte lengths (see `build_exact`)
                        for (value, bytes) in walk.matches() {
                            each(value, end.saturating_sub(bytes as usize), end);
                        }
                    }
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            ExactAutomaton::Bytes(ac) => ac.memory_usage(),
            ExactAutomaton::Chars(da) => da.heap_bytes(),
        }
    }
}

pub(crate) struct ExactMatcher {
    pub automaton: ExactAutomaton,
    /// The keys' first units, for a char-wise automaton (see [`PrefixFilter`]).
    pub prefixes: Option<PrefixFilter>,
    pub patterns: PatternTable,
}

pub(crate) struct RegexGroup {
    pub set: regex::RegexSet,
    pub each: Vec<(regex::Regex, u32)>,
}

#[derive(Debug, Clone)]
pub(crate) struct AllowPhrase {
    pub written: String,
    pub file: Arc<str>,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Combo {
    pub rule: u32,
    pub all: u16,
    /// `near:N`: the `&` parts within N characters of one field.
    pub within: Option<u32>,
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

/// A key's place in a [`KeyArena`], and its first bytes.
#[derive(Clone, Copy)]
struct KeyRef {
    start: u32,
    len: u32,
    /// The key's first eight bytes as a big-endian number, zero-padded:
    /// ordering by it agrees with ordering the keys, so sorting compares
    /// it first and reads the arena (a likely cache miss each side, and a
    /// `memcmp` call) only for keys that share their first eight bytes.
    prefix: u64,
}

impl KeyRef {
    fn prefix_of(key: &str) -> u64 {
        let mut first = [0u8; 8];
        let n = key.len().min(8);
        first[..n].copy_from_slice(&key.as_bytes()[..n]);
        u64::from_be_bytes(first)
    }
}

/// Every pending key in one string: one allocation for the compile instead
/// of one a key (at 1M terms with pinyin, two million heap strings and their
/// 24-byte headers).
#[derive(Default)]
struct KeyArena(String);

impl KeyArena {
    /// Appends `key`; `None` once the arena would pass 4 GiB.
    fn push(&mut self, key: &str) -> Option<KeyRef> {
        let start = u32::try_from(self.0.len()).ok()?;
        let len = u32::try_from(key.len()).ok()?;
        start.checked_add(len)?;
        self.0.push_str(key);
        Some(KeyRef {
            start,
            len,
            prefix: KeyRef::prefix_of(key),
        })
    }

    fn get(&self, key: KeyRef) -> &str {
        let start = key.start as usize;
        // pushed whole, so always on character boundaries
        self.0
            .get(start..start + key.len as usize)
            .unwrap_or_default()
    }
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
    masked: super::masked::MaskedTerms,
    diags: Vec<Diagnostic>,
}

/// A folded key: its characters, how many, the run lengths the term itself
/// needs (if any), and whether each end needs a word boundary.
pub(crate) type FoldedKey = (String, u32, Option<Box<[u16]>>, bool, bool);

/// Folds a term to its automaton key: significant characters, runs collapsed
/// when stretch is on, with the run lengths the term itself needs.
pub(crate) fn term_key(term: &str, stretch: bool) -> FoldedKey {
    key_from_chars(&folded_chars(term), stretch)
}

/// The significant folded characters of a term.
fn folded_chars(term: &str) -> Vec<char> {
    let mut chars: Vec<char> = Vec::with_capacity(term.len());
    for c in term.chars() {
        match crate::fold::fold_char(c) {
            crate::fold::FoldEntry::One(f) => chars.push(f),
            crate::fold::FoldEntry::Many(fs) => chars.extend_from_slice(fs),
            _ => {}
        }
    }
    chars
}

fn key_from_chars(chars: &[char], stretch: bool) -> FoldedKey {
    let bound_start = chars.first().is_some_and(|c| is_word_char(*c));
    let bound_end = chars.last().is_some_and(|c| is_word_char(*c));
    if !stretch {
        return (
            chars.iter().collect(),
            chars.len() as u32,
            None,
            bound_start,
            bound_end,
        );
    }
    let mut key = String::new();
    let mut runs: Vec<u16> = Vec::new();
    let mut last = None;
    for &c in chars {
        if Some(c) == last {
            if let Some(r) = runs.last_mut() {
                *r = r.saturating_add(1);
            }
        } else {
            key.push(c);
            runs.push(1);
            last = Some(c);
        }
    }
    let units = runs.len() as u32;
    let runs = runs.iter().any(|&r| r > 1).then(|| runs.into_boxed_slice());
    (key, units, runs, bound_start, bound_end)
}

/// Longest term (in characters) that gets a pinyin variant: people type
/// short sensitive words in pinyin (`neimu`), and every variant costs automaton
/// states, so long phrases do not get one.
pub(crate) const PINYIN_MAX_CHARS: usize = 4;

/// The pinyin variants of an all-Chinese term of 2-4 (folded) characters
/// that `mode` asks for: with [`Pinyin::On`] the whole term in toneless
/// pinyin ([`pinyin_readings`]), with [`Pinyin::Mixed`] also every way of
/// writing some of its characters in pinyin and the rest as they are
/// (`内mu`, `nei幕`).
fn pinyin_variants(folded: &[char], mode: Pinyin) -> Vec<String> {
    if mode == Pinyin::Off {
        return Vec::new();
    }
    let readings = pinyin_readings(folded);
    let mut variants: Vec<String> = Vec::new();
    let mut add = |v: String| {
        // two readings may spell the same letters (`xi`+`an`, `xian`)
        if !variants.contains(&v) {
            variants.push(v);
        }
    };
    for syllables in &readings {
        add(syllables.concat());
    }
    if mode == Pinyin::Mixed {
        // a bit set: that character in pinyin (neither none nor all)
        let all = (1u32 << folded.len()) - 1;
        for syllables in &readings {
            for in_pinyin in 1..all {
                let mut v = String::with_capacity(folded.len() * 6);
                for (i, (c, syllable)) in folded.iter().zip(syllables).enumerate() {
                    if in_pinyin & (1 << i) != 0 {
                        v.push_str(syllable);
                    } else {
                        v.push(*c);
                    }
                }
                add(v);
            }
        }
    }
    variants
}

/// Toneless pinyin readings of an all-Chinese term of 2-4 (folded)
/// characters, a syllable a character: every character read the common way
/// first, then the term with one character read another way that real words
/// use. A polyphonic character (多音字) is read the common way in most words
/// but not in all (`银行` is `yinhang`, not `yinxing`; `长线` `changxian`),
/// and nothing here knows which word takes which, so both are keys. The
/// other readings are those of [`PINYIN_ALTERNATES`] (used by at least 5
/// words of a phrase dictionary), not every reading a character has ever
/// had: all of them made 1.8 more keys a term (a 1M-term set compiled 1.5 s
/// slower and took 80 MB more), these make 0.2 (11 MB). One character at a
/// time keeps the count linear in the readings; a word that reads two of its
/// characters the uncommon way is rare.
fn pinyin_readings(folded: &[char]) -> Vec<Vec<&'static str>> {
    if !(2..=PINYIN_MAX_CHARS).contains(&folded.len()) || folded.iter().any(char::is_ascii) {
        return Vec::new();
    }
    let mut common: Vec<&'static str> = Vec::with_capacity(folded.len());
    for c in folded {
        let Some(p) = c.to_pinyin() else {
            return Vec::new();
        };
        common.push(p.plain());
    }
    let mut readings = vec![common.clone()];
    for (i, c) in folded.iter().enumerate() {
        for &syllable in alternate_readings(*c) {
            let mut other = common.clone();
            other[i] = syllable;
            readings.push(other);
        }
    }
    readings
}

/// The readings of `c` other than its most common one that real words use.
fn alternate_readings(c: char) -> &'static [&'static str] {
    PINYIN_ALTERNATES
        .binary_search_by_key(&c, |&(ch, _)| ch)
        .map_or(&[], |i| PINYIN_ALTERNATES[i].1)
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
            masked: Default::default(),
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
        self.keys.0.reserve(patterns_hint * 24);
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
                    let parts = all
                        .iter()
                        .map(|p| (p, false))
                        .chain(none.iter().map(|p| (p, true)));
                    let mut ok = true;
                    let mut counters = [0u16; 2];
                    for (part, negated) in parts {
                        let idx = counters[negated as usize];
                        counters[negated as usize] += 1;
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
            list.sort_unstable_by(|a, b| {
                a.key
                    .prefix
                    .cmp(&b.key.prefix)
                    .then_with(|| keys.get(a.key).cmp(keys.get(b.key)))
                    .then(a.seq.cmp(&b.seq))
            });
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
            automaton_bytes,
        };
        let scoped = self.rules.iter().any(|r| r.audience != AudienceScope::Any);
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
            scoped,
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
    let mut table = PatternTable::default();
    // at most one pattern a pending one (see `Compiler::add_file` on why
    // these tables are sized before they are filled)
    table.patterns.reserve(pending.len());
    let mut last_key: Option<&str> = None;
    for p in pending {
        let key = arena.get(p.key);
        match table.patterns.last_mut() {
            Some(last) if last_key == Some(key) => {
                if last.more_len == 0 {
                    last.more_start = table.more.len() as u32;
                }
                last.more_len += 1;
                table.more.push(p.alt);
            }
            _ => {
                let id = u32::try_from(table.patterns.len())
                    .ok()
                    .filter(|&id| id < REPEATS_VALUE)
                    .ok_or_else(|| RulesetError::Automaton("over 2^30 patterns".into()))?;
                keep(key, id)?;
                table.patterns.push(Pattern {
                    units: p.units,
                    bound_start: p.bound_start,
                    bound_end: p.bound_end,
                    more_start: 0,
                    more_len: 0,
                    first: p.alt,
                });
                last_key = Some(key);
            }
        }
    }
    Ok(table)
}

/// A folded regex as compiled, and whether it can match no text at all
/// (what it asks for holds characters light folding never leaves, as in
/// `(?-i:ABC)`, or nothing).
///
/// Compiled case-insensitive, without the characters light folding never
/// leaves in a text (`A`-`Z`, the Kelvin sign, the long s). Case-insensitive
/// matching adds them to every letter, and a literal with them is no longer
/// one string: the regex crate's prefilter fell back from a substring search
/// to a byte automaton, a regex ran at 80 MB/s instead of 300 on Chinese
/// chat. A pattern the parser refuses is left for the regex crate to report.
fn folded_regex(re: &str) -> (String, bool) {
    let insensitive = format!("(?i:{re})");
    match regex_syntax::Parser::new().parse(&insensitive) {
        Ok(hir) => {
            let hir = without_unfolded(hir);
            let printed = hir.to_string();
            // printed groups may nest past the parser's limit: then as written
            if regex_syntax::Parser::new().parse(&printed).is_err() {
                return (insensitive, matches_nothing(&hir));
            }
            (printed, matches_nothing(&hir))
        }
        Err(_) => (insensitive, false),
    }
}

/// Whether `hir` matches no string at all. (`Properties::minimum_len` says
/// so too for an alternation with one such branch, which is not.)
fn matches_nothing(hir: &regex_syntax::hir::Hir) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Literal(_) | HirKind::Look(_) => false,
        HirKind::Class(Class::Unicode(c)) => c.ranges().is_empty(),
        HirKind::Class(Class::Bytes(c)) => c.ranges().is_empty(),
        HirKind::Repetition(r) => r.min > 0 && matches_nothing(&r.sub),
        HirKind::Capture(c) => matches_nothing(&c.sub),
        HirKind::Concat(subs) => subs.iter().any(matches_nothing),
        HirKind::Alternation(subs) => subs.iter().all(matches_nothing),
    }
}

/// Characters [`crate::fold::light_fold`] never outputs (a test checks all
/// of Unicode) that case-insensitive classes hold: `A`-`Z`, the long s, the
/// Kelvin sign.
const NEVER_LIGHT_FOLDED: [(char, char); 3] = [
    ('A', 'Z'),
    ('\u{017F}', '\u{017F}'),
    ('\u{212A}', '\u{212A}'),
];

fn never_light_folded() -> regex_syntax::hir::ClassUnicode {
    use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
    ClassUnicode::new(NEVER_LIGHT_FOLDED.map(|(a, b)| ClassUnicodeRange::new(a, b)))
}

fn is_never_light_folded(c: char) -> bool {
    NEVER_LIGHT_FOLDED.iter().any(|&(a, b)| a <= c && c <= b)
}

fn without_unfolded(hir: regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Capture, Class, Hir, HirKind, Repetition};
    match hir.into_kind() {
        HirKind::Class(Class::Unicode(mut class)) => {
            class.difference(&never_light_folded());
            Hir::class(Class::Unicode(class))
        }
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(without_unfolded(*r.sub)),
            ..r
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(without_unfolded(*c.sub)),
            ..c
        }),
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(without_unfolded).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.into_iter().map(without_unfolded).collect())
        }
        HirKind::Empty => Hir::empty(),
        // a case-sensitive `(?-i:ABC)`: never in a folded text
        HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
            Ok(text) if text.chars().any(is_never_light_folded) => Hir::fail(),
            _ => Hir::literal(lit.0),
        },
        HirKind::Class(class) => Hir::class(class),
        HirKind::Look(look) => Hir::look(look),
    }
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

fn build_regexes(list: &[(String, u32)], limit: usize) -> Result<Option<RegexGroup>, RulesetError> {
    if list.is_empty() {
        return Ok(None);
    }
    let set = regex::RegexSetBuilder::new(list.iter().map(|(p, _)| p))
        .size_limit(limit.saturating_mul(4))
        .dfa_size_limit(limit.saturating_mul(4))
        .build()
        .map_err(|e| RulesetError::Automaton(format!("regex set: {e}")))?;
    let mut each = Vec::with_capacity(list.len());
    for (p, id) in list {
        let re = regex::RegexBuilder::new(p)
            .size_limit(limit)
            .dfa_size_limit(limit)
            .build()
            .map_err(|e| RulesetError::Automaton(e.to_string()))?;
        each.push((re, *id));
    }
    Ok(Some(RegexGroup { set, each }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_spellings_take_one_other_reading_at_a_time() {
        let spell = |t: &str| pinyin_variants(&t.chars().collect::<Vec<_>>(), Pinyin::On);
        assert_eq!(
            spell("银行长"),
            ["yinxingzhang", "yinhangzhang", "yinxingchang"]
        );
        assert_eq!(spell("内幕"), ["neimu"]);
        let mixed = pinyin_variants(&['内', '幕'], Pinyin::Mixed);
        assert_eq!(mixed, ["neimu", "nei幕", "内mu"]);
        let off = pinyin_variants(&['银', '行'], Pinyin::Off);
        assert!(off.is_empty());
        // one character, five, or any ASCII: no variant
        for none in ["银", "内幕消息灵", "银行a"] {
            assert!(spell(none).is_empty(), "{none}");
        }
    }

    #[test]
    fn pinyin_alternates_are_sorted_and_other_than_the_common_reading() {
        assert!(PINYIN_ALTERNATES.windows(2).all(|w| w[0].0 < w[1].0));
        for &(c, readings) in PINYIN_ALTERNATES {
            let common = c.to_pinyin().map(|p| p.plain());
            assert!(
                !readings.is_empty() && readings.iter().all(|r| Some(*r) != common),
                "{c}"
            );
        }
    }
    use proptest::prelude::*;

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
        assert_eq!(std::mem::size_of::<Pattern>(), 32, "one cache line a match");
    }

    /// What the compiled folded regex leaves out never reaches it.
    #[test]
    fn light_folding_never_outputs_what_folded_regexes_drop() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            crate::fold::light_fold_char(c, |f| {
                assert!(
                    !is_never_light_folded(f),
                    "U+{:04X} folds to {f:?}",
                    c as u32
                );
            });
        }
    }

    #[test]
    fn folded_regexes_that_match_nothing_are_told_apart() {
        let nothing = |re: &str| folded_regex(re).1;
        assert!(nothing("(?-i:API)_key"));
        assert!(nothing("[^\\s\\S]"));
        assert!(!nothing("API_KEY"));
        assert!(!nothing("(?-i:API)|key"));
        assert!(!nothing("(?-i:api)"));
        // what the parser refuses is the regex crate's to report
        assert!(!nothing("(unclosed"));
    }

    #[test]
    fn folded_regex_is_a_plain_literal_where_the_pattern_is_one() {
        let re = regex::Regex::new(&folded_regex("Confidential").0).unwrap();
        assert_eq!(re.as_str(), "(?:confidential)");
        assert!(re.is_match(crate::fold::light_fold("ＣＯＮＦＩＤＥＮＴＩＡＬ").text()));
        // what the parser refuses stays as written, for the regex crate to report
        assert_eq!(folded_regex("(unclosed").0, "(?i:(unclosed)");
        // as deep as the parser takes: compiles either way
        let deep = format!("{}a|b{}", "(?:x*".repeat(120), ")".repeat(120));
        assert!(regex::Regex::new(&format!("(?i:{deep})")).is_ok());
        assert!(regex::Regex::new(&folded_regex(&deep).0).is_ok());
    }

    proptest! {
        /// Keys compared by their prefix first, then in full, sort as they
        /// do compared in full: short keys, shared prefixes, `'\0'`,
        /// multi-byte characters cut at the eighth byte.
        #[test]
        fn prefix_order_agrees_with_key_order(
            a in "[a\0\u{7f}\u{80}内幕消息😀]{0,6}",
            b in "[a\0\u{7f}\u{80}内幕消息😀]{0,6}",
        ) {
            let (pa, pb) = (KeyRef::prefix_of(&a), KeyRef::prefix_of(&b));
            prop_assert_eq!(pa.cmp(&pb).then_with(|| a.cmp(&b)), a.cmp(&b));
        }
    }

    proptest! {
        /// The compiled folded regex finds what case-insensitive matching
        /// finds, on every light-folded text: classes, repetitions, captures,
        /// alternations, word boundaries, Unicode properties.
        #[test]
        fn folded_regex_matches_like_case_insensitive(
            pattern in proptest::sample::select(vec![
                r"project\s*falcon", r"Project\s+FALCON", r"\bkey\b", r"[A-Z]{2}\d+",
                r"(?P<who>ma|li)\s*(总|经理)", r"\p{Lu}s", r"(?-i:Ks)|ſt", r"a.{0,3}?b", r"[^a-z]k",
                r"\w+@\w+", r"内幕|NEI\s*MU", r"^ok$", r"(?i)ＡＢ",
            ]),
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "project", "PROJECT", " ", "Falcon", "falcon", "K", "\u{212A}", "ſ", "s", "t",
                    "key", "KEY", "ab", "A", "B", "12", "ma", "LI", "总", "内幕", "nei mu", "@", "x",
                    "ok", "Ｏｋ", "ａｂ", "ST", "k",
                ]),
                0..12,
            ),
        ) {
            let insensitive = regex::Regex::new(&format!("(?i:{pattern})")).unwrap();
            let compiled = regex::Regex::new(&folded_regex(pattern).0).unwrap();
            let folded = crate::fold::light_fold(&parts.concat());
            let text = folded.text();
            let spans = |re: &regex::Regex| re.find_iter(text).map(|m| m.range()).collect::<Vec<_>>();
            prop_assert_eq!(spans(&insensitive), spans(&compiled), "{:?} on {:?}", pattern, text);
        }
    }

    #[test]
    fn key_arena_gives_back_each_key() {
        let mut arena = KeyArena::default();
        let keys = ["内幕", "neimu", "", "消息灵通人士"];
        let refs: Vec<KeyRef> = keys.iter().map(|k| arena.push(k).unwrap()).collect();
        for (k, r) in keys.iter().zip(refs) {
            assert_eq!(arena.get(r), *k);
        }
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
