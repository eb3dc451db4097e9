//! A term folded to its automaton key, and the arena that holds the keys
//! waiting for their automaton.

use crate::fold::is_word_char;

/// A key's place in a [`KeyArena`], and its first bytes.
#[derive(Clone, Copy)]
pub(super) struct KeyRef {
    start: u32,
    pub len: u32,
    /// The key's first eight bytes as a big-endian number, zero-padded:
    /// ordering by it agrees with ordering the keys, so sorting compares
    /// it first and reads the arena (a likely cache miss each side, and a
    /// `memcmp` call) only for keys that share their first eight bytes.
    prefix: u64,
}

impl KeyRef {
    fn prefix_of(key: &str) -> u64 {
        let mut first = [0u8; 8];
        let n = key.len().min(8);
        first[..n].copy_from_slice(&key.as_bytes()[..n]);
        u64::from_be_bytes(first)
    }
}

/// Every pending key in one string: one allocation for the compile instead
/// of one a key (at 1M terms with pinyin, two million heap strings and their
/// 24-byte headers).
#[derive(Default)]
pub(super) struct KeyArena(String);

impl KeyArena {
    /// Appends `key`; `None` once the arena would pass 4 GiB.
    pub fn push(&mut self, key: &str) -> Option<KeyRef> {
        let start = u32::try_from(self.0.len()).ok()?;
        let len = u32::try_from(key.len()).ok()?;
        start.checked_add(len)?;
        self.0.push_str(key);
        Some(KeyRef {
            start,
            len,
            prefix: KeyRef::prefix_of(key),
        })
    }

    /// Room for `bytes` more key bytes.
    pub fn reserve(&mut self, bytes: usize) {
        self.0.reserve(bytes);
    }

    /// Orders two of its keys as the keys themselves order, comparing their
    /// first eight bytes first ([`KeyRef::prefix`]).
    pub fn order(&self, a: KeyRef, b: KeyRef) -> std::cmp::Ordering {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| self.get(a).cmp(self.get(b)))
    }

    /// The key `key` refers to.
    pub fn get(&self, key: KeyRef) -> &str {
        let start = key.start as usize;
        // pushed whole, so always on character boundaries
        self.0
            .get(start..start + key.len as usize)
            .unwrap_or_default()
    }
}

/// A folded key: its characters, how many, the run lengths the term itself
/// needs (if any), and whether each end needs a word boundary.
pub(crate) type FoldedKey = (String, u32, Option<Box<[u16]>>, bool, bool);

/// Folds a term to its automaton key: significant characters, runs collapsed
/// when stretch is on, with the run lengths the term itself needs.
pub(crate) fn term_key(term: &str, stretch: bool) -> FoldedKey {
    key_from_chars(&folded_chars(term), stretch)
}

/// The significant folded characters of a term.
pub(super) fn folded_chars(term: &str) -> Vec<char> {
    let mut chars: Vec<char> = Vec::with_capacity(term.len());
    for c in term.chars() {
        match crate::fold::fold_char(c) {
            crate::fold::FoldEntry::One(f) => chars.push(f),
            crate::fold::FoldEntry::Many(fs) => chars.extend_from_slice(fs),
            _ => {}
        }
    }
    chars
}

pub(super) fn key_from_chars(chars: &[char], stretch: bool) -> FoldedKey {
    let bound_start = chars.first().is_some_and(|c| is_word_char(*c));
    let bound_end = chars.last().is_some_and(|c| is_word_char(*c));
    if !stretch {
        return (
            chars.iter().collect(),
            chars.len() as u32,
            None,
            bound_start,
            bound_end,
        );
    }
    let mut key = String::new();
    let mut runs: Vec<u16> = Vec::new();
    let mut last = None;
    for &c in chars {
        if Some(c) == last {
            if let Some(r) = runs.last_mut() {
                *r = r.saturating_add(1);
            }
        } else {
            key.push(c);
            runs.push(1);
            last = Some(c);
        }
    }
    let units = runs.len() as u32;
    let runs = runs.iter().any(|&r| r > 1).then(|| runs.into_boxed_slice());
    (key, units, runs, bound_start, bound_end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Keys compared by their prefix first, then in full, sort as they
        /// do compared in full: short keys, shared prefixes, `'\0'`,
        /// multi-byte characters cut at the eighth byte.
        #[test]
        fn prefix_order_agrees_with_key_order(
            a in "[a\0\u{7f}\u{80}内幕消息😀]{0,6}",
            b in "[a\0\u{7f}\u{80}内幕消息😀]{0,6}",
        ) {
            let (pa, pb) = (KeyRef::prefix_of(&a), KeyRef::prefix_of(&b));
            prop_assert_eq!(pa.cmp(&pb).then_with(|| a.cmp(&b)), a.cmp(&b));
        }
    }

    #[test]
    fn key_arena_gives_back_each_key() {
        let mut arena = KeyArena::default();
        let keys = ["内幕", "neimu", "", "消息灵通人士"];
        let refs: Vec<KeyRef> = keys.iter().map(|k| arena.push(k).unwrap()).collect();
        for (k, r) in keys.iter().zip(refs) {
            assert_eq!(arena.get(r), *k);
        }
    }
}
