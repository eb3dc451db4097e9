//! Phone numbers written after another country's calling code
//! (`@intl_mobile`, `@intl_landline`): `+852 9123 4567`, `+1 (415)
//! 555-2671`, `(+886) 912 345 678`, `00852-9123-4567`. Whether the digits
//! are a number of that country, and which kind, is libphonenumber's
//! metadata's to say (the `phonenumber` crate), not a table of our own.
//! China's own code (`+86`) is left to the mainland detectors.
//!
//! Numbers of Hong Kong, Macau, Taiwan and Singapore written as dialled
//! at home (`香港手机 9123 4567`, `台湾手机 0912-345-678`) are found too,
//! where a word naming a phone and one naming the place stand near: eight
//! digits alone are any number (an order's, a mainland landline's without
//! its area code). A Taiwan mobile written as Taiwan writes them,
//! `0912-345-678`, is no mainland number's shape, so a word naming a
//! phone is enough for it.

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::Type;

use super::{is_separator, keyword_near, windows_around, Detection, Detector, Survey};
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

/// Whether the survey of a text leaves room for a number of [`PLACES`]
/// dialled at home: enough digits (the words a number needs are looked
/// for around its digits only).
#[inline]
pub(super) fn may_hold_national(survey: Survey) -> bool {
    survey.digits() >= *NATIONAL_DIGITS.start() as u32
}

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
        let start = bracketed_start(text, pos, end);
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

/// The places whose numbers are found as dialled at home, each with the
/// words naming it (ASCII ones in any case, as whole words: `hk` is no
/// place in `HKD`). 港澳 names both of its places.
const PLACES: [(Id, &[&str]); 4] = [
    (Id::HK, &["香港", "港澳", "hong kong", "hongkong", "hk"]),
    (Id::MO, &["澳门", "澳門", "港澳", "macau", "macao"]),
    (Id::TW, &["台湾", "臺灣", "台灣", "taiwan"]),
    (Id::SG, &["新加坡", "singapore"]),
];

/// How many digits a number of [`PLACES`] has as dialled at home: eight
/// (Hong Kong, Macau, Singapore) to ten (Taiwan's, with its `0`).
const NATIONAL_DIGITS: std::ops::RangeInclusive<usize> = 8..=10;

/// Appends the numbers of [`PLACES`] written as dialled at home in `text`
/// to `out`, as `enabled` asks, and every such number's span, enabled or
/// not, to `found`, which holds the spans [`find_into`] returned: digits
/// there are a number after its code already. A number is a whole run
/// of digits (a card's `6222 0212 …` holds no Hong Kong number) in
/// groups apart by spaces or dashes, with a word naming a phone within
/// [`NAMING_WORD_CHARS`] characters, and one naming its place (a Taiwan
/// mobile written `0912-345-678` needs none).
pub(super) fn find_national_into(
    text: &str,
    enabled: &[Detector],
    out: &mut Vec<Detection>,
    found: &mut Vec<std::ops::Range<usize>>,
) {
    let taken = found.len();
    let mut groups = Groups::default();
    let mut from = 0;
    while let Some(pos) = next_digit_lead(text.as_bytes(), from) {
        let c = text[pos..].chars().next().unwrap_or_default();
        from = pos + c.len_utf8();
        if written_digit(c).is_none() {
            continue;
        }
        groups.read(text, pos);
        let Some(&(n, end)) = groups.ends.last() else {
            continue;
        };
        from = end;
        // (a bracket opening a first group it closes is the number's:
        // `(02) 2345-6789`)
        let start = bracketed_start(text, pos, end);
        let before = text[..start].chars().next_back();
        let span = start..end;
        // a run's first digit, not joined to a letter, a sign or a dot
        // (`No8…`, `+852…`, `1.5`), nor joined to one after it, and the
        // run all one number's: no dots (`2023.12.01`)
        if !NATIONAL_DIGITS.contains(&n)
            || before.is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, '+' | '＋' | '.'))
            // (nor the rest of a run longer than a number can be)
            || (text[..start].trim_end_matches(is_separator).chars().next_back())
                .is_some_and(|b| written_digit(b).is_some())
            || (text[end..].chars().next()).is_some_and(|c| c.is_ascii_alphanumeric())
            || text[span.clone()].contains('.')
            || found[..taken]
                .iter()
                .any(|f| f.start < span.end && span.start < f.end)
        {
            continue;
        }
        let Some(det) = national_number(text, span.clone(), &groups) else {
            continue;
        };
        found.push(span.clone());
        if let Some(det) = det.filter(|det| enabled.contains(det)) {
            out.push(Detection {
                detector: det,
                start: span.start,
                end: span.end,
            });
        }
    }
}

