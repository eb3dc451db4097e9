//! Text folding: the normalization every term and every message goes through
//! before matching, with a map back to the original byte offsets.
//!
//! Folding is per character and happens in this order (see `DETECTION.md`):
//!
//! 1. invisible characters (zero-width, bidi controls, variation selectors,
//!    combining marks, soft hyphen, tag characters) are removed;
//! 2. compatibility forms are decomposed (NFKC: full-width, circled, styled and
//!    mathematical letters and digits, the ideographic space, ligatures),
//!    and small capitals and emoji fonts' letters (`ᴀ`, `🅰`) become letters;
//! 3. case is folded and accents on Latin letters are stripped (`ú` -> `u`);
//! 4. traditional Chinese characters become simplified (OpenCC's character table);
//! 5. Latin look-alikes from other scripts become their Latin letter
//!    (Unicode confusables: Cyrillic `с` -> `c`), and CJK radical forms
//!    the character they look like (`⻢` -> `马`; Kangxi radicals are
//!    step 2's);
//! 6. what remains is classified: letters and digits of any script are
//!    *significant*; whitespace, punctuation, symbols and emoji are *noise*,
//!    skipped between the characters of a term but a word boundary.
//!
//! (The scan also reads text after a right-to-left override in displayed
//! order, digits and symbols inside Latin words as the letters they
//! stand for (`leet_letter`, `symbols_read_as_letters`), a link's
//! percent-encoded words decoded (`percent.rs`), and digits between
//! Chinese characters as filler (`filler.rs`): in `ruleset::scan`, since
//! none of them is a per-character fold.)
//!
//! Because a character may fold to several (`⒦` -> `(k)` -> `k`, `㎏` -> `kg`),
//! every folded character remembers the byte range of the original character
//! it came from, so spans found in folded text are exact in the original.
//!
//! ```
//! use wordwarden::fold::fold;
//!
//! let folded = fold("內*幕 ＸＩＮ");
//! assert_eq!(folded.as_string(), "内幕xin");
//! // `幕` came from bytes 4..7 of the original
//! assert_eq!(folded.chars()[1].range(), 4..7);
//! ```

mod filler;
mod homophone;
mod percent;
mod survey;
mod table;

pub(crate) use filler::{
    crosses_filler, digits_between_chinese, with_filler_as_spaces, without_filler, Filler,
};
pub use homophone::homophone;
pub(crate) use homophone::{is_chinese, with_homophones};
pub(crate) use percent::PercentDecoded;
pub(crate) use survey::Survey;

pub(crate) use table::{
    counts_as_digit, fold_char, fold_steps, is_invisible, light_fold_char, light_folds_to_itself,
    numeral_digit, FoldedChar as FoldEntry, Folder,
};

/// Builds the folding tables now instead of on first use, so a service's first
/// message pays nothing. Calling it again is free.
pub fn warm_up() {
    table::warm_up();
}

/// One significant character of folded text and the original bytes it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldedChar {
    /// The folded character.
    pub ch: char,
    /// Byte offset where the original character starts.
    pub start: usize,
    /// Byte offset where the original character ends.
    pub end: usize,
    /// Whether noise (whitespace, punctuation, symbols, emoji) stood between this
    /// character and the previous significant one.
    pub after_noise: bool,
}

impl FoldedChar {
    /// The original byte range.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The folded form of a text: its significant characters, noise removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldedText {
    chars: Vec<FoldedChar>,
    trailing_noise: bool,
}

impl FoldedText {
    /// The significant characters in order.
    pub fn chars(&self) -> &[FoldedChar] {
        &self.chars
    }

    /// The folded characters as a string.
    pub fn as_string(&self) -> String {
        self.chars.iter().map(|c| c.ch).collect()
    }

    /// Whether the text ended in noise after its last significant character.
    pub fn trailing_noise(&self) -> bool {
        self.trailing_noise
    }

    /// True when nothing significant remains after folding.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }
}

/// Folds `text` completely (every step of the module documentation).
pub fn fold(text: &str) -> FoldedText {
    let mut out = FoldedText::default();
    let mut pending_noise = false;
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        match fold_char(c) {
            FoldEntry::Invisible => {}
            FoldEntry::Noise => pending_noise = true,
            FoldEntry::One(ch) => {
                out.chars.push(FoldedChar {
                    ch,
                    start,
                    end,
                    after_noise: pending_noise,
                });
                pending_noise = false;
            }
            FoldEntry::Many(chars) => {
                for &ch in chars {
                    out.chars.push(FoldedChar {
                        ch,
                        start,
                        end,
                        after_noise: pending_noise,
                    });
                    pending_noise = false;
                }
            }
        }
    }
    out.trailing_noise = pending_noise;
    out
}

