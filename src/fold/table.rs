//! The per-character fold, computed once for the whole Basic Multilingual Plane
//! into a flat lookup table (the hot path is one array read per character), and
//! on demand for the rare characters above it.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_general_category::{get_general_category, GeneralCategory as Gc};
use unicode_normalization::UnicodeNormalization;

/// What one original character folds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FoldedChar {
    /// Removed entirely; not a word boundary (zero-width, combining marks, ...).
    Invisible,
    /// Skipped between a term's characters, and a word boundary.
    Noise,
    /// One significant character.
    One(char),
    /// Several significant characters (`㎏` -> `kg`).
    Many(&'static [char]),
}

const TAG_NOISE: u32 = 0xFFFF_FFFF;
const TAG_INVISIBLE: u32 = 0xFFFF_FFFE;
const TAG_MANY: u32 = 0x8000_0000;

struct Table {
    /// BMP characters that fold to themselves: 8 KiB, so the
    /// common case stays in L1 cache beside the automaton instead of reading
    /// the 256 KiB table below (measured: the fold walk's main extra cost).
    same: BmpSet,
    /// BMP characters that light-fold to themselves (most CJK text):
    /// [`light_fold_char`] then skips NFKC, which cost a regex or the e-mail
    /// detector about a microsecond a message.
    light_same: BmpSet,
    /// The same for U+1F000-U+1FFFF, emoji and pictographs (the astral
    /// characters chat is full of): 512 bytes.
    light_same_emoji: CodePointSet<EMOJI_RANGE_START>,
    /// Non-ASCII BMP characters that fold to an ASCII digit (`８`, `⑧`) or
    /// to a Chinese numeral ([`numeral_digit`]): the digit detectors count
    /// them before scanning.
    digit: BmpSet,
    bmp: Box<[u32]>,
    many: Vec<Box<[char]>>,
}

/// A set of the code points from `START` on, as a bitmap (the BMP's: 8 KiB,
/// stays in L1 cache). `START` is a constant so that the BMP's lookup is a
/// plain index.
struct CodePointSet<const START: u32>(Box<[u64]>);

/// A set of BMP characters.
type BmpSet = CodePointSet<0>;

impl<const START: u32> CodePointSet<START> {
    /// The `len` code points from `START` on (a multiple of 64) for which
    /// `holds` is true.
    fn of(len: u32, mut holds: impl FnMut(u32) -> bool) -> Self {
        let mut bits = vec![0u64; len as usize / 64].into_boxed_slice();
        for i in 0..len {
            if holds(START + i) {
                bits[i as usize / 64] |= 1 << (i % 64);
            }
        }
        CodePointSet(bits)
    }

    /// Whether code point `cp` is in the set (none outside its range).
    #[inline(always)]
    fn contains(&self, cp: u32) -> bool {
        let i = cp.wrapping_sub(START);
        self.0
            .get(i as usize / 64)
            .is_some_and(|bits| bits & (1 << (i % 64)) != 0)
    }
}

static TABLE: OnceLock<Table> = OnceLock::new();
static T2S: OnceLock<HashMap<char, char>> = OnceLock::new();

/// OpenCC's traditional -> simplified character table (Apache-2.0, see
/// `src/fold/data/NOTICE`). Only one-to-one character entries are used; where
/// OpenCC lists several simplified forms the first, its default, is taken.
fn t2s_table() -> &'static HashMap<char, char> {
    T2S.get_or_init(|| {
        let mut map = HashMap::with_capacity(4200);
        for line in include_str!("data/TSCharacters.txt").lines() {
            let line = line.trim_end_matches('\r');
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut parts = line.split('\t');
            let (Some(from), Some(to)) = (parts.next(), parts.next()) else {
                continue;
            };
            let to = to.split(' ').next().unwrap_or("");
            let mut from_chars = from.chars();
            let mut to_chars = to.chars();
            if let (Some(f), None, Some(t), None) = (
                from_chars.next(),
                from_chars.next(),
                to_chars.next(),
                to_chars.next(),
            ) {
                map.insert(f, t);
            }
        }
        map
    })
}

