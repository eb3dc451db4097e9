//! Scanning: folding fused into the automaton walk, boundary and run checks,
//! allow phrases, combinations, regexes and detectors.

use super::automaton::{CharAutomaton, Walk};
use super::build::{
    needs_repeat, rule_of_value, Alt, ExactAutomaton, FoldedMatcher, Pattern, PrefixFilter, Target,
};
use super::{Findings, Hit, Ruleset};
use crate::audience::Audience;
use crate::detect::{self, Detection};
use crate::fold::{
    ends_paragraph, folds_to_word_char, is_invisible, is_word_char, leet_letter, light_fold,
    light_fold_into, symbols_read_as_letters, with_homophones, with_symbols_as_letters, FoldEntry,
    Folder, POP_DIRECTIONAL_FORMATTING, RIGHT_TO_LEFT_OVERRIDE,
};

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
    trace: Option<Vec<Candidate>>,
    /// Buffers of [`one_hit_per_rule`].
    rule_hits: RuleHits,
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

    /// Scans the text fields of one message between `audience`: a list with
    /// `#! audience: external` reports nothing in an internal conversation.
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
    pub fn scan_for<S: AsRef<str>>(&mut self, fields: &[S], audience: Audience) -> Findings<'r> {
        self.sink.trace = None;
        self.run(fields, true, audience)
    }

    /// Scans and also returns every candidate with the reason it was kept or
    /// dropped (used by `wordwarden explain`).
    pub fn explain<S: AsRef<str>>(&mut self, fields: &[S]) -> (Findings<'r>, Vec<Candidate>) {
        self.explain_for(fields, Audience::Unknown)
    }

    /// [`Scanner::explain`] for a message between `audience`.
    pub fn explain_for<S: AsRef<str>>(
        &mut self,
        fields: &[S],
        audience: Audience,
    ) -> (Findings<'r>, Vec<Candidate>) {
        self.sink.trace = Some(Vec::new());
        let f = self.run(fields, true, audience);
        (f, self.sink.trace.take().unwrap_or_default())
    }

    /// Scans without applying allow phrases (lint uses it to find allow
    /// phrases that suppress nothing).
    pub(crate) fn scan_without_allows<S: AsRef<str>>(&mut self, fields: &[S]) -> Findings<'r> {
        self.sink.trace = None;
        self.run(fields, false, Audience::Unknown)
    }

    fn run<S: AsRef<str>>(
        &mut self,
        fields: &[S],
        apply_allows: bool,
        audience: Audience,
    ) -> Findings<'r> {
        self.sink.cands.clear();
        self.sink.allows.clear();
        self.sink.parts.clear();
        for (i, f) in fields.iter().enumerate() {
            let text = f.as_ref();
            if text.len() > u32::MAX as usize {
                continue; // envelopes cap message size far below this
            }
            if self.scan_field(i as u32, text, Lists::All) {
                self.scan_as_displayed(i as u32, text);
            }
            let read = symbols_read_as_letters(text);
            if !read.is_empty() {
                self.scan_reading_symbols(i as u32, text, &read);
            }
            if self.rs.homophones.is_some() {
                self.scan_homophones(i as u32, text);
            }
            if let Some(masked) = &self.rs.masked {
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
        self.finish(fields, apply_allows, audience)
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
        self.scan_field(field, reading, lists);
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
    /// override ([`Scanner::scan_as_displayed`]).
    fn scan_field(&mut self, field: u32, text: &str, lists: Lists) -> bool {
        let rs = self.rs;
        let mut overridden = false;
        // the offset map is built only for the few texts in which some
        // pattern ends: the pre-pass is the same walk without it
        // (homophones do not stretch: `去取` is two syllables, not one drawn out)
        let stretch = rs.options.stretch && lists != Lists::Homophones;
        if let Some(fm) = lists
            .folded(rs)
            .filter(|fm| any_folded_match(fm, stretch, text, &mut overridden))
        {
            walk_folded(
                fm,
                rs,
                stretch,
                field,
                text,
                &mut self.units,
                &mut self.pending,
                &mut self.sink,
                &mut overridden,
            );
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
            detect::find_into(text, &rs.detector_kinds, &mut self.detections);
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

    fn finish<S: AsRef<str>>(
        &mut self,
        fields: &[S],
        apply_allows: bool,
        audience: Audience,
    ) -> Findings<'r> {
        let rs = self.rs;
        let sink = &mut self.sink;
        let inside_allow = |allows: &[AllowSpan], field: u32, start: u32, end: u32| {
            allows
                .iter()
                .find(|a| a.field == field && a.start <= start && end <= a.end)
                .map(|a| a.allow)
        };
        if let Some(trace) = sink.trace.as_mut() {
            for a in &sink.allows {
                trace.push(Candidate {
                    what: format!("allow phrase {}", rs.allows[a.allow as usize].written),
                    field: a.field as usize,
                    start: a.start as usize,
                    end: a.end as usize,
                    verdict: Verdict::AllowOccurrence,
                });
            }
        }
        // 1. allow phrases drop candidates lying inside one of their occurrences
        let allows = if apply_allows { &sink.allows[..] } else { &[] };
        // filtered in place: the candidates left are the ones kept
        let kept = &mut sink.cands;
        let trace = &mut sink.trace;
        if !allows.is_empty() {
            kept.retain(|c| {
                let Some(a) = inside_allow(allows, c.field, c.start, c.end) else {
                    return true;
                };
                if let Some(trace) = trace.as_mut() {
                    let ap = &rs.allows[a as usize];
                    trace.push(candidate(
                        rs,
                        c,
                        Verdict::AllowPhrase(format!("{}:{} {}", ap.file, ap.line, ap.written)),
                    ));
                }
                false
            });
        }
        // 2. combinations: every `&` part present (outside allow phrases), no `~` part
        if !sink.parts.is_empty() {
            sink.parts
                .retain(|p| inside_allow(allows, p.field, p.start, p.end).is_none());
            sink.parts
                .sort_by_key(|p| (p.combo, p.negated, p.idx, p.field, p.start));
            let mut i = 0;
            while i < sink.parts.len() {
                let combo_id = sink.parts[i].combo;
                let mut j = i;
                while j < sink.parts.len() && sink.parts[j].combo == combo_id {
                    j += 1;
                }
                let occs = &sink.parts[i..j];
                let combo = &rs.combos[combo_id as usize];
                let mut firsts: Vec<PartOcc> = Vec::new();
                let mut negated_seen = false;
                for o in occs {
                    if o.negated {
                        negated_seen = true;
                    } else if firsts.last().is_none_or(|f| f.idx != o.idx) {
                        firsts.push(*o);
                    }
                }
                let satisfied =
                    combo.rule != u32::MAX && firsts.len() == combo.all as usize && !negated_seen;
                // where the rule is reported: for `near:N` the first stretch
                // holding every part, else the parts' first places
                let place = match (satisfied, combo.within) {
                    (false, _) => None,
                    (true, Some(within)) => {
                        let text = |field: u32| fields.get(field as usize).map(AsRef::as_ref);
                        let found = parts_within(occs, combo.all, within, text);
                        if let (None, Some(trace), Some(first)) =
                            (found, sink.trace.as_mut(), firsts.first())
                        {
                            let c = Cand {
                                rule: combo.rule,
                                field: first.field,
                                start: first.start,
                                end: first.end,
                            };
                            trace.push(candidate(rs, &c, Verdict::PartsTooFarApart(within)));
                        }
                        found
                    }
                    (true, None) => firsts.first().map(|first| {
                        let same_field = firsts.iter().all(|f| f.field == first.field);
                        if same_field {
                            (
                                first.field,
                                firsts.iter().map(|f| f.start).min().unwrap_or(first.start),
                                firsts.iter().map(|f| f.end).max().unwrap_or(first.end),
                            )
                        } else {
                            let earliest = firsts
                                .iter()
                                .min_by_key(|f| (f.field, f.start))
                                .unwrap_or(first);
                            (earliest.field, earliest.start, earliest.end)
                        }
                    }),
                };
                if let Some((field, start, end)) = place {
                    kept.push(Cand {
                        rule: combo.rule,
                        field,
                        start,
                        end,
                    });
                } else if let (false, Some(trace), Some(first)) =
                    (satisfied, sink.trace.as_mut(), occs.first())
                {
                    if combo.rule != u32::MAX {
                        let c = Cand {
                            rule: combo.rule,
                            field: first.field,
                            start: first.start,
                            end: first.end,
                        };
                        trace.push(candidate(rs, &c, Verdict::CombinationUnsatisfied));
                    }
                }
                i = j;
            }
        }
        // 3. lists that watch other conversations (after the combinations:
        // a combination's rule is of its list too)
        if rs.scoped {
            let trace = &mut sink.trace;
            kept.retain(|c| {
                let admitted = rs.rules[c.rule as usize].audience.admits(audience);
                if let (false, Some(trace)) = (admitted, trace.as_mut()) {
                    trace.push(candidate(rs, c, Verdict::OtherAudience(audience)));
                }
                admitted
            });
        }
        // 4. one hit per rule: its first place, and how many places
        let mut hits = one_hit_per_rule(rs, kept, &mut sink.rule_hits, sink.trace.as_mut());
        let truncated = hits.len() > rs.options.max_hits;
        if truncated {
            if let Some(trace) = sink.trace.as_mut() {
                for h in &hits[rs.options.max_hits..] {
                    trace.push(Candidate {
                        what: describe(h.rule),
                        field: h.field,
                        start: h.start,
                        end: h.end,
                        verdict: Verdict::Truncated,
                    });
                }
            }
            hits.truncate(rs.options.max_hits);
        }
        if let Some(trace) = sink.trace.as_mut() {
            for h in &hits {
                trace.push(Candidate {
                    what: describe(h.rule),
                    field: h.field,
                    start: h.start,
                    end: h.end,
                    verdict: Verdict::Kept,
                });
            }
        }
        Findings { hits, truncated }
    }
}

/// The first stretch of one field holding an occurrence of each of a
/// `near:N` combination's `parts` `&` parts within `within` letters, digits
/// and Chinese characters: `(field, start, end)`. `occs` are the rule's
/// occurrences, `text(field)` a field's text. Linear in the occurrences
/// and the fields' length: a long message can hold many thousands.
fn parts_within<'t>(
    occs: &[PartOcc],
    parts: u16,
    within: u32,
    text: impl Fn(u32) -> Option<&'t str>,
) -> Option<(u32, u32, u32)> {
    let mut occs: Vec<PartOcc> = occs
        .iter()
        .filter(|o| !o.negated && o.idx < parts)
        .copied()
        .collect();
    occs.sort_by_key(|o| (o.field, o.start, o.end));
    // the counted characters before each byte of the current field
    let mut counted_before: Vec<u32> = Vec::new();
    // a sliding window over the places: the shortest one ending at each
    // occurrence that holds every part, tried from the left; `ends` holds
    // the window's occurrences by decreasing end (its front is the end)
    let mut seen = vec![0u32; usize::from(parts)];
    let mut covered = 0;
    let mut left = 0;
    let mut ends: std::collections::VecDeque<(usize, u32)> = std::collections::VecDeque::new();
    let mut field = None;
    for right in 0..occs.len() {
        let r = occs[right];
        if field != Some(r.field) {
            field = Some(r.field);
            seen.fill(0);
            covered = 0;
            left = right;
            ends.clear();
            counted_before = count_before(text(r.field).unwrap_or_default());
        }
        let idx = usize::from(r.idx);
        if seen[idx] == 0 {
            covered += 1;
        }
        seen[idx] += 1;
        while ends.back().is_some_and(|&(_, end)| end <= r.end) {
            ends.pop_back();
        }
        ends.push_back((right, r.end));
        while covered == usize::from(parts) {
            let l = occs[left];
            while ends.front().is_some_and(|&(i, _)| i < left) {
                ends.pop_front();
            }
            let end = ends.front().map_or(r.end, |&(_, end)| end);
            let inside = counted_before
                .get(end as usize)
                .zip(counted_before.get(l.start as usize))
                .map_or(u32::MAX, |(e, s)| e.saturating_sub(*s));
            if inside <= within {
                return Some((l.field, l.start, end));
            }
            let idx = usize::from(l.idx);
            seen[idx] -= 1;
            if seen[idx] == 0 {
                covered -= 1;
            }
            left += 1;
        }
    }
    None
}

/// For each byte of `text` (and its end), how many letters, digits and
/// Chinese characters come before it: noise between characters does not
/// count towards a `near:N` window, as it does not break a term.
fn count_before(text: &str) -> Vec<u32> {
    let mut before = Vec::with_capacity(text.len() + 1);
    let mut n = 0u32;
    for c in text.chars() {
        before.extend(std::iter::repeat_n(n, c.len_utf8()));
        n += u32::from(c.is_alphanumeric());
    }
    before.push(n);
    before
}

/// One hit per rule of the candidates kept: the rule's first place, and how
/// many places `(field, start)` it was found at; ordered by place, hits at
/// one place by category and term. Sorts `kept` by place: then a rule's first
/// candidate is its first place and the hits come out in order (the walk
/// leaves the candidates nearly in that order). Sorting them by rule and the
/// hits again by place cost a seventh of the scan on text dense with hits.
fn one_hit_per_rule<'r>(
    rs: &'r Ruleset,
    kept: &mut [Cand],
    buffers: &mut RuleHits,
    mut trace: Option<&mut Vec<Candidate>>,
) -> Vec<Hit<'r>> {
    kept.sort_by_key(|c| (c.field, c.start, c.end, c.rule));
    let RuleHits { index, last_place } = buffers;
    index.clear();
    last_place.clear();
    let mut hits: Vec<Hit<'r>> = Vec::new();
    for c in kept.iter() {
        let place = (c.field, c.start);
        match index.entry(c.rule) {
            std::collections::hash_map::Entry::Occupied(hit) => {
                let h = *hit.get() as usize;
                if last_place[h] != place {
                    last_place[h] = place;
                    hits[h].count += 1;
                    if let Some(trace) = trace.as_mut() {
                        trace.push(candidate(rs, c, Verdict::Repeat));
                    }
                }
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(hits.len() as u32);
                last_place.push(place);
                hits.push(Hit {
                    rule: &rs.rules[c.rule as usize],
                    field: c.field as usize,
                    start: c.start as usize,
                    end: c.end as usize,
                    count: 1,
                });
            }
        }
    }
    // already by place: this orders the hits at one place
    order_by_place(&mut hits);
    hits
}

