//! Scanning a message against a [`Ruleset`]. This module reads each field
//! and its other readings (as displayed under a right-to-left override,
//! symbols as letters, a link's percent-encoded words decoded, digits
//! between Chinese characters as spaces, homophones) and runs the folded
//! and exact automata, regexes and detectors over them; [`walk`] is the
//! folded walk itself (the offset map, the gated automaton lanes, each
//! match decided against the units), [`decide`] what is kept of the
//! candidates (allow phrases, combinations, audiences, one hit per rule).

mod decide;
mod displayed;
mod walk;

use super::matchers::{FoldedMatcher, RegexGroup};
use super::patterns::rule_of_value;
use super::{Findings, Ruleset};
use crate::audience::Audience;
use crate::detect::{self, Detection};
use crate::fold::{
    crosses_filler, digits_between_chinese, folds_to_word_char, is_invisible, light_fold,
    light_fold_into, symbols_read_as_letters, with_filler_as_spaces, with_homophones,
    with_symbols_as_letters, Filler, PercentDecoded, Survey,
};
use crate::people::Conversation;

use displayed::Displayed;
use walk::{any_exact_match, any_folded_match, emit, walk_folded, Found, PendingMatch};

/// Why a candidate was kept or dropped (see [`Scanner::explain`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Reported.
    Kept,
    /// Reported once already in this message; counted.
    Repeat,
    /// An end of the term touches a letter or digit in the text.
    NoWordBoundary,
    /// The text repeats a character fewer times than the term does.
    RunTooShort,
    /// Found reading digits as letters (`sh1t`), but the digits stand among
    /// fewer than two letters or outnumber them (`5b` is no `sb`).
    DigitsAsLetters,
    /// The hit lies inside an occurrence of this allow phrase (`file:line phrase`).
    AllowPhrase(String),
    /// A combination part; the rule as a whole is reported or not on its own.
    CombinationPart,
    /// A combination rule whose parts were not all present, or a `~` part was.
    CombinationUnsatisfied,
    /// A `near:N` combination whose `&` parts were all present, but never
    /// within N characters of one field.
    PartsTooFarApart(u32),
    /// An allow-phrase occurrence.
    AllowOccurrence,
    /// Over the per-message hit limit.
    Truncated,
    /// The rule's list watches other conversations (`#! audience:
    /// external`, and the message's is this).
    OtherAudience(Audience),
    /// The rule's list watches other people's messages (`#! people:`, as
    /// written).
    OtherPeople(String),
    /// The rule's list watches messages written at other times (`#! from:`,
    /// `#! until:`; the window as [`crate::lists::Window`] shows it).
    OtherTime(String),
}

/// A place where some rule or allow phrase matched, and what became of it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// What matched, for a person (`term 内幕消息 [finance/insider]`).
    pub what: String,
    /// Field index.
    pub field: usize,
    /// Start byte offset in the field's original text.
    pub start: usize,
    /// End byte offset.
    pub end: usize,
    /// Kept or why dropped.
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    ch: char,
    run: u16,
    after_noise: bool,
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy)]
struct Cand {
    rule: u32,
    field: u32,
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy)]
struct AllowSpan {
    allow: u32,
    field: u32,
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy)]
struct PartOcc {
    combo: u32,
    negated: bool,
    idx: u16,
    field: u32,
    start: u32,
    end: u32,
}

#[derive(Default)]
struct Sink {
    cands: Vec<Cand>,
    allows: Vec<AllowSpan>,
    parts: Vec<PartOcc>,
    /// Fields as written in which only quiet patterns occur (see
    /// [`Scanner::walk_quiet_fields`]).
    quiet_fields: Vec<u32>,
    trace: Option<Vec<Candidate>>,
    /// Buffers of one hit per rule (`decide.rs`).
    rule_hits: RuleHits,
    /// The distinct values of a list with a `#! bulk:` threshold, as
    /// hashes (`decide.rs`).
    bulk_values: rustc_hash::FxHashSet<u64>,
}