/// Where a number written from byte `pos` to `end` of `text` starts: at
/// the bracket before it where the number closes that bracket (`(+886)
/// 912…`, `(02) 2345-6789`), else at `pos`.
fn bracketed_start(text: &str, pos: usize, end: usize) -> usize {
    match text[..pos].chars().next_back() {
        Some(b @ ('(' | '（')) if text[pos..end].contains([')', '）']) => pos - b.len_utf8(),
        _ => pos,
    }
}

/// The first byte of `bytes` at or after `from` that may start a
/// written digit: an ASCII digit, or EF, the lead byte of a full-width
/// one (EF BC 90-99); both start a character. Eight bytes are tested at
/// once (most texts with digits are mostly Chinese characters).
fn next_digit_lead(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    let mut at = from;
    while let Some(chunk) = bytes
        .get(at..at + 8)
        .and_then(|c| <[u8; 8]>::try_from(c).ok())
    {
        let x = u64::from_ne_bytes(chunk);
        // (some byte below n in y, for n up to 128: y - n, masked by !y)
        let below = |y: u64, n: u64| y.wrapping_sub(ONES * n) & !y & HIGHS != 0;
        if below(x ^ (ONES * b'0' as u64), 10) || below(x ^ (ONES * 0xEF), 1) {
            break;
        }
        at += 8;
    }
    let tail = bytes.get(at..)?;
    (tail.iter())
        .position(|&b| b.is_ascii_digit() || b == 0xEF)
        .map(|i| at + i)
}

/// The number of a place that the digits of `groups`, written at `span`
/// of `text`, are as dialled at home, where words near say which place's
/// and that it is a phone: its detector (none for a service number), as
/// [`number_at`]'s.
fn national_number(
    text: &str,
    span: std::ops::Range<usize>,
    groups: &Groups,
) -> Option<Option<Detector>> {
    let digits = &groups.digits;
    let taiwan_mobile = taiwan_mobile_written(groups);
    // (the places first: most runs of these lengths are dates and orders'
    // numbers with no place near, and there are fewer places' words)
    let places = places_named(text, span.clone());
    if places.is_empty() && !taiwan_mobile
        || !keyword_near(text, span, PHONE_WORDS, NAMING_WORD_CHARS)
    {
        return None;
    }
    let national = std::str::from_utf8(digits).ok()?;
    let mut places = places.into_iter().chain(taiwan_mobile.then_some(Id::TW));
    places.find_map(|id| {
        let number = phonenumber::parse(Some(id), national).ok()?;
        // (its digits read as that place's, not as a code they start with)
        let kind = number.number_type(&DATABASE);
        (number.country().id() == Some(id) && kind != Type::Unknown).then(|| detector_of(kind))
    })
}

/// Whether `groups` are written as Taiwan writes its mobiles: `09`
/// and eight digits in groups of four, three and three (`0912-345-678`,
/// `0912 345 678`), which no mainland number is written as, and other
/// numbers are seldom (ten digits starting `09` run together are as often
/// an account's or a parcel's).
fn taiwan_mobile_written(groups: &Groups) -> bool {
    groups.digits.starts_with(b"09") && groups.ends.iter().map(|&(n, _)| n).eq([4, 7, 10])
}

/// The [`PLACES`] a word within [`NAMING_WORD_CHARS`] characters of
/// `span` of `text` names, in their order.
fn places_named(text: &str, span: std::ops::Range<usize>) -> Vec<Id> {
    let (before, after) = windows_around(text, span, NAMING_WORD_CHARS);
    let mut named = Vec::new();
    for window in [&text[before], &text[after]] {
        let mut letter_before = false;
        for (i, c) in window.char_indices() {
            // (one pass over the window, comparing words only where one
            // may start: an ASCII letter starting a word, or a place's
            // Chinese word's first character)
            let starts = match c.is_ascii_alphabetic() {
                true => !std::mem::replace(&mut letter_before, true),
                false => {
                    letter_before = false;
                    PLACE_FIRST_CHARS.contains(&c)
                }
            };
            if !starts {
                continue;
            }
            for (id, words) in &PLACES {
                if !named.contains(id) && words.iter().any(|w| holds_word(&window[i..], w)) {
                    named.push(*id);
                }
            }
        }
    }
    named.sort_by_key(|id| PLACES.iter().position(|(place, _)| place == id));
    named
}