/// Folds one term the way [`fold`] folds text, returning only the characters.
pub fn fold_term(term: &str) -> String {
    fold(term).as_string()
}

/// Width and case folding only, keeping noise characters: the text that regular
/// expressions and detectors see. Returns the folded string and, for each of its
/// bytes' characters, the original byte range (indexed by folded byte offset of
/// each character start; see [`LightFolded::original_range`]).
///
/// ```
/// use wordwarden::fold::light_fold;
///
/// let lf = light_fold("Ｐｒｏｊｅｃｔ Falcon");
/// assert_eq!(lf.text(), "project falcon");
/// assert_eq!(lf.original_range(0..7), 0..21);
/// ```
pub fn light_fold(text: &str) -> LightFolded {
    let mut folded = String::with_capacity(text.len());
    // For each folded char: (folded byte start, original start, original end).
    let mut map: Vec<(u32, u32, u32)> = Vec::with_capacity(text.len());
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        light_fold_char(c, |f| {
            map.push((folded.len() as u32, start as u32, end as u32));
            folded.push(f);
        });
    }
    LightFolded { folded, map }
}

/// [`light_fold`]'s text alone, appended to `out`: where most texts match
/// nothing, the map back to the original is worked out only for those that
/// do.
pub(crate) fn light_fold_into(text: &str, out: &mut String) {
    // characters that fold to themselves (nearly all of Chinese chat) are
    // copied a run at a time
    let mut copied = 0;
    for (at, c) in text.char_indices() {
        if light_folds_to_itself(c) {
            continue;
        }
        out.push_str(&text[copied..at]);
        light_fold_char(c, |f| out.push(f));
        copied = at + c.len_utf8();
    }
    out.push_str(&text[copied..]);
}

/// Text after [`light_fold`], with its map back to the original.
#[derive(Debug, Clone)]
pub struct LightFolded {
    folded: String,
    map: Vec<(u32, u32, u32)>,
}

impl LightFolded {
    /// The folded text.
    pub fn text(&self) -> &str {
        &self.folded
    }

