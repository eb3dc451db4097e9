//! Homophones (谐音): Chinese characters read the same way, tones aside
//! (`消` and `小` are both `xiao`). Each such class has one representative
//! character; a list with `#! homophones: on` also matches its Chinese terms
//! written with any characters of the same classes (`内幕小溪` for
//! `内幕消息`), by matching the representatives of both.

use std::sync::OnceLock;

use pinyin::ToPinyin;

/// The CJK Unified Ideographs block: every character with a representative
/// is in it (and so is 3 bytes in UTF-8, as its representative is).
const FIRST: u32 = 0x4E00;
const LAST: u32 = 0x9FFF;

/// The representative of each character of the block, by offset from
/// [`FIRST`]: of the characters that fold to themselves (a simplified one
/// for a traditional: the scan folds the representatives it reads), the
/// first with the character's folded form's most common reading, tones
/// aside. Built on first use, which compiling a `#! homophones: on` list
/// is: a service without one never builds it.
fn table() -> &'static [char] {
    static TABLE: OnceLock<Vec<char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let folded = |c: char| match super::fold_char(c) {
            super::FoldEntry::One(f) if is_chinese(f) => f,
            _ => c,
        };
        let block = || (FIRST..=LAST).filter_map(char::from_u32);
        let mut first_of: std::collections::HashMap<&'static str, char> = Default::default();
        for c in block().filter(|&c| folded(c) == c) {
            if let Some(p) = c.to_pinyin() {
                first_of.entry(p.plain()).or_insert(c);
            }
        }
        block()
            .map(|c| {
                let f = folded(c);
                f.to_pinyin()
                    .and_then(|p| first_of.get(p.plain()).copied())
                    .unwrap_or(f)
            })
            .collect()
    })
}

/// Whether `c` is a Chinese character that has homophones here (the CJK
/// Unified Ideographs block).
pub(crate) fn is_chinese(c: char) -> bool {
    (FIRST..=LAST).contains(&(c as u32))
}

/// The representative of `c`'s homophones (`消` and `小` have the same one),
/// or `c` itself for a character without a reading.
///
/// ```
/// use wordwarden::fold::homophone;
///
/// assert_eq!(homophone('消'), homophone('小'));
/// assert_ne!(homophone('消'), homophone('内'));
/// assert_eq!(homophone('a'), 'a');
/// ```
pub fn homophone(c: char) -> char {
    match is_chinese(c) {
        true => table()
            .get((c as u32 - FIRST) as usize)
            .copied()
            .unwrap_or(c),
        false => c,
    }
}

/// `text` with every Chinese character written as its homophones'
/// representative (the same length: both are 3 bytes), or `None` when it
/// has no Chinese character. Characters are folded first, so a traditional
/// character becomes its simplified one's representative.
pub(crate) fn with_homophones(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut any = false;
    for c in text.chars() {
        let folded = match super::fold_char(c) {
            super::FoldEntry::One(f) if c.len_utf8() == 3 && f.len_utf8() == 3 => f,
            _ => c,
        };
        let rep = homophone(folded);
        any |= is_chinese(folded);
        out.push(if rep.len_utf8() == c.len_utf8() {
            rep
        } else {
            c
        });
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophones_share_a_representative() {
        assert_eq!(homophone('消'), homophone('小'));
        assert_eq!(homophone('息'), homophone('溪'));
        assert_eq!(homophone('幕'), homophone('木'));
        assert_ne!(homophone('内'), homophone('幕'));
        // tones aside: xiāo and xiǎo
        assert_eq!(homophone('宵'), homophone('晓'));
        // traditional characters read as their simplified ones, and the
        // representatives fold to themselves (the scan folds them again)
        assert_eq!(homophone('內'), homophone('内'));
        for c in "内幕消息老鼠仓色情".chars() {
            let rep = homophone(c);
            assert_eq!(super::super::fold_term(&rep.to_string()), rep.to_string());
        }
        // outside the block, and non-Chinese characters, are themselves
        assert_eq!(homophone('😀'), '😀');
        assert_eq!(homophone('z'), 'z');
    }

    #[test]
    fn the_text_keeps_its_length_and_places() {
        let text = "內幕小溪, ok 😀";
        let read = with_homophones(text).expect("has Chinese");
        assert_eq!(read.len(), text.len());
        let expected: String = "内幕消息"
            .chars()
            .map(homophone)
            .chain(", ok 😀".chars())
            .collect();
        assert_eq!(read, expected);
        assert_eq!(with_homophones("only latin"), None);
    }
}
