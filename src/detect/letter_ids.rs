//! Identity numbers that start with letters: Hong Kong identity cards
//! (`A123456(3)`) and Taiwan's national identification numbers
//! (`A123456789`), each with its check digit verified; and mainland
//! Chinese passport numbers (`E12345678`, `EA1234567`, `G12345678`), which
//! have none, so their keyword (护照, 護照, `passport`) must be within
//! [`PASSPORT_KEYWORD_CHARS`] characters.
//!
//! Their letters are capitals, as the cards print them, in ASCII or full
//! width (`Ａ１２３４５６（３）`), and the number is a word of its own: no
//! letter or digit right before or after, nor a URL's or an identifier's
//! punctuation (`/s/A1234563` is a link's path, `SKU-A123456789` a code).
//!
//! A check digit holds for one code in ten or eleven, so a product's or an
//! order's code of the same shape (`型号 B123456780`) would pass as a card
//! that often: a code's label before the number ([`code_label_before`])
//! makes it a code, unless a word naming an identity document
//! ([`IDENTITY_KEYWORDS`]) stands near it too (`身分證字號 F131104093`).
//! Without either, the number is a card: Microsoft Purview's rule (pattern
//! and check digit) at its medium confidence.

use std::ops::Range;
use std::sync::OnceLock;

use super::{code_label_before, keyword_near, Detection, Detector};
use crate::fold::Survey;

/// The detectors this module implements.
pub(super) const DETECTORS: [Detector; 3] =
    [Detector::HkIdCard, Detector::TwIdCard, Detector::CnPassport];

/// How near a passport number its keyword must be, in characters either
/// side (`护照号码：E12345678`, `passport no. E12345678`, `E12345678 是我的护照`).
pub(crate) const PASSPORT_KEYWORD_CHARS: usize = 20;

/// How near a card's number a word naming an identity document makes it a
/// card despite a code's label, in characters either side.
pub(crate) const IDENTITY_KEYWORD_CHARS: usize = 20;

/// The words that name an identity document, near a card's number: with
/// one, a code's label does not make it a code (`身份证编号 A123456789`);
/// ASCII ones in any case.
pub(super) const IDENTITY_KEYWORDS: &[&str] = &[
    "身份",
    "身分",
    "证件",
    "證件",
    "证号",
    "證號",
    "字号",
    "字號",
    "居留",
    "hkid",
    "identity",
    "id card",
    "id no",
    "id number",
];

/// Every shape in one search, read from the text as written (no folded
/// copy: most texts with enough digits hold none). Taiwan's first, so
/// that its ten characters are not cut into a passport's nine or a Hong
/// Kong card's eight; passports' before Hong Kong's, whose eight would cut
/// `E12345678` short.
fn shapes() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            // Taiwan: the region's letter, 1 or 2 (citizens) or 8 or 9
            // (residents), seven digits and the check digit
            r"[A-ZＡ-Ｚ][1289１２８９][0-9０-９]{8}",
            // mainland passports: `E` or `G` and eight digits, or `E`, a
            // letter but `I` and `O`, and seven digits
            r"|[EGＥＧ][0-9０-９]{8}|[EＥ][A-HJ-NP-ZＡ-ＨＪ-ＮＰ-Ｚ][0-9０-９]{7}",
            // Hong Kong: one or two letters, six digits, the check digit
            // or `A`, in parentheses or not; a space after the letters
            // only where the check digit is in parentheses (`A 123456(3)`:
            // without them, `A 1234563` is as likely a label and a number)
            r"|[A-ZＡ-Ｚ]{1,2}[0-9０-９]{6}(?:[ 　]?[(（][0-9A０-９Ａ][)）]|[0-9A０-９Ａ])",
            r"|[A-ZＡ-Ｚ]{1,2}[ 　][0-9０-９]{6}[ 　]?[(（][0-9A０-９Ａ][)）]",
        ))
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// A full-width letter or digit as its ASCII one, an ASCII one as itself.
fn ascii_of(c: char) -> Option<u8> {
    let c = match c {
        '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
            char::from_u32(c as u32 - 0xFEE0)?
        }
        c => c,
    };
    c.is_ascii_alphanumeric().then_some(c as u8)
}

/// Whether `c`, next to a candidate, makes it part of something longer:
/// a letter or digit, or a URL's or an identifier's punctuation.
fn joins(c: char, punctuation: &str) -> bool {
    ascii_of(c).is_some() || punctuation.contains(c)
}

