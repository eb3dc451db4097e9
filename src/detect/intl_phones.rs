//! Phone numbers written after another country's calling code
//! (`@intl_mobile`, `@intl_landline`): `+852 9123 4567`, `+1 (415)
//! 555-2671`, `(+886) 912 345 678`, `00852-9123-4567`. Whether the digits
//! are a number of that country, and which kind, is libphonenumber's
//! metadata's to say (the `phonenumber` crate), not a table of our own.
//! China's own code (`+86`) is left to the mainland detectors.

use phonenumber::metadata::DATABASE;
use phonenumber::Type;

use super::{is_separator, keyword_near, Detection, Detector, Survey};
use crate::detect::confidence::{NAMING_WORD_CHARS, PHONE_WORDS};

/// The detectors of this module.
pub(super) const DETECTORS: [Detector; 2] = [Detector::IntlMobile, Detector::IntlLandline];

/// The fewest digits of a number with its calling code looked at: the
/// shortest numbers a country issues with its code are eight digits and
/// more but for a few islands', and fewer are an amount (`+1500`).
const MIN_DIGITS: usize = 8;

/// The most digits of a number with its calling code (E.164).
const MAX_DIGITS: usize = 15;

/// The most group counts tried as a number, most groups first: a number
/// with a group or two of other digits after it (`+852 9123 4567 2023年`)
/// is found, and a text of digits in many small groups after many signs
/// costs a few of libphonenumber's parses a sign (a few microseconds each).
const MAX_TRIES: usize = 3;

/// The most separator characters between two groups of a number (`+1
/// (415) 555`: a space and a bracket).
const MAX_SEPARATORS: usize = 3;

/// Whether the survey of `text` leaves room for such a number: enough
/// digits, and a plus sign or two zeros (a few SIMD searches, for the
/// few texts with the digits: a mark of the survey's own would cost
/// every text's bytes).
#[inline]
pub(super) fn may_hold_one(survey: Survey, text: &str) -> bool {
    let bytes = text.as_bytes();
    survey.digits() >= MIN_DIGITS as u32
        && (memchr::memchr(b'+', bytes).is_some()
            || memchr::memmem::find(bytes, b"00").is_some()
            || memchr::memmem::find(bytes, "＋".as_bytes()).is_some()
            || memchr::memmem::find(bytes, "０".as_bytes()).is_some())
}

/// The digit an ASCII or full-width digit is (a foreign number is not
/// written in Chinese numerals).
fn written_digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8),
        '０'..='９' => Some(b'0' + (c as u32 - '０' as u32) as u8),
        _ => None,
    }
}

/// How a number's calling code is introduced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prefix {
    /// A plus sign: `+852…`.
    Plus,
    /// The international prefix most of the world dials (China's too):
    /// `00852…`, whose two zeros are the candidate's first digits.
    Zeros,
}

/// Appends every number after another country's calling code in `text`
/// to `out`, as `enabled` asks: a mobile (or a number its country's plan
/// does not tell from a landline, as the United States') as
/// `@intl_mobile`, a landline as `@intl_landline`. Returns the spans of
/// all the numbers it found, enabled or not and service numbers too, so
/// that the mainland detectors' reading of the same digits (`+1 415 555
/// 2671` and `+1 800 555 0199` hold a mainland mobile's shape) can be
/// dropped.
pub(super) fn find_into(
    text: &str,
    enabled: &[Detector],
    out: &mut Vec<Detection>,
) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    let mut prev: Option<char> = None;
    for (pos, c) in text.char_indices() {
        let before = prev.replace(c);
        if pos < from {
            continue;
        }
        // a sign or the zeros after a letter or a digit are none (`C++`,
        // `2000`, `a+852…`)
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || written_digit(b).is_some()) {
            continue;
        }
        let (prefix, digits_from) = match c {
            '+' | '＋' => (Prefix::Plus, pos + c.len_utf8()),
            _ if written_digit(c) == Some(b'0') => (Prefix::Zeros, pos),
            _ => continue,
        };
        let Some((det, end)) = number_at(text, pos, digits_from, prefix) else {
            continue;
        };
        // the bracket opening a code it closes with it: `(+886) 912…`
        let start = match before {
            Some(b @ ('(' | '（')) if text[pos..end].contains([')', '）']) => pos - b.len_utf8(),
            _ => pos,
        };
        found.push(start..end);
        if let Some(det) = det.filter(|det| enabled.contains(det)) {
            out.push(Detection {
                detector: det,
                start,
                end,
            });
        }
        from = end;
    }
    found
}

