//! The folded walk: one unit per significant folded character (the offset
//! map), the automata stepped in gated lanes, and each match decided
//! against the units once the unit after it is known.

use super::decide::{candidate, describe};
use super::{AllowSpan, Cand, Candidate, PartOcc, Sink, Unit, Verdict};
use crate::fold::{is_word_char, leet_letter, FoldEntry, Folder, RIGHT_TO_LEFT_OVERRIDE};
use crate::ruleset::automaton::{CharAutomaton, Walk};
use crate::ruleset::matchers::{ExactAutomaton, FoldedMatcher};
use crate::ruleset::patterns::{is_quiet, needs_repeat, rule_of_value, Alt, Pattern, Target};
use crate::ruleset::prefix_filter::PrefixFilter;
use crate::ruleset::Ruleset;

/// Records one pattern occurrence for its meaning, or traces why it was dropped.
pub(super) fn emit(
    rs: &Ruleset,
    sink: &mut Sink,
    alt: &Alt,
    field: u32,
    start: u32,
    end: u32,
    dropped: Option<Verdict>,
) {
    if let Some(verdict) = dropped {
        if let Some(trace) = sink.trace.as_mut() {
            let what = match alt.target {
                Target::Rule(r) => describe(&rs.rules[r as usize]),
                Target::Allow(a) => format!("allow phrase {}", rs.allows[a as usize].written),
                Target::Part { combo, .. } => {
                    let rule = rs.combos[combo as usize].rule;
                    match rs.rules.get(rule as usize) {
                        Some(r) => format!("part of {}", describe(r)),
                        None => "part of an invalid combination".into(),
                    }
                }
            };
            let what = if alt.pinyin {
                format!("{what} (as pinyin)")
            } else {
                what
            };
            trace.push(Candidate {
                what,
                field: field as usize,
                start: start as usize,
                end: end as usize,
                verdict,
            });
        }
        return;
    }
    match alt.target {
        Target::Rule(rule) => sink.cands.push(Cand {
            rule,
            field,
            start,
            end,
        }),
        Target::Allow(allow) => sink.allows.push(AllowSpan {
            allow,
            field,
            start,
            end,
        }),
        Target::Part {
            combo,
            negated,
            idx,
        } => {
            sink.parts.push(PartOcc {
                combo,
                negated,
                idx,
                field,
                start,
                end,
            });
            if let Some(trace) = sink.trace.as_mut() {
                let rule = rs.combos[combo as usize].rule;
                if let Some(r) = rs.rules.get(rule as usize) {
                    trace.push(Candidate {
                        what: format!(
                            "{} part of {}",
                            if negated { "`~`" } else { "`&`" },
                            describe(r)
                        ),
                        field: field as usize,
                        start: start as usize,
                        end: end as usize,
                        verdict: Verdict::CombinationPart,
                    });
                }
            }
        }
    }
}

/// The folded walk proper: one unit per significant folded character (the
/// offset map), automaton matches resolved against it.
#[allow(clippy::too_many_arguments)]
pub(super) fn walk_folded(
    fm: &FoldedMatcher,
    rs: &Ruleset,
    stretch: bool,
    field: u32,
    text: &str,
    units: &mut Vec<Unit>,
    pending: &mut Vec<PendingMatch>,
    sink: &mut Sink,
    overridden: &mut bool,
) {
    units.clear();
    pending.clear();
    let folder = Folder::new();
    let mut stepper = Steppers::new(fm);
    let mut noise = false;
    for (pos, c) in text.char_indices() {
        let end = (pos + c.len_utf8()) as u32;
        let one;
        let chars: &[char] = match folder.fold(c) {
            FoldEntry::Invisible => {
                *overridden |= c == RIGHT_TO_LEFT_OVERRIDE;
                continue;
            }
            FoldEntry::Noise => {
                noise = true;
                continue;
            }
            FoldEntry::One(ch) => {
                one = [ch];
                &one
            }
            FoldEntry::Many(chars) => chars,
        };
        for &ch in chars {
            step(
                fm,
                rs,
                stretch,
                field,
                ch,
                pos as u32,
                end,
                noise,
                units,
                pending,
                &mut stepper,
                sink,
            );
            noise = false;
        }
    }
    if !pending.is_empty() {
        resolve(fm, rs, field, units, pending, None, sink);
    }
}

/// Whether any pattern ends anywhere in the folded text: the same walk as
/// [`walk_folded`] without recording the offset map. Most messages match
/// nothing, and recording one unit per character costs about as much as the
/// walk itself, so the map is built only for the few that do.
/// Sets `overridden` when it meets a right-to-left override (when it stops
/// at a match, the walk after it looks on). With `past_quiet`, it looks
/// past matches of quiet patterns ([`is_quiet`]).
#[inline]
pub(super) fn any_folded_match(
    fm: &FoldedMatcher,
    stretch: bool,
    text: &str,
    past_quiet: bool,
    overridden: &mut bool,
) -> Found {
    automaton_match(Steppers::new(fm), stretch, text, past_quiet, overridden)
}

/// What [`any_folded_match`] found in a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    Nothing,
    /// Only patterns that report nothing on their own (allow phrases, `~`
    /// parts, a combination's `&` parts but its longest): the field need be
    /// walked in full only if the rest of the message holds something they
    /// bear on.
    OnlyQuiet,
    /// Some pattern that may be reported (where it stopped looking).
    Match,
}