fn table() -> &'static Table {
    TABLE.get_or_init(|| {
        let mut bmp = vec![0u32; 0x10000].into_boxed_slice();
        let mut many = Vec::new();
        for cp in 0..0x10000u32 {
            let Some(c) = char::from_u32(cp) else {
                bmp[cp as usize] = TAG_NOISE; // surrogates never occur in &str
                continue;
            };
            bmp[cp as usize] = match compute(c) {
                Computed::Invisible => TAG_INVISIBLE,
                Computed::Noise => TAG_NOISE,
                Computed::Chars(chars) if chars.len() == 1 => chars[0] as u32,
                Computed::Chars(chars) => {
                    many.push(chars.into_boxed_slice());
                    TAG_MANY | (many.len() as u32 - 1)
                }
            };
        }
        let same = BmpSet::of(0x10000, |cp| bmp[cp as usize] == cp);
        let light_same = BmpSet::of(0x10000, |cp| cp >= 0x80 && light_folds_to_itself_slow(cp));
        let light_same_emoji = CodePointSet::of(EMOJI_RANGE_LEN, light_folds_to_itself_slow);
        let digit = BmpSet::of(0x10000, |cp| {
            let e = bmp[cp as usize];
            // folds to one character (no tag) that is a numeral: `一`, `貳`, `㈤`
            let numeral = e < TAG_MANY && char::from_u32(e).and_then(numeral_digit).is_some();
            cp >= 0x80 && (e < 0x80 && (e as u8).is_ascii_digit() || numeral)
        });
        Table {
            same,
            light_same,
            light_same_emoji,
            digit,
            bmp,
            many,
        }
    })
}

/// Forces the fold table to be built now (it is built lazily on first use;
/// services call this at start so the first message pays nothing).
pub(crate) fn warm_up() {
    let _ = table();
}

/// Folds one character (see the module documentation of [`crate::fold`]).
#[inline]
pub(crate) fn fold_char(c: char) -> FoldedChar {
    Folder::new().fold(c)
}

/// The fold table, fetched once per walk rather than once per character:
/// the matcher's inner loop calls [`Folder::fold`] for every character.
#[derive(Clone, Copy)]
pub(crate) struct Folder(&'static Table);

impl Folder {
    #[inline]
    pub(crate) fn new() -> Folder {
        Folder(table())
    }

    /// Folds one character.
    #[inline(always)]
    pub(crate) fn fold(self, c: char) -> FoldedChar {
        let cp = c as u32;
        if cp < 0x80 {
            // ASCII fast path: letters and digits significant, the rest noise.
            let b = cp as u8;
            return if b.is_ascii_alphanumeric() {
                FoldedChar::One(b.to_ascii_lowercase() as char)
            } else {
                FoldedChar::Noise
            };
        }
        if cp < 0x10000 {
            let t = self.0;
            if t.same.contains(cp) {
                return FoldedChar::One(c);
            }
            return decode(t, t.bmp[cp as usize]);
        }
        fold_astral(c)
    }
}

#[inline]
fn decode(t: &'static Table, e: u32) -> FoldedChar {
    match e {
        TAG_NOISE => FoldedChar::Noise,
        TAG_INVISIBLE => FoldedChar::Invisible,
        e if e & TAG_MANY != 0 => FoldedChar::Many(&t.many[(e & !TAG_MANY) as usize]),
        // SAFETY-free: the table only ever stores valid scalar values here.
        e => FoldedChar::One(char::from_u32(e).unwrap_or('\u{FFFD}')),
    }
}

#[cold]
fn fold_astral(c: char) -> FoldedChar {
    let cp = c as u32;
    // Emoji and pictographs: the most common astral characters in chat
    // (but for the enclosed letters, `🄵` `🅕` `🅵`, which fold to letters)
    if (0x1F000..=0x1FAFF).contains(&cp) && !(0x1F110..=0x1F189).contains(&cp) {
        return FoldedChar::Noise;
    }
    match compute(c) {
        Computed::Invisible => FoldedChar::Invisible,
        Computed::Noise => FoldedChar::Noise,
        Computed::Chars(chars) if chars.len() == 1 => FoldedChar::One(chars[0]),
        // Rare (a styled multi-letter symbol above the BMP): leak a tiny slice
        // once per distinct character so the fold stays allocation-free.
        Computed::Chars(chars) => {
            static ASTRAL_MANY: OnceLock<std::sync::Mutex<HashMap<char, &'static [char]>>> =
                OnceLock::new();
            let cache = ASTRAL_MANY.get_or_init(Default::default);
            let mut guard = match cache.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            let slice = *guard
                .entry(c)
                .or_insert_with(|| Box::leak(chars.into_boxed_slice()));
            FoldedChar::Many(slice)
        }
    }
}

enum Computed {
    Invisible,
    Noise,
    Chars(Vec<char>),
}

/// Characters that carry no visible content: removed before anything else.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F
        | 0xFE00..=0xFE0F | 0xFEFF | 0xE0000..=0xE007F | 0xE0100..=0xE01EF
        | 0x1D173..=0x1D17A)
        || matches!(
            get_general_category(c),
            Gc::Format | Gc::NonspacingMark | Gc::EnclosingMark
        )
}