/// The digits written from byte `from` of `text` in groups apart by a
/// few separators: their ASCII digits, and where each group ends (digits
/// so far, byte after its last digit). Stops at any other character, and
/// once the groups hold more digits than a number can.
fn groups_at(text: &str, from: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut digits = Vec::new();
    let mut ends: Vec<(usize, usize)> = Vec::new();
    let mut seps = 0;
    for (i, c) in text[from..].char_indices() {
        if let Some(d) = written_digit(c) {
            if seps > 0 || ends.is_empty() {
                if digits.len() > MAX_DIGITS + 2 {
                    break;
                }
                ends.push((0, 0));
            }
            seps = 0;
            digits.push(d);
            if let Some(last) = ends.last_mut() {
                *last = (digits.len(), from + i + c.len_utf8());
            }
            continue;
        }
        // a number's separators, and the dots and brackets of `+1 (415)`,
        // `+852.9123.4567`
        let separator = is_separator(c) || matches!(c, '.' | '(' | ')' | '（' | '）');
        // (a number starts at its first digit: `+ 852` is none)
        if !separator || digits.is_empty() || seps == MAX_SEPARATORS {
            break;
        }
        seps += 1;
    }
    (digits, ends)
}

/// The number after the calling code at byte `at` of `text` (its digits
/// from `digits_from`): its detector (none for a service number: toll
/// free, premium rate, shared cost, a company's universal number, as a
/// mainland 400 number is none) and where it ends. The most groups
/// that make a valid number are it (`+852 9123 4567 2023年` is `+852 9123
/// 4567`).
fn number_at(
    text: &str,
    at: usize,
    digits_from: usize,
    prefix: Prefix,
) -> Option<(Option<Detector>, usize)> {
    let (digits, ends) = groups_at(text, digits_from);
    let zeros = match prefix {
        Prefix::Plus => 0,
        Prefix::Zeros => 2,
    };
    if !digits.starts_with(&b"00"[..zeros]) || digits.get(zeros) == Some(&b'0') {
        return None;
    }
    // (digits joined to a letter make a code: `+85291234567abc`)
    let last_end = ends.last()?.1;
    if text[last_end..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let in_range =
        |&&(n, _): &&(usize, usize)| n.checked_sub(zeros).is_some_and(|n| n <= MAX_DIGITS);
    for &(n, end) in ends.iter().rev().filter(in_range).take(MAX_TRIES) {
        if n - zeros < MIN_DIGITS {
            return None;
        }
        let code = match possible(&digits[zeros..n]) {
            // the mainland detectors read China's own numbers
            Some(86) => return None,
            Some(code) => code,
            None => continue,
        };
        let Ok(number) = phonenumber::parse(None, e164(&digits[zeros..n])) else {
            continue;
        };
        // (a number no range of its country holds has no type: invalid)
        let kind = number.number_type(&DATABASE);
        if kind == Type::Unknown {
            continue;
        }
        // `00` and eleven digits run together are as often an account's:
        // the code a group of its own (`00852 9123…`, `00 852 …`), or a
        // word naming a phone near, makes them a number
        if prefix == Prefix::Zeros {
            let first_group = ends[0].0;
            let code_len = code.to_string().len();
            let apart = first_group == 2 || first_group == 2 + code_len;
            if !apart && !keyword_near(text, at..end, PHONE_WORDS, NAMING_WORD_CHARS) {
                return None;
            }
        }
        return Some((detector_of(kind), end));
    }
    None
}

/// `digits` (ASCII) after a plus sign, as libphonenumber parses a number
/// with its calling code.
fn e164(digits: &[u8]) -> String {
    std::iter::once('+')
        .chain(digits.iter().map(|&d| char::from(d)))
        .collect()
}

/// The calling code `digits` start with, where the digits after it are
/// as many as some number of that code's countries has (China's code
/// whatever follows it): most digits after a sign that are no number are
/// told so here, without a parse.
fn possible(digits: &[u8]) -> Option<u16> {
    // (calling codes are one to three digits, none the start of another)
    (1..=3).find_map(|len| {
        let code: u16 = std::str::from_utf8(digits.get(..len)?).ok()?.parse().ok()?;
        let countries = DATABASE.by_code(&code)?;
        let national = (digits.len() - len) as u16;
        let fits = code == 86 || countries.iter().any(|c| has_length(c, national));
        fits.then_some(code)
    })
}

/// Whether some kind of `country`'s numbers has `national` digits (the
/// crate's metadata leaves the lengths of all its numbers unsaid, and
/// names each kind's), or the metadata names no length at all.
fn has_length(country: &phonenumber::metadata::Metadata, national: u16) -> bool {
    let d = country.descriptors();
    let kinds = [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ];
    let mut named = false;
    for lengths in kinds.into_iter().flatten().map(|k| k.possible_length()) {
        named |= !lengths.is_empty();
        if lengths.contains(&national) {
            return true;
        }
    }
    !named
}

/// The detector of a valid number of this type: none for a service
/// number.
fn detector_of(kind: Type) -> Option<Detector> {
    match kind {
        Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::Pager => {
            Some(Detector::IntlMobile)
        }
        Type::FixedLine | Type::Voip => Some(Detector::IntlLandline),
        _ => None,
    }
}

/// Why the digit run starting at byte `start` of `text` is no number,
/// where a calling code other than China's introduces it (for `explain`):
/// digits no country issues, a service's number, `00` run together with
/// no word naming a phone. `None` where no such code stands before it or
/// the digits are one of this module's numbers.
pub(super) fn why_not(text: &str, start: usize) -> Option<String> {
    let plus = text[..start].ends_with(['+', '＋']);
    let (digits, ends) = groups_at(text, start);
    let zeros = if plus {
        0
    } else if digits.starts_with(b"00") && digits.get(2) != Some(&b'0') {
        2
    } else {
        return None;
    };
    let n = (ends.iter().rev())
        .map(|&(n, _)| n)
        .find(|&n| n.checked_sub(zeros).is_some_and(|n| n <= MAX_DIGITS))?;
    let number = phonenumber::parse(None, e164(&digits[zeros..n])).ok();
    let code = number.as_ref().map(|n| n.code().value());
    if code == Some(86) {
        return None;
    }
    let code = code.map_or_else(|| "no country's".to_string(), |c| format!("+{c}"));
    let why = match number {
        Some(number) if phonenumber::is_valid(&number) => {
            match detector_of(number.number_type(&DATABASE)) {
                None => format!(
                    "after the calling code {code}, a service's number ({:?}), not a person's",
                    number.number_type(&DATABASE)
                ),
                Some(_) if plus => format!(
                    "after the calling code {code}, but a letter or digit touches it: part \
                     of a code"
                ),
                // (found where a word names a phone)
                Some(_) => format!(
                    "`00` and the calling code {code} run together with the number: a phone \
                     only where 手机, 电话, phone… is written within {NAMING_WORD_CHARS} \
                     characters, or the code is apart (`00852 9123 4567`)"
                ),
            }
        }
        _ => format!(
            "after the calling code {code}, but no number its country issues \
             (libphonenumber's metadata)"
        ),
    };
    Some(why)
}

/// A number's digits as E.164 writes them, after the `+` (`+852 9123 4567`
/// and `00852-9123-4567` are both `85291234567`): what its value is.
pub(super) fn for_each_digit(matched: &str, mut each: impl FnMut(char)) {
    (matched.chars())
        .filter_map(written_digit)
        .skip(zeros_written(matched))
        .for_each(|d| each(char::from(d)));
}

/// How many digits of a detection's `matched` text introduce the number:
/// the international prefix's zeros and the calling code (`+852 9123
/// 4567`: 3, `00852…`: 5), kept where the number is masked.
pub(crate) fn code_digits_written(matched: &str) -> usize {
    let mut digits = Vec::new();
    for_each_digit(matched, |d| digits.push(d as u8));
    // (a detection's digits are a number of its code: no parse needed)
    let code = possible(&digits).map_or(0, |code| code.to_string().len());
    zeros_written(matched) + code
}

/// The international prefix's zeros a detection's `matched` text starts
/// with: none after a plus sign (`+852…`, `(+852) …`), else two.
fn zeros_written(matched: &str) -> usize {
    match matched
        .trim_start_matches(['(', '（'])
        .starts_with(['+', '＋'])
    {
        true => 0,
        false => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `text` holds, as `(detector, matched)`.
    fn found(text: &str) -> Vec<(Detector, &str)> {
        let mut out = Vec::new();
        find_into(text, &DETECTORS, &mut out);
        out.iter()
            .map(|d| (d.detector, &text[d.start..d.end]))
            .collect()
    }

    #[test]
    fn numbers_after_a_calling_code_are_found_as_written() {
        use Detector::{IntlLandline, IntlMobile};
        for (text, want) in [
            (
                "WhatsApp +852 9123 4567 谢谢",
                vec![(IntlMobile, "+852 9123 4567")],
            ),
            ("+85291234567", vec![(IntlMobile, "+85291234567")]),
            (
                "香港办公室 +852 2123 4567",
                vec![(IntlLandline, "+852 2123 4567")],
            ),
            (
                "(+886) 912 345 678",
                vec![(IntlMobile, "(+886) 912 345 678")],
            ),
            ("（+852）9123 4567", vec![(IntlMobile, "（+852）9123 4567")]),
            ("+886-2-2345-6789", vec![(IntlLandline, "+886-2-2345-6789")]),
            (
                "call +1 (415) 555-2671.",
                vec![(IntlMobile, "+1 (415) 555-2671")],
            ),
            ("+44 7911 123456", vec![(IntlMobile, "+44 7911 123456")]),
            ("+65 9123 4567", vec![(IntlMobile, "+65 9123 4567")]),
            (
                "＋８５２ ９１２３ ４５６７",
                vec![(IntlMobile, "＋８５２ ９１２３ ４５６７")],
            ),
            ("00852 9123 4567", vec![(IntlMobile, "00852 9123 4567")]),
            ("00852-91234567", vec![(IntlMobile, "00852-91234567")]),
            ("手机 0085291234567", vec![(IntlMobile, "0085291234567")]),
            // the most groups that make a number
            (
                "+852 9123 4567 2023年",
                vec![(IntlMobile, "+852 9123 4567")],
            ),
            (
                "+852 9123 4567, +1 415 555 2671",
                vec![
                    (IntlMobile, "+852 9123 4567"),
                    (IntlMobile, "+1 415 555 2671"),
                ],
            ),
        ] {
            assert_eq!(found(text), want, "{text}");
        }
    }

    #[test]
    fn other_digits_after_a_sign_or_zeros_are_none() {
        for text in [
            // China's own: the mainland detectors'
            "+86 138 1234 5678",
            "+8613812345678",
            // not a number of the country (no such range)
            "+852 1234 5678",
            "+1 555 555 5555",
            // amounts, versions, sums
            "+1500",
            "+100.00",
            "2000852 9123 4567",
            "C+85291234567",
            "+85291234567abc",
            "+ 852 9123 4567",
            // a service number: a hotline's, not a person's (nor a
            // mainland mobile: see `a_foreign_number_is_no_mainland_one`)
            "+1 800 555 0199",
            // 00 and digits run together, no word naming a phone
            "账户 0085291234567",
            // the international prefix is two zeros
            "000852 9123 4567",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn a_foreign_number_is_no_mainland_one() {
        use Detector::{CnMobile, IntlMobile};
        let mainland = |text: &str| {
            let found = crate::detect::find(text, &[CnMobile]);
            (found.iter())
                .map(|d| text[d.start..d.end].to_string())
                .collect::<Vec<_>>()
        };
        // a US number and a US hotline hold a mainland mobile's shape
        for text in ["+1 415 555 2671", "+14155552671", "+1 800 555 0199"] {
            assert_eq!(mainland(text), Vec::<String>::new(), "{text}");
        }
        // the mainland's own, and a mainland number beside a foreign one
        assert_eq!(mainland("+86 138 1234 5678"), ["138 1234 5678"]);
        let both = crate::detect::find("+1 415 555 2671 13812345678", &[CnMobile, IntlMobile]);
        let both: Vec<_> = both.iter().map(|d| (d.detector, d.start)).collect();
        assert_eq!(both, [(CnMobile, 16), (IntlMobile, 0)]);
    }

    #[test]
    fn digits_after_a_calling_code_that_are_no_number_say_why() {
        let why = |text: &str| {
            let start = text.find(|c: char| c.is_ascii_digit()).unwrap();
            why_not(text, start)
        };
        assert!(why("+852 1234 5678")
            .unwrap()
            .contains("no number its country issues"));
        assert!(why("+1 800 555 0199").unwrap().contains("TollFree"));
        assert!(why("账户 0085291234567").unwrap().contains("run together"));
        assert!(why("+85291234567abc").unwrap().contains("touches"));
        assert_eq!(why("+86 138 1234 5678"), None);
        // (too many digits after the zeros: no group ends a number)
        assert_eq!(why("0 012345678901234567890"), None);
        assert_eq!(why("订单 12345678901"), None);
    }

    #[test]
    fn only_the_enabled_detector_is_reported_but_every_number_is_returned() {
        let mut out = Vec::new();
        let spans = find_into(
            "+852 2123 4567 +852 9123 4567",
            &[Detector::IntlMobile],
            &mut out,
        );
        assert_eq!(spans, [0..14, 15..29]);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].detector, out[0].start), (Detector::IntlMobile, 15));
    }

    #[test]
    fn a_number_is_valued_and_its_code_counted_as_e164_writes_it() {
        let value = |m: &str| {
            let mut v = String::new();
            for_each_digit(m, |d| v.push(d));
            v
        };
        assert_eq!(value("+852 9123 4567"), "85291234567");
        assert_eq!(
            value("00852-9123-4567"),
            value("＋８５２ ９１２３ ４５６７")
        );
        assert_eq!(code_digits_written("+852 9123 4567"), 3);
        assert_eq!(code_digits_written("+1 (415) 555-2671"), 1);
        assert_eq!(code_digits_written("00852 9123 4567"), 5);
        assert_eq!(value("(+886) 912 345 678"), "886912345678");
        assert_eq!(code_digits_written("（+886）912 345 678"), 3);
    }
}