/// Whether any `#! match: exact` pattern occurs in the raw text: the exact
/// automaton gated by its filter as the folded walk's. Only texts for which
/// this holds are searched for the occurrences themselves.
#[inline]
pub(super) fn any_exact_match(
    automaton: &ExactAutomaton,
    filter: Option<&PrefixFilter>,
    text: &str,
) -> bool {
    let (ExactAutomaton::Chars(da), Some(filter)) = (automaton, filter) else {
        return true;
    };
    let mut lane = GatedLane::new(Some(da), Some(filter));
    text.chars().any(|ch| lane.unit(ch))
}

/// One automaton's walk, stepped only where one of its keys may be under way:
/// it starts, from its root, at a unit where its [`PrefixFilter`] says a key
/// may start (replaying the two units before, where the key may have begun),
/// and stops once its state is back within two units of the root at a unit
/// where the filter says no key may start (any key under way there began at
/// a unit the window will replay). A key's first units always pass the
/// filter, so every key found by stepping throughout is found here (property
/// tests check the gated walks against stepping throughout, and fail when
/// the replay or the depth is off by one). On realistic text the automaton's
/// states, a likely cache miss a step, are touched around a few hot spots
/// instead of at every unit; on text where keys start everywhere the filter
/// is consulted only while the walk is idle or near its root, and the walk
/// steps once a unit. Without a filter it steps on every unit.
struct GatedLane<'a> {
    lane: Lane<'a>,
    filter: Option<&'a PrefixFilter>,
    /// The two units before the current one in this run (`'\0'`: none).
    u2: char,
    u1: char,
}

impl<'a> GatedLane<'a> {
    #[inline]
    fn new(automaton: Option<&'a CharAutomaton>, filter: Option<&'a PrefixFilter>) -> Self {
        GatedLane {
            lane: Lane::new(automaton),
            filter,
            u2: '\0',
            u1: '\0',
        }
    }

    /// A unit no key holds: nothing under way continues past it.
    #[inline(always)]
    fn break_run(&mut self) {
        (self.u2, self.u1) = ('\0', '\0');
        self.lane.reset();
    }

    /// Takes one unit, stepping the automaton if a key may be under way.
    #[inline(always)]
    fn advance(&mut self, ch: char) {
        let Some(filter) = self.filter else {
            self.lane.step(ch);
            return;
        };
        let (u2, u1) = (self.u2, self.u1);
        (self.u2, self.u1) = (u1, ch);
        if self.lane.moved {
            // the automaton is stepping while it is away from its root. Back
            // within two units of it (read after the last unit's matches),
            // any key under way began at one of the two units of the window,
            // so the filter can take over again. Its state there is the
            // longest suffix of the window that is a path, which is what
            // replaying the window from the root would reach: where the
            // filter says a key may start, it steps on from there (on text
            // dense with keys, one step a unit instead of three)
            if self.lane.depth() > 2 || filter.may_start(u2, u1, ch) {
                self.lane.step(ch);
            } else {
                self.lane.reset();
            }
        } else if filter.may_start(u2, u1, ch) {
            // from the root at the earliest unit the key may start at
            for u in [u2, u1] {
                if u != '\0' {
                    self.lane.step(u);
                }
            }
            self.lane.step(ch);
        }
    }

    /// Takes one unit; true when a key ends at it.
    #[inline(always)]
    fn unit(&mut self, ch: char) -> bool {
        self.advance(ch);
        self.lane.any_match()
    }
}

/// [`any_folded_match`] with the given automata walks. It merges repeats
/// across noise between two words too, which the walk does not ([`merges`]):
/// a key holds no character twice in a row (runs are collapsed, with the
/// lengths a term needs kept beside it), so merging more never hides one.
#[inline]
fn automaton_match(
    mut stepper: Steppers<'_>,
    stretch: bool,
    text: &str,
    past_quiet: bool,
    overridden: &mut bool,
) -> Found {
    let folder = Folder::new();
    // the last unit's character: noise and invisibles do not end a run
    let mut last = '\0';
    let mut quiet = false;
    for c in text.chars() {
        match folder.fold(c) {
            FoldEntry::One(ch) => {
                if unit_ends_a_match(&mut stepper, &mut last, stretch, ch, past_quiet, &mut quiet) {
                    return Found::Match;
                }
            }
            FoldEntry::Noise => {}
            FoldEntry::Invisible => *overridden |= c == RIGHT_TO_LEFT_OVERRIDE,
            FoldEntry::Many(chars) => {
                for &ch in chars {
                    if unit_ends_a_match(
                        &mut stepper,
                        &mut last,
                        stretch,
                        ch,
                        past_quiet,
                        &mut quiet,
                    ) {
                        return Found::Match;
                    }
                }
            }
        }
    }
    if quiet {
        Found::OnlyQuiet
    } else {
        Found::Nothing
    }
}

/// One step of [`any_folded_match`] (a function, not a closure: the closure
/// was not inlined, and a call per character cost a quarter of the speed):
/// true where a key ends that is not quiet, or any key without
/// `past_quiet`; sets `quiet` where only quiet ones end.
#[inline(always)]
fn unit_ends_a_match(
    stepper: &mut Steppers<'_>,
    last: &mut char,
    stretch: bool,
    ch: char,
    past_quiet: bool,
    quiet: &mut bool,
) -> bool {
    if stretch && *last == ch {
        return false;
    }
    *last = ch;
    stepper.consume(ch);
    if !stepper.any_match() {
        return false;
    }
    if past_quiet && stepper.all_matches_quiet() {
        *quiet = true;
        return false;
    }
    true
}

