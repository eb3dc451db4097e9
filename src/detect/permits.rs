//! Travel permits between the mainland, Hong Kong, Macau and Taiwan, the
//! identity documents people cross with: 往来港澳通行证 (`C12345678`,
//! `CA1234567`; the old booklet `W12345678`), 港澳居民来往内地通行证 (the
//! 回乡证: `H12345678` or `M12345678`, maybe with its two-digit issue count,
//! `H1234567801`), 大陆居民往来台湾通行证 (`L12345678`) and 台湾居民来往大陆通行证
//! (the 台胞证: eight digits). None has a check digit and their shapes are
//! an order number's, so one counts only with the permit's name within
//! [`PERMIT_KEYWORD_CHARS`] characters (通行证, 回乡证, 台胞证, their
//! traditional forms, `permit`; eight digits alone only with 台胞证).
//!
//! Their letters are capitals, as the permits print them, in ASCII or full
//! width, and the number is a word of its own: no letter or digit right
//! before or after, nor a URL's or an identifier's punctuation.

use std::ops::Range;
use std::sync::OnceLock;

use super::{keyword_near, Detection, Detector};
use crate::fold::Survey;

/// How near a permit number its name must be, in characters either side
/// (`回乡证号码：H12345678`, `H12345678（回乡证）`).
pub(crate) const PERMIT_KEYWORD_CHARS: usize = 20;

/// The words that name a permit; near a number, `permit` in any case.
const PERMIT_KEYWORDS: &[&str] = &[
    "通行证",
    "通行證",
    "回乡证",
    "回鄉證",
    "台胞证",
    "台胞證",
    "permit",
];

/// The 台胞证's names, the one permit numbered in digits alone.
const TAIWAN_PERMIT: &[&str] = &["台胞证", "台胞證"];

/// Every permit's shape in one search, read from the text as written.
/// Longer shapes first, so that an issue count is not cut off.
fn shapes() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            // 回乡证 with its issue count
            r"[HMＨＭ][0-9０-９]{10}",
            // a letter for the permit's kind and eight digits
            r"|[CWHMLＣＷＨＭＬ][0-9０-９]{8}",
            // the newer 往来港澳通行证: `C`, a letter but `I` and `O`, seven digits
            r"|[CＣ][A-HJ-NP-ZＡ-ＨＪ-ＮＰ-Ｚ][0-9０-９]{7}",
            // 台胞证
            r"|[0-9０-９]{8}",
        ))
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// Appends every permit number in `text` to `out`.
pub(super) fn find_into(text: &str, out: &mut Vec<Detection>) {
    for (span, named) in candidates(text) {
        if named {
            out.push(Detection {
                detector: Detector::CnTravelPermit,
                start: span.start,
                end: span.end,
            });
        }
    }
}

/// Permit numbers with a letter whose name is not near, for `explain` (an
/// eight-digit number without one is no near miss: it is anything).
pub(super) fn near_misses(text: &str) -> Vec<(Range<usize>, Detector, String)> {
    candidates(text)
        .into_iter()
        .filter(|(span, named)| {
            !named
                && text[span.clone()]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphabetic)
        })
        .map(|(span, _)| {
            let why = format!(
                "a travel permit number's shape, but no 通行证, 回乡证, 台胞证 or permit \
                 within {PERMIT_KEYWORD_CHARS} characters"
            );
            (span, Detector::CnTravelPermit, why)
        })
        .collect()
}

/// Whether a text of this `survey` may hold a permit's number: seven
/// digits, ASCII or full-width (the fewest a permit's shape has). What
/// spares nearly every text the search for the names, which comes next
/// (run on every text it cost the bundled lists 15% of their speed; 证
/// and 證 alone are no filter in finance, where 证券 and 保证金 are
/// everywhere).
pub(super) fn may_hold_one(survey: Survey) -> bool {
    survey.digits() >= 7
}

/// A search for the permits' names, `permit` in its three usual cases
/// (asked case-insensitively, the search takes a slower path).
fn names() -> &'static aho_corasick::AhoCorasick {
    static AC: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        let cased = ["Permit", "PERMIT"];
        aho_corasick::AhoCorasick::new(PERMIT_KEYWORDS.iter().chain(&cased))
            .unwrap_or_else(|e| unreachable!("static keywords: {e}"))
    })
}

/// Every number of a permit's shape in `text` where some permit is named,
/// a word of its own, its span and whether the name is near it.
fn candidates(text: &str) -> Vec<(Range<usize>, bool)> {
    let mut out = Vec::new();
    if !names().is_match(text) {
        return out;
    }
    for m in super::letter_ids::own_words(shapes(), text) {
        // eight digits alone are anything: only the 台胞证 is numbered so
        let lettered = m.as_str().chars().next().is_some_and(char::is_alphabetic);
        let keywords = if lettered {
            PERMIT_KEYWORDS
        } else {
            TAIWAN_PERMIT
        };
        let named = keyword_near(text, m.range(), keywords, PERMIT_KEYWORD_CHARS);
        out.push((m.range(), named));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Detector, &str)> {
        super::super::found_by(text, &[Detector::CnTravelPermit])
    }

    /// Each permit's number with its name near, either side, in ASCII or
    /// full width.
    #[test]
    fn permits_are_found_with_their_name_near() {
        for (text, id) in [
            ("港澳通行证号码：C12345678", "C12345678"),
            ("往来港澳通行证 CA1234567，下周过关", "CA1234567"),
            ("老的通行证是 W12345678", "W12345678"),
            ("回乡证 H12345678", "H12345678"),
            ("客户回鄉證號碼 M1234567801", "M1234567801"),
            ("大陆居民往来台湾通行证 L12345678", "L12345678"),
            ("台胞证号码：12345678，麻烦登记", "12345678"),
            ("H12345678 是他的回乡证", "H12345678"),
            ("Home return permit: H12345678", "H12345678"),
            ("回乡证 Ｈ１２３４５６７８", "Ｈ１２３４５６７８"),
        ] {
            assert_eq!(found(text), [(Detector::CnTravelPermit, id)], "{text}");
        }
    }

    /// Without the name, too far from it, not a permit's shape, or part of
    /// something longer: nothing.
    #[test]
    fn numbers_of_a_permits_shape_alone_are_not_permits() {
        for text in [
            "订单号 C12345678 已发货",
            "台胞证的事下周再说，今天先把这批货发了，订单是 12345678",
            "回乡证 H1234567",
            "回乡证 X12345678",
            "回乡证 CI1234567",
            "回乡证 H123456789",
            "通行证 SKU-C12345678",
            "通行证 c12345678",
            "通行证 https://example.com/C12345678",
            "台胞证 123456789",
            // eight digits are a 台胞证's only
            "通行证明天办，订单 12345678 先发",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn lettered_shapes_without_a_name_are_near_misses() {
        let text = "通行证的事下周再说，今天先把这批货发了，单号是 C12345678 和 20261206";
        let misses: Vec<&str> = near_misses(text)
            .into_iter()
            .map(|(span, _, _)| &text[span])
            .collect();
        assert_eq!(misses, ["C12345678"]);
    }
}