/// Hangul filler characters are letters by category but shown as blanks, and
/// used as spaces by people evading filters.
fn is_hangul_filler(c: char) -> bool {
    matches!(c as u32, 0x115F | 0x1160 | 0x3164 | 0xFFA0)
}

/// The digit or letter a styled character stands for where NFKC leaves it
/// alone: both folds, full and light, read these first.
fn styled(c: char) -> Option<char> {
    styled_digit(c).or_else(|| styled_letter(c))
}

/// Dingbat and double-circled digits that NFKC leaves alone.
fn styled_digit(c: char) -> Option<char> {
    let cp = c as u32;
    let d = match cp {
        0x2776..=0x277E => cp - 0x2776 + 1,
        0x2780..=0x2788 => cp - 0x2780 + 1,
        0x278A..=0x2792 => cp - 0x278A + 1,
        0x24F5..=0x24FD => cp - 0x24F5 + 1,
        0x24FF => 0,
        _ => return None,
    };
    char::from_digit(d, 10)
}

/// Latin letters in styles NFKC leaves alone: small capitals (`ꜰᴜᴄᴋ`, as
/// "small caps" text generators write them; a few are IPA letters) and the
/// negative circled and squared letters of emoji fonts (`🅕`, `🅵`). Regional
/// indicators (`🇦`) stay symbols: two of them are a flag, and `🇸🇧` is the
/// Solomon Islands, not `sb`.
fn styled_letter(c: char) -> Option<char> {
    let cp = c as u32;
    let nth = |i: u32| char::from_u32('a' as u32 + i);
    match cp {
        0x1F150..=0x1F169 => nth(cp - 0x1F150),
        0x1F170..=0x1F189 => nth(cp - 0x1F170),
        _ => Some(match c {
            'ᴀ' => 'a',
            'ʙ' => 'b',
            'ᴄ' => 'c',
            'ᴅ' => 'd',
            'ᴇ' => 'e',
            'ꜰ' => 'f',
            'ɢ' => 'g',
            'ʜ' => 'h',
            'ɪ' => 'i',
            'ᴊ' => 'j',
            'ᴋ' => 'k',
            'ʟ' => 'l',
            'ᴍ' => 'm',
            'ɴ' => 'n',
            'ᴏ' => 'o',
            'ᴘ' => 'p',
            'ʀ' => 'r',
            'ꜱ' => 's',
            'ᴛ' => 't',
            'ᴜ' => 'u',
            'ᴠ' => 'v',
            'ᴡ' => 'w',
            'ʏ' => 'y',
            'ᴢ' => 'z',
            _ => return None,
        }),
    }
}

/// Strips accents from a Latin letter (`ú` -> `u`); other scripts unchanged.
fn strip_accent(c: char) -> char {
    if c.is_ascii() || (c as u32) > 0x024F {
        return c;
    }
    let mut decomposed = std::iter::once(c).nfd();
    match decomposed.next() {
        Some(base) if base.is_ascii_alphabetic() => base,
        _ => c,
    }
}

/// The CJK Radicals Supplement block: radical forms that look like whole
/// characters (`⻢`, `⻓`, `⻔`), which people write for them and PDF text
/// extraction gives for them. (Kangxi radicals, `⼈`, are NFKC's.)
fn is_radical(c: char) -> bool {
    ('\u{2E80}'..='\u{2EFF}').contains(&c)
}

/// A radical as the ideograph it looks like, where Unicode's confusables
/// (UTS #39) give one (`⻢` -> `马`, `⺠` -> `民`, `⻱` -> `龜`, which
/// simplifies on): left as it is otherwise (a symbol, so noise).
fn radical_as_ideograph(c: char) -> char {
    if !is_radical(c) {
        return c;
    }
    let mut buf = [0; 4];
    let mut sk = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match (sk.next(), sk.next()) {
        (Some(d), None) if matches!(d as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0x20000..=0x3FFFF) => {
            d
        }
        _ => c,
    }
}

/// Latin look-alikes from other scripts (Unicode confusables, UTS #39), limited
/// to letters before the CJK blocks so Chinese text is never touched.
fn unconfuse(c: char) -> char {
    let cp = c as u32;
    if c.is_ascii() || cp >= 0x2E80 {
        return c;
    }
    let s = c.to_string();
    let mut sk = unicode_security::skeleton(&s);
    match (sk.next(), sk.next()) {
        // letters fold only to letters: a Cyrillic `б` looks like `6`, but
        // turning letters into digits would make Russian words numbers
        (Some(a), None)
            if a.is_ascii_alphabetic() || (a.is_ascii_digit() && !c.is_alphabetic()) =>
        {
            a.to_ascii_lowercase()
        }
        _ => c,
    }
}