/// Whether a unit repeating the last unit's character merges into it
/// (stretch, `老老鼠鼠仓仓`, `f u u c k`): always, but for an ASCII letter or
/// digit after noise, which merges only into a unit that began its word.
/// The last letter of one word and the first of the next (`is sb`) are two
/// words: merged, the next word began inside the last and lost its word
/// boundary (`he is sb` did not fire `sb`).
#[inline(always)]
fn merges(noise: bool, ch: char, last_begins_word: bool) -> bool {
    !noise || last_begins_word || !is_word_char(ch)
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step(
    fm: &FoldedMatcher,
    rs: &Ruleset,
    stretch: bool,
    field: u32,
    ch: char,
    start: u32,
    end: u32,
    noise: bool,
    units: &mut Vec<Unit>,
    pending: &mut Vec<PendingMatch>,
    stepper: &mut Steppers<'_>,
    sink: &mut Sink,
) {
    if stretch {
        if let Some(n) = units.len().checked_sub(1) {
            if units[n].ch == ch {
                let begins_word = units[n].after_noise || n == 0 || !is_word_char(units[n - 1].ch);
                if merges(noise, ch, begins_word) {
                    let last = &mut units[n];
                    last.run = last.run.saturating_add(1);
                    last.end = end;
                    return;
                }
            }
        }
    }
    if !pending.is_empty() {
        resolve(fm, rs, field, units, pending, Some((ch, noise)), sink);
    }
    units.push(Unit {
        ch,
        run: 1,
        after_noise: noise,
        start,
        end,
    });
    stepper.consume(ch);
    let last = (units.len() - 1) as u32;
    stepper.for_each_match(|value, len, leet| {
        pending.push(PendingMatch {
            value,
            last,
            units: len,
            leet,
        })
    });
}

/// A walk's state in both automata of a [`FoldedMatcher`] (see there for why
/// the all-ASCII one steps on ASCII units only). The wide automaton steps
/// only where its filter says a key may be under way ([`GatedLane`]), and
/// when no wide key contains an ASCII character (Chinese lists) on non-ASCII
/// units only.
struct Steppers<'a> {
    /// Gated by the wide keys' filter when there is one.
    wide: GatedLane<'a>,
    ascii: Lane<'a>,
    /// The all-ASCII automaton's walk reading digits as the letters they
    /// stand for ([`leet_letter`]: `sh1t`), while it differs from `ascii`'s.
    /// Until a run's first such digit it would be `ascii`'s, so it is taken
    /// over from there, and dropped once the two are at the same state. A
    /// key it finds is kept only if some of those digits are in it, among
    /// enough letters ([`leet_reading`]); any other is `ascii`'s too.
    leet: Option<Walk<'a>>,
    /// Some wide key contains an ASCII character: step it on every unit.
    wide_on_ascii: bool,
}

/// One automaton's walk, reset to its root instead of stepped on units that
/// cannot continue any of its keys.
struct Lane<'a> {
    walk: Option<Walk<'a>>,
    /// Left the root since the last reset.
    moved: bool,
}

impl<'a> Lane<'a> {
    #[inline]
    fn new(automaton: Option<&'a CharAutomaton>) -> Self {
        Lane {
            walk: automaton.map(CharAutomaton::walk),
            moved: false,
        }
    }

    #[inline(always)]
    fn step(&mut self, ch: char) {
        if let Some(w) = &mut self.walk {
            w.step(ch);
            self.moved = true;
        }
    }

    /// [`step`](Self::step) with the transition inlined.
    #[inline(always)]
    fn step_inlined(&mut self, ch: char) {
        if let Some(w) = &mut self.walk {
            w.step_inlined(ch);
            self.moved = true;
        }
    }

    #[inline(always)]
    fn reset(&mut self) {
        if self.moved {
            if let Some(w) = &mut self.walk {
                w.reset();
            }
            self.moved = false;
        }
    }

    /// Depth of the current state (`u32::MAX` without an automaton).
    #[inline(always)]
    fn depth(&self) -> u32 {
        self.walk.as_ref().map_or(u32::MAX, Walk::depth)
    }

    #[inline(always)]
    fn any_match(&self) -> bool {
        self.moved && self.walk.as_ref().is_some_and(Walk::has_match)
    }
}

impl<'a> Steppers<'a> {
    /// The walks of `fm`'s automata, the wide one gated by its filter.
    #[inline]
    fn new(fm: &'a FoldedMatcher) -> Self {
        Steppers {
            wide: GatedLane::new(fm.wide.as_ref(), fm.wide_prefixes.as_ref()),
            ascii: Lane::new(fm.ascii.as_ref()),
            leet: None,
            wide_on_ascii: fm.wide_has_ascii,
        }
    }

    /// The same walks, the wide one stepped on every unit: the reference the
    /// gated walk is tested against.
    #[cfg(test)]
    fn ungated(fm: &'a FoldedMatcher) -> Self {
        Steppers {
            wide: GatedLane::new(fm.wide.as_ref(), None),
            ..Steppers::new(fm)
        }
    }

    /// Steps the automata over one unit.
    #[inline(always)]
    fn consume(&mut self, ch: char) {
        if ch.is_ascii() {
            if self.wide_on_ascii {
                self.wide.advance(ch);
            } else {
                self.wide.break_run();
            }
            if self.leet.is_some() || leet_letter(ch).is_some() {
                self.consume_reading_digits(ch);
            } else {
                // every ASCII unit steps it: inlined (unlike the gated wide
                // walk's rare steps) it measured 4% faster on Chinese chat
                self.ascii.step_inlined(ch);
            }
        } else {
            self.wide.advance(ch);
            self.ascii.reset();
            self.leet = None;
        }
    }