    /// Maps a byte range of the folded text to the byte range of the original
    /// characters it came from.
    pub fn original_range(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        if self.map.is_empty() || range.start >= range.end {
            return 0..0;
        }
        let first = match self
            .map
            .binary_search_by_key(&(range.start as u32), |m| m.0)
        {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let last = match self
            .map
            .binary_search_by_key(&((range.end - 1) as u32), |m| m.0)
        {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        self.map[first].1 as usize..self.map[last].2 as usize
    }
}

/// True for characters that count as a letter or digit for word boundaries:
/// ASCII letters and digits after folding.
#[inline]
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// The letter a digit stands for in leetspeak (`sh1t`, `c0nfidential`,
/// `s3x`): `0` o, `1` i, `3` e, `4` a, `5` s, `7` t. Not a fold: a digit is a
/// digit in every other place. The scan also reads words this way and keeps
/// what it finds only where the digits stand among enough letters (`5b` is
/// no `sb`; see `DETECTION.md`).
#[inline(always)]
pub(crate) fn leet_letter(c: char) -> Option<char> {
    match c {
        '0' => Some('o'),
        '1' => Some('i'),
        '3' => Some('e'),
        '4' => Some('a'),
        '5' => Some('s'),
        '7' => Some('t'),
        _ => None,
    }
}

/// The letter a symbol stands for inside a Latin word (`$hit`, `sh!t`,
/// `b@stard`): `$` s, `@` a, `!` i. Like [`leet_letter`], not a fold: the
/// symbols are noise everywhere else (`f!u!c!k` is `fuck`).
#[inline]
fn symbol_letter(b: u8) -> Option<u8> {
    match b {
        b'$' => Some(b's'),
        b'@' => Some(b'a'),
        b'!' => Some(b'i'),
        _ => None,
    }
}

/// Where `text` writes a symbol for a letter, each with the letter, in
/// order (byte offsets). A symbol counts in a word of ASCII letters,
/// digits and these symbols that has at least two letters and no more
/// symbols than letters (`$hit`, `b!tch`, `a$$hole`; not `$5b` or `a$$`),
/// no three symbols in a row, no `!` at its start or end (`ok!` ends a
/// sentence) and no `@` at its start (`@Tom` is a mention); an e-mail
/// address's `@` is none (`li@corp.com`). The scan reads such a word both
/// ways and `evasion` names it.
pub(crate) fn symbols_read_as_letters(text: &str) -> Vec<(usize, u8)> {
    let bytes = text.as_bytes();
    let mut read = Vec::new();
    let in_word = |b: u8| b.is_ascii_alphanumeric() || symbol_letter(b).is_some();
    let symbols = memchr::memchr3_iter(b'$', b'@', b'!', bytes);
    for (mut start, end) in words_around(bytes, symbols, in_word) {
        let mut last = end;
        while start < last && matches!(bytes[start], b'!' | b'@') {
            start += 1;
        }
        while start < last && bytes[last - 1] == b'!' {
            last -= 1;
        }
        let word = &bytes[start..last];
        let symbols = word.iter().filter(|&&b| symbol_letter(b).is_some()).count();
        let letters = word.iter().filter(|b| b.is_ascii_alphabetic()).count();
        let three_in_a_row = word
            .windows(3)
            .any(|w| w.iter().all(|&b| symbol_letter(b).is_some()));
        if symbols == 0 || letters < 2 || letters < symbols || three_in_a_row {
            continue;
        }
        if let Some(at) = word.iter().position(|&b| b == b'@') {
            // a domain after it: `li@corp.com`, `wei@corp-x.com.cn`
            let domain = bytes[start + at + 1..]
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            let mut domain = domain.copied().peekable();
            let mut is_email = false;
            while let Some(b) = domain.next() {
                is_email |= b == b'.' && domain.peek().is_some_and(u8::is_ascii_alphabetic);
            }
            if is_email {
                continue;
            }
        }
        read.extend(
            word.iter()
                .enumerate()
                .filter_map(|(i, &b)| symbol_letter(b).map(|l| (start + i, l))),
        );
    }
    read
}

/// The words that hold the bytes at `found` (ascending offsets into
/// `bytes`): the longest runs of bytes `in_word` around each, each word
/// once. Only these words are looked at, not every word of a text.
pub(crate) fn words_around(
    bytes: &[u8],
    found: impl Iterator<Item = usize>,
    in_word: impl Fn(u8) -> bool,
) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut judged_to = 0;
    for at in found {
        if at < judged_to {
            continue;
        }
        let mut start = at;
        while start > 0 && in_word(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && in_word(bytes[end]) {
            end += 1;
        }
        judged_to = end;
        words.push((start, end));
    }
    words
}

/// `text` with `read`'s symbols ([`symbols_read_as_letters`]) written as
/// their letters: the same length, every other byte in its place.
pub(crate) fn with_symbols_as_letters(text: &str, read: &[(usize, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, letter) in read {
        if let Some(b) = bytes.get_mut(at) {
            *b = letter;
        }
    }
    // an ASCII byte for an ASCII byte keeps the text UTF-8
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// `text` with the symbols that stand for letters inside Latin words read as
/// those letters, or `None` when it has none. Terms are matched against
/// this reading too (`$` s, `@` a, `!` i, where the word has at least two
/// letters and no more such symbols than letters).
///
/// ```
/// use wordwarden::fold::symbols_as_letters;
///
/// assert_eq!(symbols_as_letters("what a sh!t day!").as_deref(), Some("what a shit day!"));
/// assert_eq!(symbols_as_letters("@Tom ok! li@corp.com"), None);
/// ```
pub fn symbols_as_letters(text: &str) -> Option<String> {
    let read = symbols_read_as_letters(text);
    (!read.is_empty()).then(|| with_symbols_as_letters(text, &read))
}

/// `text` with a link's percent-encoded words decoded (runs of escapes
/// that spell UTF-8 beyond ASCII), or `None` when it has none. Every list
/// is matched against this reading too; a hit quotes the escapes.
///
/// ```
/// use wordwarden::fold::percent_decoded;
///
/// let link = "https://s.example.com/s?wd=%E5%86%85%E5%B9%95&ie=utf-8";
/// assert_eq!(percent_decoded(link).as_deref(), Some("https://s.example.com/s?wd=内幕&ie=utf-8"));
/// assert_eq!(percent_decoded("a%20b 100%"), None);
/// ```
pub fn percent_decoded(text: &str) -> Option<String> {
    PercentDecoded::of(text).map(|decoded| decoded.text)
}

/// `text` with the digits written between Chinese characters as filler
/// (runs of one to three, `内1幕2消3息`) read as spaces, or `None` when it
/// has none. Terms are matched against this reading too, where a match
/// crosses such digits and spans three Chinese characters or more.
///
/// ```
/// use wordwarden::fold::digits_between_as_spaces;
///
/// assert_eq!(digits_between_as_spaces("内1幕2消3息").as_deref(), Some("内 幕 消 息"));
/// assert_eq!(digits_between_as_spaces("13812345678 内1234幕"), None);
/// ```
pub fn digits_between_as_spaces(text: &str) -> Option<String> {
    let runs = digits_between_chinese(text);
    (!runs.is_empty()).then(|| with_filler_as_spaces(text, &runs))
}

/// U+202E: what follows is displayed right to left, letters and all, until
/// [`POP_DIRECTIONAL_FORMATTING`] or the end of the paragraph
/// ([`ends_paragraph`]). The fold drops it as invisible; the scan also reads
/// such text in displayed order, and `evasion` names it.
pub(crate) const RIGHT_TO_LEFT_OVERRIDE: char = '\u{202E}';
/// U+202C: ends the override in force.
pub(crate) const POP_DIRECTIONAL_FORMATTING: char = '\u{202C}';

/// A paragraph's end, which ends every override in force.
pub(crate) fn ends_paragraph(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2029}')
}

/// Whether a right-to-left override is in force at the end of `text`: one
/// was written since the paragraph began and not popped.
pub(crate) fn overridden_at_end(text: &str) -> bool {
    let last = text.rfind(|c| {
        c == RIGHT_TO_LEFT_OVERRIDE || c == POP_DIRECTIONAL_FORMATTING || ends_paragraph(c)
    });
    last.is_some_and(|at| text[at..].starts_with(RIGHT_TO_LEFT_OVERRIDE))
}

/// Whether an original character counts as a letter or digit for word
/// boundaries once folded (`ａ` does, `，` and `😀` do not).
pub(crate) fn folds_to_word_char(c: char) -> bool {
    is_word_entry(&fold_char(c))
}

/// [`folds_to_word_char`] of a character already folded.
pub(crate) fn is_word_entry(folded: &FoldEntry) -> bool {
    match folded {
        FoldEntry::One(d) => is_word_char(*d),
        FoldEntry::Many(ds) => ds.iter().any(|d| is_word_char(*d)),
        FoldEntry::Noise | FoldEntry::Invisible => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> String {
        fold_term(s)
    }

    #[test]
    fn full_width_and_case() {
        assert_eq!(f("ｎｅｉｍｕ"), "neimu");
        assert_eq!(f("ＡＢＣ１２３"), "abc123");
        assert_eq!(f("HeLLo"), "hello");
    }

    #[test]
    fn ideographic_space_is_noise() {
        assert_eq!(f("内\u{3000}幕"), "内幕");
        let t = fold("内\u{3000}幕");
        assert!(t.chars()[1].after_noise);
    }

    /// Radical forms written for the characters they look like fold to
    /// them, and on to simplified (`⻱` is the traditional turtle); a
    /// radical that looks like no character stays noise.
    #[test]
    fn radicals_that_look_like_characters() {
        assert_eq!(f("草泥⻢"), "草泥马");
        assert_eq!(f("⻓城⻔口"), "长城门口");
        assert_eq!(f("⼈⺠币"), "人民币");
        assert_eq!(f("⻱"), "龟");
        assert_eq!(f("内\u{2E80}幕"), "内幕");
        // (Unicode's confusables read `⻑` as four Hangul letters: no character)
        assert_eq!(f("内\u{2ED1}幕"), "内幕");
    }

    #[test]
    fn traditional_to_simplified() {
        assert_eq!(f("內幕消息"), "内幕消息");
        assert_eq!(f("機密資料"), "机密资料");
        // simplified stays simplified
        assert_eq!(f("内幕消息"), "内幕消息");
    }

    #[test]
    fn invisible_characters_removed_not_noise() {
        let t = fold("a\u{200B}b\u{FEFF}c\u{00AD}d\u{2060}e\u{FE0F}");
        assert_eq!(t.as_string(), "abcde");
        assert!(t.chars().iter().all(|c| !c.after_noise));
        // bidi overrides
        assert_eq!(f("x\u{202E}y\u{2066}z"), "xyz");
    }

    #[test]
    fn punctuation_symbols_emoji_are_noise() {
        assert_eq!(f("内*幕-消_息"), "内幕消息");
        assert_eq!(f("内😀幕👍🏽消息"), "内幕消息");
        assert_eq!(f("加-我-微-信"), "加我微信");
        // emoji with joiners
        assert_eq!(f("a👨\u{200D}👩\u{200D}👧b"), "ab");
    }

    #[test]
    fn letters_are_never_noise() {
        assert_eq!(f("内部的资料"), "内部的资料");
        assert_eq!(f("aжb"), "aжb");
        assert_eq!(f("a\u{314F}b").chars().count(), 3); // Hangul vowel ㅏ
    }

    #[test]
    fn hangul_filler_is_noise() {
        assert_eq!(f("内\u{3164}幕"), "内幕");
        assert!(fold("内\u{3164}幕").chars()[1].after_noise);
    }

    #[test]
    fn styled_letters_fold_before_noise_check() {
        assert_eq!(f("ⓐⒷ"), "ab");
        assert_eq!(f("𝒂𝒃"), "ab");
        assert_eq!(f("⒦"), "k");
        assert_eq!(f("Ⅽ"), "c");
        assert_eq!(f("①②"), "12");
        assert_eq!(f("❶➃⓿"), "140");
        // small capitals, emoji fonts' squared and circled letters
        assert_eq!(
            f("ꜰᴜᴄᴋ ᴀʙᴄᴅᴇɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴠᴡʏᴢ"),
            "fuckabcdeghijklmnoprstvwyz"
        );
        assert_eq!(f("🅵🆄🅲🅺 🅕🅤🅒🅚 🄵🅄🄲🄺"), "fuckfuckfuck");
        // modifier small capitals decompose to small capitals, then fold on
        // (found by folding_already_folded_text_changes_nothing: `ᶫ` gave `ʟ`)
        assert_eq!(f("ᶫᶦᶰᶸ 𐞄"), "linub");
        // flags stay emoji: 🇸🇧 is not `sb`
        assert_eq!(f("🇸🇧🎉"), "");
    }

    #[test]
    fn multi_char_fold_maps_back_to_one_original() {
        let t = fold("x⒦y");
        assert_eq!(t.as_string(), "xky");
        assert_eq!(t.chars()[1].range(), 1..4);
        let t = fold("㎏");
        assert_eq!(t.as_string(), "kg");
        assert_eq!(t.chars()[0].range(), 0..3);
        assert_eq!(t.chars()[1].range(), 0..3);
    }

    #[test]
    fn accents_and_zalgo() {
        assert_eq!(f("fúck"), "fuck");
        assert_eq!(f("fu\u{0301}ck"), "fuck");
        assert_eq!(f("f\u{0336}\u{0337}u\u{0335}c\u{0334}k"), "fuck");
    }

    #[test]
    fn confusables_from_other_scripts() {
        // Cyrillic с and о
        assert_eq!(f("сonfidentiаl"), "confidential");
        // Greek omicron
        assert_eq!(f("cοde"), "code");
        // a Cyrillic letter that is no look-alike stays
        assert_eq!(f("д"), "д");
    }

    #[test]
    fn cjk_is_not_touched_by_confusables() {
        assert_eq!(f("口一二〇"), "口一二〇");
    }

    #[test]
    fn symbols_standing_for_letters() {
        let read = |t: &str| symbols_as_letters(t).unwrap_or_else(|| t.to_string());
        for (text, reads) in [
            ("$hit", "shit"),
            ("sh!t happens", "shit happens"),
            ("b!tch!", "bitch!"),
            ("a$$hole", "asshole"),
            ("内幕$hit内幕", "内幕shit内幕"),
            ("b@stard", "bastard"),
            ("a@@hole", "aaahole"),
            ("$h1t", "sh1t"),
            // controls
            ("ok!", "ok!"),
            ("@Tom 看下", "@Tom 看下"),
            ("@@ss", "@@ss"),
            ("!important", "!important"),
            ("wow!!!great", "wow!!!great"),
            ("$5b", "$5b"),
            ("a$$", "a$$"),
            ("$$$abc", "$$$abc"),
            ("li.wei@example.com", "li.wei@example.com"),
            ("wei@corp-x.com.cn", "wei@corp-x.com.cn"),
            ("好的!谢谢", "好的!谢谢"),
            ("no symbols here", "no symbols here"),
        ] {
            assert_eq!(read(text), reads, "{text}");
        }
    }

    #[test]
    fn light_fold_keeps_noise() {
        let lf = light_fold("Ａ-Ｂ");
        assert_eq!(lf.text(), "a-b");
        assert_eq!(lf.original_range(0..3), 0..7);
        let lf = light_fold("x\u{200B}y");
        assert_eq!(lf.text(), "xy");
        assert_eq!(lf.original_range(1..2), 4..5);
    }

    #[test]
    fn folding_is_idempotent_on_samples() {
        for s in ["內幕ＡＢＣ", "сonfidential", "⒦㎏①", "fúck", "老老鼠鼠"] {
            let once = f(s);
            assert_eq!(f(&once), once, "{s}");
        }
    }
}
