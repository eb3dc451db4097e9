//! What a match's written text did to look unlike its rule: the evasions the
//! folding undid, named for the analyst who reads the alert (`"evasions":
//! ["separators", "traditional"]`) and counted for dashboards. A term
//! written as it is in the list has none; writing a word the way it is
//! normally written is no evasion either (`project falcon` for the term
//! `project falcon` has a space, and so has the term).
//!
//! ```
//! use wordwarden::evasion::Evasion;
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![("a.txt".into(), "内幕消息\n".into())]);
//! let rs = Ruleset::builder().build(&lists).unwrap();
//! let text = "有內*幕*消*息吗";
//! let hits = rs.find(text);
//! assert_eq!(hits[0].evasions(text), [Evasion::Separators, Evasion::Traditional]);
//! let text = "有内幕消息吗";
//! assert!(rs.find(text)[0].evasions(text).is_empty());
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::detect::Detector;
use crate::fold::{
    digits_between_chinese, fold_char, fold_steps, fold_term, homophone, is_chinese, numeral_digit,
    overridden_at_end, symbols_read_as_letters, without_filler, FoldEntry, PercentDecoded,
};
use crate::ruleset::masked::{fits, is_maskable, MASK};
use crate::ruleset::{Rule, RuleKind};

/// One way a match was written unlike its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evasion {
    /// Spaces, punctuation, symbols or emoji between its characters
    /// (`内*幕*消*息`, `f u c k`).
    Separators,
    /// Invisible characters inside it (zero-width space, bidi controls).
    Invisible,
    /// Full-width, circled, styled or mathematical forms, small capitals,
    /// emoji-font letters (`ｎｅｉｍｕ`, `ⓕⓤⓒⓚ`, `①③⑧…`).
    Styled,
    /// Accents and combining marks on letters (`fúck`, zalgo).
    Accents,
    /// Letters of other scripts that look Latin (Cyrillic `с`).
    LookAlikes,
    /// Traditional characters for a term written simplified (`內幕消息`).
    Traditional,
    /// Characters repeated (`老老鼠鼠仓仓`, `fuuuck`).
    Repeats,
    /// Pinyin for the Chinese characters of the term, all or some
    /// (`neimu xiaoxi`, `内幕xiaoxi`).
    Pinyin,
    /// Other Chinese characters that sound the same (`内幕小溪` for
    /// `内幕消息`; lists with `#! homophones: on`).
    Homophones,
    /// Digits standing for letters (`sh1t`).
    DigitsForLetters,
    /// Symbols standing for letters (`$hit`, `sh!t`, `b@stard`).
    SymbolsForLetters,
    /// Letters hidden behind asterisks (`f*ck`, `a**hole`).
    Masked,
    /// A number written in Chinese numerals (`幺三八…`).
    Numerals,
    /// Letters standing for digits in a number (`l38…`).
    LettersForDigits,
    /// Written backwards after a right-to-left override (U+202E), which
    /// displays it forwards (`\u{202E}息消幕内` shows as `内幕消息`).
    Reversed,
    /// Sent a few characters a message (`内`, `幕`, `消息`): found in the
    /// run of the sender's short messages ([`crate::split`]).
    SplitMessages,
    /// Percent-encoded, as in a link a browser copied
    /// (`%E5%86%85%E5%B9%95` for `内幕`).
    UrlEncoded,
    /// Digits between its Chinese characters (`内1幕2消3息`).
    DigitsBetween,
    /// An e-mail address's `@` and dots written as words in brackets
    /// (`zhang(at)example(dot)com`).
    WordsForSymbols,
}

impl Evasion {
    /// Every kind, in the order [`evasions`] reports them.
    pub const ALL: [Evasion; 19] = [
        Evasion::Separators,
        Evasion::Invisible,
        Evasion::Styled,
        Evasion::Accents,
        Evasion::LookAlikes,
        Evasion::Traditional,
        Evasion::Repeats,
        Evasion::Pinyin,
        Evasion::Homophones,
        Evasion::DigitsForLetters,
        Evasion::SymbolsForLetters,
        Evasion::Masked,
        Evasion::Numerals,
        Evasion::LettersForDigits,
        Evasion::Reversed,
        Evasion::SplitMessages,
        Evasion::UrlEncoded,
        Evasion::DigitsBetween,
        Evasion::WordsForSymbols,
    ];

