//! Digits written between Chinese characters as filler: `内1幕2消3息`.
//!
//! A digit is significant to the fold (a number is no noise), so it breaks
//! a term as a letter does. People who know that put one to three digits
//! between a term's characters. The scan also reads a field with such
//! digits as spaces (the same length, so every place stays) and keeps what
//! crosses one and spans three Chinese characters or more: with two, a
//! digit inside is an everyday phrase too often (`开2房`, two rooms).

use std::ops::Range;

use super::survey::{first_block, full_width_digit, Block, BLOCK};
use super::{fold_char, is_chinese, FoldEntry};

/// The most digits a run of filler holds: more are a number.
const MAX_FILLER_DIGITS: usize = 3;

/// The fewest Chinese characters a match through filler spans.
pub(crate) const MIN_CHINESE_ACROSS_FILLER: usize = 3;

/// One run of digits between two Chinese characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filler {
    /// Its bytes.
    pub at: Range<usize>,
    /// The characters before and after it, folded (a traditional one as
    /// its simplified one, as keys hold them).
    pub between: (char, char),
}

/// The runs of one to three digits (ASCII or full-width) in `text` that
/// stand between two Chinese characters (spaces, ASCII or ideographic,
/// around them allowed), in order.
pub(crate) fn digits_between_chinese(text: &str) -> Vec<Filler> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut at = 0;
    // byte by byte only in the blocks that may hold a run's first digit
    while let Some(block) = first_block(bytes, at, |block, _| block_may_hold_filler(block)) {
        let end = (block + BLOCK + 1).min(bytes.len());
        at = at.max(block);
        while at < end {
            at = run_at(text, at, &mut runs);
        }
    }
    runs
}

/// Where the scan of `text` goes on from `at`: past the run of digits that
/// starts there (pushed to `runs` if it is filler), else the next byte.
fn run_at(text: &str, at: usize, runs: &mut Vec<Filler>) -> usize {
    let bytes = text.as_bytes();
    // a run starts after a character's last byte or a space
    let prev = at.checked_sub(1).and_then(|i| bytes.get(i));
    if !prev.is_some_and(|&b| b >= 0x80 || b == b' ') || digit_len(bytes, at).is_none() {
        return at + 1;
    }
    let (start, mut end, mut digits) = (at, at, 0);
    while let Some(len) = digit_len(bytes, end) {
        end += len;
        digits += 1;
    }
    let spaces = |c: &char| matches!(c, ' ' | '\u{3000}');
    let before = text[..start].chars().rev().find(|c| !spaces(c));
    let after = text[end..].chars().find(|c| !spaces(c));
    if let (true, Some(before), Some(after)) = (digits <= MAX_FILLER_DIGITS, before, after) {
        if is_chinese(before) && is_chinese(after) {
            let folded = |c: char| match fold_char(c) {
                FoldEntry::One(f) => f,
                _ => c,
            };
            runs.push(Filler {
                at: start..end,
                between: (folded(before), folded(after)),
            });
        }
    }
    end
}

/// Whether `block` ([`first_block`]) may hold the first digit of a run
/// [`digits_between_chinese`] takes, at `1..=BLOCK`. Most fields have none
/// (a digit in Chinese chat is mostly in a number, a time or a link), so
/// blocks are tested without branches. (A loop over the field's bytes
/// measured 6% of the scan; a search for the full-width digits' first two
/// bytes, which also lead `，` and `！`, more.)
#[inline(always)]
fn block_may_hold_filler(block: &Block) -> bool {
    let mut any = false;
    for i in 0..BLOCK {
        any |= digit_may_start_filler(block[i], block[i + 1], block[i + 2]);
    }
    any
}

/// Whether the bytes after `b` may be the first digit of a run of filler:
/// an ASCII digit right after a character beyond ASCII or a space, or a
/// full-width digit. Without branches, for blocks of bytes.
#[inline(always)]
pub(super) fn digit_may_start_filler(b: u8, next: u8, third: u8) -> bool {
    let ascii_digit = ((b >= 0x80) | (b == b' ')) & next.is_ascii_digit();
    // (other characters hold BC 9x too: 众 is E4 BC 97)
    ascii_digit | full_width_digit(b, next, third)
}

/// The length of the digit at `bytes[at..]`: 1 for an ASCII digit, 3 for a
/// full-width one (U+FF10-U+FF19), `None` for anything else. (`at` need not
/// start a character: neither form's first byte continues one.)
fn digit_len(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at..) {
        Some([b, ..]) if b.is_ascii_digit() => Some(1),
        Some([0xEF, 0xBC, 0x90..=0x99, ..]) => Some(3),
        _ => None,
    }
}

/// `text` with the bytes of `runs` as spaces: the same length, every other
/// byte in its place.
pub(crate) fn with_filler_as_spaces(text: &str, runs: &[Filler]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for run in runs {
        if let Some(run) = bytes.get_mut(run.at.clone()) {
            run.fill(b' ');
        }
    }
    // whole characters became ASCII bytes: still UTF-8
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// `text` without the bytes of `runs`.
pub(crate) fn without_filler(text: &str, runs: &[Filler]) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut from = 0;
    for run in runs {
        kept.push_str(text.get(from..run.at.start).unwrap_or_default());
        from = run.at.end;
    }
    kept.push_str(text.get(from..).unwrap_or_default());
    kept
}

