//! Terms sent a few characters a message: `内`, `幕`, `消息` as three
//! messages, each of which alone says nothing. A [`SplitWindow`] keeps the
//! last few short messages ("fragments") each sender sent in each
//! conversation, and gives back the run they make, joined, for the judge to
//! scan ([`Judge::judge_next`](crate::judge::Judge::judge_next)); a term
//! found there that crosses from earlier fragments into the newest one is
//! reported on the newest, tagged
//! [`Evasion::SplitMessages`](crate::evasion::Evasion::SplitMessages).
//!
//! A run is one sender's fragments in one conversation (a group chat, or the
//! same recipients), each sent within [`SplitOptions::gap_ms`] of the one
//! before; messages between them do not break it (a group chat goes on
//! around the evader, who may say a longer thing between; telling those
//! apart would cost every message a lookup), a pause does. Fragments are joined with
//! nothing between them, so a term's word boundaries hold as in one message
//! (`sh` + `it` is `shit`; `pu` + `sh` + `it` is not).
//!
//! The window is the state of one ordered stream (one engine consumer, one
//! `scan`): what it remembers is bounded ([`SplitOptions::max_speakers`],
//! [`SplitOptions::max_fragments`]) and gone with the process (the engine
//! reads a partition's recent messages back into a new consumer's window,
//! its recall); every message is still judged alone.
//!
//! ```
//! use wordwarden::split::{Speaker, SplitOptions, SplitWindow};
//!
//! let mut window = SplitWindow::new(SplitOptions::default());
//! let li = Speaker::new("li", ["wang"]);
//! assert!(window.push(li, Some(0), "m1", "内").is_none()); // one fragment is no run
//! let run = window.push(li, Some(2_000), "m2", "幕").expect("a run of two");
//! assert_eq!(run.text(), "内幕");
//! assert!(run.crosses_into_newest(0, "内幕".len()));
//! assert!(!run.crosses_into_newest(0, "内".len())); // the first message's own
//! assert_eq!(run.earlier_within(0, "内幕".len()).collect::<Vec<_>>(), ["m1"]);
//! // a minute's pause starts a new run
//! assert!(window.push(li, Some(70_000), "m3", "消").is_none());
//! ```

use std::hash::{Hash, Hasher};

/// What counts as a fragment and how much a [`SplitWindow`] remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitOptions {
    /// A message of at most this many letters, digits and CJK characters
    /// (punctuation, spaces and emoji not counted) is a fragment. Default
    /// 4: `内幕` and `消息` are fragments, `今天开会讨论` is not.
    pub fragment_chars: usize,
    /// Longest pause between two fragments of a run, in milliseconds of
    /// the messages' own times (default a minute). Messages of unknown time
    /// are taken as sent together.
    pub gap_ms: i64,
    /// Fragments a run keeps (default 8): the oldest is let go first.
    pub max_fragments: usize,
    /// Senders and conversations remembered at once (default 50,000, about
    /// 300-400 bytes each);
    /// past it, the runs that have gone quiet are let go, then all if that
    /// frees less than a quarter.
    pub max_speakers: usize,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            fragment_chars: 4,
            gap_ms: 60_000,
            max_fragments: 8,
            max_speakers: 50_000,
        }
    }
}

impl SplitOptions {
    /// Whether `text` is short enough to be a fragment.
    ///
    /// ```
    /// use wordwarden::split::SplitOptions;
    ///
    /// let o = SplitOptions::default();
    /// assert!(o.is_fragment("内幕!!"));
    /// assert!(o.is_fragment("1380"));
    /// assert!(!o.is_fragment("13800"));
    /// assert!(!o.is_fragment(""));
    /// ```
    pub fn is_fragment(&self, text: &str) -> bool {
        // a cap on all characters too: a wall of emoji is no fragment
        let mut significant = 0usize;
        for (i, c) in text.chars().enumerate() {
            if i >= self.fragment_chars * 4 + 4 {
                return false;
            }
            // the common CJK block first: `is_alphanumeric` looks CJK up in
            // a table, a tenth of the judge's time on short messages
            if matches!(c, '\u{4E00}'..='\u{9FFF}') || c.is_alphanumeric() {
                significant += 1;
                if significant > self.fragment_chars {
                    return false;
                }
            }
        }
        !text.is_empty()
    }
}

/// One sender in one conversation: the key a run is kept under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Speaker(u64);