/// `shapes`' matches in `text` that are words of their own: no letter or
/// digit (ASCII or full width) right before or after, nor a URL's or an
/// identifier's punctuation (`/s/A1234563` is a link's path,
/// `SKU-A123456789` a code). The identity numbers' and the travel
/// permits' rule.
pub(super) fn own_words<'t>(
    shapes: &'static regex::Regex,
    text: &'t str,
) -> impl Iterator<Item = regex::Match<'t>> {
    shapes.find_iter(text).filter(move |m| {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        !(before.is_some_and(|c| joins(c, "/\\=&?._-#@%+"))
            || after.is_some_and(|c| joins(c, "/\\=_-")))
    })
}

/// Whether a text of this `survey` may hold a number of these shapes:
/// an ASCII capital before a digit or before a space and a digit, or a
/// full-width capital, and six digits (a Hong Kong card's, the fewest).
/// What spares nearly every text the search (the search on every text
/// with seven digits cost the bundled lists 15% of their speed; on every
/// text with a capital before a digit, `Q3`, 8%).
pub(super) fn may_hold_one(survey: Survey) -> bool {
    survey.may_have_capital_and_digit() && survey.digits() >= 6
}

/// What a candidate of an identity number's shape turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// An identity number.
    Holds,
    /// A Hong Kong or Taiwan card's check digit fails.
    CheckDigitFails,
    /// A passport's shape with no word naming a passport near it.
    NoPassportWord,
    /// A card's shape and check digit, but this code's label before it.
    Labelled(&'static str),
}

/// Appends every number of an `enabled` kind in `text` to `out`.
pub(super) fn find_into(text: &str, enabled: &[Detector], out: &mut Vec<Detection>) {
    for (span, detector, verdict) in candidates(text, enabled) {
        if verdict == Verdict::Holds {
            out.push(Detection {
                detector,
                start: span.start,
                end: span.end,
            });
        }
    }
}

/// The numbers of these shapes that are none, and why, for `explain`.
pub(super) fn near_misses(text: &str) -> Vec<(Range<usize>, Detector, String)> {
    candidates(text, &DETECTORS)
        .into_iter()
        .filter_map(|(span, detector, verdict)| {
            let card = if detector == Detector::HkIdCard {
                "a Hong Kong identity card's"
            } else {
                "a Taiwan identification number's"
            };
            let why = match verdict {
                Verdict::Holds => return None,
                Verdict::CheckDigitFails => format!("{card} shape, but its check digit fails"),
                Verdict::NoPassportWord => format!(
                    "a mainland passport number's shape, but no 护照 or passport within \
                     {PASSPORT_KEYWORD_CHARS} characters"
                ),
                Verdict::Labelled(label) => format!(
                    "{card} shape and check digit, but {label} before it labels a code \
                     (身份证, 身分證, ID card or another word naming an identity document \
                     near it makes it a card)"
                ),
            };
            Some((span, detector, why))
        })
        .collect()
}

/// The code's label before `span` of `text` ([`code_label_before`]), where
/// no word naming an identity document stands within
/// [`IDENTITY_KEYWORD_CHARS`] characters of it.
fn code_label(text: &str, span: Range<usize>) -> Option<&'static str> {
    let label = code_label_before(text, span.start)?;
    (!keyword_near(text, span, IDENTITY_KEYWORDS, IDENTITY_KEYWORD_CHARS)).then_some(label)
}

/// Every number of an `enabled` kind's shape in `text`, a word of its own,
/// its span and what it turned out to be.
fn candidates(text: &str, enabled: &[Detector]) -> Vec<(Range<usize>, Detector, Verdict)> {
    let mut out = Vec::new();
    for m in own_words(shapes(), text) {
        let significant: Vec<u8> = m
            .as_str()
            .chars()
            .filter_map(ascii_of)
            .map(|b| b.to_ascii_lowercase())
            .collect();
        // ten characters are Taiwan's shape, nine a passport's or a Hong
        // Kong card's with two letters (`EA1234567` may be either: a valid
        // check digit makes it a card), eight a Hong Kong card's
        let passport = is_passport_shape(&significant);
        let hk_valid = !passport || significant[1].is_ascii_lowercase();
        let (detector, valid) = match significant.len() {
            10 => (Detector::TwIdCard, valid_tw_id(&significant)),
            _ if hk_valid && valid_hk_id(&significant) => (Detector::HkIdCard, true),
            _ if passport => (
                Detector::CnPassport,
                keyword_near(text, m.range(), PASSPORT_KEYWORDS, PASSPORT_KEYWORD_CHARS),
            ),
            _ => (Detector::HkIdCard, false),
        };
        if !enabled.contains(&detector) {
            continue;
        }
        let verdict = match (valid, detector) {
            (false, Detector::CnPassport) => Verdict::NoPassportWord,
            (false, _) => Verdict::CheckDigitFails,
            (true, Detector::CnPassport) => Verdict::Holds,
            (true, _) => code_label(text, m.range()).map_or(Verdict::Holds, Verdict::Labelled),
        };
        out.push((m.range(), detector, verdict));
    }
    out
}