    /// Steps the all-ASCII walks over an ASCII unit that is a digit read as
    /// a letter or comes after one (out of line: rare on chat, and inlined
    /// it slowed the loop around it).
    #[inline(never)]
    fn consume_reading_digits(&mut self, ch: char) {
        let Some(mut leet) = self.leet.or(self.ascii.walk) else {
            return; // no all-ASCII keys
        };
        leet.step_inlined(leet_letter(ch).unwrap_or(ch));
        self.ascii.step_inlined(ch);
        // once at the same state, the digits read as letters have left the
        // walk's window: one walk again
        self.leet = match &self.ascii.walk {
            Some(ascii) if ascii.same_state(&leet) => None,
            _ => Some(leet),
        };
    }

    /// Whether some pattern ends at the last unit.
    #[inline(always)]
    fn any_match(&self) -> bool {
        self.wide.lane.any_match()
            || self.ascii.any_match()
            || self.leet.as_ref().is_some_and(Walk::has_match)
    }

    /// Whether every key ending at the last unit is quiet ([`is_quiet`]).
    /// Out of line: asked at matches only.
    #[inline(never)]
    fn all_matches_quiet(&self) -> bool {
        let mut quiet = true;
        self.for_each_match(|value, _, _| quiet &= is_quiet(value));
        quiet
    }

    /// Calls `each(value, units, leet)` for every key ending at the last
    /// unit: its automaton value, its length, and whether the walk reading
    /// digits as letters found it.
    #[inline(always)]
    fn for_each_match(&self, mut each: impl FnMut(u32, u32, bool)) {
        for lane in [&self.wide.lane, &self.ascii] {
            if let (true, Some(w)) = (lane.moved, &lane.walk) {
                for (value, len) in w.matches() {
                    each(value, len, false);
                }
            }
        }
        if let Some(w) = &self.leet {
            for (value, len) in w.matches() {
                each(value, len, true);
            }
        }
    }
}

/// A key that ended at unit `last`: decided once that unit's run and the
/// unit after it are known ([`resolve`]).
#[derive(Clone, Copy)]
pub(super) struct PendingMatch {
    /// The key's automaton value (see [`rule_of_value`]).
    value: u32,
    last: u32,
    /// The key's length in units.
    units: u32,
    /// Found reading digits as letters (see [`Steppers`]).
    leet: bool,
}

/// Decides the matches ending at the last unit, now that its run length and
/// the unit after it are known.
#[cold]
fn resolve(
    fm: &FoldedMatcher,
    rs: &Ruleset,
    field: u32,
    units: &[Unit],
    pending: &mut Vec<PendingMatch>,
    next: Option<(char, bool)>,
    sink: &mut Sink,
) {
    for m in pending.drain(..) {
        let last = m.last as usize;
        // (the key's length in units is its pattern's too)
        let Some(first) = (last + 1).checked_sub(m.units as usize) else {
            continue;
        };
        // the end of the last unit's whole run, known only now
        let (start, end) = (units[first].start, units[last].end);
        let leet = match m.leet {
            false => None,
            true => match leet_reading(&units[first..=last]) {
                // the walk reading digits as digits found it too
                LeetReading::NoDigits => continue,
                LeetReading::AmongLetters => None,
                LeetReading::TooFewLetters if sink.trace.is_none() => continue,
                LeetReading::TooFewLetters => Some(Verdict::DigitsAsLetters),
            },
        };
        let pid = match rule_of_value(m.value) {
            // a plain term: decided without reading its pattern
            Ok(rule) => {
                let cand = Cand {
                    rule,
                    field,
                    start,
                    end,
                };
                match (leet, sink.trace.as_mut()) {
                    (None, _) => sink.cands.push(cand),
                    (Some(verdict), Some(trace)) => trace.push(candidate(rs, &cand, verdict)),
                    (Some(_), None) => {}
                }
                continue;
            }
            Err(pid) => pid,
        };
        // run lengths are kept only for terms that repeat a character: where
        // the text repeats none of the match's units, every meaning that has
        // them is dropped without reading them (on text dense with hits, a
        // likely cache miss each)
        let repeats = units[first..=last].iter().any(|u| u.run > 1);
        if !repeats && needs_repeat(m.value) && sink.trace.is_none() {
            // every meaning has them (explain still lists each)
            continue;
        }
        let pat: &Pattern = fm.patterns.get(pid);
        debug_assert_eq!(pat.units, m.units);
        let ok_start = !pat.bound_start
            || first == 0
            || units[first].after_noise
            || !is_word_char(units[first - 1].ch);
        let ok_end = !pat.bound_end
            || match next {
                None => true,
                Some((ch, after_noise)) => after_noise || !is_word_char(ch),
            };
        for alt in fm.patterns.alts(pat) {
            let verdict = if !(ok_start && ok_end) {
                Some(Verdict::NoWordBoundary)
            } else if leet.is_some() {
                leet.clone()
            } else if !repeats && alt.has_runs() {
                Some(Verdict::RunTooShort)
            } else if let Some(runs) = alt.runs(&fm.runs, pat.units) {
                let short = runs
                    .iter()
                    .enumerate()
                    .any(|(k, &need)| units[first + k].run < need);
                short.then_some(Verdict::RunTooShort)
            } else {
                None
            };
            emit(rs, sink, alt, field, start, end, verdict);
        }
    }
}

