//! One look at a field's bytes for the other readings it may need.
//!
//! Besides the text as written, the scan reads a field with symbols as
//! letters (`$hit`), percent escapes decoded (`wd=%E5%86%85`), digits
//! between Chinese characters as spaces (`内1幕2消3息`) and masked letters
//! (`f**k`). Most chat holds none of their signs, and each reading's own
//! search, a call a field, cost 15% of the scan together. So the scan
//! first asks, in one pass of branch-free blocks that the compiler turns
//! into a few vector instructions each, which readings a field may need;
//! where a list names a detector, the same pass counts digits and looks
//! for at-signs and a capital before a digit, which the searches for
//! numbers, e-mail addresses, identity numbers with letters and permits
//! need (`crate::detect`).

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
/// reported at the start of the bytes it adds; `test` is also told how
/// many of its first places a block before held already.
pub(super) fn first_block(
    bytes: &[u8],
    from: usize,
    mut test: impl FnMut(&Block, usize) -> bool,
) -> Option<usize> {
    let mut start = from;
    while let Some(block) = bytes.get(start..start + BLOCK + 2) {
        let Ok(block) = <&Block>::try_from(block) else {
            break;
        };
        if test(block, 0) {
            return Some(start);
        }
        start += BLOCK;
    }
    if start >= bytes.len() {
        return None;
    }
    let last = bytes.len().checked_sub(BLOCK + 2);
    let block = last.and_then(|t| Some((t, <&Block>::try_from(bytes.get(t..)?).ok()?)));
    if let Some((at, block)) = block {
        // (its first places were in the block before, which found nothing)
        return test(block, start - at).then_some(start);
    }
    let mut padded = [0u8; BLOCK + 2];
    let rest = bytes.get(start..).unwrap_or_default();
    padded[..rest.len()].copy_from_slice(rest);
    test(&padded, 0).then_some(start)
}

/// Which of the scan's other readings a field may need, and with
/// [`Survey::with_detectors`] which detectors may find something in it: a
/// "no" is sure, a "may" is for the reading's or detector's own search to
/// decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Survey {
    marks: u8,
    /// ASCII and full-width digits, counted with the detectors' signs.
    digits: u32,
}

impl Survey {
    const SYMBOLS: u8 = 1;
    const PERCENT: u8 = 2;
    const MASKS: u8 = 4;
    const FILLER: u8 = 8;
    const AT_SIGN: u8 = 16;
    const LETTER_ID: u8 = 32;

    /// The signs of the other readings, looking at every byte of `text`
    /// once.
    pub(crate) fn of(text: &str) -> Survey {
        survey::<false>(text)
    }

    /// [`Survey::of`], and the detectors' signs: at-signs, digits, and a
    /// capital before a digit (a few more tests a block, so only where
    /// some list names a detector).
    pub(crate) fn with_detectors(text: &str) -> Survey {
        survey::<true>(text)
    }

    /// Whether `text` holds a symbol that may stand for a letter (`$`,
    /// `@`, `!`: [`super::symbols_read_as_letters`]).
    pub(crate) fn may_have_symbols_for_letters(self) -> bool {
        self.marks & Self::SYMBOLS != 0
    }

    /// Whether `text` holds a `%` ([`super::PercentDecoded`]).
    pub(crate) fn may_have_percent_escapes(self) -> bool {
        self.marks & Self::PERCENT != 0
    }

    /// Whether `text` holds a `*` (masked letters, `f**k`).
    pub(crate) fn may_have_masks(self) -> bool {
        self.marks & Self::MASKS != 0
    }

    /// Whether `text` holds a digit after a character beyond ASCII or a
    /// space, or a full-width digit ([`super::digits_between_chinese`]).
    pub(crate) fn may_have_filler(self) -> bool {
        self.marks & Self::FILLER != 0
    }

    /// ([`Survey::with_detectors`]) Whether `text` holds `@`, `＠` or `﹫`,
    /// every character that light-folds to `@`: an e-mail address's sign.
    pub(crate) fn may_have_at_sign(self) -> bool {
        self.marks & Self::AT_SIGN != 0
    }

    /// ([`Survey::with_detectors`]) Whether `text` holds an ASCII capital
    /// before a digit (ASCII or full-width) or before a space and an ASCII
    /// digit, or a full-width capital: where an identity number with
    /// letters may start (`A123456(3)`, `A 123456(3)`, `Ａ１２３…`).
    pub(crate) fn may_have_capital_and_digit(self) -> bool {
        self.marks & Self::LETTER_ID != 0
    }

    /// ([`Survey::with_detectors`]) How many ASCII and full-width digits
    /// `text` holds, or more (never fewer).
    pub(crate) fn digits(self) -> u32 {
        self.digits
    }
}

