//! A character-wise double-array Aho-Corasick automaton, built straight from
//! sorted keys.
//!
//! Why not `daachorse`, which this replaced: its builder first builds a
//! pointer trie (about 64 bytes a state plus each state's edge list) and then
//! converts it, so a 1M-term compile briefly held several times the finished
//! automaton (measured: about 430 MiB of working memory for a 70 MiB
//! automaton), and a reload beside a resident ruleset peaked there. Here the
//! keys arrive sorted, so every state's children are runs of consecutive keys:
//! states are placed breadth first straight into the double array, and each
//! state's failure and output links are set as it is placed (every state they
//! point to is shallower, so already complete). Working memory beyond the
//! array is the keys themselves ([`SortedKeys`], 8 bytes a key beside the
//! text, so the compile can free its other key tables first), the queue of
//! key ranges of one level and a free list of 4,096 slots.
//!
//! The walk is the one the scanners need: one character at a time
//! ([`Walk::step`]), the depth of the current state (the gated walks stop
//! stepping near the root), and every key ending at the current character,
//! longest first ([`Walk::matches`]).

use std::collections::VecDeque;

use super::RulesetError;

const ROOT: u32 = 0;
/// No state, no value: a free slot's `check`, a state without a key.
const NONE: u32 = u32::MAX;
/// Slots are added to the array a block at a time.
const BLOCK: usize = 256;
/// Blocks whose free slots are still offered to new states; older blocks
/// keep their few holes. Bounds the search for a place per state.
const OPEN_BLOCKS: usize = 16;
const WINDOW: usize = BLOCK * OPEN_BLOCKS;

/// One slot of the double array, 16 bytes (four to a cache line). A
/// state's children sit at `base + code` of their characters, each with
/// `check` = the parent.
#[derive(Clone, Copy)]
struct State {
    base: u32,
    check: u32,
    /// The longest proper suffix of this state's path that is a state.
    fail: u32,
    /// The first of the keys ending at this state's last character (an index
    /// into `outputs`, 0: none) above 8 bits of depth in characters from the
    /// root, saturating at 255 (the walks only ask whether it is under 3).
    out_depth: u32,
}

/// The first [`Output`] index that does not fit beside the depth.
const MAX_OUTPUTS: usize = 1 << 24;

const FREE: State = State {
    base: 0,
    check: NONE,
    fail: ROOT,
    out_depth: 0,
};

/// A key ending at some state, and the next shorter one ending there too
/// (along the failure links).
#[derive(Clone, Copy)]
struct Output {
    value: u32,
    /// The key's length, in the automaton's [`KeyLength`].
    len: u32,
    /// The next output (0: none).
    next: u32,
}

#[inline(always)]
fn out_depth(out: u32, depth: u32) -> u32 {
    out << 8 | depth.min(255)
}

/// How a [`CharAutomaton`] reports a key's length in [`Walk::matches`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyLength {
    /// In characters: the folded walks count units, each of which may have
    /// been written as several characters.
    Chars,
    /// In UTF-8 bytes: a walk over the written text then has a match's start
    /// at its end less its length, without reading back through the text.
    Bytes,
}

/// A char-wise Aho-Corasick automaton of `(key, value)` pairs; see the
/// module documentation.
pub(crate) struct CharAutomaton {
    states: Vec<State>,
    /// Index 0 stands for none.
    outputs: Vec<Output>,
    /// A character's code (its index in the table) by how many keys hold it,
    /// most first; 0 for characters no key holds.
    codes: Vec<u32>,
}

/// Distinct keys in ascending order, each with a value, stored end to end:
/// what [`CharAutomaton::build`] reads. 8 bytes a key beside its text, so a
/// compile can drop its other key tables before the automata are built.
#[derive(Default)]
pub(crate) struct SortedKeys {
    text: String,
    /// Where each key ends in `text`.
    ends: Vec<u32>,
    values: Vec<u32>,
}

impl SortedKeys {
    /// Room for `keys` keys of `bytes` bytes in all.
    pub fn with_capacity(keys: usize, bytes: usize) -> SortedKeys {
        SortedKeys {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(keys),
            values: Vec::with_capacity(keys),
        }
    }

    /// Appends `key` with `value`; order and distinctness are checked by the
    /// build. Fails once the text would pass 4 GiB.
    pub fn push(&mut self, key: &str, value: u32) -> Result<(), RulesetError> {
        let end = u32::try_from(self.text.len() + key.len())
            .map_err(|_| RulesetError::Automaton("keys past 4 GiB".into()))?;
        self.text.push_str(key);
        self.ends.push(end);
        self.values.push(value);
        Ok(())
    }