/// The first characters of the Chinese words of [`PLACES`].
const PLACE_FIRST_CHARS: [char; 6] = ['香', '港', '澳', '台', '臺', '新'];

/// Whether `rest` starts with `word`, an ASCII one in any case and not
/// followed by a letter.
fn holds_word(rest: &str, word: &str) -> bool {
    let (rest, word) = (rest.as_bytes(), word.as_bytes());
    rest.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
        && !(word[0].is_ascii_alphabetic()
            && rest.get(word.len()).is_some_and(u8::is_ascii_alphabetic))
}

/// The digits written from a byte of a text in groups apart by a few
/// separators ([`Groups::read`]), in buffers read into again and again.
#[derive(Default)]
struct Groups {
    /// The groups' ASCII digits.
    digits: Vec<u8>,
    /// Where each group ends: digits so far, byte after its last digit.
    ends: Vec<(usize, usize)>,
}

impl Groups {
    /// The groups from byte `from` of `text`.
    fn at(text: &str, from: usize) -> Groups {
        let mut groups = Groups::default();
        groups.read(text, from);
        groups
    }

    /// Reads the groups from byte `from` of `text`, replacing those read
    /// before. Stops at any other character, and once the groups hold
    /// more digits than a number can.
    fn read(&mut self, text: &str, from: usize) {
        let Groups { digits, ends } = self;
        digits.clear();
        ends.clear();
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
            // a number's separators, and the dots and brackets of `+1
            // (415)`, `+852.9123.4567`
            let separator = is_separator(c) || matches!(c, '.' | '(' | ')' | '（' | '）');
            // (a number starts at its first digit: `+ 852` is none)
            if !separator || digits.is_empty() || seps == MAX_SEPARATORS {
                break;
            }
            seps += 1;
        }
    }
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
    let Groups { digits, ends } = Groups::at(text, digits_from);
    let zeros = zeros(Some(prefix));
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
    let Groups { digits, ends } = Groups::at(text, start);
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

/// Why the digits `digits` (of a run at `span` of `text`) are no number
/// of [`PLACES`] dialled at home, where they have such a number's length
/// and a word naming a phone stands near (for `explain`): no place named,
/// or none of the named places issues them. `None` for other runs.
pub(super) fn why_not_national(
    text: &str,
    span: std::ops::Range<usize>,
    digits: &[u8],
) -> Option<String> {
    let n = digits.len();
    let written =
        (text[span.clone()].chars()).all(|c| written_digit(c).is_some() || is_separator(c));
    if !NATIONAL_DIGITS.contains(&n)
        || !written
        || !keyword_near(text, span.clone(), PHONE_WORDS, NAMING_WORD_CHARS)
    {
        return None;
    }
    let named: Vec<String> = (places_named(text, span).iter())
        .map(|id| format!("{id:?}"))
        .collect();
    Some(match named.is_empty() {
        true => format!(
            "{n} digits near a word naming a phone: a number of Hong Kong, Macau, Singapore or \
             Taiwan dialled at home only where its place is named within {NAMING_WORD_CHARS} \
             characters (香港, 澳门, 新加坡, 台湾, HK…; a Taiwan mobile written 0912-345-678 \
             needs none); a mainland number has 11 digits, or an area code"
        ),
        false => format!(
            "{n} digits near a word naming a phone and {places}, but no number {places} \
             issues to a person (libphonenumber's metadata)",
            places = named.join(", ")
        ),
    })
}

/// A number's digits as E.164 writes them, after the `+` (`+852 9123 4567`
/// and `00852-9123-4567` are both `85291234567`), or as dialled at home
/// where it was written so (`9123 4567`: `91234567`, whose place the
/// text alone does not tell): what its value is.
pub(super) fn for_each_digit(matched: &str, mut each: impl FnMut(char)) {
    (matched.chars())
        .filter_map(written_digit)
        .skip(zeros(prefix_written(matched)))
        .for_each(|d| each(char::from(d)));
}