/// The words that name a passport; ASCII ones in any case.
const PASSPORT_KEYWORDS: &[&str] = &["护照", "護照", "passport"];

/// A mainland passport's shape, folded: `e` or `g` and eight digits, or
/// `e`, a letter but `i` and `o`, and seven digits.
fn is_passport_shape(s: &[u8]) -> bool {
    s.len() == 9
        && match s[0] {
            b'e' | b'g' if s[1..].iter().all(u8::is_ascii_digit) => true,
            b'e' => {
                s[1].is_ascii_lowercase()
                    && !matches!(s[1], b'i' | b'o')
                    && s[2..].iter().all(u8::is_ascii_digit)
            }
            _ => false,
        }
}

/// A letter's value in both checksums: `a` is 10, `z` 35.
fn letter_value(b: u8) -> Option<u32> {
    b.is_ascii_lowercase().then(|| u32::from(b - b'a') + 10)
}

/// A Hong Kong identity card number, folded (`a1234563`): one or two
/// letters (one is read as a space before it, worth 36), six digits,
/// weights 9 down to 2, and a check digit (`a` for 10) that makes the sum
/// a multiple of 11.
fn valid_hk_id(id: &[u8]) -> bool {
    let (letters, rest) = match id.len() {
        8 => (&id[..1], &id[1..]),
        9 => (&id[..2], &id[2..]),
        _ => return false,
    };
    let mut values: Vec<u32> = Vec::with_capacity(8);
    if letters.len() == 1 {
        values.push(36);
    }
    for &l in letters {
        let Some(v) = letter_value(l) else {
            return false;
        };
        values.push(v);
    }
    for &d in &rest[..6] {
        if !d.is_ascii_digit() {
            return false;
        }
        values.push(u32::from(d - b'0'));
    }
    let check = match rest[6] {
        b'a' => 10,
        d if d.is_ascii_digit() => u32::from(d - b'0'),
        _ => return false,
    };
    let sum: u32 = values.iter().zip((2..=9).rev()).map(|(v, w)| v * w).sum();
    (sum + check) % 11 == 0
}

