//! Masking of personal data in what an alert shows.
//!
//! An alert is itself a copy of what it reports: a phone number in `matched`
//! or in the snippet is one more place that number is stored and read. So by
//! default every piece of personal data the detectors recognise is shown
//! with its middle replaced by `*` wherever the alert quotes the message
//! (`matched`, `snippet`, full `text`), whether or not the lists enable that
//! detector. Enough of each stays to tell two numbers apart; the number as
//! written stays in the message, which the alert's `source` names, under the
//! archive's own access control. Separators stay as written, so
//! `138-1234-5678` shows as `138-****-5678`.
//!
//! | detector | kept | example |
//! |---|---|---|
//! | `@cn_mobile` | first 3, last 4 digits | `138****5678` |
//! | `@cn_landline` | the area code, last 4 digits | `010-****5678` |
//! | `@intl_mobile`, `@intl_landline` | the calling code, last 4 digits | `+852 **** 4567` |
//! | `@cn_id_card` | first 3, last 4 | `110***********002X` |
//! | `@bank_card` | first 4, last 4 | `6222 **** **** 7894` |
//! | `@email` | first character of the local part, the domain | `z*******@example.com` |
//! | `@hk_id_card` | the first letter, the last digit and the check digit | `A*****6(3)` |
//! | `@tw_id_card` | first 2, last 2 | `A1******89` |
//! | `@cn_passport` | first 2, last 2 | `E1*****78` |
//! | `@cn_plate` | first 2, last 2 | `京A***45` |
//! | `@private_key` | the header and footer, not the body | `-----BEGIN RSA PRIVATE KEY-----\n****…` |
//! | `@access_key` | first 4, last 4 | `AKIA************MPLF` |
//! | `@api_token` | the kind's prefix, last 4 | `ghp_********************************m1IL` |
//! | `@jwt` | the header, last 4 | `eyJhbGciOiJIUzI1NiJ9.******…sw5c` |
//! | `@url_password` | all but the password | `mysql://root:*********@10.0.3.15` |
//! | `@webhook` | the URL, the key's last 4 | `…/webhook/send?key=****************************1a40` |
//! | `@password` | the keyword, not the password | `密码：********` |
//!
//! Credentials are masked always, even where personal data is not
//! ([`crate::alert::AlertBuilder::mask_personal_data`] off): an alert that
//! quoted a token would hand it to everyone who reads the alert feed, and
//! what is kept names the key to rotate.

use std::ops::Range;

use crate::detect::{self, Detector};

/// Byte ranges of one text to show as `*`, one range a character, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Masks(Vec<Range<usize>>);

impl Masks {
    /// The characters of `text` to mask: the middle of every piece of
    /// personal data and every secret any detector finds in it.
    pub fn of(text: &str) -> Masks {
        Masks::found_by(text, &Detector::ALL)
    }

    /// The characters of `text` to mask where personal data is shown as
    /// written: the secrets of the credentials in it.
    pub fn of_credentials(text: &str) -> Masks {
        Masks::found_by(text, detect::credential_detectors())
    }

    fn found_by(text: &str, detectors: &[Detector]) -> Masks {
        let mut masked = Vec::new();
        for d in detect::find(text, detectors) {
            let Some(span) = text.get(d.start..d.end) else {
                continue;
            };
            if let Some(secret) = detect::secret_part(text, &d) {
                let Some(secret_text) = text.get(secret.clone()) else {
                    continue;
                };
                masked.extend(
                    secret_text
                        .char_indices()
                        .filter(|(_, c)| !c.is_whitespace())
                        .map(|(i, c)| secret.start + i..secret.start + i + c.len_utf8()),
                );
                continue;
            }
            let chars: Vec<(usize, char)> =
                span.char_indices().map(|(i, c)| (d.start + i, c)).collect();
            match d.detector {
                Detector::Email => {
                    // the local part but its first character: up to the
                    // at-sign, whichever width, or its word (`zhang(at)…`)
                    let local = chars.iter().take_while(|&&(_, c)| {
                        c.is_alphanumeric() || "._%+-．＿％＋－".contains(c)
                    });
                    masked.extend(local.skip(1).map(|&(i, c)| i..i + c.len_utf8()));
                }
                kind => {
                    let (head, tail) = match kind {
                        Detector::BankCard => (4, 4),
                        // the area code and the last four: `010-****5678`
                        Detector::CnLandline => (detect::landline_area_written(span), 4),
                        // the calling code and the last four: `+852 **** 4567`
                        Detector::IntlMobile | Detector::IntlLandline => {
                            (detect::intl_code_digits_written(span), 4)
                        }
                        // `A*****6(3)`, `A1******89`: eight and ten characters
                        Detector::HkIdCard => (1, 2),
                        // `京A***45`
                        Detector::TwIdCard
                        | Detector::CnPassport
                        | Detector::CnTravelPermit
                        | Detector::CnPlate => (2, 2),
                        _ => (3, 4),
                    };
                    let significant: Vec<&(usize, char)> =
                        chars.iter().filter(|(_, c)| c.is_alphanumeric()).collect();
                    let n = significant.len();
                    if n > head + tail {
                        masked.extend(
                            significant[head..n - tail]
                                .iter()
                                .map(|&&(i, c)| i..i + c.len_utf8()),
                        );
                    }
                }
            }
        }
        masked.sort_by_key(|r| r.start);
        masked.dedup();
        Masks(masked)
    }