/// How many digits of a detection's `matched` text introduce the number:
/// the international prefix's zeros and the calling code (`+852 9123
/// 4567`: 3, `00852…`: 5, `9123 4567` dialled at home: none), kept
/// where the number is masked.
pub(crate) fn code_digits_written(matched: &str) -> usize {
    let Some(prefix) = prefix_written(matched) else {
        return 0;
    };
    let mut digits = Vec::new();
    for_each_digit(matched, |d| digits.push(d as u8));
    // (a detection's digits are a number of its code: no parse needed)
    let code = possible(&digits).map_or(0, |code| code.to_string().len());
    zeros(Some(prefix)) + code
}

/// How a detection's `matched` text introduces its calling code: a plus
/// sign (`+852…`, `(+852) …`), two zeros (`00852…`), or not at all (a
/// number dialled at home: `9123 4567`, `0912-345-678`).
fn prefix_written(matched: &str) -> Option<Prefix> {
    let matched = matched.trim_start_matches(['(', '（']);
    if matched.starts_with(['+', '＋']) {
        return Some(Prefix::Plus);
    }
    let mut digits = matched.chars().filter_map(written_digit);
    (digits.next() == Some(b'0') && digits.next() == Some(b'0')).then_some(Prefix::Zeros)
}

/// The international prefix's zeros a number written so starts with.
fn zeros(prefix: Option<Prefix>) -> usize {
    match prefix {
        Some(Prefix::Zeros) => 2,
        Some(Prefix::Plus) | None => 0,
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

    /// What `text` holds dialled at home, as `(detector, matched)`, and
    /// the spans found.
    fn found_national(text: &str) -> (Vec<(Detector, &str)>, Vec<std::ops::Range<usize>>) {
        let (mut out, mut spans) = (Vec::new(), find_into(text, &DETECTORS, &mut Vec::new()));
        find_national_into(text, &DETECTORS, &mut out, &mut spans);
        let found = (out.iter()).map(|d| (d.detector, &text[d.start..d.end]));
        (found.collect(), spans)
    }

    #[test]
    fn numbers_dialled_at_home_are_found_where_words_name_a_phone_and_its_place() {
        use Detector::{IntlLandline, IntlMobile};
        for (text, want) in [
            ("我的香港手机 9123 4567，谢谢", (IntlMobile, "9123 4567")),
            ("HK mobile: 6123-4567", (IntlMobile, "6123-4567")),
            ("澳门手机 6612 3456", (IntlMobile, "6612 3456")),
            ("新加坡同事 WhatsApp 9123 4567", (IntlMobile, "9123 4567")),
            ("香港办公室电话 2123 4567", (IntlLandline, "2123 4567")),
            ("台湾公司电话 02-2345-6789", (IntlLandline, "02-2345-6789")),
            ("台湾手机 0912-345-678", (IntlMobile, "0912-345-678")),
            ("港澳的号码是 66123456", (IntlMobile, "66123456")),
            ("台湾电话 (02) 2345-6789", (IntlLandline, "(02) 2345-6789")),
            // full-width, and the place after the number
            (
                "电话 ９１２３ ４５６７（香港）",
                (IntlMobile, "９１２３ ４５６７"),
            ),
            // a Taiwan mobile written as Taiwan writes them needs no place
            ("手机 0912 345 678", (IntlMobile, "0912 345 678")),
            (
                "客户号码 0912-345-678 明天打给他",
                (IntlMobile, "0912-345-678"),
            ),
            ("台湾客户的号码 0912345678", (IntlMobile, "0912345678")),
        ] {
            assert_eq!(found_national(text).0, [want], "{text}");
        }
    }

    #[test]
    fn eight_digits_without_both_words_or_not_whole_are_none() {
        for text in [
            // no place named: a mainland landline without its area code
            // as likely
            "电话 6234 5678",
            "WhatsApp 9123 4567",
            // no phone named
            "香港订单 91234567",
            // `hk` only as a word of its own
            "HKD 91234567 电话",
            // not a number of the place (no range starts with 1)
            "香港手机 1234 5678",
            // part of a longer run: a card's, a mainland number's
            "香港手机 6222 0212 3456 7890",
            "香港和上海的电话 021-6234-5678",
            // joined to a letter or a dot, or dotted
            "香港手机 No91234567",
            "香港电话 9123.4567",
            "香港电话 1.91234567",
            // the end of a run longer than a number can be
            "香港电话 １２３４５６７８９０１２３４５６７８９１２３４５６７８",
            "1234 5678 9012 3456 7890 9123 4567 香港电话",
            // not ten digits with its `0`, or not written as Taiwan writes
            // its mobiles, and no place named
            "手机 9912 345 678",
            "转账到 0912345678 电话确认",
            "电话 0912-3456-78",
        ] {
            assert_eq!(found_national(text).0, [], "{text}");
        }
        // a number after its code is read so once
        let spans = found_national("香港手机 +852 9123 4567").1;
        assert_eq!(spans.len(), 1, "one span: the number after its code");
        assert_eq!(spans[0], 13..27);
    }

    #[test]
    fn the_next_digit_is_found_past_whole_words_of_bytes() {
        let text = "这是一段没有数字的很长的中文，然后 7 和 ８ 和 9";
        let leads: Vec<usize> = std::iter::successors(next_digit_lead(text.as_bytes(), 0), |&at| {
            next_digit_lead(text.as_bytes(), at + 1)
        })
        .collect();
        // (`，` is EF BC 8C: a lead to look at)
        let want: Vec<usize> = (text.char_indices())
            .filter(|&(i, c)| c.is_ascii_digit() || text.as_bytes()[i] == 0xEF)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(leads, want);
        // every byte value in every place of a word
        for at in 0..8 {
            for b in 0..=255u8 {
                let mut bytes = [b'a'; 12];
                bytes[at] = b;
                let want = (b.is_ascii_digit() || b == 0xEF).then_some(at);
                assert_eq!(next_digit_lead(&bytes, 0), want, "{b:#x} at {at}");
            }
        }
    }

    #[test]
    fn places_are_named_by_whole_words_in_any_case() {
        let named = |text: &str| {
            let at = text.find('#').unwrap();
            places_named(text, at..at + 1)
        };
        assert_eq!(named("香港 #"), [Id::HK]);
        assert_eq!(named("# 港澳"), [Id::HK, Id::MO]);
        assert_eq!(named("Taiwan, Hong Kong #"), [Id::HK, Id::TW]);
        assert_eq!(named("HK: #"), [Id::HK]);
        assert_eq!(named("新加坡#"), [Id::SG]);
        for text in ["HKD #", "Shk #", "台 湾 #", "macaus #"] {
            assert_eq!(named(text), [], "{text}");
        }
        // every Chinese word's first character is looked for
        for (_, words) in PLACES {
            for word in words.iter().filter(|w| !w.is_ascii()) {
                let first = word.chars().next().unwrap();
                assert!(PLACE_FIRST_CHARS.contains(&first), "{word}");
            }
        }
    }

    #[test]
    fn a_number_dialled_at_home_keeps_its_digits_and_no_code_is_masked_apart() {
        let value = |m: &str| {
            let mut v = String::new();
            for_each_digit(m, |d| v.push(d));
            v
        };
        assert_eq!(value("0912-345-678"), "0912345678");
        assert_eq!(value("9123 4567"), "91234567");
        assert_eq!(code_digits_written("0912-345-678"), 0);
        assert_eq!(code_digits_written("9123 4567"), 0);
    }

    #[test]
    fn eight_digits_near_a_phone_word_say_why_they_are_none() {
        let why = |text: &str| {
            let start = text.find(|c: char| c.is_ascii_digit()).unwrap();
            let end = text.rfind(|c: char| c.is_ascii_digit()).unwrap() + 1;
            let digits: Vec<u8> = (text[start..end].bytes())
                .filter(u8::is_ascii_digit)
                .collect();
            why_not_national(text, start..end, &digits)
        };
        assert!(why("我的手机 9123 4567")
            .unwrap()
            .contains("only where its place is named"));
        assert!(why("香港手机 1234 5678")
            .unwrap()
            .contains("no number HK issues"));
        assert_eq!(why("订单 91234567"), None);
        assert_eq!(why("手机 123456"), None);
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