/// A message's rules with hits, kept between messages for their capacity.
#[derive(Default)]
struct RuleHits {
    /// The index of each rule's hit.
    index: rustc_hash::FxHashMap<u32, u32>,
    /// The place `(field, start)` each hit's rule was last seen at.
    last_place: Vec<(u32, u32)>,
}

/// Scans messages against one [`Ruleset`], reusing its buffers between calls.
/// Create one per thread with [`Ruleset::scanner`].
///
/// ```
/// use wordwarden::lists::WordListSet;
/// use wordwarden::ruleset::Ruleset;
///
/// let lists = WordListSet::from_sources(vec![("a.txt".into(), "私人账户\n".into())]);
/// let rs = Ruleset::builder().build(&lists).unwrap();
/// let mut scanner = rs.scanner();
/// for text in ["打到我私人账户", "公司账户"] {
///     let found = scanner.scan(&[text]);
///     println!("{} hits", found.hits.len());
/// }
/// ```
pub struct Scanner<'r> {
    rs: &'r Ruleset,
    units: Vec<Unit>,
    pending: Vec<PendingMatch>,
    detections: Vec<Detection>,
    /// The light-folded text regexes are tried on.
    light: String,
    sink: Sink,
}

/// A scanner's reusable buffers, detached from any ruleset, so a long-lived
/// worker keeps them across ruleset reloads ([`Ruleset::scanner_with`]).
#[derive(Default)]
pub struct ScanBuffers {
    units: Vec<Unit>,
    pending: Vec<PendingMatch>,
    detections: Vec<Detection>,
    light: String,
    sink: Sink,
}

impl<'r> Scanner<'r> {
    pub(crate) fn new(rs: &'r Ruleset) -> Self {
        Self::with_buffers(rs, ScanBuffers::default())
    }

    pub(crate) fn with_buffers(rs: &'r Ruleset, b: ScanBuffers) -> Self {
        Scanner {
            rs,
            units: b.units,
            pending: b.pending,
            detections: b.detections,
            light: b.light,
            sink: b.sink,
        }
    }

    /// Gives the buffers back for use with another ruleset.
    pub fn into_buffers(self) -> ScanBuffers {
        ScanBuffers {
            units: self.units,
            pending: self.pending,
            detections: self.detections,
            light: self.light,
            sink: self.sink,
        }
    }