/// [`Survey::of`], with the detectors' signs if `DETECTORS`.
#[inline(always)]
fn survey<const DETECTORS: bool>(text: &str) -> Survey {
    let bytes = text.as_bytes();
    // each place of a block gathers the marks of the bytes there, and the
    // places are gathered once at the end (gathering every block measured
    // dearer than its tests)
    let mut marks = [0u8; BLOCK];
    let mut digits = [0u8; BLOCK];
    first_block(bytes, 0, |block, seen| {
        for (i, m) in marks.iter_mut().enumerate() {
            let (b, next, third) = (block[i], block[i + 1], block[i + 2]);
            *m |= byte_marks(b, next, third);
            if DETECTORS {
                *m |= detector_marks(b, next, third);
                // (places the block before held are counted once)
                let digit = b.is_ascii_digit() | full_width_digit(b, next, third);
                digits[i] = digits[i].saturating_add(u8::from(digit & (i >= seen)));
            }
        }
        false
    });
    // the field's last two bytes stand only after a block's places (a
    // field shorter than a block: its bytes past the places)
    let last_two = bytes.len().saturating_sub(2);
    let past_places = if bytes.len() >= BLOCK + 2 {
        last_two
    } else {
        BLOCK
    };
    let mut signs = 0;
    let mut digits_at_end = 0;
    for (at, &b) in bytes.iter().enumerate().skip(last_two) {
        signs |= sign_marks(b);
        if DETECTORS {
            signs |= mark(b == b'@', Survey::AT_SIGN);
            digits_at_end += u32::from(b.is_ascii_digit() & (at >= past_places));
        }
    }
    Survey {
        marks: marks.iter().fold(signs, |m, &b| m | b),
        digits: digits.iter().map(|&d| u32::from(d)).sum::<u32>() + digits_at_end,
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

/// The detectors' marks of the byte `b`, followed by `next` and `third`.
#[inline(always)]
fn detector_marks(b: u8, next: u8, third: u8) -> u8 {
    // `＠` is EF BC A0, `﹫` EF B9 AB
    let at = (b == b'@')
        | ((b == 0xEF) & (((next == 0xBC) & (third == 0xA0)) | ((next == 0xB9) & (third == 0xAB))));
    // a full-width digit after a capital is EF BC 90-99: its first two bytes
    let digit_next = next.is_ascii_digit() | ((next == 0xEF) & (third == 0xBC));
    let capital_digit =
        b.is_ascii_uppercase() & (digit_next | ((next == b' ') & third.is_ascii_digit()));
    // `Ａ` to `Ｚ` are EF BC A1 to EF BC BA
    let full_width_capital = (b == 0xEF) & (next == 0xBC) & (third.wrapping_sub(0xA1) < 26);
    mark(at, Survey::AT_SIGN) | mark(capital_digit | full_width_capital, Survey::LETTER_ID)
}

/// Whether `b next third` is a full-width digit (`０` to `９`: EF BC 90-99).
#[inline(always)]
pub(super) fn full_width_digit(b: u8, next: u8, third: u8) -> bool {
    (b == 0xEF) & (next == 0xBC) & (third.wrapping_sub(0x90) < 10)
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
                    assert_eq!(Survey::of(&text).marks, mark, "{sign:?} at {at} of {len}");
                }
            }
            // digits after letters, characters that hold BC 9x (众)
            assert_eq!(Survey::of(&"a1众".repeat(len)).marks, 0, "{len}");
        }
    }

    #[test]
    fn the_detectors_signs_are_seen_wherever_they_fall_and_digits_counted_once() {
        let detectors = Survey::AT_SIGN | Survey::LETTER_ID;
        let signs = [
            ("@", Survey::AT_SIGN),
            ("＠", Survey::AT_SIGN),
            ("﹫", Survey::AT_SIGN),
            // (a capital that ends a field starts no number, and may go
            // unseen there)
            ("A123456", Survey::LETTER_ID),
            ("A１２３４５６", Survey::LETTER_ID),
            ("A 123456", Survey::LETTER_ID),
            ("Ａ123456", Survey::LETTER_ID),
        ];
        for len in 0..3 * BLOCK + 3 {
            for at in 0..=len {
                for (sign, mark) in signs {
                    let mut text = "a".repeat(len);
                    text.insert_str(at, sign);
                    let survey = Survey::with_detectors(&text);
                    assert_eq!(survey.marks & detectors, mark, "{sign:?} at {at} of {len}");
                    // the readings' survey does not look for them
                    assert_eq!(Survey::of(&text).marks & detectors, 0);
                }
            }
            // every digit once, the last block's overlap too
            for digits in ["1", "１", "12", "1１"] {
                let text = format!("{}{}", "a".repeat(len), digits);
                let count = digits.chars().count() as u32;
                assert_eq!(Survey::with_detectors(&text).digits(), count, "{text}");
                let text = digits.repeat(len + 1);
                assert_eq!(
                    Survey::with_detectors(&text).digits(),
                    count * (len as u32 + 1),
                    "{len}"
                );
            }
        }
        // a capital before a letter, a lower-case letter before a digit
        assert_eq!(Survey::with_detectors("AB a1 众").marks, 0);
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