fn classify(c: char) -> Option<bool> {
    // Some(true) significant, Some(false) noise, None invisible
    match get_general_category(c) {
        Gc::UppercaseLetter
        | Gc::LowercaseLetter
        | Gc::TitlecaseLetter
        | Gc::ModifierLetter
        | Gc::OtherLetter
        | Gc::DecimalNumber
        | Gc::LetterNumber
        | Gc::OtherNumber => Some(true),
        Gc::NonspacingMark | Gc::EnclosingMark | Gc::Format => None,
        _ => Some(false),
    }
}

fn compute(c: char) -> Computed {
    compute_with_steps(c).0
}

/// [`compute`], noting which of its steps changed `c` ([`fold_steps`]).
fn compute_with_steps(c: char) -> (Computed, FoldSteps) {
    let mut steps = FoldSteps::default();
    if is_hangul_filler(c) {
        return (Computed::Noise, steps);
    }
    if is_invisible(c) {
        match get_general_category(c) {
            Gc::NonspacingMark | Gc::EnclosingMark => steps.combining = true,
            _ => steps.invisible = true,
        }
        return (Computed::Invisible, steps);
    }
    if let Some(d) = styled(c) {
        steps.styled = true;
        return (Computed::Chars(vec![d]), steps);
    }
    let t2s = t2s_table();
    let mut out = Vec::new();
    let mut noise = false;
    for (i, d) in std::iter::once(c).nfkc().enumerate() {
        // a compatibility form: NFKC gives something else or more
        steps.styled |= i > 0 || d != c;
        if is_invisible(d) {
            continue;
        }
        let d = radical_as_ideograph(d);
        steps.lookalike |= d != c && is_radical(c);
        for l in d.to_lowercase() {
            // (modifier small capitals decompose to small capitals: `ᶫ` -> `ʟ`)
            let small_capital = styled_letter(l);
            steps.styled |= small_capital.is_some();
            let l = small_capital.unwrap_or(l);
            let bare = strip_accent(l);
            steps.accent |= bare != l;
            let simplified = *t2s.get(&bare).unwrap_or(&bare);
            steps.traditional |= simplified != bare;
            let l = unconfuse(simplified);
            steps.lookalike |= l != simplified;
            match classify(l) {
                Some(true) => out.push(l),
                Some(false) => noise = true,
                None => {}
            }
        }
    }
    let computed = if !out.is_empty() {
        Computed::Chars(out)
    } else if noise {
        Computed::Noise
    } else {
        Computed::Invisible
    };
    (computed, steps)
}

/// Which folding steps change a character: what a written match did to look
/// unlike its term (see `crate::evasion`). Read for the few characters of
/// a hit, never in the scan.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FoldSteps {
    /// Removed as invisible (zero-width, bidi controls, variation selectors).
    pub invisible: bool,
    /// A combining mark, removed (an accent written apart, zalgo).
    pub combining: bool,
    /// A compatibility or styled form (full-width, circled, mathematical,
    /// small capitals, emoji-font letters, `㎏`).
    pub styled: bool,
    /// A Latin letter with an accent.
    pub accent: bool,
    /// A traditional Chinese character.
    pub traditional: bool,
    /// A letter of another script that looks Latin.
    pub lookalike: bool,
}

pub(crate) fn fold_steps(c: char) -> FoldSteps {
    if c.is_ascii() {
        // (case is no evasion)
        return FoldSteps::default();
    }
    compute_with_steps(c).1
}

/// Width and case folding only (what regexes and detectors see): NFKC and
/// lowercase, invisibles removed, noise kept.
#[inline]
pub(crate) fn light_fold_char(c: char, mut push: impl FnMut(char)) {
    if light_folds_to_itself(c) {
        push(c);
    } else {
        light_fold_slow(c, push);
    }
}

/// Whether the digit detectors count `c` as a digit: it folds to one ASCII
/// digit or to a Chinese numeral (one table lookup).
#[inline]
pub(crate) fn counts_as_digit(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x80 {
        c.is_ascii_digit()
    } else if cp < 0x10000 {
        table().digit.contains(cp)
    } else {
        matches!(fold_astral(c), FoldedChar::One(d) if d.is_ascii_digit() || numeral_digit(d).is_some())
    }
}