    /// Scans the text fields of one message whose audience is unknown: every
    /// list watches it.
    pub fn scan<S: AsRef<str>>(&mut self, fields: &[S]) -> Findings<'r> {
        self.scan_for(fields, Audience::Unknown)
    }

    /// Scans the text fields of one message of `conversation` (an
    /// [`Audience`], or a [`Conversation`] that also places its people in
    /// groups, from [`Ruleset::conversation`](crate::ruleset::Ruleset::conversation)):
    /// a list with `#! audience: external` reports nothing in an internal
    /// conversation, one with `#! people:` nothing in other people's.
    ///
    /// ```
    /// use wordwarden::audience::Audience;
    /// use wordwarden::lists::WordListSet;
    /// use wordwarden::ruleset::Ruleset;
    ///
    /// let lists = WordListSet::from_sources(vec![(
    ///     "leak.txt".into(),
    ///     "#! audience: external\n客户名单\n".into(),
    /// )]);
    /// let rs = Ruleset::builder().build(&lists).unwrap();
    /// let mut scanner = rs.scanner();
    /// assert_eq!(scanner.scan_for(&["发你客户名单"], Audience::External).hits.len(), 1);
    /// assert!(scanner.scan_for(&["发你客户名单"], Audience::Internal).hits.is_empty());
    /// ```
    pub fn scan_for<S: AsRef<str>>(
        &mut self,
        fields: &[S],
        conversation: impl Into<Conversation>,
    ) -> Findings<'r> {
        self.sink.trace = None;
        self.run(fields, true, conversation.into())
    }

    /// Scans and also returns every candidate with the reason it was kept or
    /// dropped (used by `wordwarden explain`).
    pub fn explain<S: AsRef<str>>(&mut self, fields: &[S]) -> (Findings<'r>, Vec<Candidate>) {
        self.explain_for(fields, Audience::Unknown)
    }

    /// [`Scanner::explain`] for a message of `conversation`.
    pub fn explain_for<S: AsRef<str>>(
        &mut self,
        fields: &[S],
        conversation: impl Into<Conversation>,
    ) -> (Findings<'r>, Vec<Candidate>) {
        self.sink.trace = Some(Vec::new());
        let f = self.run(fields, true, conversation.into());
        (f, self.sink.trace.take().unwrap_or_default())
    }

    /// Scans without applying allow phrases (lint uses it to find allow
    /// phrases that suppress nothing).
    pub(crate) fn scan_without_allows<S: AsRef<str>>(&mut self, fields: &[S]) -> Findings<'r> {
        self.sink.trace = None;
        self.run(fields, false, Audience::Unknown.into())
    }

    fn run<S: AsRef<str>>(
        &mut self,
        fields: &[S],
        apply_allows: bool,
        conversation: Conversation,
    ) -> Findings<'r> {
        self.sink.cands.clear();
        self.sink.allows.clear();
        self.sink.parts.clear();
        self.sink.quiet_fields.clear();
        // (explain shows every occurrence, quiet ones too)
        let past_quiet = self.sink.trace.is_none();
        for (i, f) in fields.iter().enumerate() {
            let text = f.as_ref();
            if text.len() > u32::MAX as usize {
                continue; // envelopes cap message size far below this
            }
            // the other readings' signs and the detectors', in one look
            // (most fields have none)
            let survey = self.survey(text);
            if self.scan_field(i as u32, text, Lists::All, past_quiet, Some(survey)) {
                self.scan_as_displayed(i as u32, text);
            }
            if survey.may_have_symbols_for_letters() {
                let read = symbols_read_as_letters(text);
                if !read.is_empty() {
                    self.scan_reading_symbols(i as u32, text, &read);
                }
            }
            if let Some(decoded) = survey
                .may_have_percent_escapes()
                .then(|| PercentDecoded::of(text))
                .flatten()
            {
                self.scan_percent_decoded(i as u32, &decoded);
            }
            if survey.may_have_filler() {
                let filler = digits_between_chinese(text);
                if !filler.is_empty() {
                    self.scan_filler_as_spaces(i as u32, text, &filler);
                }
            }
            if self.rs.homophones.is_some() {
                self.scan_homophones(i as u32, text);
            }
            if let Some(masked) = self.rs.masked.as_ref().filter(|_| survey.may_have_masks()) {
                let cands = &mut self.sink.cands;
                masked.find(text, |rule, start, end| {
                    cands.push(Cand {
                        rule,
                        field: i as u32,
                        start: start as u32,
                        end: end as u32,
                    })
                });
            }
        }
        self.walk_quiet_fields(fields);
        self.finish(fields, apply_allows, conversation)
    }

    /// Walks in full the fields as written in which only quiet patterns
    /// occur (allow phrases, `~` parts, a combination's `&` parts but its
    /// longest), where
    /// the rest of the message holds something they bear on: a candidate an
    /// allow phrase may take away, or a combination's part. Elsewhere they
    /// change nothing, and the walk that records them costs several times
    /// the one that found them (a combination's part `用` is in one message
    /// of six).
    fn walk_quiet_fields<S: AsRef<str>>(&mut self, fields: &[S]) {
        let sink = &mut self.sink;
        if sink.quiet_fields.is_empty() || (sink.cands.is_empty() && sink.parts.is_empty()) {
            return;
        }
        let Some(fm) = self.rs.folded.as_ref() else {
            return;
        };
        let quiet = std::mem::take(&mut sink.quiet_fields);
        for &field in &quiet {
            if let Some(text) = fields.get(field as usize) {
                walk_folded(
                    fm,
                    self.rs,
                    self.rs.options.stretch,
                    field,
                    text.as_ref(),
                    &mut self.units,
                    &mut self.pending,
                    &mut self.sink,
                    &mut false, // (the walk that found them looked to the end)
                );
            }
        }
        self.sink.quiet_fields = quiet;
    }

    /// Text under a right-to-left override (U+202E) is displayed reversed:
    /// `\u{202E}息消幕内` shows as `内幕消息`, and the folding, which drops
    /// the override as invisible, read it backwards. Scans the text as it is
    /// displayed and keeps what touches an overridden run, at the place of
    /// the characters it was written with.
    #[cold]
    fn scan_as_displayed(&mut self, field: u32, text: &str) {
        let Some(shown) = Displayed::of(text) else {
            return;
        };
        // (the displayed text holds no override: this does not recurse)
        // each span to where it was written, or dropped if the override did
        // not move it (the plain scan found it)
        self.scan_reading(field, &shown.text, Lists::All, |start, end| {
            shown
                .written(*start, *end)
                .map(|(s, e)| (*start, *end) = (s, e))
                .is_some()
        });
    }

    /// Symbols written for letters in a Latin word (`$hit`, `sh!t`, `b@stard`;
    /// `read` from [`symbols_read_as_letters`]) are noise to the fold, which
    /// reads `hit`, `sht`, `bstard`. Scans the text with those symbols as their
    /// letters (the same bytes' length, so every place stays) and keeps
    /// what covers one of them.
    #[cold]
    fn scan_reading_symbols(&mut self, field: u32, text: &str, read: &[(usize, u8)]) {
        let as_letters = with_symbols_as_letters(text, read);
        self.scan_reading(field, &as_letters, Lists::Folded, |start, end| {
            let first = read.partition_point(|&(at, _)| at < *start as usize);
            read.get(first).is_some_and(|&(at, _)| at < *end as usize)
        });
    }

    /// A link's words percent-encoded (`wd=%E5%86%85%E5%B9%95` for
    /// `wd=内幕`, as a browser copies a link): scans the field with those
    /// runs decoded and keeps what touches one, at the escapes it was
    /// written with.
    #[cold]
    fn scan_percent_decoded(&mut self, field: u32, decoded: &PercentDecoded) {
        self.scan_reading(field, &decoded.text, Lists::All, |start, end| {
            decoded
                .written(*start, *end)
                .map(|(s, e)| (*start, *end) = (s, e))
                .is_some()
        });
    }

    /// Digits between Chinese characters as filler (`内1幕2消3息`; `filler`
    /// from [`digits_between_chinese`]) break a term to the fold, as letters
    /// do. Scans the field with them as spaces (the same length, so every
    /// place stays) against the folded lists and keeps what crosses one and
    /// spans three Chinese characters or more; only where a key may hold
    /// the characters around some run side by side (`下午3点` is a time).
    #[cold]
    fn scan_filler_as_spaces(&mut self, field: u32, text: &str, filler: &[Filler]) {
        let Some(pairs) = self.rs.folded.as_ref().map(|fm| &fm.filler_pairs) else {
            return;
        };
        if !filler
            .iter()
            .any(|f| pairs.may_follow(f.between.0, f.between.1))
        {
            return;
        }
        let spaced = with_filler_as_spaces(text, filler);
        self.scan_reading(field, &spaced, Lists::Folded, |start, end| {
            crosses_filler(text, filler, *start as usize..*end as usize)
        });
    }

    /// Chinese characters written for others that sound the same (谐音:
    /// `内幕小溪` for `内幕消息`): scans the field with every Chinese
    /// character as its homophones' representative (the same length, so
    /// every place stays) against the homophone keys of `#! homophones: on`
    /// lists, and keeps all it finds.
    #[cold]
    fn scan_homophones(&mut self, field: u32, text: &str) {
        if let Some(reading) = with_homophones(text) {
            self.scan_reading(field, &reading, Lists::Homophones, |_, _| true);
        }
    }

    /// The signs `text` holds of the other readings, and of the detectors
    /// where some list names one.
    fn survey(&self, text: &str) -> Survey {
        if self.rs.detectors.is_empty() {
            Survey::of(text)
        } else {
            Survey::with_detectors(text)
        }
    }

    /// Scans `reading`, another reading of a field, and keeps what it adds
    /// (candidates, allow spans, combination parts, trace) where `written`
    /// says to, after it has moved the span to the field's own bytes.
    fn scan_reading(
        &mut self,
        field: u32,
        reading: &str,
        lists: Lists,
        mut written: impl FnMut(&mut u32, &mut u32) -> bool,
    ) {
        let sink = &self.sink;
        let (cands, allows, parts) = (sink.cands.len(), sink.allows.len(), sink.parts.len());
        let traced = sink.trace.as_ref().map_or(0, Vec::len);
        self.scan_field(field, reading, lists, false, None);
        let sink = &mut self.sink;
        keep_moved(&mut sink.cands, cands, |c| {
            written(&mut c.start, &mut c.end)
        });
        keep_moved(&mut sink.allows, allows, |a| {
            written(&mut a.start, &mut a.end)
        });
        keep_moved(&mut sink.parts, parts, |p| {
            written(&mut p.start, &mut p.end)
        });
        if let Some(trace) = sink.trace.as_mut() {
            keep_moved(trace, traced, |c| {
                let (mut start, mut end) = (c.start as u32, c.end as u32);
                let kept = written(&mut start, &mut end);
                (c.start, c.end) = (start as usize, end as usize);
                kept
            });
        }
    }

    /// Scans one field; true when its folded walk met a right-to-left
    /// override ([`Scanner::scan_as_displayed`]). With `past_quiet`, a field
    /// in which only quiet patterns occur is noted, not walked in full
    /// ([`Scanner::walk_quiet_fields`]). `survey` is `text`'s
    /// ([`Scanner::survey`]), if it was taken.
    fn scan_field(
        &mut self,
        field: u32,
        text: &str,
        lists: Lists,
        past_quiet: bool,
        survey: Option<Survey>,
    ) -> bool {
        let rs = self.rs;
        let mut overridden = false;
        // the offset map is built only for the few texts in which some
        // pattern ends: the pre-pass is the same walk without it
        // (homophones do not stretch: `去取` is two syllables, not one drawn out)
        let stretch = rs.options.stretch && lists != Lists::Homophones;
        if let Some(fm) = lists.folded(rs) {
            match any_folded_match(fm, stretch, text, past_quiet, &mut overridden) {
                Found::Match => walk_folded(
                    fm,
                    rs,
                    stretch,
                    field,
                    text,
                    &mut self.units,
                    &mut self.pending,
                    &mut self.sink,
                    &mut overridden,
                ),
                Found::OnlyQuiet => self.sink.quiet_fields.push(field),
                Found::Nothing => {}
            }
        }
        // exact lists, exact regexes and detectors see the field as written
        // (or displayed) only
        let as_written = lists == Lists::All;
        if lists == Lists::Homophones {
            return overridden;
        }
        if let Some(ex) = rs
            .exact
            .as_ref()
            .filter(|ex| as_written && any_exact_match(&ex.automaton, ex.prefixes.as_ref(), text))
        {
            let sink = &mut self.sink;
            ex.automaton
                .for_each_overlapping(text, |value, start, end| {
                    let pattern = match rule_of_value(value) {
                        Ok(rule) => {
                            sink.cands.push(Cand {
                                rule,
                                field,
                                start: start as u32,
                                end: end as u32,
                            });
                            return;
                        }
                        Err(pattern) => pattern,
                    };
                    let pat = ex.patterns.get(pattern);
                    let ok_start = !pat.bound_start || raw_boundary_before(text, start);
                    let ok_end = !pat.bound_end || raw_boundary_after(text, end);
                    for alt in ex.patterns.alts(pat) {
                        let verdict = if ok_start && ok_end {
                            None
                        } else {
                            Some(Verdict::NoWordBoundary)
                        };
                        emit(rs, sink, alt, field, start as u32, end as u32, verdict);
                    }
                });
        }
        if let Some(group) = &rs.regex_folded {
            // the set asked once whether anything matches (it may stop at
            // the first match), the offset map built only when something does
            self.light.clear();
            light_fold_into(text, &mut self.light);
            if group.set.is_match(&self.light) {
                let lf = light_fold(text);
                run_regexes(group, lf.text(), field, &mut self.sink, |r| {
                    lf.original_range(r)
                });
            }
        }
        if let Some(group) = rs
            .regex_exact
            .as_ref()
            .filter(|g| as_written && g.set.is_match(text))
        {
            run_regexes(group, text, field, &mut self.sink, |r| r);
        }
        if !rs.detectors.is_empty() && as_written {
            self.detections.clear();
            let survey = survey.unwrap_or_else(|| Survey::with_detectors(text));
            detect::find_surveyed_into(text, survey, &rs.detector_kinds, &mut self.detections);
            for d in &self.detections {
                for &(kind, rule) in &rs.detectors {
                    if kind == d.detector {
                        self.sink.cands.push(Cand {
                            rule,
                            field,
                            start: d.start as u32,
                            end: d.end as u32,
                        });
                    }
                }
            }
        }
        overridden
    }
}