impl Speaker {
    /// `from` in a conversation: the group chat `room` where there is one,
    /// else the recipients `to`; `None` without a sender. The one rule both
    /// input formats' ids are read by.
    ///
    /// ```
    /// use wordwarden::split::Speaker;
    ///
    /// let in_room = Speaker::of("li", Some("wr1"), ["wang"]);
    /// assert_eq!(in_room, Some(Speaker::new("li", ["wr1"])));
    /// assert_eq!(Speaker::of("li", Some(""), ["wang"]), Some(Speaker::new("li", ["wang"])));
    /// assert_eq!(Speaker::of("", None, ["wang"]), None);
    /// ```
    pub fn of<'a>(
        from: &str,
        room: Option<&str>,
        to: impl IntoIterator<Item = &'a str>,
    ) -> Option<Speaker> {
        if from.is_empty() {
            return None;
        }
        Some(match room.filter(|r| !r.is_empty()) {
            Some(room) => Speaker::new(from, [room]),
            None => Speaker::new(from, to),
        })
    }

    /// `from` in any conversation: for lists that count a sender's values
    /// across conversations (`#! bulk: … within 1d across conversations`).
    /// Never equal to `from` in one conversation.
    ///
    /// ```
    /// use wordwarden::split::Speaker;
    ///
    /// assert_ne!(Speaker::anywhere("li"), Speaker::new("li", []));
    /// assert_ne!(Speaker::anywhere("li"), Speaker::anywhere("wang"));
    /// ```
    pub fn anywhere(from: &str) -> Speaker {
        let mut h = rustc_hash::FxHasher::default();
        from.hash(&mut h);
        // no sum of recipients' hashes is this and a sender alone together
        "any conversation".hash(&mut h);
        Speaker(h.finish())
    }

    /// `from` writing to `to`: a group chat's id, or the recipients' ids
    /// (in any order).
    pub fn new<'a>(from: &str, to: impl IntoIterator<Item = &'a str>) -> Speaker {
        // the recipients' hashes added: in any order the same, no list
        // sorted a message
        let to = to
            .into_iter()
            .fold(0u64, |sum, id| sum.wrapping_add(fixed_hash(id)));
        let mut h = rustc_hash::FxHasher::default();
        from.hash(&mut h);
        to.hash(&mut h);
        Speaker(h.finish())
    }
}

/// A hash of `text` with fixed keys: the same on every consumer and run
/// (a speaker, a list's category, a message's id).
pub(crate) fn fixed_hash(text: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    text.hash(&mut h);
    h.finish()
}

/// The runs of one ordered stream of messages.
#[derive(Debug)]
pub struct SplitWindow {
    options: SplitOptions,
    /// Keyed by a hash already: no second hash of it worth paying for.
    runs: rustc_hash::FxHashMap<Speaker, Chain>,
}

/// One speaker's recent fragments.
#[derive(Debug, Default)]
struct Chain {
    /// When the newest fragment was sent.
    last_ms: Option<i64>,
    /// The fragments joined.
    text: String,
    /// Each fragment's start in `text` and its message's identity.
    fragments: Vec<(usize, Box<str>)>,
    /// Terms already reported from this run: (rule key, start and end in
    /// `text`).
    reported: Vec<(u64, usize, usize)>,
}

impl SplitWindow {
    /// An empty window.
    pub fn new(options: SplitOptions) -> Self {
        SplitWindow {
            options,
            runs: Default::default(),
        }
    }

    /// Its options.
    pub fn options(&self) -> &SplitOptions {
        &self.options
    }

    /// How many speakers it remembers now.
    pub fn speakers(&self) -> usize {
        self.runs.len()
    }

    /// Takes the fragment `text` of the message `identity`, sent by
    /// `speaker` at `sent_ms`, and returns the run it ends when it follows
    /// at least one other. A message already in the run (read again after
    /// a rewind) takes the run back to just before it.
    pub fn push(
        &mut self,
        speaker: Speaker,
        sent_ms: Option<i64>,
        identity: &str,
        text: &str,
    ) -> Option<Run<'_>> {
        if self.runs.len() >= self.options.max_speakers && !self.runs.contains_key(&speaker) {
            self.let_go(sent_ms);
        }
        let options = self.options;
        let chain = self.runs.entry(speaker).or_default();
        let paused = match (chain.last_ms, sent_ms) {
            (Some(a), Some(b)) => b.saturating_sub(a).unsigned_abs() > options.gap_ms.max(0) as u64,
            _ => false,
        };
        if paused {
            chain.clear();
        } else if let Some(i) = chain.fragments.iter().position(|(_, id)| &**id == identity) {
            chain.truncate(i);
        }
        if chain.fragments.len() >= options.max_fragments.max(1) {
            chain.drop_oldest();
        }
        chain.last_ms = sent_ms.or(chain.last_ms);
        chain.fragments.push((chain.text.len(), identity.into()));
        chain.text.push_str(text);
        (chain.fragments.len() >= 2).then_some(Run { chain })
    }

    /// Lets go of the runs quiet for longer than the gap before `now_ms`,
    /// and of all of them if that frees less than a quarter: a pass over
    /// every run that freed one would be paid again by the next new
    /// speaker, on every message.
    fn let_go(&mut self, now_ms: Option<i64>) {
        if let Some(now) = now_ms {
            let gap = self.options.gap_ms;
            self.runs
                .retain(|_, c| c.last_ms.is_some_and(|t| now.saturating_sub(t) <= gap));
        }
        if self.runs.len() > self.options.max_speakers / 4 * 3 {
            self.runs.clear();
        }
    }
}

