//! A roster sent one number a message: the values of a list with a timed
//! volume threshold (`#! bulk: 10 critical within 1h`, [`Bulk`]) that each
//! sender sent in each conversation over that time. A [`BulkTally`] counts
//! them, distinct, for the judge
//! ([`Judge::judge_next`](crate::judge::Judge::judge_next)), which raises a
//! message's hits of the list when the count reaches the threshold, as it
//! does for one message holding that many.
//!
//! A value is the 64-bit key the scan gives it (one phone number however
//! written is one value). The tally is the state of one ordered stream (one
//! engine consumer, one `scan`): bounded by [`BulkTally::new`]'s count of
//! values held, and gone with the process: the engine reads a partition's
//! recent messages back into a new consumer's tally (its recall), `scan`
//! starts afresh each run.
//!
//! ```
//! use wordwarden::lists::{Bulk, Severity};
//! use wordwarden::split::Speaker;
//! use wordwarden::tally::BulkTally;
//!
//! let mut tally = BulkTally::new(1_000_000);
//! let li = Speaker::new("li", ["outsider"]);
//! let bulk = Bulk { at_least: 10, severity: Severity::Critical, within_secs: Some(3600), across_conversations: false };
//! let hour = 3_600_000;
//! assert_eq!(tally.add(li, "pii", bulk, Some(0), "m1", [11, 12]).values, 2);
//! let t = tally.add(li, "pii", bulk, Some(60_000), "m2", [12, 13]);
//! assert_eq!(t.values, 3);
//! assert_eq!(t.earlier, ["m1".into()]);
//! // two hours on, the first messages' values are out of the window
//! assert_eq!(tally.add(li, "pii", bulk, Some(2 * hour), "m3", [14]).values, 1);
//! ```
//!
//! [`Bulk`]: crate::lists::Bulk

use std::sync::Arc;

use crate::lists::Bulk;
use crate::split::{fixed_hash, Speaker};

/// The most earlier messages a [`Tallied`] names: enough to find the
/// roster, not a second copy of it.
pub const MAX_EARLIER_MESSAGES: usize = 100;

/// The values of timed bulk lists that senders sent recently.
#[derive(Debug)]
pub struct BulkTally {
    max_values: usize,
    /// Values held, over all speakers and lists.
    held: usize,
    /// Messages added so far: the order they came in.
    added: u64,
    /// The last messages added (a hash of each message's id and list), and
    /// when, to know one read again: at most [`MESSAGES_KNOWN_AGAIN`], the
    /// oldest let go first.
    known: rustc_hash::FxHashMap<u64, u64>,
    known_order: std::collections::VecDeque<u64>,
    /// By speaker and list (its category's hash: the same after a reload).
    recent: rustc_hash::FxHashMap<(Speaker, u64), Recent>,
}

/// One speaker's values of one list.
#[derive(Debug, Default)]
struct Recent {
    /// How far back the list looked when it was last added to.
    within_ms: i64,
    /// The newest time seen: the time of messages that name none.
    newest_ms: Option<i64>,
    /// Distinct values, each with the last message that held it, the one
    /// sent longest ago first.
    values: Vec<Sent>,
}

#[derive(Debug)]
struct Sent {
    key: u64,
    sent_ms: Option<i64>,
    /// Shared by the values one message brought: one allocation a message.
    message: Arc<str>,
    /// When its message was added, in [`BulkTally::added`].
    added: u64,
}

/// How many of its last messages a tally knows again when one is read
/// again: an exactly-once batch read again after an aborted transaction
/// (at most `transaction_max_messages`, 5,000 by default; only messages
/// holding values of timed lists are added). About 40 bytes each.
pub const MESSAGES_KNOWN_AGAIN: usize = 16_384;

/// What a speaker's values of a list add up to, with a message's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallied {
    /// Distinct values within the time, this message's included.
    pub values: u32,
    /// The earlier messages that hold the others, oldest first (at most
    /// [`MAX_EARLIER_MESSAGES`]).
    pub earlier: Vec<Arc<str>>,
}

impl BulkTally {
    /// An empty tally that holds at most `max_values` values (150-410
    /// bytes each, with their messages' ids: a sender of a single value
    /// costs most): past it, the values out of their time are let go, then
    /// all if that frees less than a quarter.
    pub fn new(max_values: usize) -> Self {
        BulkTally {
            max_values: max_values.max(1),
            held: 0,
            added: 0,
            known: Default::default(),
            known_order: Default::default(),
            recent: Default::default(),
        }
    }

    /// The most values it holds.
    pub fn max_values(&self) -> usize {
        self.max_values
    }