/// Whether a match at `span` of the field `text` is one the reading of
/// filler as spaces adds: it holds a run of `runs` and spans at least
/// [`MIN_CHINESE_ACROSS_FILLER`] Chinese characters.
pub(crate) fn crosses_filler(text: &str, runs: &[Filler], span: Range<usize>) -> bool {
    let first = runs.partition_point(|r| r.at.start < span.start);
    runs.get(first).is_some_and(|r| r.at.end <= span.end)
        && text.get(span).is_some_and(|s| {
            s.chars().filter(|&c| is_chinese(c)).count() >= MIN_CHINESE_ACROSS_FILLER
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_of(text: &str) -> Vec<&str> {
        digits_between_chinese(text)
            .into_iter()
            .map(|r| &text[r.at])
            .collect()
    }

    #[test]
    fn digits_between_chinese_characters_are_filler() {
        assert_eq!(runs_of("我有内1幕2消3息"), ["1", "2", "3"]);
        assert_eq!(runs_of("内 12 幕　３消息"), ["12", "３"]);
        assert_eq!(runs_of("明天3点开会"), ["3"]);
        let between: Vec<_> = digits_between_chinese("內 1 幕２消")
            .into_iter()
            .map(|r| r.between)
            .collect();
        assert_eq!(between, [('内', '幕'), ('幕', '消')]);
        // a number, digits at an end, or beside a letter or a sign: none
        for text in [
            "内1234幕",
            "3点开会",
            "开会3",
            "内a1幕",
            "内1a幕",
            "内1.5幕",
            "内,1,幕",
            "no digits",
            "１２３",
            "",
        ] {
            assert_eq!(runs_of(text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn a_run_is_found_wherever_it_falls_in_the_blocks() {
        for before in 0..2 * BLOCK + 3 {
            for filler in ["1", "１", " 2 "] {
                for after in [0, 3, 2 * BLOCK] {
                    let (a, b) = ("a".repeat(before), "b".repeat(after));
                    let text = format!("{a}内{filler}幕{b}");
                    assert_eq!(runs_of(&text).len(), 1, "{text:?}");
                }
            }
        }
    }

    /// What [`digits_between_chinese`] finds, a character at a time.
    fn runs_one_char_at_a_time(text: &str) -> Vec<Range<usize>> {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
        let space = |c: char| c == ' ' || c == '\u{3000}';
        let mut runs = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let starts = digit(chars[i].1) && i > 0 && !digit(chars[i - 1].1);
            if !starts {
                i += 1;
                continue;
            }
            let j = (i..chars.len())
                .find(|&j| !digit(chars[j].1))
                .unwrap_or(chars.len());
            let before = chars[..i].iter().rev().map(|p| p.1).find(|&c| !space(c));
            let after = chars[j..].iter().map(|p| p.1).find(|&c| !space(c));
            let end = chars.get(j).map_or(text.len(), |p| p.0);
            let prev_ok = !chars[i - 1].1.is_ascii() || chars[i - 1].1 == ' ';
            if j - i <= MAX_FILLER_DIGITS
                && prev_ok
                && before.is_some_and(is_chinese)
                && after.is_some_and(is_chinese)
            {
                runs.push(chars[i].0..end);
            }
            i = j;
        }
        runs
    }

    proptest::proptest! {
        #[test]
        fn blocks_find_what_a_character_at_a_time_finds(
            text in "[内幕a1２ 　,]{0,80}",
        ) {
            let found: Vec<Range<usize>> =
                digits_between_chinese(&text).into_iter().map(|r| r.at).collect();
            proptest::prop_assert_eq!(found, runs_one_char_at_a_time(&text));
        }
    }

    #[test]
    fn the_reading_keeps_every_place() {
        let text = "内1幕２消 3 息";
        let runs = digits_between_chinese(text);
        let spaced = with_filler_as_spaces(text, &runs);
        assert_eq!(spaced, "内 幕   消   息");
        assert_eq!(spaced.len(), text.len());
        assert_eq!(without_filler(text, &runs), "内幕消  息");
    }

    #[test]
    fn a_match_counts_where_it_crosses_filler_between_three_characters() {
        let text = "内1幕2消3息, 开2房";
        let runs = digits_between_chinese(text);
        assert!(crosses_filler(text, &runs, 0..text.find(',').unwrap()));
        // two characters across a digit: an everyday phrase too often
        let room = text.find('开').unwrap();
        assert!(!crosses_filler(text, &runs, room..text.len()));
        // no run inside: the text as written has it
        assert!(!crosses_filler(text, &runs, 0..3));
        let xi = text.find('消').unwrap();
        assert!(!crosses_filler(text, &runs, xi..xi + 3));
    }
}