/// A Taiwan national identification number, folded (`a123456789`): the
/// region's letter as two digits (its own table: `i` is 34, `o` 35, `w`
/// 32 …), weighted 1 and 9, the nine digits weighted 8 down to 1 and the
/// check digit 1, the sum a multiple of 10.
fn valid_tw_id(id: &[u8]) -> bool {
    // the region codes, a to z
    const REGION: [u32; 26] = [
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32,
        30, 31, 33,
    ];
    if id.len() != 10 || !id[0].is_ascii_lowercase() || !id[1..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let region = REGION[usize::from(id[0] - b'a')];
    let digits = id[1..].iter().map(|&d| u32::from(d - b'0'));
    let weights = [8, 7, 6, 5, 4, 3, 2, 1, 1];
    let sum =
        region / 10 + (region % 10) * 9 + digits.zip(weights).map(|(d, w)| d * w).sum::<u32>();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Detector, &str)> {
        super::super::found_by(text, &DETECTORS)
    }

    #[test]
    fn hong_kong_cards_have_their_check_digit() {
        // the Immigration Department's own example
        for id in [
            "A123456(3)",
            "A123456 (3)",
            "A1234563",
            "Ａ１２３４５６（３）",
            // an ASCII letter before full-width digits, and the reverse
            "A１２３４５６（３）",
            "Ａ123456(3)",
            // a space after the letter, where the check digit is in
            // parentheses
            "A 123456(3)",
            "A 123456 (3)",
            "Ａ　１２３４５６（３）",
            "AB 987654(3)",
        ] {
            let text = format!("客户身份证 {id} 已登记");
            assert_eq!(found(&text), [(Detector::HkIdCard, id)], "{id}");
        }
        // two letters, and `A` for a check value of 10
        assert!(valid_hk_id(b"ab9876543"));
        assert!(valid_hk_id(b"z683365a"));
        for text in [
            "A123456(4)",
            "XA123456(3)",
            "A123456(3)7",
            "单号 A123456",
            // a space after the letter and no parentheses: a label and a
            // number as often as a card
            "A 1234563",
            "A 123456(4)",
            // a link's path, lower case
            "https://example.com/s/A1234563",
            "a123456(3)",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn taiwan_numbers_have_their_check_digit() {
        for id in [
            "A123456789",
            "F131104093",
            "Ａ１２３４５６７８９",
            "A１２３４５６７８９",
        ] {
            let text = format!("身分證字號{id}，請保密");
            assert_eq!(found(&text), [(Detector::TwIdCard, id)], "{id}");
        }
        for text in ["A123456788", "A323456789", "SKU-A1234567890", "A123456789X"] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    /// A check digit holds for one code in ten: a code's label before a
    /// card's shape makes it a code, unless a word naming an identity
    /// document stands near it too.
    #[test]
    fn labelled_codes_are_no_cards() {
        // each has a valid check digit
        assert!(valid_tw_id(b"b123456780"));
        for text in [
            "型号 B123456780 缺货",
            "型號：B123456780",
            "订单号 B123456780 已发货",
            "请核对物料编码 A1234563",
            "Order #: B123456780",
            "SKU B123456780",
            "批次 A123456(3) 的报告",
        ] {
            assert_eq!(found(text), [], "{text}");
            let misses = near_misses(text);
            assert_eq!(misses.len(), 1, "{text}");
            assert!(
                misses[0].2.contains("labels a code"),
                "{text}: {}",
                misses[0].2
            );
        }
        for (text, id) in [
            // no label: a card, as Purview's medium confidence has it
            ("B123456780 请帮我填一下", "B123456780"),
            // a word naming the card beside the label
            ("身份证编号 B123456780", "B123456780"),
            ("客户订单号 B123456780，身分證在附件", "B123456780"),
            ("HKID no. A123456(3)", "A123456(3)"),
            // a label after the number labels what follows it
            ("F131104093，订单已付", "F131104093"),
            ("A1234563单号另发给你", "A1234563"),
            // a label more than ten characters before
            ("型号的事我们明天再说，先给你 B123456780", "B123456780"),
        ] {
            let kind = if id.len() == 10 && !id.contains('(') {
                Detector::TwIdCard
            } else {
                Detector::HkIdCard
            };
            assert_eq!(found(text), [(kind, id)], "{text}");
        }
    }

    /// A passport number has no check digit: its keyword, near it on
    /// either side, tells it from a product or order code.
    #[test]
    fn passports_need_their_keyword_near() {
        for (text, id) in [
            ("护照号码：E12345678", "E12345678"),
            ("Passport No. EA1234567, valid to 2030", "EA1234567"),
            ("护照 G12345678", "G12345678"),
            ("我的護照是 Ｅ１２３４５６７８", "Ｅ１２３４５６７８"),
            ("护照 E１２３４５６７８", "E１２３４５６７８"),
            ("E12345678 是客户的护照号", "E12345678"),
        ] {
            assert_eq!(found(text), [(Detector::CnPassport, id)], "{text}");
        }
        for text in [
            // no keyword, or too far away
            "订单号 E12345678 已发货",
            "护照的事下周再说，今天先把这批货发了，单号是 E12345678",
            // not a passport's shape, or not a word of its own
            "护照 E1234567",
            "护照 EI1234567",
            "护照 F12345678",
            "护照 E123456789",
            "护照 SKU-E12345678",
            "护照 e12345678",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
        // `EA1234563` is a Hong Kong card's shape too: with its check digit
        // valid it is one, keyword or not
        assert_eq!(found("护照 EA1234563"), [(Detector::HkIdCard, "EA1234563")]);
        assert_eq!(
            found("护照 EA1234567"),
            [(Detector::CnPassport, "EA1234567")]
        );
    }

    #[test]
    fn near_misses_name_the_failing_check_digit() {
        let text = "A123456(4) 和 A123456788 和 A123456(3) 和单号 E12345678";
        let misses: Vec<(&str, Detector)> = near_misses(text)
            .into_iter()
            .map(|(span, d, _)| (&text[span], d))
            .collect();
        assert_eq!(
            misses,
            [
                ("A123456(4)", Detector::HkIdCard),
                ("A123456788", Detector::TwIdCard),
                ("E12345678", Detector::CnPassport)
            ]
        );
    }
}