    /// How many values it holds now.
    pub fn values_held(&self) -> usize {
        self.held
    }

    /// Adds the distinct `values` of the list `list` (its threshold
    /// `bulk`) held by the message `message`, sent by `speaker` at
    /// `sent_ms`, and counts the speaker's values of the list sent within
    /// `bulk.within_secs` of it (either side: messages may come a little out
    /// of order). A value sent again counts once and moves to its newest
    /// message. A message read again (an exactly-once batch after an
    /// aborted transaction) takes the speaker's values back to before it,
    /// so the messages after it, read again too, do not count early (a
    /// value one of them sent again counts once that one is read again).
    /// Past the threshold only the newest `bulk.at_least` values are kept:
    /// the count says whether the threshold is reached, and a message's
    /// work stays bounded by it however much a sender sends.
    pub fn add(
        &mut self,
        speaker: Speaker,
        list: &str,
        bulk: Bulk,
        sent_ms: Option<i64>,
        message: &str,
        values: impl IntoIterator<Item = u64>,
    ) -> Tallied {
        let mut values: Vec<u64> = values.into_iter().collect();
        values.sort_unstable();
        values.dedup();
        if self.held + values.len() > self.max_values {
            self.let_go(sent_ms);
        }
        let key = (speaker, fixed_hash(list));
        let recent = self.recent.entry(key).or_default();
        recent.within_ms = i64::from(bulk.within_secs.unwrap_or(0)) * 1000;
        let now = sent_ms.or(recent.newest_ms);
        recent.newest_ms = match (recent.newest_ms, sent_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => b.or(a),
        };
        let before = recent.values.len();
        let id = fixed_hash(message) ^ key.1.rotate_left(17);
        let added = match self.known.get(&id) {
            // read again: back to before it, and in its place again
            Some(&then) => {
                recent.values.retain(|v| v.added < then);
                then
            }
            None => {
                self.added += 1;
                self.known.insert(id, self.added);
                self.known_order.push_back(id);
                if self.known_order.len() > MESSAGES_KNOWN_AGAIN {
                    if let Some(old) = self.known_order.pop_front() {
                        self.known.remove(&old);
                    }
                }
                self.added
            }
        };
        if let Some(now) = now {
            let within = recent.within_ms.unsigned_abs();
            recent
                .values
                .retain(|v| v.sent_ms.is_none_or(|t| now.abs_diff(t) <= within));
        }
        let message: Arc<str> = message.into();
        let sent = |key| Sent {
            key,
            sent_ms: now,
            message: message.clone(),
            added,
        };
        // a value sent again moves to the end, with the newest: what the
        // threshold keeps (linear in both, however many a message holds)
        if recent.values.len() * values.len() <= 1024 {
            recent.values.retain(|v| !values.contains(&v.key));
        } else {
            let again: rustc_hash::FxHashSet<u64> = values.iter().copied().collect();
            recent.values.retain(|v| !again.contains(&v.key));
        }
        recent.values.extend(values.into_iter().map(sent));
        let mut earlier: Vec<Arc<str>> = Vec::new();
        for v in &recent.values {
            if *v.message != *message
                && earlier.len() < MAX_EARLIER_MESSAGES
                && !earlier.contains(&v.message)
            {
                earlier.push(v.message.clone());
            }
        }
        let tallied = Tallied {
            values: u32::try_from(recent.values.len()).unwrap_or(u32::MAX),
            earlier,
        };
        let keep = (bulk.at_least as usize)
            .min(recent.values.len())
            .min(self.max_values);
        let after = recent.values.len();
        recent.values.drain(..after - keep);
        self.held = self.held - before + keep;
        if self.held > self.max_values {
            // one message with more than the bound: counted, not all kept
            let over = (self.held - self.max_values).min(recent.values.len());
            recent.values.drain(..over);
            self.held -= over;
        }
        tallied
    }

