//! What is kept of a message's candidates: allow phrases, combinations,
//! audiences, then one hit per rule in place order.

use std::sync::Arc;

use super::{AllowSpan, Cand, Candidate, PartOcc, RuleHits, Scanner, Verdict};
use crate::fold::PercentDecoded;
use crate::lists::Severity;
use crate::people::Conversation;
use crate::ruleset::{BulkFinding, Findings, Hit, Rule, RuleKind, Ruleset};

impl<'r> Scanner<'r> {
    pub(super) fn finish<S: AsRef<str>>(
        &mut self,
        fields: &[S],
        apply_allows: bool,
        conversation: Conversation,
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
                let rule = &rs.rules[c.rule as usize];
                let verdict = if !rule.audience.admits(conversation.audience) {
                    Verdict::OtherAudience(conversation.audience)
                } else if !rule.scope.people.admits(&conversation) {
                    Verdict::OtherPeople(rule.scope.people.to_string())
                } else if !rule.scope.window.admits(conversation.written_ms) {
                    Verdict::OtherTime(rule.scope.window.to_string())
                } else {
                    return true;
                };
                if let Some(trace) = trace.as_mut() {
                    trace.push(candidate(rs, c, verdict));
                }
                false
            });
        }
        // 4. one hit per rule: its first place, and how many places
        let mut hits = one_hit_per_rule(rs, kept, &mut sink.rule_hits, sink.trace.as_mut());
        // 5. lists whose volume threshold the message reaches raise their hits
        let mut timed_values = Vec::new();
        let bulk = if rs.bulk.is_empty() || hits.is_empty() {
            Vec::new()
        } else {
            let values = &mut sink.bulk_values;
            bulk_findings(rs, kept, fields, &mut hits, values, &mut timed_values)
        };
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
        Findings {
            hits,
            truncated,
            bulk,
            timed_values,
        }
    }
}

/// One distinct value of a list in a message, for its `#! bulk:`
/// threshold, as a 64-bit hash (no string built for a roster's every
/// number; two values of one message sharing a hash is a chance of one in
/// billions of billions): what a detector found, as [`crate::detect::value`]
/// reads it (one number however it was written); what a regex matched,
/// light-folded; or a term or combination, the rule itself (however often
/// and however written it fired).
fn bulk_value<S: AsRef<str>>(rs: &Ruleset, c: &Cand, fields: &[S]) -> u64 {
    use std::hash::Hasher as _;
    let mut h = rustc_hash::FxHasher::default();
    let rule = &rs.rules[c.rule as usize];
    let text = fields
        .get(c.field as usize)
        .and_then(|f| f.as_ref().get(c.start as usize..c.end as usize));
    let detector = match rule.kind {
        RuleKind::Detector => rs.detectors.iter().find(|(_, r)| *r == c.rule),
        _ => None,
    };
    match (rule.kind, detector, text) {
        (RuleKind::Detector, Some(&(detector, _)), Some(text)) => {
            h.write_u8(1);
            crate::detect::for_each_value_char(detector, text, |ch| h.write_u32(ch as u32));
        }
        (RuleKind::Regex, _, Some(text)) => {
            h.write_u8(2);
            let mut folded = String::with_capacity(text.len());
            crate::fold::light_fold_into(text, &mut folded);
            h.write(folded.as_bytes());
        }
        _ => {
            h.write_u8(0);
            h.write_u32(c.rule);
        }
    }
    h.finish()
}

