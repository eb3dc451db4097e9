//! How sure a detection is: [`Confidence`] and [`assess`].

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::letter_ids::{IDENTITY_KEYWORDS, IDENTITY_KEYWORD_CHARS};
use super::{
    keyword_near_which, Detector, CARD_KEYWORDS, CARD_KEYWORD_CHARS, LANDLINE_KEYWORDS,
    LANDLINE_KEYWORD_CHARS,
};

/// How sure a detection is that it found what its detector names, as DLP
/// products grade theirs (a likelihood, a confidence level); ordered,
/// `Medium < High`. A number with a check digit that a word beside it
/// names (`卡号 6222…`, `电话 138…`) is surely one; the same number alone
/// may be an order's, a product's or a ticket's that happens to pass the
/// check.
///
/// Only the detectors whose values other numbers share say `Medium`:
/// `@bank_card` (Luhn passes one number in ten), `@cn_mobile` and
/// `@cn_landline` (no check at all), `@tw_id_card` and `@hk_id_card` (one
/// check digit). The others are `High` by what they already require: a
/// resident ID's region, birth date and check digit, a foreign phone's
/// calling code (`@intl_mobile`, `@intl_landline`), an address's
/// top-level domain, a passport's or a permit's word beside it, a plate's
/// province and city, a credential's structure or keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The value's shape and check digit alone (or its shape alone, for a
    /// phone number): no word naming it stands within
    /// [`NAMING_WORD_CHARS`] characters.
    Medium,
    /// What the detector requires makes it surely one, or a word naming it
    /// stands near.
    High,
}

impl Confidence {
    /// Every level, lowest first.
    pub const ALL: [Confidence; 2] = [Confidence::Medium, Confidence::High];

    /// The name in alerts and on the command line (`medium`, `high`).
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Confidence::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown confidence {s:?} (medium, high)"))
    }
}

/// A detection's confidence and the word it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    /// How sure the detection is.
    pub confidence: Confidence,
    /// The word naming the value that stood near it (`卡号`), for a
    /// detector whose values other numbers share; `None` where none did or
    /// the detector needs none.
    pub word: Option<&'static str>,
}

/// How near a value a word naming it raises its confidence, in characters
/// either side: as near as the detectors' own keywords must stand.
pub const NAMING_WORD_CHARS: usize = 20;
const _: () = assert!(NAMING_WORD_CHARS == CARD_KEYWORD_CHARS);
const _: () = assert!(NAMING_WORD_CHARS == IDENTITY_KEYWORD_CHARS);
const _: () = assert!(NAMING_WORD_CHARS == LANDLINE_KEYWORD_CHARS);

/// Words that name a phone number near one, and China's calling code
/// before it (`+86 138…`, `0086138…`); ASCII ones in any case. A WeChat
/// account is most often its owner's number (`加我微信 138…`).
pub(super) const PHONE_WORDS: &[&str] = &[
    "手机", "手機", "电话", "電話", "号码", "號碼", "联系", "聯繫", "聯系", "致电", "致電", "来电",
    "來電", "短信", "微信", "打给", "打給", "phone", "mobile", "tel", "cell", "call", "contact",
    "whatsapp", "wechat", "sms", "+86", "＋86", "0086",
];

/// Words about paying into an account, near a card's number, beyond those
/// that name the card ([`CARD_KEYWORDS`]): they raise a number's
/// confidence, though alone they do not make a short or labelled number a
/// card. Not 户名 (an account's name), which 客户名单 holds.
const ACCOUNT_WORDS: &[&str] = &[
    "银行",
    "銀行",
    "开户",
    "開戶",
    "收款",
    "转账",
    "轉賬",
    "轉帳",
    "汇款",
    "匯款",
    "打款",
    "visa",
    "mastercard",
    "unionpay",
    "iban",
    "account",
];

/// The words that name `detector`'s values, for the detectors whose values
/// other numbers share; `None` for the others.
fn naming_words(detector: Detector) -> Option<&'static [&'static [&'static str]]> {
    match detector {
        Detector::BankCard => Some(&[CARD_KEYWORDS, ACCOUNT_WORDS]),
        Detector::CnMobile => Some(&[PHONE_WORDS]),
        Detector::CnLandline => Some(&[PHONE_WORDS, LANDLINE_KEYWORDS]),
        Detector::HkIdCard | Detector::TwIdCard => Some(&[IDENTITY_KEYWORDS]),
        _ => None,
    }
}

