//! Letters hidden behind asterisks (`f*ck`, `sh*t`, `a**hole`, `fu**`): a
//! word of Latin letters and `*` is compared with the one-word Latin terms
//! of its length, each `*` standing for any letter. The fold cannot do it
//! (a `*` is noise, skipped between a term's letters: `f*u*c*k` is `fuck`
//! with separators), and an automaton would need a wildcard transition.

use rustc_hash::FxHashMap;

/// The character that hides a letter.
pub(crate) const MASK: u8 = b'*';

/// A term's lowercase letters and its rule.
type LatinTerm = (Box<[u8]>, u32);

/// The one-word Latin terms of the folded lists, by length.
#[derive(Default)]
pub(crate) struct MaskedTerms {
    by_len: FxHashMap<usize, Vec<LatinTerm>>,
}

impl MaskedTerms {
    /// Adds `term`, a folded list's term, for `rule` if it
    /// [`is_maskable`].
    pub(crate) fn add(&mut self, term: &str, rule: u32) {
        if is_maskable(term) {
            self.by_len
                .entry(term.len())
                .or_default()
                .push((term.to_ascii_lowercase().into_bytes().into(), rule));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_len.is_empty()
    }

    /// Calls `found(rule, start, end)` for every term that a masked word
    /// of `text` ([`masked_words`]) may hide.
    pub(crate) fn find(&self, text: &str, mut found: impl FnMut(u32, usize, usize)) {
        for (start, end) in masked_words(text) {
            let Some(terms) = self.by_len.get(&(end - start)) else {
                continue;
            };
            let word = &text.as_bytes()[start..end];
            for (term, rule) in terms {
                if fits(word, term) {
                    found(*rule, start, end);
                }
            }
        }
    }
}

/// Whether a term is one Latin word of at least three letters (a shorter
/// one would be two letters with a mask between), which a masked word may
/// stand for.
pub(crate) fn is_maskable(term: &str) -> bool {
    term.len() >= 3 && term.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Whether `word`, letters and masks, is `term` (lowercase letters) with
/// some of its letters masked.
pub(crate) fn fits(word: &[u8], term: &[u8]) -> bool {
    word.len() == term.len()
        && word
            .iter()
            .zip(term)
            .all(|(&w, &t)| w == MASK || w.to_ascii_lowercase() == t)
}

/// The places of the words of `text` that hide letters behind `*`: ASCII
/// letters and masks, a whole word (no letter or digit touching it), that
/// starts with a letter (`**bold**` is emphasis), has at least two letters
/// and no more masks than letters (`f**k`, not `f***`).
pub(crate) fn masked_words(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let in_word = |b: u8| b.is_ascii_alphabetic() || b == MASK;
    let mut words = Vec::new();
    let masks = memchr::memchr_iter(MASK, bytes);
    for (start, end) in crate::fold::words_around(bytes, masks, in_word) {
        let word = &bytes[start..end];
        let masks = word.iter().filter(|&&b| b == MASK).count();
        let letters = word.len() - masks;
        if word[0] != MASK
            && letters >= 2
            && masks <= letters
            && super::scan::raw_boundary_before(text, start)
            && super::scan::raw_boundary_after(text, end)
        {
            words.push((start, end));
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_words_are_whole_words_with_enough_letters() {
        fn words(t: &str) -> Vec<&str> {
            masked_words(t).into_iter().map(|(s, e)| &t[s..e]).collect()
        }
        assert_eq!(words("what the f*ck"), ["f*ck"]);
        assert_eq!(words("F**K, sh*t!"), ["F**K", "sh*t"]);
        assert_eq!(words("fu** off"), ["fu**"]);
        assert_eq!(words("这a**hole"), ["a**hole"]);
        // emphasis, arithmetic, too few letters, part of a longer word
        for text in [
            "**bold**", "*really*", "2*3", "a*", "f***", "x2f*ck", "f*ck2",
        ] {
            assert!(words(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_word_fits_a_term_of_its_length() {
        assert!(fits(b"f*ck", b"fuck"));
        assert!(fits(b"F**K", b"fuck"));
        assert!(!fits(b"f*ck", b"fucks"));
        assert!(!fits(b"f*ck", b"funk"));
    }
}
