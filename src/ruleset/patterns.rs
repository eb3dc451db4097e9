//! What a compiled matcher's automaton values stand for: a pattern (one
//! distinct key) and its meanings, the tags that let a match be decided
//! without reading its pattern, and the table that holds them.

use super::RulesetError;

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

    /// Whether this meaning is never reported on its own: an allow phrase
    /// (it only takes hits away), a `~` part, or a combination's `&` part
    /// but index 0 (its longest, likely the rarest: the builder numbers
    /// them so; the rule cannot be without it). A text in which only quiet
    /// meanings occur has no hit, so the walk that decides whether a field
    /// matches at all looks past them (a combination's part `用` is in one
    /// message of six).
    pub fn is_quiet(&self) -> bool {
        match self.target {
            Target::Rule(_) => false,
            Target::Allow(_) => true,
            Target::Part { negated, idx, .. } => negated || idx != 0,
        }
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
/// [`PatternTable::automaton_value`]).
const REPEATS_VALUE: u32 = 1 << 30;

/// The bit that marks a pattern's automaton value when no meaning of the
/// pattern is reported on its own (see [`Alt::is_quiet`]). Pattern ids stay
/// below it.
const QUIET_VALUE: u32 = 1 << 29;

/// What an automaton value stands for: a plain term's rule, else the pattern
/// to read.
#[inline(always)]
pub(crate) fn rule_of_value(value: u32) -> Result<u32, u32> {
    if value & RULE_VALUE != 0 {
        Ok(value & !RULE_VALUE)
    } else {
        Err(value & !(REPEATS_VALUE | QUIET_VALUE))
    }
}

/// Whether no meaning of the value's pattern is reported on its own (see
/// [`Alt::is_quiet`]): a text in which only such patterns occur has no hit.
#[inline(always)]
pub(crate) fn is_quiet(value: u32) -> bool {
    value & (RULE_VALUE | QUIET_VALUE) == QUIET_VALUE
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
    /// dropped. Otherwise `id`; in both, tagged by [`QUIET_VALUE`] when
    /// every meaning is quiet (see [`is_quiet`]).
    pub fn automaton_value(&self, id: u32) -> u32 {
        let Some(p) = self.patterns.get(id as usize) else {
            return id;
        };
        let quiet = if self.alts(p).all(Alt::is_quiet) {
            QUIET_VALUE
        } else {
            0
        };
        match p.first {
            Alt {
                runs: NO_RUNS,
                target: Target::Rule(rule),
                pinyin: false,
            } if p.more_len == 0 && !p.bound_start && !p.bound_end && rule < RULE_VALUE => {
                rule | RULE_VALUE
            }
            _ if self.alts(p).all(Alt::has_runs) => id | REPEATS_VALUE | quiet,
            _ => id | quiet,
        }
    }

    /// An empty table with room for `patterns` patterns.
    pub fn with_capacity(patterns: usize) -> Self {
        PatternTable {
            patterns: Vec::with_capacity(patterns),
            more: Vec::new(),
        }
    }

    /// Adds a pattern with its first meaning: its id.
    pub fn push_pattern(
        &mut self,
        units: u32,
        bound_start: bool,
        bound_end: bool,
        first: Alt,
    ) -> Result<u32, RulesetError> {
        let id = u32::try_from(self.patterns.len())
            .ok()
            .filter(|&id| id < QUIET_VALUE)
            .ok_or_else(|| RulesetError::Automaton("over 2^29 patterns".into()))?;
        self.patterns.push(Pattern {
            units,
            bound_start,
            bound_end,
            more_start: 0,
            more_len: 0,
            first,
        });
        Ok(id)
    }

    /// Adds another meaning to the last pattern (the same key in another
    /// list, or as a term's pinyin and as another term).
    pub fn push_meaning(&mut self, alt: Alt) {
        let Some(last) = self.patterns.last_mut() else {
            return;
        };
        if last.more_len == 0 {
            last.more_start = self.more.len() as u32;
        }
        last.more_len += 1;
        self.more.push(alt);
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.patterns.len() * std::mem::size_of::<Pattern>()
            + self.more.len() * std::mem::size_of::<Alt>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_record_is_read_in_one_cache_line() {
        assert_eq!(std::mem::size_of::<Pattern>(), 32);
        assert_eq!(std::mem::align_of::<Pattern>(), 32);
    }
}