impl Chain {
    fn clear(&mut self) {
        self.text.clear();
        self.fragments.clear();
        self.reported.clear();
    }

    /// Keeps the fragments before the `i`th.
    fn truncate(&mut self, i: usize) {
        let end = self.fragments[i].0;
        self.text.truncate(end);
        self.fragments.truncate(i);
        // what reached the message read again was reported with it
        self.reported.retain(|&(_, _, reached)| reached <= end);
    }

    fn drop_oldest(&mut self) {
        let Some(&(cut, _)) = self.fragments.get(1) else {
            self.clear();
            return;
        };
        self.text.drain(..cut);
        self.fragments.remove(0);
        for (start, _) in &mut self.fragments {
            *start -= cut;
        }
        self.reported.retain_mut(|(_, start, end)| {
            let kept = *start >= cut;
            *start = start.saturating_sub(cut);
            *end = end.saturating_sub(cut);
            kept
        });
    }
}

/// A run of at least two fragments, ending with the newest message.
#[derive(Debug)]
pub struct Run<'w> {
    chain: &'w mut Chain,
}

impl Run<'_> {
    /// The fragments joined, oldest first. Offsets that the other methods
    /// take are into this text.
    pub fn text(&self) -> &str {
        &self.chain.text
    }

    /// Where the newest fragment starts in [`Run::text`].
    pub fn newest_start(&self) -> usize {
        self.chain.fragments.last().map_or(0, |&(start, _)| start)
    }

    /// Where the first fragment after the one holding `at` starts: where
    /// to scan again past a match that hides later places of its rule (a
    /// scan reports a rule's first place only).
    pub fn next_fragment_after(&self, at: usize) -> Option<usize> {
        self.chain
            .fragments
            .iter()
            .map(|&(start, _)| start)
            .find(|&start| start > at)
    }

    /// Whether `start..end` of [`Run::text`] begins in an earlier fragment
    /// and ends in the newest: a term split across messages, which none of
    /// them shows alone and which was not there before the newest came.
    pub fn crosses_into_newest(&self, start: usize, end: usize) -> bool {
        let newest = self.newest_start();
        start < newest && end > newest
    }

    /// The identities of the messages before the newest that
    /// `start..end` of [`Run::text`] takes part of, oldest first.
    pub fn earlier_within(&self, start: usize, end: usize) -> impl Iterator<Item = &str> {
        let fragments = &self.chain.fragments;
        let n = fragments.len().saturating_sub(1);
        (0..n)
            .filter(move |&i| fragments[i].0 < end && fragments[i + 1].0 > start)
            .map(move |i| &*fragments[i].1)
    }

    /// Records that the rule `rule` (any stable key of it) was reported at
    /// `start..end`; false when it already was at `start`, so a run
    /// reports each term once (a stretched `息` sent again makes no new
    /// match).
    pub fn report_once(&mut self, rule: u64, start: usize, end: usize) -> bool {
        if self
            .chain
            .reported
            .iter()
            .any(|&(r, s, _)| (r, s) == (rule, start))
        {
            return false;
        }
        self.chain.reported.push((rule, start, end));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(window: &mut SplitWindow, speaker: Speaker, at: i64, id: &str, t: &str) -> String {
        window
            .push(speaker, Some(at), id, t)
            .map(|r| r.text().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn runs_are_per_sender_and_conversation() {
        let mut w = SplitWindow::new(SplitOptions::default());
        let li = Speaker::new("li", ["room1"]);
        let wang = Speaker::new("wang", ["room1"]);
        let li_elsewhere = Speaker::new("li", ["zhao"]);
        assert_eq!(texts(&mut w, li, 0, "1", "内"), "");
        assert_eq!(texts(&mut w, wang, 1, "2", "好的"), "");
        assert_eq!(texts(&mut w, li_elsewhere, 2, "3", "嗯"), "");
        assert_eq!(texts(&mut w, li, 3, "4", "幕"), "内幕");
        assert_eq!(texts(&mut w, wang, 4, "5", "收到"), "好的收到");
        assert_eq!(w.speakers(), 3);
        // recipients in any order are one conversation
        assert_eq!(
            Speaker::new("li", ["a", "b"]),
            Speaker::new("li", ["b", "a"])
        );
        assert_ne!(Speaker::new("li", ["a"]), Speaker::new("a", ["li"]));
    }

    #[test]
    fn a_pause_starts_a_new_run_and_unknown_times_do_not() {
        let mut w = SplitWindow::new(SplitOptions::default());
        let s = Speaker::new("li", ["wang"]);
        texts(&mut w, s, 0, "1", "内");
        assert_eq!(
            texts(&mut w, s, 60_000, "2", "幕"),
            "内幕",
            "a minute is within"
        );
        assert_eq!(texts(&mut w, s, 120_001, "3", "消"), "", "past the gap");
        assert_eq!(texts(&mut w, s, 120_002, "4", "息"), "消息");
        // out of order by more than the gap is a pause too
        assert_eq!(texts(&mut w, s, 0, "5", "啊"), "");
        let mut w = SplitWindow::new(SplitOptions::default());
        assert!(w.push(s, None, "1", "内").is_none());
        assert_eq!(w.push(s, None, "2", "幕").map(|r| r.text().len()), Some(6));
    }

    #[test]
    fn a_run_keeps_its_newest_fragments() {
        let options = SplitOptions {
            max_fragments: 3,
            ..Default::default()
        };
        let mut w = SplitWindow::new(options);
        let s = Speaker::new("li", ["wang"]);
        for (i, t) in ["一", "二", "三"].iter().enumerate() {
            texts(&mut w, s, i as i64, &i.to_string(), t);
        }
        let mut run = w.push(s, Some(4), "3", "四").expect("run");
        assert_eq!(run.text(), "二三四");
        assert_eq!(run.earlier_within(0, 9).collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(run.earlier_within(3, 9).collect::<Vec<_>>(), ["2"]);
        assert_eq!(run.earlier_within(2, 4).collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(run.earlier_within(6, 9).count(), 0);
        assert_eq!(run.newest_start(), 6);
        assert!(run.crosses_into_newest(3, 9));
        assert!(!run.crosses_into_newest(6, 9), "the newest's own");
        assert!(!run.crosses_into_newest(0, 6), "reported before");
        assert!(run.report_once(7, 3, 9));
        assert!(!run.report_once(7, 3, 12));
        assert_eq!(run.next_fragment_after(0), Some(3));
        assert_eq!(run.next_fragment_after(3), Some(6));
        assert_eq!(run.next_fragment_after(7), None);
        // the next fragment: what was reported moves with the text
        let mut run = w.push(s, Some(5), "4", "五").expect("run");
        assert_eq!(run.text(), "三四五");
        assert!(!run.report_once(7, 0, 6), "still reported, now at 0");
    }

    #[test]
    fn a_message_read_again_takes_the_run_back() {
        let mut w = SplitWindow::new(SplitOptions::default());
        let s = Speaker::new("li", ["wang"]);
        texts(&mut w, s, 0, "a", "内");
        let mut run = w.push(s, Some(1), "b", "幕").expect("run");
        assert!(run.report_once(1, 0, 6));
        // a rewind: `b` again, as after an aborted transaction
        let mut run = w.push(s, Some(1), "b", "幕").expect("run");
        assert_eq!(run.text(), "内幕");
        assert!(
            run.report_once(1, 0, 6),
            "reported again: its alert was not kept"
        );
        assert!(w.push(s, Some(2), "a", "内").is_none(), "back to the start");
    }

    #[test]
    fn memory_is_bounded_by_speakers() {
        let options = SplitOptions {
            max_speakers: 10,
            ..Default::default()
        };
        let mut w = SplitWindow::new(options);
        for i in 0..10 {
            texts(&mut w, Speaker::new(&i.to_string(), ["x"]), 0, "1", "好");
        }
        assert_eq!(w.speakers(), 10);
        // quiet ones go first
        texts(&mut w, Speaker::new("new", ["x"]), 120_000, "1", "好");
        assert_eq!(w.speakers(), 1);
        // at capacity with one quiet: a pass that frees so little is not
        // repeated for each new speaker, all go
        for i in 0..9 {
            texts(
                &mut w,
                Speaker::new(&i.to_string(), ["x"]),
                200_000,
                "1",
                "好",
            );
        }
        assert_eq!(w.speakers(), 10);
        texts(&mut w, Speaker::new("late", ["x"]), 200_001, "1", "好");
        assert_eq!(w.speakers(), 1, "nine still talking, one quiet: all let go");
        for i in 0..20 {
            texts(
                &mut w,
                Speaker::new(&i.to_string(), ["x"]),
                120_001,
                "1",
                "好",
            );
            assert!(w.speakers() <= 10);
        }
    }
}