/// The lists with a `#! bulk:` threshold that have candidates in `kept`,
/// by category, each with its count of distinct values; raises the hits of
/// those that reach it, and adds to `timed` the values of those whose
/// threshold looks back over time. Runs only for messages with hits, of
/// rulesets with such a list.
fn bulk_findings<'r, S: AsRef<str>>(
    rs: &'r Ruleset,
    kept: &[Cand],
    fields: &[S],
    hits: &mut [Hit<'r>],
    values: &mut rustc_hash::FxHashSet<u64>,
    timed: &mut Vec<(&'r str, Vec<u64>)>,
) -> Vec<BulkFinding<'r>> {
    let mut found = Vec::new();
    for (category, bulk) in &rs.bulk {
        values.clear();
        for c in kept {
            if Arc::ptr_eq(&rs.rules[c.rule as usize].category, category) {
                values.insert(bulk_value(rs, c, fields));
            }
        }
        if values.is_empty() {
            continue;
        }
        let finding = BulkFinding {
            category,
            values: u32::try_from(values.len()).unwrap_or(u32::MAX),
            bulk: *bulk,
        };
        found.push(finding);
        if bulk.within_secs.is_some() {
            timed.push((&**category, values.iter().copied().collect()));
        }
        if !finding.reached() {
            continue;
        }
        for h in hits
            .iter_mut()
            .filter(|h| Arc::ptr_eq(&h.rule.category, category))
        {
            h.raise_to(bulk.severity);
        }
    }
    found.sort_by_key(|f| f.category);
    found
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
    // a link's percent-escaped characters count as the characters they
    // spell (`老鼠仓%E5%86%85%E5%B9%95` is `老鼠仓内幕`, not twelve letters
    // and digits apart), as the reading that found them reads them
    let decoded = text
        .contains('%')
        .then(|| PercentDecoded::of(text))
        .flatten();
    let mut runs = decoded.iter().flat_map(PercentDecoded::runs).peekable();
    let mut at = 0;
    while let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) {
        if let Some((_, spelled)) = runs.next_if(|&(written, _)| written == at) {
            for c in spelled.chars() {
                before.extend(std::iter::repeat_n(n, 3 * c.len_utf8()));
                n += u32::from(c.is_alphanumeric());
            }
            at += 3 * spelled.len();
            continue;
        }
        before.extend(std::iter::repeat_n(n, c.len_utf8()));
        n += u32::from(c.is_alphanumeric());
        at += c.len_utf8();
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
                let rule = &rs.rules[c.rule as usize];
                hits.push(Hit {
                    rule,
                    field: c.field as usize,
                    start: c.start as usize,
                    end: c.end as usize,
                    count: 1,
                    raised_to: Severity::Info,
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

pub(super) fn describe(rule: &Rule) -> String {
    let kind = match rule.kind {
        RuleKind::Term => "term",
        RuleKind::Combination => "combination",
        RuleKind::Regex => "regex",
        RuleKind::Detector => "detector",
    };
    format!(
        "{kind} {} [{}] ({}:{})",
        rule.term, rule.category, rule.file, rule.line
    )
}

pub(super) fn candidate(rs: &Ruleset, c: &Cand, verdict: Verdict) -> Candidate {
    Candidate {
        what: describe(&rs.rules[c.rule as usize]),
        field: c.field as usize,
        start: c.start as usize,
        end: c.end as usize,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::Audience;
    use crate::lists::WordListSet;
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

    /// A list's `#! bulk:` threshold counts the distinct values of its own
    /// hits that are kept: one number written three ways is one value, a
    /// term is one value however often it occurs, an allow phrase's or
    /// another audience's candidates count for nothing, and other lists'
    /// hits keep their severity.
    #[test]
    fn bulk_counts_distinct_values_of_the_list_kept() {
        let lists = WordListSet::from_sources(vec![
            (
                "pii.txt".into(),
                "#! severity: high\n#! bulk: 3 critical\n@cn_mobile\n@email\n!13912345678\n".into(),
            ),
            (
                "clients.txt".into(),
                "#! severity: low\n#! bulk: 2 high\n#! audience: external\n华信证券\n\
                 re:客户编号\\d{4}\n"
                    .into(),
            ),
            (
                "insider.txt".into(),
                "#! severity: medium\n内幕消息\n".into(),
            ),
        ]);
        let rs = RulesetBuilder::new().build(&lists).expect("compiles");
        let bulk = |text: &str, audience: Audience| -> (Vec<(String, u32)>, Vec<String>) {
            let found = rs.scanner().scan_for(&[text], audience);
            (
                found
                    .bulk
                    .iter()
                    .filter(|b| b.reached())
                    .map(|b| (b.category.to_string(), b.values))
                    .collect(),
                found
                    .hits
                    .iter()
                    .map(|h| format!("{} {}", h.term(), h.severity()))
                    .collect(),
            )
        };
        let unknown = Audience::Unknown;
        // one number, three ways, and an address: two values
        let (b, hits) = bulk(
            "13812345678，一三八-一二三四-五六七八，l38 l234 5678，Zhang@Example.com 内幕消息",
            unknown,
        );
        assert_eq!((b, hits.len()), (vec![], 3), "{hits:?}");
        let below = rs.scan_fields(&["13812345678 一三八一二三四五六七八 Zhang@Example.com"]);
        let below: Vec<_> = below
            .bulk
            .iter()
            .map(|b| (b.category, b.values, b.reached()))
            .collect();
        assert_eq!(below, [("pii", 2, false)]);
        // a third address (its case folded away from the second is not one)
        let (b, hits) = bulk(
            "13812345678 zhang@example.com ZHANG@EXAMPLE.COM li@example.com 内幕消息",
            unknown,
        );
        assert_eq!(b, [("pii".to_string(), 3)]);
        assert_eq!(
            hits,
            ["@cn_mobile critical", "@email critical", "内幕消息 medium"]
        );
        // the hotline, an allow phrase, is no value
        let (b, _) = bulk("客服热线 13912345678 13812345678 li@example.com", unknown);
        assert_eq!(b, []);
        let (b, _) = bulk("13712345678 13812345678 li@example.com", unknown);
        assert_eq!(b, [("pii".to_string(), 3)]);
        // a term once, twice and a regex's two strings; among colleagues the
        // external list's candidates are dropped before they are counted
        let (b, hits) = bulk("华信证券 华信证券", unknown);
        assert_eq!((b, &hits[..]), (vec![], &["华信证券 low".to_string()][..]));
        let (b, hits) = bulk("华信证券 客户编号1234 客户编号1234", unknown);
        assert_eq!(b, [("clients".to_string(), 2)]);
        assert_eq!(hits, ["华信证券 high", "re:客户编号\\d{4} high"]);
        let (b, _) = bulk("客户编号1234 客户编号5678", Audience::External);
        assert_eq!(b, [("clients".to_string(), 2)]);
        let (b, hits) = bulk("客户编号1234 客户编号5678", Audience::Internal);
        assert_eq!((b, hits.len()), (vec![], 0));
        // both lists at once, in category order
        let (b, _) = bulk(
            "客户编号1234 客户编号5678 13712345678 13812345678 li@example.com",
            unknown,
        );
        assert_eq!(b, [("clients".to_string(), 2), ("pii".to_string(), 3)]);
    }

    /// Hits over the per-message limit are not reported, but their values
    /// still count towards the threshold: a list of a thousand numbers is
    /// bulk however many hits an alert shows.
    #[test]
    fn bulk_counts_values_past_the_hit_limit() {
        let lists = WordListSet::from_sources(vec![
            ("a.txt".into(), "甲\n".into()),
            (
                "pii.txt".into(),
                "#! severity: high\n#! bulk: 20 critical\n@cn_mobile\n".into(),
            ),
        ]);
        let rs = RulesetBuilder::new()
            .max_hits(1)
            .build(&lists)
            .expect("compiles");
        let numbers: Vec<String> = (0..25).map(|i| format!("1381234{i:04}")).collect();
        let text = format!("甲 {}", numbers.join(" "));
        let found = rs.scan_fields(&[text.as_str()]);
        assert!(found.truncated);
        assert_eq!((found.bulk.len(), found.bulk[0].values), (1, 25));
        assert_eq!(found.hits.len(), 1);
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
        // a link's escapes count as the characters they spell
        let text = "转%E8%B4%A6 a%20b";
        let before = count_before(text);
        assert_eq!(before.len(), text.len() + 1);
        assert_eq!(before[text.find(' ').unwrap()], 2);
        // (escapes of ASCII stay as written, as the reading leaves them)
        assert_eq!(before[text.len()], 6);
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
                    raised_to: Severity::Info,
                }),
            }
            last_place = Some((c.field, c.start));
        }
        order_by_place(&mut hits);
        hits
    }

    /// A hit as the property tests compare them: (rule index, field, start,
    /// end, count).
    type HitView = (usize, usize, usize, usize, u32);

    /// The hits of candidates `(rule, field, start, length)`, one per rule,
    /// decided by [`one_hit_per_rule`] (with `buffers`) and by sorting.
    fn both_ways(
        rs: &Ruleset,
        cands: &[(u32, u32, u32, u32)],
        buffers: &mut RuleHits,
    ) -> (Vec<HitView>, Vec<HitView>) {
        let mut kept: Vec<Cand> = cands
            .iter()
            .map(|&(rule, field, start, len)| Cand {
                rule,
                field,
                start,
                end: start + len,
            })
            .collect();
        let mut reference = kept.clone();
        let view = |hits: Vec<Hit>| -> Vec<HitView> {
            hits.iter()
                .map(|h| {
                    let rule = rs.rules.iter().position(|r| std::ptr::eq(r, h.rule));
                    (rule.unwrap_or(usize::MAX), h.field, h.start, h.end, h.count)
                })
                .collect()
        };
        (
            view(one_hit_per_rule(rs, &mut kept, buffers, None)),
            view(one_hit_per_rule_by_sorting(rs, &mut reference)),
        )
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
            let (got, expected) = both_ways(&rs, &cands, &mut RuleHits::default());
            prop_assert_eq!(got, expected);
        }

        /// The same with many rules and hits, and the buffers reused from
        /// message to message as the scanner reuses them (many hits, then
        /// few).
        #[test]
        fn one_hit_per_rule_equals_sorting_with_many_rules(
            messages in proptest::collection::vec(
                proptest::collection::vec((0u32..48, 0u32..2, 0u32..40, 1u32..4), 0..120),
                1..4,
            ),
        ) {
            let terms: String = (0..48).map(|i| format!("词{i:02}\n")).collect();
            let lists = WordListSet::from_sources(vec![("a.txt".into(), terms.into())]);
            let rs = RulesetBuilder::new().build(&lists).expect("compiles");
            prop_assume!(rs.rules.len() == 48);
            let mut buffers = RuleHits::default();
            for cands in messages {
                let (got, expected) = both_ways(&rs, &cands, &mut buffers);
                prop_assert_eq!(got, expected);
            }
        }
    }
}