    /// Replaces every key's value by `f` of it.
    pub fn map_values(&mut self, f: impl Fn(u32) -> u32) {
        self.values.iter_mut().for_each(|v| *v = f(*v));
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th key ("" past the end).
    pub fn get(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).copied().unwrap_or(0) as usize,
        };
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        // pushed whole, so always on character boundaries
        self.text.get(start..end).unwrap_or_default()
    }

    /// The keys in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl CharAutomaton {
    /// The automaton of `keys`, each key reporting its value and its length
    /// in `lengths`. The keys must be distinct, non-empty and in ascending
    /// order (as a sorted, grouped key list gives them); no keys give none.
    pub fn build(
        keys: &SortedKeys,
        lengths: KeyLength,
    ) -> Result<Option<CharAutomaton>, RulesetError> {
        let ids = &keys.values[..];
        if ids.is_empty() {
            return Ok(None);
        }
        if ids.len() >= MAX_OUTPUTS {
            return Err(RulesetError::Automaton(format!(
                "{} keys in one automaton; at most {}",
                ids.len(),
                MAX_OUTPUTS - 1
            )));
        }
        let mut freqs: Vec<u32> = Vec::new();
        // states: one a distinct prefix, the characters of each key past
        // what it shares with the key before it
        let mut states = 1usize;
        let mut prev = "";
        for i in 0..ids.len() {
            let k = keys.get(i);
            if k.is_empty() {
                return Err(RulesetError::Automaton("an empty key".into()));
            }
            if i > 0 && prev >= k {
                return Err(RulesetError::Automaton(
                    "keys not distinct and in order".into(),
                ));
            }
            let mut shared = prev
                .bytes()
                .zip(k.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            while !k.is_char_boundary(shared) {
                shared -= 1;
            }
            states += k[shared..].chars().count();
            prev = k;
            for c in k.chars() {
                let c = c as usize;
                if freqs.len() <= c {
                    freqs.resize(c + 1, 0);
                }
                freqs[c] += 1;
            }
        }
        // codes by frequency: the common characters' children pack densely
        let mut order: Vec<u32> = (0..freqs.len() as u32)
            .filter(|&c| freqs[c as usize] > 0)
            .collect();
        order.sort_by_key(|&c| std::cmp::Reverse(freqs[c as usize]));
        let mut codes = vec![0u32; freqs.len()];
        for (i, &c) in order.iter().enumerate() {
            codes[c as usize] = i as u32 + 1;
        }
        drop(freqs);
        // room for the states, the holes among the root's children and the
        // last blocks' free slots
        let mut builder = Builder::new(states + order.len() + 2 * WINDOW, ids.len());
        builder.place_all(keys, &codes, lengths)?;
        Ok(Some(CharAutomaton {
            states: builder.states,
            outputs: builder.outputs,
            codes,
        }))
    }

    /// A walk from the root.
    #[inline]
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            automaton: self,
            state: ROOT,
        }
    }

    /// Bytes on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.states.len() * std::mem::size_of::<State>()
            + self.outputs.len() * std::mem::size_of::<Output>()
            + self.codes.len() * 4
    }

    #[inline(always)]
    fn code(&self, ch: char) -> u32 {
        self.codes.get(ch as usize).copied().unwrap_or(0)
    }

    /// Every `(key, value)`, for tests against a reference automaton.
    #[cfg(test)]
    pub fn pairs(&self) -> Vec<(String, u32)> {
        let mut chars = vec!['\0'; self.codes.iter().copied().max().unwrap_or(0) as usize + 1];
        for (c, &code) in self.codes.iter().enumerate() {
            if code > 0 {
                chars[code as usize] = char::from_u32(c as u32).unwrap_or('\0');
            }
        }
        let mut out = Vec::new();
        let mut stack = vec![(ROOT, String::new())];
        while let Some((s, path)) = stack.pop() {
            let state = self.states[s as usize];
            // its own key, not one inherited along the failure links
            if let Some(o) = self.outputs.get((state.out_depth >> 8) as usize) {
                if state.out_depth >> 8 != 0 && o.len as usize == path.chars().count() {
                    out.push((path.clone(), o.value));
                }
            }
            for (code, &ch) in chars.iter().enumerate().skip(1) {
                if let Some(t) = child(&self.states, s, code as u32) {
                    let mut p = path.clone();
                    p.push(ch);
                    stack.push((t, p));
                }
            }
        }
        out.sort();
        out
    }
}