    /// The name in alerts and metrics (`digits_for_letters`).
    pub fn name(self) -> &'static str {
        match self {
            Evasion::Separators => "separators",
            Evasion::Invisible => "invisible",
            Evasion::Styled => "styled",
            Evasion::Accents => "accents",
            Evasion::LookAlikes => "look_alikes",
            Evasion::Traditional => "traditional",
            Evasion::Repeats => "repeats",
            Evasion::Pinyin => "pinyin",
            Evasion::Homophones => "homophones",
            Evasion::DigitsForLetters => "digits_for_letters",
            Evasion::SymbolsForLetters => "symbols_for_letters",
            Evasion::Masked => "masked",
            Evasion::Numerals => "numerals",
            Evasion::LettersForDigits => "letters_for_digits",
            Evasion::Reversed => "reversed",
            Evasion::SplitMessages => "split_messages",
            Evasion::UrlEncoded => "url_encoded",
            Evasion::DigitsBetween => "digits_between",
            Evasion::WordsForSymbols => "words_for_symbols",
        }
    }
}

/// The names of `evasions`, joined with `, `.
///
/// ```
/// use wordwarden::evasion::{names, Evasion};
///
/// assert_eq!(names(&[Evasion::Separators, Evasion::Traditional]), "separators, traditional");
/// ```
pub fn names(evasions: &[Evasion]) -> String {
    let names: Vec<&str> = evasions.iter().map(|e| e.name()).collect();
    names.join(", ")
}

impl fmt::Display for Evasion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What folding did to one text, counted.
#[derive(Default)]
struct Traits {
    /// Runs of noise between two significant characters.
    gaps: usize,
    invisible: usize,
    accents: usize,
    styled: usize,
    traditional: usize,
    lookalikes: usize,
    /// Folded characters equal to the one before.
    repeats: usize,
    /// Of those, the ones that are not ASCII (a Chinese character written
    /// twice: what counts as a repeat in pinyin, whose letters double by
    /// themselves: `haoou`, `nmxx`).
    wide_repeats: usize,
    /// Folded characters that are ASCII digits, ASCII letters, neither
    /// (CJK), Chinese numerals, and letters that look like digits.
    digits: usize,
    latin: usize,
    wide: usize,
    numerals: usize,
    digit_lookalikes: usize,
}

/// The traits of `text`, reading the symbols at `symbols` (byte offsets,
/// ascending) as the letters given there.
fn traits(text: &str, symbols: &[(usize, u8)]) -> Traits {
    let mut t = Traits::default();
    let mut last = None;
    let mut noise = false;
    let mut unit = |t: &mut Traits, u: char, noise: &mut bool| {
        if std::mem::take(noise) && last.is_some() {
            t.gaps += 1;
        }
        t.repeats += usize::from(last == Some(u));
        t.wide_repeats += usize::from(last == Some(u) && !u.is_ascii());
        last = Some(u);
        t.digits += usize::from(u.is_ascii_digit());
        t.latin += usize::from(u.is_ascii_alphabetic());
        t.wide += usize::from(!u.is_ascii());
        t.numerals += usize::from(numeral_digit(u).is_some());
        t.digit_lookalikes += usize::from(matches!(u, 'l' | 'o' | 'i'));
    };
    let mut symbols = symbols.iter().peekable();
    for (at, c) in text.char_indices() {
        if let Some((_, letter)) = symbols.next_if(|&&(s, _)| s == at) {
            unit(&mut t, char::from(*letter), &mut noise);
            continue;
        }
        let folded = fold_char(c);
        if let FoldEntry::Noise = folded {
            // (a full-width comma is a separator, not a styled letter)
            noise = true;
            continue;
        }
        let steps = fold_steps(c);
        t.invisible += usize::from(steps.invisible);
        t.accents += usize::from(steps.combining || steps.accent);
        t.styled += usize::from(steps.styled);
        t.traditional += usize::from(steps.traditional);
        t.lookalikes += usize::from(steps.lookalike);
        match folded {
            FoldEntry::Noise | FoldEntry::Invisible => {}
            FoldEntry::One(u) => unit(&mut t, u, &mut noise),
            FoldEntry::Many(us) => {
                for &u in us {
                    unit(&mut t, u, &mut noise);
                }
            }
        }
    }
    t
}