    /// Appends `text[range]` to `out`, masked characters as `*` and every
    /// other character through `each`.
    pub fn render_into(
        &self,
        text: &str,
        range: Range<usize>,
        out: &mut String,
        each: impl Fn(char) -> char,
    ) {
        let Some(slice) = text.get(range.clone()) else {
            return;
        };
        // the first mask not before the range
        let mut next = self.0.partition_point(|m| m.start < range.start);
        for (i, c) in slice.char_indices() {
            let at = range.start + i;
            while self.0.get(next).is_some_and(|m| m.start < at) {
                next += 1;
            }
            if self.0.get(next).is_some_and(|m| m.start == at) {
                out.push('*');
            } else {
                out.push(each(c));
            }
        }
    }

    /// `text[range]` with the masked characters as `*`.
    pub fn render(&self, text: &str, range: Range<usize>) -> String {
        let mut out = String::with_capacity(range.len());
        self.render_into(text, range, &mut out, |c| c);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn masked(text: &str) -> String {
        Masks::of(text).render(text, 0..text.len())
    }

    #[test]
    fn each_detector_keeps_its_ends() {
        assert_eq!(masked("电话13812345678谢谢"), "电话138****5678谢谢");
        assert_eq!(masked("tel 138-1234-5678."), "tel 138-****-5678.");
        // a landline keeps its area code, whichever length
        assert_eq!(masked("座机 010-62345678"), "座机 010-****5678");
        assert_eq!(masked("电话(010)62345678"), "电话(010)****5678");
        assert_eq!(masked("车牌 京A·12345 停"), "车牌 京A·***45 停");
        assert_eq!(masked("0755 2234 5678 转"), "0755 **** 5678 转");
        // after the calling code, which drops the area code's 0
        assert_eq!(masked("+86 10 6234 5678"), "+86 10 **** 5678");
        assert_eq!(masked("(+86) 755 2234 5678"), "(+86) 755 **** 5678");
        assert_eq!(masked("零二一-六二三四五六七八"), "零二一-****五六七八");
        // after another country's calling code: the code and the last four
        assert_eq!(masked("WhatsApp +852 9123 4567"), "WhatsApp +852 **** 4567");
        assert_eq!(masked("(+1) 415 555-2671"), "(+1) *** ***-2671");
        assert_eq!(masked("00852-9123-4567 找他"), "00852-****-4567 找他");
        assert_eq!(masked("+44 20 7946 0958"), "+44 ** **** 0958");
        assert_eq!(
            masked("身份证 11010519491231002X 号"),
            "身份证 110***********002X 号"
        );
        assert_eq!(
            masked("卡号 6222 0212 3456 7894 收"),
            "卡号 6222 **** **** 7894 收"
        );
        assert_eq!(
            masked("邮箱 zhangwei@example.com 发"),
            "邮箱 z*******@example.com 发"
        );
        // the at-sign full width, or written as a word
        assert_eq!(
            masked("邮箱 ｚｈａｎｇ＠example.com"),
            "邮箱 ｚ****＠example.com"
        );
        assert_eq!(
            masked("邮箱 zhang(at)example(dot)com"),
            "邮箱 z****(at)example(dot)com"
        );
        assert_eq!(masked("香港身份证 A123456(3)"), "香港身份证 A*****6(3)");
        assert_eq!(masked("身分證 A123456789。"), "身分證 A1******89。");
        assert_eq!(masked("护照 E12345678"), "护照 E1*****78");
        assert_eq!(masked("回乡证 H1234567801"), "回乡证 H1*******01");
        assert_eq!(masked("台胞证 12345678"), "台胞证 12****78");
    }

    #[test]
    fn credentials_keep_what_tells_their_kind() {
        assert_eq!(
            masked("key AKIAZ7VRSQ5TLEXAMPLF 别外传"),
            "key AKIA************MPLF 别外传"
        );
        assert_eq!(
            masked("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"),
            format!("ghp_{}m1IL", "*".repeat(32))
        );
        assert_eq!(
            masked("连 mysql://root:Passw0rd!@10.0.3.15:3306/prod"),
            "连 mysql://root:*********@10.0.3.15:3306/prod"
        );
        assert_eq!(
            masked("root 密码：Qwe@1234，别外传"),
            "root 密码：********，别外传"
        );
        // the body goes, line breaks stay
        assert_eq!(
            masked("-----BEGIN EC PRIVATE KEY-----\nMHcC\nAQEE\n-----END EC PRIVATE KEY-----"),
            "-----BEGIN EC PRIVATE KEY-----\n****\n****\n-----END EC PRIVATE KEY-----"
        );
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        let shown = masked(jwt);
        assert!(shown.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.****"));
        assert!(shown.ends_with("*sw5c") && !shown.contains("SflK"));
    }

    #[test]
    fn credentials_stay_masked_where_personal_data_is_shown() {
        let text = "电话13812345678 key AKIAZ7VRSQ5TLEXAMPLF";
        assert_eq!(
            Masks::of_credentials(text).render(text, 0..text.len()),
            "电话13812345678 key AKIA************MPLF"
        );
    }

    #[test]
    fn full_width_digits_are_masked_character_by_character() {
        assert_eq!(masked("１３８１２３４５６７８"), "１３８****５６７８");
        assert_eq!(
            masked("电话一三八一二三四五六七八"),
            "电话一三八****五六七八"
        );
    }

    #[test]
    fn every_occurrence_is_masked_and_other_text_is_not() {
        assert_eq!(
            masked("找13812345678或13987654321，订单SN13812345678"),
            "找138****5678或139****4321，订单SN13812345678"
        );
        assert_eq!(masked("内幕消息 2024年"), "内幕消息 2024年");
        assert_eq!(Masks::of("没有个人信息"), Masks::default());
    }

    proptest! {
        /// Masking only ever replaces characters by `*`, one for one, and
        /// leaves at least four characters of every number a detector finds
        /// masked.
        #[test]
        fn masking_replaces_only_and_always_masks_numbers(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "13812345678", "138-1234-5678", "１３８１２３４５６７８",
                    "幺三八幺二三四五六七八", "一",
                    "11010519491231002X", "6222 0212 3456 7894", "zhangwei@example.com",
                    "内幕", " ", "-", "7", "x", "@",
                ]),
                0..10,
            ),
        ) {
            let text = pieces.concat();
            let shown = masked(&text);
            prop_assert_eq!(shown.chars().count(), text.chars().count());
            for (a, b) in text.chars().zip(shown.chars()) {
                prop_assert!(a == b || b == '*', "{a} -> {b}");
            }
            let masks = Masks::of(&text);
            for d in detect::find(&text, &Detector::ALL) {
                let stars = masks.render(&text, d.start..d.end).matches('*').count();
                if d.detector != Detector::Email {
                    prop_assert!(stars >= 4, "{:?} in {text:?}", d.detector);
                }
            }
        }

        /// Any text, any range: no panic, one character out for each in.
        #[test]
        fn any_text_and_range_render_one_for_one(
            text in "(.|[0-9@ -]){0,80}",
            a in 0usize..200,
            b in 0usize..200,
        ) {
            let masks = Masks::of(&text);
            let (lo, hi) = (a.min(b), a.max(b));
            let shown = masks.render(&text, lo..hi);
            match text.get(lo..hi) {
                Some(slice) => prop_assert_eq!(shown.chars().count(), slice.chars().count()),
                None => prop_assert_eq!(shown, ""),
            }
        }
    }

    #[test]
    fn a_range_inside_a_number_masks_its_part() {
        let text = "电话13812345678";
        let masks = Masks::of(text);
        // "81234" of the number: its masked middle is "1234"
        let start = text.find("81234").unwrap();
        assert_eq!(masks.render(text, start..start + 5), "8****");
        let mut out = String::new();
        masks.render_into(text, 0..6, &mut out, |_| '_');
        assert_eq!(out, "__");
    }
}
