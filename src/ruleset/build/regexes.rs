//! Regular-expression entries compiled: folded ones against light-folded
//! text, and the sets that ask once whether any matches.

use super::super::matchers::RegexGroup;
use super::super::RulesetError;

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
pub(super) fn folded_regex(re: &str) -> (String, bool) {
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

pub(super) fn build_regexes(
    list: &[(String, u32)],
    limit: usize,
) -> Result<Option<RegexGroup>, RulesetError> {
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
    use proptest::prelude::*;

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
}