/// A walk over a text, one character at a time.
#[derive(Clone, Copy)]
pub(crate) struct Walk<'a> {
    automaton: &'a CharAutomaton,
    state: u32,
}

impl<'a> Walk<'a> {
    /// [`step_inlined`](Self::step_inlined) out of line, for walks that
    /// step rarely: the gated walks step on a few units in a hundred, and
    /// the transition loop inlined into them cost the filter loop around it
    /// 3-4% of its speed (A/B, `wordwarden bench`, 100k terms).
    #[inline(never)]
    pub fn step(&mut self, ch: char) {
        self.step_inlined(ch);
    }

    /// Moves on by `ch`, along failure links where the current state has no
    /// child by it.
    #[inline(always)]
    pub fn step_inlined(&mut self, ch: char) {
        let a = self.automaton;
        let code = a.code(ch);
        if code == 0 {
            // no key holds it: nothing under way continues past it
            self.state = ROOT;
            return;
        }
        self.state = next(&a.states, self.state, code);
    }

    /// Back to the root.
    #[inline(always)]
    pub fn reset(&mut self) {
        self.state = ROOT;
    }

    /// Whether both walks are at the same state (of the same automaton):
    /// what follows is then the same for both.
    #[inline(always)]
    pub fn same_state(&self, other: &Walk<'_>) -> bool {
        self.state == other.state
    }

    /// Characters from the root to the current state, up to 255 (deeper
    /// states say 255).
    #[inline(always)]
    pub fn depth(&self) -> u32 {
        self.automaton.states[self.state as usize].out_depth & 0xFF
    }

    /// Whether some key ends at the last character.
    #[inline(always)]
    pub fn has_match(&self) -> bool {
        self.automaton.states[self.state as usize].out_depth >> 8 != 0
    }

    /// The keys ending at the last character, longest first: `(value,
    /// length)`, the length in the automaton's [`KeyLength`].
    #[inline]
    pub fn matches(&self) -> Matches<'a> {
        Matches {
            automaton: self.automaton,
            next: self.automaton.states[self.state as usize].out_depth >> 8,
        }
    }
}

/// The child of state `s` by `code`, if any.
#[inline(always)]
fn child(states: &[State], s: u32, code: u32) -> Option<u32> {
    let t = states[s as usize].base.wrapping_add(code);
    match states.get(t as usize) {
        Some(c) if c.check == s => Some(t),
        _ => None,
    }
}

/// The state after `s` by `code` (not 0): its child by `code`, else that of
/// the deepest state along its failure links that has one, else the root.
/// The walk's transition, and while building the failure target of a new
/// state (whose parent's failure target is `s`: every state met is
/// shallower than the new one, so its children are already placed).
#[inline(always)]
fn next(states: &[State], mut s: u32, code: u32) -> u32 {
    loop {
        if let Some(t) = child(states, s, code) {
            return t;
        }
        if s == ROOT {
            return ROOT;
        }
        s = states[s as usize].fail;
    }
}

/// The iterator of [`Walk::matches`].
pub(crate) struct Matches<'a> {
    automaton: &'a CharAutomaton,
    next: u32,
}

impl Iterator for Matches<'_> {
    type Item = (u32, u32);

    #[inline]
    fn next(&mut self) -> Option<(u32, u32)> {
        if self.next == 0 {
            return None;
        }
        let o = self.automaton.outputs.get(self.next as usize)?;
        self.next = o.next;
        Some((o.value, o.len))
    }
}

/// The double array under construction with its window of free slots.
struct Builder {
    states: Vec<State>,
    outputs: Vec<Output>,
    /// Free slots of the open blocks, a doubly linked ring indexed by slot
    /// modulo [`WINDOW`] (open slots are the last `WINDOW` of the array).
    next: Vec<u32>,
    prev: Vec<u32>,
    /// A free slot of the open blocks, or `NONE`.
    head: u32,
    /// The first slot of the oldest open block.
    open_from: usize,
}