/// How sure `detector`'s detection at `span` of `text` is, and the word
/// naming it that stood near (see [`Confidence`]).
///
/// ```
/// use wordwarden::detect::{assess, find, Confidence, Detector};
///
/// let grade = |text: &str| {
///     let found = find(text, &[Detector::BankCard]);
///     let a = assess(found[0].detector, text, found[0].start..found[0].end);
///     (a.confidence, a.word)
/// };
/// assert_eq!(grade("订单 6222021234567890128 已发货"), (Confidence::Medium, None));
/// assert_eq!(grade("我的卡号 6222021234567890128"), (Confidence::High, Some("卡号")));
/// ```
pub fn assess(detector: Detector, text: &str, span: Range<usize>) -> Assessment {
    let Some(lists) = naming_words(detector) else {
        return Assessment {
            confidence: Confidence::High,
            word: None,
        };
    };
    // a span off the text's character boundaries names nothing near it
    let word = text.get(span.clone()).and_then(|_| {
        (lists.iter())
            .find_map(|words| keyword_near_which(text, span.clone(), words, NAMING_WORD_CHARS))
    });
    Assessment {
        confidence: match word {
            Some(_) => Confidence::High,
            None => Confidence::Medium,
        },
        word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::find;

    /// The confidence of each detection of `text` by every detector.
    fn graded(text: &str) -> Vec<(Detector, Confidence, Option<&'static str>)> {
        find(text, &Detector::ALL)
            .into_iter()
            .map(|d| {
                let a = assess(d.detector, text, d.start..d.end);
                (d.detector, a.confidence, a.word)
            })
            .collect()
    }

    #[test]
    fn shared_shapes_are_medium_alone_and_high_with_their_word() {
        use Confidence::*;
        use Detector::*;
        let card = "4111111111111111";
        assert_eq!(
            graded(&format!("转 {card} 谢谢")),
            [(BankCard, Medium, None)]
        );
        assert_eq!(
            graded(&format!("卡号 {card}")),
            [(BankCard, High, Some("卡号"))]
        );
        assert_eq!(
            graded(&format!("{card} 工商银行")),
            [(BankCard, High, Some("银行"))]
        );
        assert_eq!(
            graded(&format!("Visa {card}")),
            [(BankCard, High, Some("visa"))]
        );
        assert_eq!(graded("加我 13812345678"), [(CnMobile, Medium, None)]);
        assert_eq!(
            graded("手机 138-1234-5678"),
            [(CnMobile, High, Some("手机"))]
        );
        assert_eq!(
            graded("13812345678 是我的电话"),
            [(CnMobile, High, Some("电话"))]
        );
        assert_eq!(
            graded("Tel: 138 1234 5678"),
            [(CnMobile, High, Some("tel"))]
        );
        for code in ["+86 ", "+86", "＋86-", "0086"] {
            assert_eq!(
                graded(&format!("找 {code}13812345678")),
                [(CnMobile, High, Some(code.trim_end_matches([' ', '-'])))],
                "{code}"
            );
        }
        assert_eq!(graded("周五 010-62345678"), [(CnLandline, Medium, None)]);
        assert_eq!(
            graded("座机 010-62345678"),
            [(CnLandline, High, Some("座机"))]
        );
        assert_eq!(
            graded("010-62345678 (电话)"),
            [(CnLandline, High, Some("电话"))]
        );
        assert_eq!(graded("请帮我填 A123456789"), [(TwIdCard, Medium, None)]);
        assert_eq!(
            graded("身分證字號 A123456789"),
            [(TwIdCard, High, Some("身分"))]
        );
        assert_eq!(graded("A123456(3) 周五前"), [(HkIdCard, Medium, None)]);
        assert_eq!(graded("HKID A123456(3)"), [(HkIdCard, High, Some("hkid"))]);
    }

    /// An ASCII word counts where it starts a word: inside another
    /// (`hotel`, `recall`, `excellent`, `paid no`) it names nothing, and
    /// China Mobile's service number `10086` holds no calling code.
    #[test]
    fn an_ascii_word_counts_where_it_starts_a_word() {
        use Confidence::*;
        use Detector::*;
        for text in [
            "hotel 13812345678",
            "recall 13812345678",
            "excellent 13812345678",
            "10086 转 13812345678",
        ] {
            assert_eq!(graded(text), [(CnMobile, Medium, None)], "{text}");
        }
        assert_eq!(graded("paid no A123456789"), [(TwIdCard, Medium, None)]);
        for (text, word) in [
            ("tel：13812345678", "tel"),
            ("TEL:13812345678", "tel"),
            ("userTel=13812345678", "tel"),
            ("telephone 13812345678", "tel"),
            ("(call) 13812345678", "call"),
            ("+8613812345678", "+86"),
        ] {
            assert_eq!(graded(text), [(CnMobile, High, Some(word))], "{text}");
        }
        // a card's word, written as one with the card's kind
        let card = "4111111111111111";
        for (text, word) in [
            (format!("bankcard {card}"), "bankcard"),
            (format!("CreditCard: {card}"), "card"),
            (format!("?cardNo={card}"), "card"),
        ] {
            assert_eq!(graded(&text), [(BankCard, High, Some(word))], "{text}");
        }
        assert_eq!(
            graded(&format!("discard {card}")),
            [(BankCard, Medium, None)]
        );
        // a landline's word makes eleven digits run together one, only
        // where it is one
        assert_eq!(graded("Tel 02162345678"), [(CnLandline, High, Some("tel"))]);
        assert_eq!(graded("hotel 02162345678"), []);
        // and China's calling code names the phone it stands before
        assert_eq!(
            graded("(+86) 21 6234 5678"),
            [(CnLandline, High, Some("+86"))]
        );
    }

    /// A word more than [`NAMING_WORD_CHARS`] characters away names
    /// something else.
    #[test]
    fn a_word_counts_within_twenty_characters_either_side() {
        let near = format!("电话{}13812345678", "啊".repeat(NAMING_WORD_CHARS - 2));
        let far = format!("电话{}13812345678", "啊".repeat(NAMING_WORD_CHARS - 1));
        assert_eq!(graded(&near)[0].1, Confidence::High);
        assert_eq!(graded(&far)[0].1, Confidence::Medium);
        let after = format!("13812345678{}电话", "啊".repeat(NAMING_WORD_CHARS - 2));
        let beyond = format!("13812345678{}电话", "啊".repeat(NAMING_WORD_CHARS - 1));
        assert_eq!(graded(&after)[0].1, Confidence::High);
        assert_eq!(graded(&beyond)[0].1, Confidence::Medium);
    }

    /// The detectors that already require their word, a check over the
    /// whole value or a structure nothing else has are high alone.
    #[test]
    fn the_other_detectors_are_high_alone() {
        for text in [
            "11010519491231002X",
            "zhang.wei@example.com",
            "护照 E12345678",
            "港澳通行证 C12345678",
            "key AKIAZ7VRSQ5TLEXAMPLF",
            "密码：Qwe@1234",
        ] {
            let grades = graded(text);
            assert!(!grades.is_empty(), "{text}: nothing found");
            for (d, c, word) in grades {
                assert_eq!((c, word), (Confidence::High, None), "{text}: {d}");
            }
        }
    }

    #[test]
    fn a_span_off_the_text_is_medium_not_a_panic() {
        let a = assess(Detector::CnMobile, "电话 138", 1..40);
        assert_eq!((a.confidence, a.word), (Confidence::Medium, None));
    }

    #[test]
    fn names_round_trip() {
        for c in Confidence::ALL {
            assert_eq!(c.name().parse::<Confidence>(), Ok(c));
            assert_eq!(
                serde_json::to_string(&c).expect("serializes"),
                format!("\"{c}\"")
            );
        }
        assert!("low".parse::<Confidence>().is_err());
        assert!(Confidence::Medium < Confidence::High);
    }
}
