//! The compiled parts of a [`Ruleset`](super::Ruleset): the folded matchers,
//! the exact automaton, regex groups, allow phrases and combinations.

use std::sync::Arc;

use super::automaton::CharAutomaton;
use super::pair_filter::PairFilter;
use super::patterns::PatternTable;
use super::prefix_filter::PrefixFilter;

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
/// figures are on [`RulesetBuilder::parallel`](super::RulesetBuilder::parallel).
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
    /// The wide keys' pairs of Chinese units side by side: the scan reads
    /// digits between Chinese characters as filler only where a key may
    /// hold the characters around them.
    pub filler_pairs: PairFilter,
    pub patterns: PatternTable,
    /// The alts' run lengths, end to end.
    pub runs: Vec<u16>,
}

impl FoldedMatcher {
    pub fn heap_bytes(&self) -> usize {
        self.wide.as_ref().map_or(0, |a| a.heap_bytes())
            + self.ascii.as_ref().map_or(0, |a| a.heap_bytes())
            + self
                .wide_prefixes
                .as_ref()
                .map_or(0, PrefixFilter::heap_bytes)
            + self.filler_pairs.heap_bytes()
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
    /// automaton value of its pattern (see [`rule_of_value`](super::patterns::rule_of_value)).
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

    pub fn heap_bytes(&self) -> usize {
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