impl Builder {
    fn new(capacity: usize, keys: usize) -> Builder {
        // the array's final size is under the key characters plus the
        // alphabet: reserved once, so it never moves while it grows (pages
        // not reached are never touched)
        let mut states = Vec::with_capacity(capacity);
        states.push(State {
            check: ROOT,
            ..FREE
        });
        let mut outputs = Vec::with_capacity(keys + 1);
        outputs.push(Output {
            value: NONE,
            len: 0,
            next: 0,
        });
        Builder {
            states,
            outputs,
            next: vec![NONE; WINDOW],
            prev: vec![NONE; WINDOW],
            head: NONE,
            open_from: 1,
        }
    }

    fn is_free(&self, t: usize) -> bool {
        self.states.get(t).is_none_or(|s| s.check == NONE)
    }

    fn remove_free(&mut self, t: u32) {
        let (p, n) = (
            self.prev[t as usize % WINDOW],
            self.next[t as usize % WINDOW],
        );
        if n == t {
            self.head = NONE;
        } else {
            self.next[p as usize % WINDOW] = n;
            self.prev[n as usize % WINDOW] = p;
            if self.head == t {
                self.head = n;
            }
        }
    }

    fn add_free(&mut self, t: u32) {
        let i = t as usize % WINDOW;
        if self.head == NONE {
            (self.next[i], self.prev[i], self.head) = (t, t, t);
        } else {
            let h = self.head;
            let last = self.prev[h as usize % WINDOW];
            (self.next[i], self.prev[i]) = (h, last);
            self.next[last as usize % WINDOW] = t;
            self.prev[h as usize % WINDOW] = t;
        }
    }

    /// Grows the array by whole blocks to hold slot `t`, closing the oldest
    /// blocks so that only the last [`OPEN_BLOCKS`] offer free slots.
    fn grow_to(&mut self, t: usize) -> Result<(), RulesetError> {
        while self.states.len() <= t {
            let from = self.states.len();
            if from + BLOCK >= NONE as usize {
                return Err(RulesetError::Automaton("too many states".into()));
            }
            while from + BLOCK - self.open_from > WINDOW {
                for s in self.open_from..(self.open_from + BLOCK).min(from) {
                    if self.states[s].check == NONE {
                        self.remove_free(s as u32);
                    }
                }
                self.open_from += BLOCK;
            }
            self.states.resize(from + BLOCK, FREE);
            for s in from..from + BLOCK {
                self.add_free(s as u32);
            }
        }
        Ok(())
    }

    /// A base at which every code of `codes` (ascending) lands on a free slot.
    fn find_base(&mut self, codes: &[u32]) -> Result<u32, RulesetError> {
        let first = codes[0] as usize;
        if self.head != NONE {
            let mut p = self.head;
            loop {
                let at = p as usize;
                if at >= first {
                    let base = at - first;
                    if codes[1..].iter().all(|&c| self.is_free(base + c as usize)) {
                        return Ok(base as u32);
                    }
                }
                p = self.next[at % WINDOW];
                if p == self.head {
                    break;
                }
            }
        }
        // past the end of the array: all free
        Ok(self.states.len().saturating_sub(first) as u32)
    }