/// Whether `written` is `term` with some Chinese characters for others
/// that sound the same.
fn homophones(written: &str, term: &str) -> bool {
    let (written, term) = (fold_term(written), fold_term(term));
    written != term
        && written.chars().count() == term.chars().count()
        && written
            .chars()
            .zip(term.chars())
            .all(|(w, t)| w == t || (is_chinese(w) && homophone(w) == homophone(t)))
}

/// The evasions in `text[range]`, a match of `rule` (`text` is the whole
/// field it was found in), in [`Evasion::ALL`] order. A term's match is
/// compared with the term (a kind counts where the match has more of it
/// than the term); a combination part, regex or detector match only for
/// what its characters are (a regex decides its own spaces, a number its
/// grouping).
pub fn evasions(rule: &Rule, text: &str, range: std::ops::Range<usize>) -> Vec<Evasion> {
    let written = text.get(range.clone()).unwrap_or_default();
    // a link's percent-encoded words: what they spell, written so
    if let Some(decoded) = PercentDecoded::of(written) {
        let mut found = evasions(rule, &decoded.text, 0..decoded.text.len());
        if !found.contains(&Evasion::UrlEncoded) {
            found.push(Evasion::UrlEncoded);
            found.sort(); // (declared in `ALL` order)
        }
        return found;
    }
    let before = text.get(..range.start).unwrap_or_default();
    let term = rule.kind == RuleKind::Term;
    // digits between its Chinese characters as filler: the match is what
    // is left without them (`内1幕2消3息`), unless the term has such too
    let filler = digits_between_chinese(written);
    let filled =
        term && !filler.is_empty() && digits_between_chinese(&rule.term).len() < filler.len();
    let unfilled;
    let written = match filled {
        true => {
            unfilled = without_filler(written, &filler);
            unfilled.as_str()
        }
        false => written,
    };
    let t = match term {
        true => traits(&rule.term, &[]),
        false => Traits::default(),
    };
    let w = traits(written, &[]);
    // read symbols as letters where the match lacks letters without them
    // (`sh!t`; `f!u!c!k` has its letters and separators; offsets into the
    // field: not through filler, which sits between Chinese characters)
    let symbols: Vec<(usize, u8)> = match term && !filled && w.latin + w.digits < t.latin + t.digits
    {
        true => symbols_read_as_letters(text)
            .into_iter()
            .filter(|(at, _)| range.contains(at))
            .map(|(at, letter)| (at - range.start, letter))
            .collect(),
        false => Vec::new(),
    };
    // letters behind `*` are the term's (`f*ck`)
    let term_letters = rule.term.to_ascii_lowercase();
    let masked: Vec<(usize, u8)> = match term
        && is_maskable(&rule.term)
        && fits(written.as_bytes(), term_letters.as_bytes())
    {
        true => written
            .bytes()
            .zip(term_letters.bytes())
            .enumerate()
            .filter(|&(_, (w, _))| w == MASK)
            .map(|(at, (_, letter))| (at, letter))
            .collect(),
        false => Vec::new(),
    };
    let w = match (symbols.is_empty(), masked.is_empty()) {
        (true, true) => w,
        (false, _) => traits(written, &symbols),
        (true, false) => traits(written, &masked),
    };
    let detector = rule.detector();
    let digit_detector = detector.is_some_and(Detector::finds_numbers);
    // a number spelled out between evasion separators (`1*3*8…`)
    let spelled_out = digit_detector && written.chars().any(crate::detect::is_evasion_separator);
    let pinyin = term && t.wide > 0 && w.latin > t.latin;
    // pinyin is written with spaces between syllables (`neimu xiaoxi`, `nei
    // mu`): a gap between the syllables of two characters is no evasion
    let natural_gaps = t.gaps + if pinyin { t.wide.saturating_sub(1) } else { 0 };
    let found = [
        (
            Evasion::Separators,
            (term && w.gaps > natural_gaps) || spelled_out,
        ),
        (Evasion::Invisible, w.invisible > t.invisible),
        (Evasion::Styled, w.styled > t.styled),
        (Evasion::Accents, w.accents > t.accents),
        (Evasion::LookAlikes, w.lookalikes > t.lookalikes),
        (Evasion::Traditional, w.traditional > t.traditional),
        (
            Evasion::Repeats,
            term && match pinyin {
                true => w.wide_repeats > t.wide_repeats,
                false => w.repeats > t.repeats,
            },
        ),
        (Evasion::Pinyin, pinyin),
        (Evasion::Homophones, term && homophones(written, &rule.term)),
        (Evasion::DigitsForLetters, term && w.digits > t.digits),
        (Evasion::SymbolsForLetters, !symbols.is_empty()),
        (Evasion::Masked, !masked.is_empty()),
        (Evasion::Numerals, digit_detector && w.numerals > 0),
        (
            Evasion::LettersForDigits,
            digit_detector && w.digit_lookalikes > 0,
        ),
        (Evasion::Reversed, overridden_at_end(before)),
        (Evasion::DigitsBetween, filled),
        (
            Evasion::WordsForSymbols,
            detector == Some(Detector::Email) && !written.contains(['@', '＠', '﹫']),
        ),
    ];
    found
        .into_iter()
        .filter_map(|(kind, present)| present.then_some(kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::WordListSet;
    use crate::ruleset::Ruleset;
    use Evasion::*;

    fn ruleset() -> Ruleset {
        let lists = WordListSet::from_sources(vec![
            ("m.txt".into(), "#! pinyin: mixed\n内幕消息\n".into()),
            ("h.txt".into(), "#! homophones: on\n做飞单\n".into()),
            ("i.txt".into(), "#! pinyin: initials\n内部消息\n好呕\n".into()),
            (
                "a.txt".into(),
                "老鼠仓\nshit\nconfidential\nproject falcon\nassert\n二二\n草泥马\n".into(),
            ),
            (
                "b.txt".into(),
                "@cn_mobile\n@cn_id_card\n@email\n@url_password\nre:(?i)git\\s+clone\n代码仓库 & 发你\n"
                    .into(),
            ),
        ]);
        Ruleset::builder().build(&lists).expect("compiles")
    }

    /// Each hit's term with its evasions.
    fn of(rs: &Ruleset, text: &str) -> Vec<(String, Vec<Evasion>)> {
        rs.find(text)
            .iter()
            .map(|h| (h.term().to_string(), h.evasions(text)))
            .collect()
    }

    #[test]
    fn each_evasion_and_its_control() {
        let rs = ruleset();
        for (text, term, expected) in [
            ("内幕消息", "内幕消息", vec![]),
            ("内*幕 消😀息", "内幕消息", vec![Separators]),
            ("内，幕　消。息", "内幕消息", vec![Separators]),
            ("内\u{200B}幕消息", "内幕消息", vec![Invisible]),
            ("內幕消息", "内幕消息", vec![Traditional]),
            ("老老鼠鼠仓仓", "老鼠仓", vec![Repeats]),
            ("做飞单", "做飞单", vec![]),
            ("做非单", "做飞单", vec![Homophones]),
            ("做飛單", "做飞单", vec![Traditional]),
            ("做非單", "做飞单", vec![Traditional, Homophones]),
            ("neimu xiaoxi", "内幕消息", vec![Pinyin]),
            ("nei mu xiao xi", "内幕消息", vec![Pinyin]),
            (
                "n e i m u x i a o x i",
                "内幕消息",
                vec![Separators, Pinyin],
            ),
            ("内幕xiaoxi", "内幕消息", vec![Pinyin]),
            // pinyin's letters double by themselves: no repeat
            ("nbxx", "内部消息", vec![Pinyin]),
            ("ＮＢＸＸ", "内部消息", vec![Styled, Pinyin]),
            ("haoou", "好呕", vec![Pinyin]),
            ("ＳＨＩＴ", "shit", vec![Styled]),
            ("SHIT", "shit", vec![]),
            ("ⓢⓗⓘⓣ", "shit", vec![Styled]),
            ("shít", "shit", vec![Accents]),
            ("s\u{0336}hit", "shit", vec![Accents]),
            ("сonfidential", "confidential", vec![LookAlikes]),
            ("草泥⻢", "草泥马", vec![LookAlikes]),
            ("草泥马", "草泥马", vec![]),
            ("sh1t", "shit", vec![DigitsForLetters]),
            ("sh!t", "shit", vec![SymbolsForLetters]),
            ("$hit", "shit", vec![SymbolsForLetters]),
            ("$h1t", "shit", vec![DigitsForLetters, SymbolsForLetters]),
            ("s.h!t", "shit", vec![Separators, SymbolsForLetters]),
            ("s!h!i!t", "shit", vec![Separators]),
            ("sh*t", "shit", vec![Masked]),
            ("S**T", "shit", vec![Masked]),
            ("s*h*i*t", "shit", vec![Separators]),
            ("project falcon", "project falcon", vec![]),
            ("project  -  falcon", "project falcon", vec![]),
            // (an asterisk for the space is no letter hidden)
            ("project*falcon", "project falcon", vec![]),
            ("p r o j e c t falcon", "project falcon", vec![Separators]),
            ("assert", "assert", vec![]),
            ("asssert", "assert", vec![Repeats]),
            ("二二", "二二", vec![]),
            ("\u{202E}息消幕内", "内幕消息", vec![Reversed]),
            (
                "请\u{202E}息*消*幕*内\u{202C}吧",
                "内幕消息",
                vec![Separators, Reversed],
            ),
            ("\u{202E}\u{202C}内幕消息", "内幕消息", vec![]),
        ] {
            assert_eq!(of(&rs, text), vec![(term.to_string(), expected)], "{text}");
        }
    }

    #[test]
    fn detectors_regexes_and_combinations_by_their_characters() {
        let rs = ruleset();
        for (text, term, expected) in [
            ("138-1234-5678", "@cn_mobile", vec![]),
            ("１３８１２３４５６７８", "@cn_mobile", vec![Styled]),
            ("幺三八幺二三四五六七八", "@cn_mobile", vec![Numerals]),
            ("l38-l234-5678", "@cn_mobile", vec![LettersForDigits]),
            ("1*3*8*1*2*3*4*5*6*7*8", "@cn_mobile", vec![Separators]),
            ("138 - 1234 - 5678", "@cn_mobile", vec![]),
            ("11010519491231002X", "@cn_id_card", vec![]),
            ("li.wei@example.com", "@email", vec![]),
            ("li.wei(at)example(dot)com", "@email", vec![WordsForSymbols]),
            (
                "li（at）ｅｘａｍｐｌｅ.com",
                "@email",
                vec![Styled, WordsForSymbols],
            ),
            // a credential is what it is: its letters are no digits
            ("mysql://root:l0l0l0@db", "@url_password", vec![]),
            ("git   clone x", "re:(?i)git\\s+clone", vec![]),
            ("ｇｉｔ clone x", "re:(?i)git\\s+clone", vec![Styled]),
        ] {
            assert_eq!(of(&rs, text), vec![(term.to_string(), expected)], "{text}");
        }
        let text = "代码仓库地址我私下发你";
        assert_eq!(of(&rs, text), vec![("代码仓库 & 发你".to_string(), vec![])]);
        let text = "代碼倉庫地址我私下发你";
        assert_eq!(
            of(&rs, text),
            vec![("代码仓库 & 发你".to_string(), vec![Traditional])]
        );
    }

    proptest::proptest! {
        /// A term written as it is in its list has no evasion, whatever is
        /// around it; any match of any text can be asked.
        #[test]
        fn a_term_as_written_has_none(
            before in "[内幕a-z1 *。]{0,6}",
            pick in 0usize..7,
            after in "[消息a-z1 *。]{0,6}",
            noise in "[内幕消息老鼠仓sh1tａ*\u{200B} 內]{0,24}",
        ) {
            let rs = ruleset();
            let terms = ["老鼠仓", "shit", "confidential", "project falcon", "assert", "二二", "内幕消息"];
            let term = terms[pick];
            let text = format!("{before} {term} {after}");
            let hit = rs.find(&text).into_iter().find(|h| h.term() == term && &text[h.start..h.end] == term);
            if let Some(hit) = hit {
                proptest::prop_assert!(hit.evasions(&text).is_empty(), "{text:?}");
            }
            for h in rs.find(&noise) {
                let _ = h.evasions(&noise);
            }
        }
    }

    #[test]
    fn names_are_the_serialized_form() {
        for e in Evasion::ALL {
            assert_eq!(
                serde_json::to_string(&e).expect("serializes"),
                format!("\"{}\"", e.name())
            );
        }
    }
}