/// Hits by place, those at one place by category and term (stable: rules of
/// the same term and category in rule order).
fn order_by_place(hits: &mut [Hit<'_>]) {
    hits.sort_by(|a, b| {
        (a.field, a.start, a.end, &a.rule.category, &a.rule.term).cmp(&(
            b.field,
            b.start,
            b.end,
            &b.rule.category,
            &b.rule.term,
        ))
    });
}

fn describe(rule: &super::Rule) -> String {
    let kind = match rule.kind {
        super::RuleKind::Term => "term",
        super::RuleKind::Combination => "combination",
        super::RuleKind::Regex => "regex",
        super::RuleKind::Detector => "detector",
    };
    format!(
        "{kind} {} [{}] ({}:{})",
        rule.term, rule.category, rule.file, rule.line
    )
}

fn candidate(rs: &Ruleset, c: &Cand, verdict: Verdict) -> Candidate {
    Candidate {
        what: describe(&rs.rules[c.rule as usize]),
        field: c.field as usize,
        start: c.start as usize,
        end: c.end as usize,
        verdict,
    }
}

/// Records one pattern occurrence for its meaning, or traces why it was dropped.
fn emit(
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
fn walk_folded(
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
/// at a match, the walk after it looks on).
#[inline]
fn any_folded_match(fm: &FoldedMatcher, stretch: bool, text: &str, overridden: &mut bool) -> bool {
    automaton_match(Steppers::new(fm), stretch, text, overridden)
}

/// Whether any `#! match: exact` pattern occurs in the raw text: the exact
/// automaton gated by its filter as the folded walk's. Only texts for which
/// this holds are searched for the occurrences themselves.
#[inline]
fn any_exact_match(automaton: &ExactAutomaton, filter: Option<&PrefixFilter>, text: &str) -> bool {
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
    overridden: &mut bool,
) -> bool {
    let folder = Folder::new();
    // the last unit's character: noise and invisibles do not end a run
    let mut last = '\0';
    for c in text.chars() {
        match folder.fold(c) {
            FoldEntry::One(ch) => {
                if unit_ends_a_match(&mut stepper, &mut last, stretch, ch) {
                    return true;
                }
            }
            FoldEntry::Noise => {}
            FoldEntry::Invisible => *overridden |= c == RIGHT_TO_LEFT_OVERRIDE,
            FoldEntry::Many(chars) => {
                for &ch in chars {
                    if unit_ends_a_match(&mut stepper, &mut last, stretch, ch) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// One step of [`any_folded_match`] (a function, not a closure: the closure
/// was not inlined, and a call per character cost a quarter of the speed).
#[inline(always)]
fn unit_ends_a_match(stepper: &mut Steppers<'_>, last: &mut char, stretch: bool, ch: char) -> bool {
    if stretch && *last == ch {
        return false;
    }
    *last = ch;
    stepper.consume(ch);
    stepper.any_match()
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
struct PendingMatch {
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

/// A text in the order it is displayed: each run under a right-to-left
/// override reversed, the override characters dropped.
struct Displayed {
    text: String,
    /// Each character of `text`: where it is there, where it was written,
    /// and whether it was in an overridden run.
    chars: Vec<(u32, u32, u32, bool)>,
}

impl Displayed {
    /// The displayed order of `text`, or `None` when nothing is overridden.
    fn of(text: &str) -> Option<Displayed> {
        let mut shown = Displayed {
            text: String::with_capacity(text.len()),
            chars: Vec::new(),
        };
        let mut run: Vec<(char, u32, u32)> = Vec::new();
        let mut overriding = false;
        let mut any = false;
        let flush = |shown: &mut Displayed, run: &mut Vec<(char, u32, u32)>| {
            for (c, start, end) in run.drain(..).rev() {
                shown.push(c, start, end, true);
            }
        };
        for (pos, c) in text.char_indices() {
            let (start, end) = (pos as u32, (pos + c.len_utf8()) as u32);
            match c {
                RIGHT_TO_LEFT_OVERRIDE => {
                    (overriding, any) = (true, true);
                    continue;
                }
                POP_DIRECTIONAL_FORMATTING if overriding => {
                    flush(&mut shown, &mut run);
                    overriding = false;
                    continue;
                }
                _ if ends_paragraph(c) => {
                    flush(&mut shown, &mut run);
                    overriding = false;
                }
                _ if overriding => {
                    run.push((c, start, end));
                    continue;
                }
                _ => {}
            }
            shown.push(c, start, end, false);
        }
        flush(&mut shown, &mut run);
        any.then_some(shown)
    }

    fn push(&mut self, c: char, start: u32, end: u32, reversed: bool) {
        self.chars
            .push((self.text.len() as u32, start, end, reversed));
        self.text.push(c);
    }

    /// Where the displayed bytes `start..end` were written (the first to
    /// the last of their characters), if any of them was overridden.
    fn written(&self, start: u32, end: u32) -> Option<(u32, u32)> {
        let first = self.chars.partition_point(|c| c.0 < start);
        let shown = self.chars.get(first..)?.iter().take_while(|c| c.0 < end);
        let (mut lo, mut hi, mut reversed) = (u32::MAX, 0, false);
        for &(_, s, e, r) in shown {
            (lo, hi, reversed) = (lo.min(s), hi.max(e), reversed || r);
        }
        reversed.then_some((lo, hi))
    }
}

fn run_regexes(
    group: &super::build::RegexGroup,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::WordListSet;
    use crate::ruleset::automaton::{KeyLength, SortedKeys};
    use crate::ruleset::RulesetBuilder;
    use proptest::prelude::*;

    /// The first window `parts_within` finds over the occurrences, sorted
    /// by place, is the first a search of every window finds: the smallest
    /// last occurrence, then the smallest first, in one field, holding every
    /// part, no more than `within` counted characters from its first start to
    /// its last end.
    fn parts_within_by_every_window(
        occs: &[PartOcc],
        parts: u16,
        within: u32,
        fields: &[&str],
    ) -> Option<(u32, u32, u32)> {
        let mut occs = occs.to_vec();
        occs.retain(|o| !o.negated);
        occs.sort_by_key(|o| (o.field, o.start, o.end));
        for r in 0..occs.len() {
            for l in 0..=r {
                let window = &occs[l..=r];
                if window.iter().any(|o| o.field != occs[r].field) {
                    continue;
                }
                if (0..parts).any(|p| window.iter().all(|o| o.idx != p)) {
                    continue;
                }
                let end = window.iter().map(|o| o.end).max().unwrap();
                let text = &fields[occs[r].field as usize][occs[l].start as usize..end as usize];
                if text.chars().filter(|c| c.is_alphanumeric()).count() as u32 <= within {
                    return Some((occs[l].field, occs[l].start, end));
                }
            }
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parts_within_finds_the_first_close_window(
            texts in proptest::collection::vec("[ab转账。 😀]{1,24}", 2),
            picks in proptest::collection::vec((0u32..2, 0u16..3, any::<bool>(), 0usize..24, 1usize..5), 0..12),
            parts in 1u16..4,
            within in 0u32..12,
        ) {
            let fields: Vec<&str> = texts.iter().map(String::as_str).collect();
            // occurrences on character boundaries of their field
            let occs: Vec<PartOcc> = picks
                .iter()
                .filter_map(|&(field, idx, negated, at, len)| {
                    let text = fields[field as usize];
                    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                    let start = *bounds.get(at)?;
                    let end = *bounds.get(at + len)?;
                    Some(PartOcc { combo: 0, negated, idx: idx % parts, field, start: start as u32, end: end as u32 })
                })
                .collect();
            let text = |field: u32| fields.get(field as usize).copied();
            prop_assert_eq!(
                parts_within(&occs, parts, within, text),
                parts_within_by_every_window(&occs, parts, within, &fields)
            );
        }
    }

    #[test]
    fn count_before_counts_letters_digits_and_chinese_only() {
        let text = "转*账 a1😀。私";
        let before = count_before(text);
        assert_eq!(before.len(), text.len() + 1);
        let at = |s: &str| text.find(s).unwrap();
        assert_eq!(before[at("账")], 1); // the `*` does not count
        assert_eq!(before[at("😀")], 4);
        assert_eq!(before[at("私")], 4);
        assert_eq!(before[text.len()], 5);
    }

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

    /// [`one_hit_per_rule`] as it was written before: candidates sorted by
    /// rule, then the hits by place. The reference it is tested against.
    fn one_hit_per_rule_by_sorting<'r>(rs: &'r Ruleset, kept: &mut [Cand]) -> Vec<Hit<'r>> {
        kept.sort_by_key(|c| (c.rule, c.field, c.start, c.end));
        let mut hits: Vec<Hit<'r>> = Vec::new();
        let mut last_place = None;
        for c in kept.iter() {
            match hits.last_mut() {
                Some(h) if std::ptr::eq(h.rule, &rs.rules[c.rule as usize]) => {
                    if last_place != Some((c.field, c.start)) {
                        h.count += 1;
                    }
                }
                _ => hits.push(Hit {
                    rule: &rs.rules[c.rule as usize],
                    field: c.field as usize,
                    start: c.start as usize,
                    end: c.end as usize,
                    count: 1,
                }),
            }
            last_place = Some((c.field, c.start));
        }
        order_by_place(&mut hits);
        hits
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// One hit per rule, in place order, counts of distinct places: the
        /// same as sorting by rule and then by place, for candidates in any
        /// order, at shared places, of rules sharing a term or a category.
        #[test]
        fn one_hit_per_rule_equals_sorting(
            cands in proptest::collection::vec((0u32..6, 0u32..3, 0u32..6, 1u32..4), 0..40),
        ) {
            let lists = WordListSet::from_sources(vec![
                ("a.txt".into(), "甲乙\n乙丙\n丙\n".into()),
                ("b.txt".into(), "甲乙\n丁\n丙丁\n".into()),
            ]);
            let rs = RulesetBuilder::new().build(&lists).expect("compiles");
            prop_assume!(rs.rules.len() == 6);
            let mut kept: Vec<Cand> = cands
                .iter()
                .map(|&(rule, field, start, len)| Cand { rule, field, start, end: start + len })
                .collect();
            let mut reference = kept.clone();
            let hits = one_hit_per_rule(&rs, &mut kept, &mut RuleHits::default(), None);
            let expected = one_hit_per_rule_by_sorting(&rs, &mut reference);
            let view = |hits: &[Hit]| -> Vec<(usize, usize, usize, usize, u32)> {
                hits.iter()
                    .map(|h| {
                        let rule = rs.rules.iter().position(|r| std::ptr::eq(r, h.rule));
                        (rule.unwrap_or(usize::MAX), h.field, h.start, h.end, h.count)
                    })
                    .collect()
            };
            prop_assert_eq!(view(&hits), view(&expected));
        }
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
                    prop_assert!(any_folded_match(fm, stretch, &text, &mut false), "skipped {text:?}");
                }
                // gating only skips steps that cannot matter: the same answer
                prop_assert_eq!(
                    any_folded_match(fm, stretch, &text, &mut false),
                    automaton_match(Steppers::ungated(fm), stretch, &text, &mut false),
                    "{:?}",
                    text
                );
            }
        }
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