    /// Places every state of `keys`, breadth first from the root.
    fn place_all(
        &mut self,
        keys: &SortedKeys,
        codes: &[u32],
        lengths: KeyLength,
    ) -> Result<(), RulesetError> {
        let ids = &keys.values[..];
        // (state, keys lo..hi sharing its path, the path's length in bytes
        // and in characters)
        // never more entries than keys (each is a distinct prefix of some)
        let mut queue: VecDeque<(u32, u32, u32, u32, u32)> = VecDeque::with_capacity(ids.len());
        queue.push_back((ROOT, 0, ids.len() as u32, 0, 0));
        let mut children: Vec<(u32, u32, u32, u32)> = Vec::new();
        let mut child_codes: Vec<u32> = Vec::new();
        while let Some((s, lo, hi, off, depth)) = queue.pop_front() {
            let off_us = off as usize;
            let mut i = lo as usize;
            if keys.get(i).len() == off_us {
                // the key ending at `s`, whose value was set with it
                i += 1;
            }
            children.clear();
            while i < hi as usize {
                let k = keys.get(i);
                let Some(c) = k.get(off_us..).and_then(|rest| rest.chars().next()) else {
                    return Err(RulesetError::Automaton(
                        "keys not distinct and in order".into(),
                    ));
                };
                let end = off_us + c.len_utf8();
                let mut j = i + 1;
                while j < hi as usize
                    && keys.get(j).as_bytes().get(off_us..end) == k.as_bytes().get(off_us..end)
                {
                    j += 1;
                }
                let code = codes.get(c as usize).copied().unwrap_or(0);
                if code == 0 {
                    // every key character was given a code above
                    return Err(RulesetError::Automaton(format!("no code for {c:?}")));
                }
                children.push((code, i as u32, j as u32, end as u32));
                i = j;
            }
            if children.is_empty() {
                continue;
            }
            children.sort_unstable_by_key(|c| c.0);
            child_codes.clear();
            child_codes.extend(children.iter().map(|c| c.0));
            let base = self.find_base(&child_codes)?;
            let last = base as usize + *child_codes.last().unwrap_or(&0) as usize;
            self.grow_to(last)?;
            self.states[s as usize].base = base;
            let parent_fail = self.states[s as usize].fail;
            let depth = depth + 1;
            for &(code, clo, chi, coff) in &children {
                let t = base + code;
                if t as usize >= self.open_from {
                    // (a slot of a closed block is in no list)
                    self.remove_free(t);
                }
                let fail = if s == ROOT {
                    ROOT
                } else {
                    next(&self.states, parent_fail, code)
                };
                // the keys ending at the failure target end here too; set
                // now, not when `t` is taken from the queue: deeper states
                // placed before then may fail to it
                let mut out = self.states[fail as usize].out_depth >> 8;
                if keys.get(clo as usize).len() == coff as usize {
                    self.outputs.push(Output {
                        value: ids[clo as usize],
                        len: match lengths {
                            KeyLength::Chars => depth,
                            KeyLength::Bytes => coff,
                        },
                        next: out,
                    });
                    out = (self.outputs.len() - 1) as u32;
                }
                self.states[t as usize] = State {
                    base: 0,
                    check: s,
                    fail,
                    out_depth: out_depth(out, depth),
                };
                queue.push_back((t, clo, chi, coff, depth));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn automaton(keys: &[&str]) -> CharAutomaton {
        let mut sorted: Vec<&str> = keys.to_vec();
        sorted.sort();
        sorted.dedup();
        CharAutomaton::build(&sorted_keys(&sorted), KeyLength::Chars)
            .unwrap()
            .unwrap()
    }

    /// `keys` as given, each with its index as value.
    fn sorted_keys(keys: &[&str]) -> SortedKeys {
        let mut out = SortedKeys::default();
        for (i, k) in keys.iter().enumerate() {
            out.push(k, i as u32).unwrap();
        }
        out
    }

    /// Every match of a walk over `text`: (end char index, value, length).
    fn walk_all(a: &CharAutomaton, text: &str) -> Vec<(usize, u32, u32)> {
        let mut w = a.walk();
        let mut out = Vec::new();
        for (i, ch) in text.chars().enumerate() {
            w.step(ch);
            assert_eq!(w.has_match(), w.matches().next().is_some());
            out.extend(w.matches().map(|(v, len)| (i, v, len)));
        }
        out
    }

    #[test]
    fn finds_overlapping_keys_longest_first() {
        let keys = ["内幕", "内幕消息", "消息", "息", "幕消"];
        let mut sorted = keys.to_vec();
        sorted.sort();
        let a = automaton(&keys);
        let id = |k: &str| sorted.iter().position(|s| *s == k).unwrap() as u32;
        let found = walk_all(&a, "有内幕消息");
        assert_eq!(
            found,
            vec![
                (2, id("内幕"), 2),
                (3, id("幕消"), 2),
                (4, id("内幕消息"), 4),
                (4, id("消息"), 2),
                (4, id("息"), 1),
            ]
        );
        let mut w = a.walk();
        for ch in "内幕消".chars() {
            w.step(ch);
        }
        assert_eq!(w.depth(), 3);
        w.step('x');
        assert_eq!(w.depth(), 0);
    }

    #[test]
    fn a_long_key_reports_its_full_length() {
        let long = "内".repeat(300);
        let a = automaton(&[long.as_str(), "内内"]);
        let mut w = a.walk();
        for ch in long.chars() {
            w.step(ch);
        }
        // the depth saturates; the match length does not
        assert_eq!(w.depth(), 255);
        assert_eq!(
            w.matches().map(|(_, len)| len).collect::<Vec<_>>(),
            vec![300, 2]
        );
    }

    #[test]
    fn sorted_keys_give_back_each_key_and_value() {
        let keys = sorted_keys(&["a", "内幕", "内幕消息", "😀x"]);
        assert_eq!(keys.len(), 4);
        assert_eq!(
            keys.iter().collect::<Vec<_>>(),
            ["a", "内幕", "内幕消息", "😀x"]
        );
        assert_eq!(keys.values, [0, 1, 2, 3]);
        assert_eq!(keys.get(4), "");
        assert!(SortedKeys::default().is_empty());
    }

    #[test]
    fn refuses_keys_out_of_order_duplicated_or_empty() {
        for keys in [vec!["b", "a"], vec!["a", "a"], vec!["", "a"]] {
            assert!(
                CharAutomaton::build(&sorted_keys(&keys), KeyLength::Chars).is_err(),
                "{keys:?}"
            );
        }
        assert!(
            CharAutomaton::build(&SortedKeys::default(), KeyLength::Chars)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn holds_a_wide_alphabet() {
        // a root with thousands of children and states past many blocks
        let keys: Vec<String> = (0x4E00u32..0x4E00 + 5000)
            .filter_map(char::from_u32)
            .flat_map(|c| [format!("{c}"), format!("{c}a{c}"), format!("{c}😀")])
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let a = automaton(&refs);
        let mut expected: Vec<(String, u32)> = {
            let mut s = refs.clone();
            s.sort();
            s.iter()
                .enumerate()
                .map(|(i, k)| (k.to_string(), i as u32))
                .collect()
        };
        expected.sort();
        assert_eq!(a.pairs(), expected);
    }

    proptest! {
        /// The same matches, in the same order, as daachorse's overlapping
        /// search (the automaton this one replaced).
        #[test]
        fn matches_like_daachorse(
            keys in proptest::collection::vec("[a-c内幕消息😀]{1,5}", 1..40),
            text in "[a-cx内幕消息😀]{0,40}",
        ) {
            let mut sorted: Vec<&str> = keys.iter().map(String::as_str).collect();
            sorted.sort();
            sorted.dedup();
            let a = automaton(&sorted);
            let reference = daachorse::CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(daachorse::MatchKind::Standard)
                .build_with_values(sorted.iter().enumerate().map(|(i, k)| (*k, i as u32)))
                .unwrap();
            let char_at: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let expected: Vec<(usize, u32, u32)> = reference
                .find_overlapping_iter(&text)
                .map(|m| {
                    let end = char_at.iter().filter(|&&b| b < m.end()).count() - 1;
                    let len = text[m.start()..m.end()].chars().count() as u32;
                    (end, m.value(), len)
                })
                .collect();
            prop_assert_eq!(walk_all(&a, &text), expected);
            // built with byte lengths: the same matches, each its bytes
            let bytes = CharAutomaton::build(&sorted_keys(&sorted), KeyLength::Bytes)
                .unwrap()
                .unwrap();
            let expected: Vec<(usize, u32, u32)> = reference
                .find_overlapping_iter(&text)
                .map(|m| {
                    let end = char_at.iter().filter(|&&b| b < m.end()).count() - 1;
                    (end, m.value(), (m.end() - m.start()) as u32)
                })
                .collect();
            prop_assert_eq!(walk_all(&bytes, &text), expected);
        }

        /// Many keys over a wide alphabet: states over many blocks, closed
        /// blocks, bases found in the free list; still daachorse's matches.
        #[test]
        fn many_keys_match_like_daachorse(
            keys in proptest::collection::vec(
                proptest::collection::vec(0x4E00u32..0x4E00 + 400, 1..6), 1..3000),
            text in proptest::collection::vec(0x4E00u32..0x4E00 + 400, 0..300),
        ) {
            let to_string = |v: &Vec<u32>| v.iter().filter_map(|&c| char::from_u32(c)).collect::<String>();
            let owned: Vec<String> = keys.iter().map(to_string).collect();
            let mut sorted: Vec<&str> = owned.iter().map(String::as_str).collect();
            sorted.sort();
            sorted.dedup();
            let text = to_string(&text);
            let a = automaton(&sorted);
            let reference = daachorse::CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(daachorse::MatchKind::Standard)
                .build_with_values(sorted.iter().enumerate().map(|(i, k)| (*k, i as u32)))
                .unwrap();
            let expected: Vec<(usize, u32, u32)> = reference
                .find_overlapping_iter(&text)
                .map(|m| (m.end() / 3 - 1, m.value(), ((m.end() - m.start()) / 3) as u32))
                .collect();
            prop_assert_eq!(walk_all(&a, &text), expected);
        }
    }
}