/// Which lists a reading of a field is matched against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lists {
    /// Every list: the text as written, or as displayed.
    All,
    /// Only the folded lists and regexes: a reading of symbols as letters
    /// is a fold (`#! match: exact` lists match the text as written), and
    /// letters make no number or address for the detectors.
    Folded,
    /// Only the homophone keys of `#! homophones: on` lists, on a field's
    /// homophone reading.
    Homophones,
}

impl Lists {
    /// The folded matcher these lists walk.
    fn folded(self, rs: &Ruleset) -> Option<&FoldedMatcher> {
        match self {
            Lists::All | Lists::Folded => rs.folded.as_ref(),
            Lists::Homophones => rs.homophones.as_ref(),
        }
    }
}

/// Of the items `items` gained since `from`, keeps those `moved` says to
/// (after it has updated them).
fn keep_moved<T>(items: &mut Vec<T>, from: usize, moved: impl FnMut(&mut T) -> bool) {
    let mut gained = items.split_off(from);
    gained.retain_mut(moved);
    items.append(&mut gained);
}

fn run_regexes(
    group: &RegexGroup,
    haystack: &str,
    field: u32,
    sink: &mut Sink,
    map: impl Fn(std::ops::Range<usize>) -> std::ops::Range<usize>,
) {
    const MAX_MATCHES_PER_REGEX: usize = 1000;
    let matched = group.set.matches(haystack);
    for idx in matched.iter() {
        let (re, rule) = &group.each[idx];
        for m in re.find_iter(haystack).take(MAX_MATCHES_PER_REGEX) {
            if m.is_empty() {
                continue;
            }
            let r = map(m.range());
            sink.cands.push(Cand {
                rule: *rule,
                field,
                start: r.start as u32,
                end: r.end as u32,
            });
        }
    }
}

pub(super) fn raw_boundary_before(text: &str, at: usize) -> bool {
    match text[..at].chars().rev().find(|c| !is_invisible(*c)) {
        None => true,
        Some(c) => !folds_to_word_char(c),
    }
}

pub(super) fn raw_boundary_after(text: &str, at: usize) -> bool {
    match text[at..].chars().find(|c| !is_invisible(*c)) {
        None => true,
        Some(c) => !folds_to_word_char(c),
    }
}