    /// Lets go of the values out of their time at `now_ms`, and of all of
    /// them if that frees less than a quarter: a pass that freed a few
    /// would be paid again by the next message, and the next.
    fn let_go(&mut self, now_ms: Option<i64>) {
        if let Some(now) = now_ms {
            self.recent.retain(|_, r| {
                let within = r.within_ms as u64;
                r.values
                    .retain(|v| v.sent_ms.is_none_or(|t| now.abs_diff(t) <= within));
                !r.values.is_empty()
            });
            self.held = self.recent.values().map(|r| r.values.len()).sum();
        }
        if self.held > self.max_values / 4 * 3 {
            self.recent.clear();
            self.held = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    /// An hour's threshold of `at_least` values.
    fn hour(at_least: u32) -> Bulk {
        Bulk {
            at_least,
            severity: crate::lists::Severity::Critical,
            within_secs: Some(3600),
            across_conversations: false,
        }
    }

    fn values(t: &mut BulkTally, s: Speaker, list: &str, at: i64, id: &str, v: &[u64]) -> u32 {
        t.add(s, list, hour(1000), Some(at), id, v.iter().copied())
            .values
    }

    #[test]
    fn values_are_counted_per_speaker_and_list_distinct() {
        let mut t = BulkTally::new(1000);
        let li = Speaker::new("li", ["x"]);
        let li_elsewhere = Speaker::new("li", ["y"]);
        assert_eq!(values(&mut t, li, "pii", 0, "1", &[1, 2]), 2);
        assert_eq!(values(&mut t, li, "pii", 1, "2", &[2]), 2, "2 again");
        assert_eq!(values(&mut t, li, "cards", 2, "3", &[3]), 1, "other list");
        assert_eq!(values(&mut t, li_elsewhere, "pii", 3, "4", &[3]), 1);
        let t5 = t.add(li, "pii", hour(1000), Some(4), "5", [3, 4]);
        assert_eq!(t5.values, 4);
        // value 1 is message 1's still, value 2 moved to message 2
        assert_eq!(t5.earlier, ["1".into(), "2".into()]);
        assert_eq!(t.values_held(), 6);
        // read again: nothing new
        assert_eq!(values(&mut t, li, "pii", 4, "5", &[3, 4]), 4);
        assert_eq!(t.values_held(), 6);
    }

    /// A batch read again (exactly-once, after an aborted transaction):
    /// each message counts what came before it, not what came after it
    /// the first time; a value that a later message sent again waits for
    /// that message (a value keeps its last message only).
    #[test]
    fn messages_read_again_count_what_came_before_them() {
        let mut t = BulkTally::new(1000);
        let s = Speaker::new("li", ["x"]);
        for (i, id) in ["m1", "m2", "m3"].iter().enumerate() {
            values(&mut t, s, "pii", i as i64, id, &[i as u64]);
        }
        values(&mut t, s, "pii", 3, "m4", &[0, 9]); // value 0 again
        let again = t.add(s, "pii", hour(1000), Some(1), "m2", [1]);
        assert_eq!((again.values, again.earlier), (1, vec![]));
        assert_eq!(t.values_held(), 1);
        let again = t.add(s, "pii", hour(1000), Some(2), "m3", [2]);
        assert_eq!((again.values, again.earlier), (2, vec!["m2".into()]));
        let again = t.add(s, "pii", hour(1000), Some(3), "m4", [0, 9]);
        assert_eq!(
            (again.values, again.earlier),
            (4, vec!["m2".into(), "m3".into()])
        );
    }

    #[test]
    fn values_out_of_time_do_not_count() {
        let mut t = BulkTally::new(1000);
        let s = Speaker::new("li", ["x"]);
        values(&mut t, s, "pii", 0, "1", &[1]);
        values(&mut t, s, "pii", HOUR / 2, "2", &[2]);
        assert_eq!(
            values(&mut t, s, "pii", HOUR, "3", &[3]),
            3,
            "an hour is within"
        );
        assert_eq!(values(&mut t, s, "pii", HOUR + 1, "4", &[4]), 3, "1 is out");
        assert_eq!(t.values_held(), 3);
        // a message of unknown time is taken as sent with the newest
        assert_eq!(t.add(s, "pii", hour(1000), None, "5", [5]).values, 4);
        // a message far out of order sees only its own time's values
        assert_eq!(values(&mut t, s, "pii", 10 * HOUR, "6", &[6]), 1);
        assert_eq!(t.values_held(), 1);
    }

    #[test]
    fn earlier_messages_are_named_up_to_a_limit() {
        let mut t = BulkTally::new(10_000);
        let s = Speaker::new("li", ["x"]);
        for i in 0..150u64 {
            t.add(s, "pii", hour(1000), Some(i as i64), &format!("m{i}"), [i]);
        }
        let last = t.add(s, "pii", hour(1000), Some(200), "last", [999]);
        assert_eq!(last.values, 151);
        assert_eq!(last.earlier.len(), MAX_EARLIER_MESSAGES);
        assert_eq!(&*last.earlier[0], "m0");
    }

    /// Past the threshold only its newest values are kept: the count still
    /// reaches it, and a sender's every message costs no more than it.
    #[test]
    fn a_speaker_keeps_the_newest_values_the_threshold_needs() {
        let mut t = BulkTally::new(10_000);
        let s = Speaker::new("li", ["x"]);
        for i in 0..50u64 {
            let tallied = t.add(s, "pii", hour(3), Some(i as i64), &format!("m{i}"), [i]);
            assert_eq!(tallied.values, (i as u32 + 1).min(4), "{i}");
        }
        assert_eq!(t.values_held(), 3);
        // a value sent again is the newest: it stays
        let again = t.add(s, "pii", hour(3), Some(60), "again", [47]);
        assert_eq!(again.values, 3);
        assert_eq!(again.earlier, ["m48".into(), "m49".into()]);
        let next = t.add(s, "pii", hour(3), Some(61), "next", [100]);
        assert_eq!(next.values, 4);
        assert_eq!(next.earlier, ["m48".into(), "m49".into(), "again".into()]);
        assert_eq!(t.values_held(), 3);
    }

    #[test]
    fn memory_is_bounded_by_values() {
        let mut t = BulkTally::new(8);
        for i in 0..8u64 {
            let s = Speaker::new(&i.to_string(), ["x"]);
            values(&mut t, s, "pii", 0, "1", &[i]);
        }
        assert_eq!(t.values_held(), 8);
        // all quiet an hour on: let go
        let late = Speaker::new("late", ["x"]);
        assert_eq!(values(&mut t, late, "pii", 2 * HOUR, "1", &[1]), 1);
        assert_eq!(t.values_held(), 1);
        // at capacity with none out of time: all let go, not a pass a message
        for i in 0..7u64 {
            let s = Speaker::new(&i.to_string(), ["x"]);
            values(&mut t, s, "pii", 2 * HOUR, "2", &[i]);
        }
        assert_eq!(t.values_held(), 8);
        values(&mut t, late, "pii", 2 * HOUR, "3", &[2]);
        assert_eq!(t.values_held(), 1, "only the newest value is left");
        for i in 0..100u64 {
            let s = Speaker::new(&(i % 13).to_string(), ["x"]);
            values(&mut t, s, "pii", 2 * HOUR + i as i64, "4", &[i]);
            assert!(t.values_held() <= 8);
        }
        // one message with more values than the bound: all counted, the
        // bound kept
        let many: Vec<u64> = (1000..1020).collect();
        assert_eq!(values(&mut t, late, "pii", 3 * HOUR, "5", &many), 20);
        assert_eq!(t.values_held(), 8);
        // a message's values are distinct however they are given
        let mut t = BulkTally::new(1000);
        assert_eq!(values(&mut t, late, "pii", 0, "1", &[7, 7, 8]), 2);
        // a roster far longer than the threshold: all counted, the
        // threshold's newest kept, values sent before among them found
        let roster: Vec<u64> = (0..50_000).collect();
        let t1 = t.add(late, "pii", hour(10), Some(1), "2", roster.iter().copied());
        assert_eq!((t1.values, t.values_held()), (50_000, 10));
        let t2 = t.add(late, "pii", hour(10), Some(2), "3", [49_999, 1]);
        assert_eq!(t2.values, 11);
        assert_eq!(t2.earlier, ["2".into()]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Whatever the senders send, in time order, the count says what
        /// counting every value sent within the time would: exactly, up to
        /// the threshold, and at least the threshold past it (the values a
        /// tally lets go are older than all it keeps).
        #[test]
        fn the_count_is_what_counting_everything_says(
            at_least in 2u32..6,
            within_secs in 1u32..20,
            messages in proptest::collection::vec(
                (0u8..2, 0i64..8_000, proptest::collection::vec(0u64..12, 0..5)),
                1..60,
            ),
        ) {
            let bulk = Bulk { at_least, severity: crate::lists::Severity::High, within_secs: Some(within_secs), across_conversations: false };
            let within = i64::from(within_secs) * 1000;
            let mut t = BulkTally::new(10_000);
            let mut sent: Vec<(u8, i64, u64)> = Vec::new();
            let mut now = 0i64;
            for (k, (who, pause, values)) in messages.into_iter().enumerate() {
                now += pause;
                let speaker = Speaker::new(&who.to_string(), ["x"]);
                let id = format!("m{k}");
                let counted = t.add(speaker, "pii", bulk, Some(now), &id, values.iter().copied()).values;
                sent.extend(values.iter().map(|&v| (who, now, v)));
                let mut all: Vec<u64> = sent
                    .iter()
                    .filter(|&&(w, at, _)| w == who && now - at <= within)
                    .map(|&(_, _, v)| v)
                    .collect();
                all.sort_unstable();
                all.dedup();
                let all = all.len() as u32;
                proptest::prop_assert!(counted <= all, "{counted} > {all}");
                proptest::prop_assert_eq!(counted.min(at_least), all.min(at_least));
            }
        }
    }
}