/// The digit a (folded) Chinese numeral stands for, as people write numbers
/// to slip them past filters: the common numerals, the financial ones (`壹`;
/// the traditional `貳` and `陸` fold to `贰` and `陆`), and `幺`, which reads
/// 1 in phone numbers. (`两` counts things, it is not said for a digit.)
/// Folding leaves them alone: only the digit detectors read them as digits.
#[inline]
pub(crate) fn numeral_digit(c: char) -> Option<u8> {
    Some(match c {
        '〇' | '零' => b'0',
        '一' | '壹' | '幺' => b'1',
        '二' | '贰' => b'2',
        '三' | '叁' => b'3',
        '四' | '肆' => b'4',
        '五' | '伍' => b'5',
        '六' | '陆' => b'6',
        '七' | '柒' => b'7',
        '八' | '捌' => b'8',
        '九' | '玖' => b'9',
        _ => return None,
    })
}

/// Whether [`light_fold_char`] gives back `c` alone (by table, no NFKC).
#[inline]
pub(crate) fn light_folds_to_itself(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x80 {
        return !c.is_ascii_uppercase();
    }
    if cp < 0x10000 {
        return table().light_same.contains(cp);
    }
    // emoji: without this, each took NFKC's slow path
    table().light_same_emoji.contains(cp)
}

/// The astral code points [`Table::light_same_emoji`] covers (U+1F000-U+1FFFF).
const EMOJI_RANGE_START: u32 = 0x1F000;
const EMOJI_RANGE_LEN: u32 = 0x1000;

/// Whether code point `cp` light-folds to itself, worked out (the bitmaps
/// are built from it).
fn light_folds_to_itself_slow(cp: u32) -> bool {
    let Some(c) = char::from_u32(cp) else {
        return false;
    };
    let (mut count, mut first) = (0, None);
    light_fold_slow(c, |f| {
        count += 1;
        first.get_or_insert(f);
    });
    count == 1 && first == Some(c)
}

/// [`light_fold_char`] worked out (the table is built from it).
fn light_fold_slow(c: char, mut push: impl FnMut(char)) {
    if c.is_ascii() {
        push(c.to_ascii_lowercase());
        return;
    }
    if is_invisible(c) {
        return;
    }
    if let Some(d) = styled(c) {
        push(d);
        return;
    }
    for d in std::iter::once(c).nfkc() {
        for l in d.to_lowercase() {
            push(styled_letter(l).unwrap_or(l));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_slow_path_for_samples() {
        for c in ['Ａ', '內', 'с', '①', '\u{3000}', '\u{200B}', '㎏'] {
            let fast = fold_char(c);
            let slow = match compute(c) {
                Computed::Invisible => FoldedChar::Invisible,
                Computed::Noise => FoldedChar::Noise,
                Computed::Chars(v) if v.len() == 1 => FoldedChar::One(v[0]),
                Computed::Chars(v) => {
                    assert_eq!(
                        fold_char(c),
                        FoldedChar::Many(Box::leak(v.into_boxed_slice()))
                    );
                    continue;
                }
            };
            assert_eq!(fast, slow, "{c}");
        }
    }

    /// The 8 KiB same-character bitmap is a shortcut, never a different
    /// answer: every BMP character folds as the full table says.
    #[test]
    fn same_character_bitmap_agrees_with_the_table_everywhere() {
        let t = table();
        let folder = Folder::new();
        for cp in 0x80..0x10000u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            assert_eq!(folder.fold(c), decode(t, t.bmp[cp as usize]), "U+{cp:04X}");
        }
    }

    #[test]
    fn digit_bitmap_agrees_with_the_fold_everywhere() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let digit = matches!(fold_char(c), FoldedChar::One(d) if d.is_ascii_digit());
            let numeral = matches!(fold_char(c), FoldedChar::One(d) if numeral_digit(d).is_some());
            assert_eq!(counts_as_digit(c), digit || numeral, "U+{:04X}", c as u32);
        }
    }

    /// The light-fold bitmap is a shortcut, never a different answer.
    #[test]
    fn light_fold_bitmap_agrees_with_the_slow_path_everywhere() {
        for cp in (0..0x10000u32).chain(0x1E000..0x21000) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            light_fold_char(c, |f| fast.push(f));
            light_fold_slow(c, |f| slow.push(f));
            assert_eq!(fast, slow, "U+{cp:04X}");
            if light_folds_to_itself(c) {
                assert_eq!(slow, [c], "U+{cp:04X}");
            }
        }
    }

    #[test]
    fn t2s_table_loaded() {
        assert_eq!(t2s_table().get(&'內'), Some(&'内'));
        assert!(t2s_table().len() > 3000);
    }
}
