//! One look at a field's bytes for the other readings it may need.
//!
//! Besides the text as written, the scan reads a field with symbols as
//! letters (`$hit`), percent escapes decoded (`wd=%E5%86%85`), digits
//! between Chinese characters as spaces (`内1幕2消3息`) and masked letters
//! (`f**k`). Most chat holds none of their signs, and each reading's own
//! search, a call a field, cost 15% of the scan together. So the scan
//! first asks, in one pass of branch-free blocks that the compiler turns
//! into a few vector instructions each, which readings a field may need.

use super::filler::digit_may_start_filler;

/// Bytes [`first_block`] steps a block, which holds two more for the tests
/// that look at a byte and the two after it.
pub(super) const BLOCK: usize = 32;

/// [`BLOCK`] bytes and the two after them.
pub(super) type Block = [u8; BLOCK + 2];

/// The start of the first block from `from` on for which `test` is true.
/// Blocks start every [`BLOCK`] bytes, and together they hold every byte of
/// `bytes[from..]` but the last two at one of a block's first [`BLOCK`]
/// places, with the two bytes after it: the last block ends where the
/// field does and overlaps the one before (a padded copy measured a stall
/// a field), or is padded with zeros where fewer bytes are left. It is
/// reported at the start of the bytes it adds.
pub(super) fn first_block(
    bytes: &[u8],
    from: usize,
    mut test: impl FnMut(&Block) -> bool,
) -> Option<usize> {
    let mut start = from;
    while let Some(block) = bytes.get(start..start + BLOCK + 2) {
        let Ok(block) = <&Block>::try_from(block) else {
            break;
        };
        if test(block) {
            return Some(start);
        }
        start += BLOCK;
    }
    if start >= bytes.len() {
        return None;
    }
    let last = bytes
        .len()
        .checked_sub(BLOCK + 2)
        .and_then(|t| bytes.get(t..));
    if let Some(Ok(block)) = last.map(<&Block>::try_from) {
        // (its first bytes were in the block before, which found nothing)
        return test(block).then_some(start);
    }
    let mut padded = [0u8; BLOCK + 2];
    let rest = bytes.get(start..).unwrap_or_default();
    padded[..rest.len()].copy_from_slice(rest);
    test(&padded).then_some(start)
}

/// Which of the scan's other readings a field may need: a "no" is sure, a
/// "may" is for that reading's own search to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Survey(u8);

impl Survey {
    const SYMBOLS: u8 = 1;
    const PERCENT: u8 = 2;
    const MASKS: u8 = 4;
    const FILLER: u8 = 8;

    /// Looks at every byte of `text` once.
    pub(crate) fn of(text: &str) -> Survey {
        let bytes = text.as_bytes();
        // each place of a block gathers the marks of the bytes there, and
        // the places are gathered once at the end (gathering every block
        // measured dearer than its tests)
        let mut marks = [0u8; BLOCK];
        first_block(bytes, 0, |block| {
            for (i, m) in marks.iter_mut().enumerate() {
                *m |= byte_marks(block[i], block[i + 1], block[i + 2]);
            }
            false
        });
        // (the field's last two bytes stand only after a block's places)
        let last_two = bytes.get(bytes.len().saturating_sub(2)..);
        let signs = last_two
            .unwrap_or_default()
            .iter()
            .fold(0, |m, &b| m | sign_marks(b));
        Survey(marks.iter().fold(signs, |m, &b| m | b))
    }

    /// Whether `text` holds a symbol that may stand for a letter (`$`,
    /// `@`, `!`: [`super::symbols_read_as_letters`]).
    pub(crate) fn may_have_symbols_for_letters(self) -> bool {
        self.0 & Self::SYMBOLS != 0
    }

    /// Whether `text` holds a `%` ([`super::PercentDecoded`]).
    pub(crate) fn may_have_percent_escapes(self) -> bool {
        self.0 & Self::PERCENT != 0
    }

    /// Whether `text` holds a `*` (masked letters, `f**k`).
    pub(crate) fn may_have_masks(self) -> bool {
        self.0 & Self::MASKS != 0
    }

    /// Whether `text` holds a digit after a character beyond ASCII or a
    /// space, or a full-width digit ([`super::digits_between_chinese`]).
    pub(crate) fn may_have_filler(self) -> bool {
        self.0 & Self::FILLER != 0
    }
}

/// The marks of the byte `b`, followed by `next` and `third`.
#[inline(always)]
fn byte_marks(b: u8, next: u8, third: u8) -> u8 {
    sign_marks(b) | mark(digit_may_start_filler(b, next, third), Survey::FILLER)
}

/// The marks of the byte `b` alone.
#[inline(always)]
fn sign_marks(b: u8) -> u8 {
    let symbol = (b == b'$') | (b == b'@') | (b == b'!');
    mark(symbol, Survey::SYMBOLS)
        | mark(b == b'%', Survey::PERCENT)
        | mark(b == b'*', Survey::MASKS)
}

/// `mark` where `on`, else none (without a branch).
#[inline(always)]
fn mark(on: bool, mark: u8) -> u8 {
    u8::from(on) * mark
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::{digits_between_chinese, symbols_read_as_letters, PercentDecoded};
    use crate::ruleset::masked::masked_words;

    #[test]
    fn each_sign_is_seen_wherever_it_falls() {
        let signs = [
            ("$", Survey::SYMBOLS),
            ("@", Survey::SYMBOLS),
            ("!", Survey::SYMBOLS),
            ("%", Survey::PERCENT),
            ("*", Survey::MASKS),
            // (a digit that ends a field is no filler, and may go unseen)
            ("内1内", Survey::FILLER),
            (" 1内", Survey::FILLER),
            ("１", Survey::FILLER),
        ];
        for len in 0..3 * BLOCK + 3 {
            for at in 0..=len {
                for (sign, mark) in signs {
                    let mut text = "a".repeat(len);
                    text.insert_str(at, sign);
                    assert_eq!(Survey::of(&text).0, mark, "{sign:?} at {at} of {len}");
                }
            }
            // digits after letters, characters that hold BC 9x (众)
            assert_eq!(Survey::of(&"a1众".repeat(len)).0, 0, "{len}");
        }
    }

    proptest::proptest! {
        /// A "no" is sure: where a reading's own search finds something,
        /// the survey said "may".
        #[test]
        fn no_reading_is_missed(
            text in "[内幕a-cE51０ ]{0,80}",
            signs in proptest::collection::vec((0usize..80, "[$@!*]|%E5%86%85|%E5"), 0..3),
        ) {
            // a few signs, so that one may be the only one of its kind
            let mut text = text;
            for (at, sign) in signs {
                let at = text.floor_char_boundary(at.min(text.len()));
                text.insert_str(at, &sign);
            }
            let survey = Survey::of(&text);
            if !symbols_read_as_letters(&text).is_empty() {
                proptest::prop_assert!(survey.may_have_symbols_for_letters());
            }
            if PercentDecoded::of(&text).is_some() {
                proptest::prop_assert!(survey.may_have_percent_escapes());
            }
            if !digits_between_chinese(&text).is_empty() {
                proptest::prop_assert!(survey.may_have_filler());
            }
            if !masked_words(&text).is_empty() {
                proptest::prop_assert!(survey.may_have_masks());
            }
        }
    }
}