/// What the units of a key found reading digits as letters say of it.
#[derive(Debug, PartialEq, Eq)]
enum LeetReading {
    /// None of its units is such a digit.
    NoDigits,
    /// Each word of it (units between noise) that holds such digits holds
    /// at least two letters and no fewer letters than those digits (`sh1t`,
    /// `c0nf1d3nt1al`, `5h1t`): kept.
    AmongLetters,
    /// Some word holds too few letters for its digits to be read as letters
    /// (`5b` for `sb`, `a55`, `4v`: amounts, sizes, versions; `t1 s3 t1`,
    /// which reads as the pinyin of some term across three words): dropped.
    TooFewLetters,
}

fn leet_reading(span: &[Unit]) -> LeetReading {
    let mut reading = LeetReading::NoDigits;
    for word in span.chunk_by(|_, next| !next.after_noise) {
        let digits = word.iter().filter(|u| leet_letter(u.ch).is_some()).count();
        if digits == 0 {
            continue;
        }
        let letters = word.iter().filter(|u| u.ch.is_ascii_alphabetic()).count();
        if letters < 2 || letters < digits {
            return LeetReading::TooFewLetters;
        }
        reading = LeetReading::AmongLetters;
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::WordListSet;
    use crate::ruleset::automaton::{KeyLength, SortedKeys};
    use crate::ruleset::pair_filter::PairFilter;
    use crate::ruleset::{Hit, RulesetBuilder};
    use proptest::prelude::*;

    /// Keys of one to six units, overlapping and sharing prefixes, so the
    /// gated walk starts and stops its wide automaton mid-run; the six-unit
    /// key holds no shorter key, so only stepping to its end finds it.
    fn ruleset() -> Ruleset {
        let lists = WordListSet::from_sources(vec![(
            "a.txt".into(),
            "内幕消息\n老鼠仓\n二二\nkg\n!特色情景\n色情\n消息灵通人士\n股\n".into(),
        )]);
        RulesetBuilder::new().build(&lists).expect("compiles")
    }

    /// [`ruleset`] with wide keys that hold ASCII characters, overlapping
    /// each other and the Chinese keys.
    fn mixed_ruleset() -> Ruleset {
        let lists = WordListSet::from_sources(vec![(
            "a.txt".into(),
            "内幕消息\n老鼠仓\n二二\nkg\n!特色情景\n色情\n消息灵通人士\n股\n加我vx\nqq号\nqq群\nvip客户\nx幕\n"
                .into(),
        )]);
        RulesetBuilder::new().build(&lists).expect("compiles")
    }

    /// Pinyin variants, Latin terms and allow phrases: keys on both sides of
    /// the wide/ASCII split; `mixed` adds wide keys with ASCII characters
    /// (the wide automaton's walk then takes every unit).
    fn split_ruleset(mixed: bool) -> Ruleset {
        let mut list =
            "内幕消息\n内幕\n老鼠仓\nkg\nabc\nbca\n!neimu ok\n色情\n消息灵通人士\n".to_string();
        if mixed {
            list.push_str("qq号\nvip客户\n");
        }
        let lists = WordListSet::from_sources(vec![("a.txt".into(), list.into())]);
        RulesetBuilder::new().build(&lists).expect("compiles")
    }

    /// Everything one walk records, in a comparable form.
    fn walk(fm: &FoldedMatcher, rs: &Ruleset, text: &str) -> Vec<(u32, u32, u32, u8)> {
        let (mut units, mut pending) = (Vec::new(), Vec::new());
        let mut sink = Sink::default();
        walk_folded(
            fm,
            rs,
            true,
            0,
            text,
            &mut units,
            &mut pending,
            &mut sink,
            &mut false,
        );
        let mut out: Vec<_> = sink
            .cands
            .iter()
            .map(|c| (c.rule, c.start, c.end, 0))
            .collect();
        out.extend(sink.allows.iter().map(|a| (a.allow, a.start, a.end, 1)));
        out.extend(sink.parts.iter().map(|p| (p.combo, p.start, p.end, 2)));
        out.sort_unstable();
        out
    }

    proptest! {
        /// Raw mode's gate answers exactly whether the exact automaton finds
        /// an occurrence: keys of one to six characters, ASCII among them,
        /// overlapping and sharing prefixes.
        #[test]
        fn exact_gate_equals_the_search(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "内", "幕", "消", "息", "灵", "通", "人", "士", "股", "a", "b", "x", " ",
                    "\u{200B}", "消息灵通人士", "消息灵通", "灵通人士", "内幕消", "ab内", "😀",
                ]),
                0..32,
            )
        ) {
            let lists = WordListSet::from_sources(vec![(
                "a.txt".into(),
                "内幕消息\n消息灵通人士\nab内幕\n股\nxa\n".into(),
            )]);
            let rs = RulesetBuilder::new().raw(true).build(&lists).expect("compiles");
            let ex = rs.exact.as_ref().expect("exact lists");
            prop_assert!(ex.prefixes.is_some());
            let text: String = parts.concat();
            let mut found = false;
            ex.automaton.for_each_overlapping(&text, |_, _, _| found = true);
            prop_assert_eq!(
                any_exact_match(&ex.automaton, ex.prefixes.as_ref(), &text),
                found,
                "{:?}",
                text
            );
        }
    }

    proptest! {
        /// Raw mode reports each term where it is written: its first
        /// occurrence, and how many places it occurs at. Plain terms are
        /// decided from the automaton's value alone, a key in two lists
        /// (`灵通`) through its pattern: both ways are checked.
        #[test]
        fn raw_hits_are_where_the_terms_are_written(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "内", "幕", "消", "息", "灵", "通", "人", "士", "股", " ", "x", "😀",
                    "内幕消息", "消息灵通人士",
                ]),
                0..32,
            )
        ) {
            let lists = WordListSet::from_sources(vec![
                ("a.txt".into(), "内幕消息\n消息灵通人士\n灵通\n股\n".into()),
                ("b.txt".into(), "内幕\n灵通\n".into()),
            ]);
            let rs = RulesetBuilder::new().raw(true).build(&lists).expect("compiles");
            let text: String = parts.concat();
            let mut found: Vec<(String, String, usize, usize, usize)> = rs
                .find(&text)
                .iter()
                .map(|h| {
                    let r = h.rule();
                    (r.term.clone(), r.file.to_string(), h.start, h.end, h.count as usize)
                })
                .collect();
            found.sort();
            let mut expected = Vec::new();
            for r in &rs.rules {
                let at: Vec<usize> = (0..text.len())
                    .filter(|&i| text.is_char_boundary(i) && text[i..].starts_with(&r.term))
                    .collect();
                if let Some(&first) = at.first() {
                    let end = first + r.term.len();
                    expected.push((r.term.clone(), r.file.to_string(), first, end, at.len()));
                }
            }
            expected.sort();
            prop_assert_eq!(found, expected, "{:?}", text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Stepping the all-ASCII automaton on ASCII units only, and resetting
        /// it on the others, finds exactly what one automaton of every key
        /// finds stepping on every unit.
        #[test]
        fn ascii_gated_walk_equals_one_automaton(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "内", "幕", "消", "息", "老", "鼠", "仓", "色", "情", "客", "户", "号",
                    "nei", "mu", "n", "ei", "k", "g", "q", "vip", "VIP", "ab", "c", "bc", "a",
                    "ok", " ", "*", "\u{200B}", "㎏", "ｑ", "1", "😀", "，", "灵", "通", "人士",
                    "消息灵通人士", "息灵通",
                ]),
                0..32,
            ),
            mixed in any::<bool>(),
        ) {
            let rs = split_ruleset(mixed);
            let split = rs.folded.as_ref().expect("folded lists");
            prop_assert!(split.wide.is_some() && split.ascii.is_some());
            prop_assert_eq!(split.wide_has_ascii, mixed);
            // one automaton of all the keys, stepped on every unit
            let mut pairs: Vec<(String, u32)> = Vec::new();
            for a in split.wide.iter().chain(split.ascii.iter()) {
                pairs.extend(a.pairs());
            }
            // (sorted by key: the two automata's keys are distinct)
            pairs.sort();
            let mut keys = SortedKeys::default();
            for (k, v) in &pairs {
                keys.push(k, *v).expect("fits");
            }
            let one = FoldedMatcher {
                wide: CharAutomaton::build(&keys, KeyLength::Chars).expect("builds"),
                ascii: None,
                wide_has_ascii: true,
                wide_prefixes: None,
                filler_pairs: PairFilter::new(std::iter::empty()),
                patterns: split.patterns.clone(),
                runs: split.runs.clone(),
            };
            let text: String = parts.concat();
            prop_assert_eq!(walk(split, &rs, &text), walk(&one, &rs, &text), "{:?}", text);
        }

        /// The pre-pass may only skip messages the full walk finds nothing in,
        /// with and without wide keys holding ASCII characters (whose filter
        /// then also reads ASCII units).
        #[test]
        fn pre_pass_never_skips_a_match(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "内", "幕", "消", "息", "內", "老", "鼠", "仓", "二", "色", "情", "特", "景",
                    "灵", "通", "人", "士", "*", " ", "\u{200B}", "㎏", "K", "g", "nei", "mu",
                    "😀", "，", "股", "消息灵通人士", "消息灵通", "灵通人士", "内幕消", "特色情景",
                    "加", "我", "vx", "V", "x", "加我", "qq", "Q", "号", "群", "vip", "客户",
                    "s", "se", "qing", "ss", "x s",
                ]),
                0..32,
            ),
            mixed in any::<bool>(),
        ) {
            let rs = if mixed { mixed_ruleset() } else { ruleset() };
            let fm = rs.folded.as_ref().expect("folded lists");
            prop_assert_eq!(fm.wide_has_ascii, mixed);
            // the filter is what would skip a match wrongly: it must be on
            prop_assert!(fm.wide_prefixes.is_some());
            let text: String = parts.concat();
            for stretch in [true, false] {
                let (mut units, mut pending) = (Vec::new(), Vec::new());
                let mut sink = Sink::default();
                walk_folded(fm, &rs, stretch, 0, &text, &mut units, &mut pending, &mut sink, &mut false);
                let found =
                    !sink.cands.is_empty() || !sink.allows.is_empty() || !sink.parts.is_empty();
                if found {
                    prop_assert_eq!(any_folded_match(fm, stretch, &text, false, &mut false), Found::Match, "skipped {:?}", text);
                }
                // gating only skips steps that cannot matter: the same answer
                prop_assert_eq!(
                    any_folded_match(fm, stretch, &text, false, &mut false),
                    automaton_match(Steppers::ungated(fm), stretch, &text, false, &mut false),
                    "{:?}",
                    text
                );
            }
        }
    }

    /// Allow phrases, `~` parts and a combination's `&` parts but the
    /// longest are quiet: the walk that decides whether a field matches
    /// looks past them, and says it saw only them.
    #[test]
    fn quiet_patterns_are_tagged_and_looked_past() {
        let lists = WordListSet::from_sources(vec![(
            "a.txt".into(),
            "用 & signal ~ 测试\nnear:6 转账 & 私人账户\n内幕\n!内幕培训\n".into(),
        )]);
        let rs = RulesetBuilder::new().build(&lists).expect("compiles");
        let fm = rs.folded.as_ref().expect("folded lists");
        let value_of = |key: &str| {
            let automaton = if key.is_ascii() { &fm.ascii } else { &fm.wide };
            let mut walk = automaton.as_ref().expect("keys").walk();
            key.chars().for_each(|c| walk.step(c));
            walk.matches().next().map(|(value, _)| value)
        };
        for quiet in ["用", "测试", "转账", "内幕培训"] {
            assert!(value_of(quiet).is_some_and(is_quiet), "{quiet}");
        }
        for loud in ["signal", "私人账户", "内幕"] {
            assert!(value_of(loud).is_some_and(|v| !is_quiet(v)), "{loud}");
        }
        let found =
            |text: &str, past_quiet: bool| any_folded_match(fm, true, text, past_quiet, &mut false);
        assert_eq!(found("用这个测试", true), Found::OnlyQuiet);
        assert_eq!(found("用这个测试", false), Found::Match);
        assert_eq!(found("用 signal", true), Found::Match);
        assert_eq!(found("内幕培训", true), Found::Match);
        assert_eq!(found("会议", true), Found::Nothing);
    }

    /// Terms that repeat a character beside a key they share: `的的` and
    /// `的的的` fold to the key `的`, which every meaning needs repeated (its
    /// matches are dropped where the text has one `的` without reading the
    /// pattern); `的不` and `的的不` share the key `的不`, which has a meaning
    /// without run lengths.
    fn repeats_ruleset() -> Ruleset {
        let lists = WordListSet::from_sources(vec![(
            "a.txt".into(),
            "的的\n的的的\n的不\n的的不\n哈哈哈\n".into(),
        )]);
        RulesetBuilder::new().build(&lists).expect("compiles")
    }

    #[test]
    fn keys_that_need_a_repeat_are_tagged_and_dropped_without_one() {
        let rs = repeats_ruleset();
        let fm = rs.folded.as_ref().expect("folded lists");
        let wide = fm.wide.as_ref().expect("wide keys");
        let value_of = |key: &str| {
            let mut walk = wide.walk();
            key.chars().for_each(|c| walk.step(c));
            walk.matches().next().map(|(value, _)| value)
        };
        // the test exercises the shortcut, not only the full decision
        assert!(value_of("的").is_some_and(needs_repeat));
        assert!(value_of("哈").is_some_and(needs_repeat));
        assert!(value_of("的不").is_some_and(|v| !needs_repeat(v)));
        let terms = |text: &str| -> Vec<String> {
            let mut t: Vec<String> = rs
                .find(text)
                .iter()
                .map(|h| h.rule().term.clone())
                .collect();
            t.sort();
            t
        };
        assert!(terms("的").is_empty());
        assert_eq!(terms("的的"), vec!["的的"]);
        assert_eq!(terms("的的的"), vec!["的的", "的的的"]);
        assert_eq!(terms("的不"), vec!["的不"]);
        assert_eq!(terms("的的不"), vec!["的不", "的的", "的的不"]);
        assert!(terms("哈哈").is_empty());
        assert_eq!(terms("哈哈哈哈"), vec!["哈哈哈"]);
        // explain still lists what the shortcut drops, with the reason
        let (found, trace) = rs.scanner().explain(&["他的"]);
        assert!(found.hits.is_empty());
        let dropped: Vec<&Candidate> = trace
            .iter()
            .filter(|c| c.verdict == Verdict::RunTooShort)
            .collect();
        assert_eq!(dropped.len(), 2, "{trace:?}");
        assert!(dropped.iter().all(|c| (c.start, c.end) == (3, 6)));
    }

    proptest! {
        /// Scanning (which drops a key that needs a repeat without reading
        /// its pattern) finds the same hits as explaining (which reads every
        /// pattern to trace it), on texts of repeated and single characters.
        #[test]
        fn the_repeat_shortcut_keeps_every_hit(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["的", "不", "哈", "他", " ", "*", "的的", "哈哈"]),
                0..24,
            )
        ) {
            let rs = repeats_ruleset();
            let text: String = parts.concat();
            let view = |hits: &[Hit]| -> Vec<(String, usize, usize, u32)> {
                hits.iter().map(|h| (h.rule().term.clone(), h.start, h.end, h.count)).collect()
            };
            let scanned = rs.scanner().scan(&[&text]);
            let (explained, _) = rs.scanner().explain(&[&text]);
            prop_assert_eq!(view(&scanned.hits), view(&explained.hits), "{:?}", text);
        }
    }

    /// Latin terms only (no wide automaton), with keys that share letters
    /// the digits stand for and keys written with a digit (`t0p` beside
    /// `tops`: both readings of `t0ps` are as deep in the automaton).
    fn leet_ruleset() -> Ruleset {
        let lists = WordListSet::from_sources(vec![(
            "a.txt".into(),
            "shit\nhit\nass\nsos\ntie\nsheet\nb1t\nt0p\ntops\nneimu\nsb\n".into(),
        )]);
        RulesetBuilder::new().build(&lists).expect("compiles")
    }

    /// Every `(unit, value, length)` the walks report over `units`, a key
    /// found reading digits as letters only where it holds such a digit (as
    /// [`resolve`] keeps them).
    fn stepped(
        fm: &FoldedMatcher,
        units: &[char],
    ) -> std::collections::BTreeSet<(usize, u32, u32)> {
        let mut found = std::collections::BTreeSet::new();
        let mut stepper = Steppers::new(fm);
        for (i, &ch) in units.iter().enumerate() {
            stepper.consume(ch);
            stepper.for_each_match(|value, len, leet| {
                let span = &units[i + 1 - len as usize..=i];
                if !leet || span.iter().any(|&u| leet_letter(u).is_some()) {
                    found.insert((i, value, len));
                }
            });
        }
        found
    }

    /// The reference for [`stepped`]: the all-ASCII automaton stepped on
    /// every unit of each ASCII run twice, once reading digits as digits,
    /// once as the letters they stand for.
    fn both_readings(
        automaton: &CharAutomaton,
        units: &[char],
    ) -> std::collections::BTreeSet<(usize, u32, u32)> {
        let mut found = std::collections::BTreeSet::new();
        for as_letters in [false, true] {
            let mut walk = automaton.walk();
            for (i, &ch) in units.iter().enumerate() {
                if !ch.is_ascii() {
                    walk.reset();
                    continue;
                }
                walk.step(match as_letters {
                    true => leet_letter(ch).unwrap_or(ch),
                    false => ch,
                });
                for (value, len) in walk.matches() {
                    let span = &units[i + 1 - len as usize..=i];
                    if !as_letters || span.iter().any(|&u| leet_letter(u).is_some()) {
                        found.insert((i, value, len));
                    }
                }
            }
        }
        found
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The walk that reads digits as letters, taken over from the plain
        /// walk at a run's first such digit and left once the two agree,
        /// finds what reading every ASCII run both ways throughout finds.
        #[test]
        fn digits_read_as_letters_find_what_both_readings_find(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "s", "h", "i", "t", "1", "7", "a", "5", "0", "o", "e", "3", "b", "sh",
                    "ne", "mu", "4", "2", "内", "x", "p", "t0",
                ]),
                0..32,
            )
        ) {
            let rs = leet_ruleset();
            let fm = rs.folded.as_ref().expect("folded lists");
            prop_assert!(fm.wide.is_none());
            let ascii = fm.ascii.as_ref().expect("Latin keys");
            let units: Vec<char> = parts.concat().chars().collect();
            prop_assert_eq!(stepped(fm, &units), both_readings(ascii, &units), "{:?}", parts.concat());
        }
    }

    #[test]
    fn digits_count_as_letters_only_among_letters() {
        // (a space: noise before the next unit)
        let units = |text: &str| -> Vec<Unit> {
            let mut units: Vec<Unit> = Vec::new();
            let mut noise = false;
            for ch in text.chars() {
                if ch == ' ' {
                    noise = true;
                    continue;
                }
                units.push(Unit {
                    ch,
                    run: 1,
                    after_noise: std::mem::take(&mut noise),
                    start: 0,
                    end: 0,
                });
            }
            units
        };
        for (text, reading) in [
            ("shit", LeetReading::NoDigits),
            ("2b", LeetReading::NoDigits),
            ("sh1t", LeetReading::AmongLetters),
            ("5h1t", LeetReading::AmongLetters),
            ("c0nf1d3nt1al", LeetReading::AmongLetters),
            ("5b", LeetReading::TooFewLetters),
            ("a55", LeetReading::TooFewLetters),
            ("455", LeetReading::TooFewLetters),
            ("5h17", LeetReading::TooFewLetters),
            // word by word
            ("ne1mu xiaox1", LeetReading::AmongLetters),
            ("neimu 2b", LeetReading::NoDigits),
            ("t1 s3 t1", LeetReading::TooFewLetters),
            ("s1 moj1", LeetReading::TooFewLetters),
            ("s h 1 t", LeetReading::TooFewLetters),
        ] {
            assert_eq!(leet_reading(&units(text)), reading, "{text}");
        }
        let rs = leet_ruleset();
        let terms = |text: &str| -> Vec<String> {
            let mut t: Vec<String> = rs
                .find(text)
                .iter()
                .map(|h| h.rule().term.clone())
                .collect();
            t.sort();
            t
        };
        assert_eq!(terms("sh1t"), vec!["shit"]);
        // a digit the term is written with is a digit
        assert_eq!(terms("b1t"), vec!["b1t"]);
        assert!(terms("bit").is_empty());
        assert_eq!(terms("5h1t 5b"), vec!["shit"]);
        // (`hit` in `sh1t` touches the `s`)
        assert_eq!(terms("sh1t hit"), vec!["hit", "shit"]);
        assert_eq!(terms("sh1t"), vec!["shit"]);
        let (found, trace) = rs.scanner().explain(&["你是5b吧"]);
        assert!(found.hits.is_empty());
        assert!(
            trace
                .iter()
                .any(|c| c.verdict == Verdict::DigitsAsLetters && (c.start, c.end) == (6, 8)),
            "{trace:?}"
        );
    }
}
