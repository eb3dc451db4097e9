//! Mainland vehicle licence plates (`京A12345`, `粤B·D12345`), personal
//! information where they name a person's car: the province's character,
//! the city's letter (any but `I` and `O`), then five letters or digits
//! (a new-energy plate's six: `D` or `F` and five digits, or five digits
//! and `D` or `F`), at least three of the five digits, the last maybe
//! 学, 警, 挂, 港 or 澳. A middle dot, dot, space or hyphen may follow the
//! letter (`京A·12345`); letters in ASCII or full width, capitals only, as
//! plates print them. The plate is a word of its own: no letter or digit
//! right after it.
//!
//! Not in the bundled lists: a plate in work chat is most often parking or
//! a taxi; a list that wants them names `@cn_plate`.

use std::sync::OnceLock;

use super::{Detection, Detector};
use crate::fold::Survey;

/// Every plate's shape in one search: the new-energy plate's six first, so
/// that it is not cut to five.
fn shapes() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let province = "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]";
        let city = "[A-HJ-NP-ZＡ-ＨＪ-ＮＰ-Ｚ]";
        let sep = "[·•.\\- ]?";
        let digit = "[0-9０-９]";
        let letter_or_digit = "[A-HJ-NP-Z0-9Ａ-ＨＪ-ＮＰ-Ｚ０-９]";
        regex::Regex::new(&format!(
            "{province}{city}{sep}(?:[DFＤＦ]{digit}{{5}}|{digit}{{5}}[DFＤＦ]\
             |{letter_or_digit}{{4}}[A-HJ-NP-Z0-9Ａ-ＨＪ-ＮＰ-Ｚ０-９学警挂港澳])"
        ))
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// Whether a text of this `survey` may hold a plate: three digits, the
/// fewest a plate holds.
pub(super) fn may_hold_one(survey: Survey) -> bool {
    survey.digits() >= MIN_DIGITS
}

/// The fewest digits among a plate's last five (a regular plate has at
/// most two letters there): fewer, and it is a word or a code (`云ECS12`).
const MIN_DIGITS: u32 = 3;

/// Appends every plate in `text` to `out`.
pub(super) fn find_into(text: &str, out: &mut Vec<Detection>) {
    for m in shapes().find_iter(text) {
        let after = text[m.end()..].chars().next();
        let digits = m.as_str().chars().filter(|c| c.is_numeric()).count();
        if after.is_some_and(joins) || digits < MIN_DIGITS as usize {
            continue;
        }
        out.push(Detection {
            detector: Detector::CnPlate,
            start: m.start(),
            end: m.end(),
        });
    }
}

/// A letter or digit, ASCII or full width, after a plate's shape: the
/// shape is then part of something longer (`京A12345678`, `沪A600519`).
fn joins(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        super::super::found_by(text, &[Detector::CnPlate])
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn plates_as_written() {
        for (text, plate) in [
            ("车停在京A12345旁边", "京A12345"),
            ("粤B·D12345 的车主", "粤B·D12345"),
            ("沪C 12345D", "沪C 12345D"),
            ("苏E-9K2X8", "苏E-9K2X8"),
            ("鲁Ａ１２３４５", "鲁Ａ１２３４５"),
            ("教练车 川A1234学", "川A1234学"),
            ("浙A12345。", "浙A12345"),
        ] {
            assert_eq!(found(text), [plate], "{text}");
        }
    }

    /// One plate however written is one value (for `#! bulk:`).
    #[test]
    fn values_drop_separators_and_width() {
        use super::super::value;
        assert_eq!(value(Detector::CnPlate, "粤B·D12345"), "粤BD12345");
        assert_eq!(value(Detector::CnPlate, "鲁Ａ１２３４５"), "鲁A12345");
        assert_eq!(value(Detector::CnPlate, "鲁A 12345"), "鲁A12345");
    }

    /// Shapes that are no plate: too few digits, a letter that plates do
    /// not use, small letters, something longer, a stock's code.
    #[test]
    fn controls() {
        for text in [
            "云ECS12 实例",
            "京I12345",
            "京O12345",
            "京a12345",
            "京A123456",
            "京A12345B",
            "沪A600519",
            "京东A1234",
            "川G318",
        ] {
            assert_eq!(found(text), Vec::<&str>::new(), "{text}");
        }
    }
}
