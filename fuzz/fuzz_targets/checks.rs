//! What the `matcher` and `scan` targets check of a ruleset and a text
//! (`#[path]`-included by each: fuzz targets are separate binaries).
use wordwarden::audience::Audience;
use wordwarden::people::Conversation;
use wordwarden::ruleset::{Hit, Ruleset};

/// The people group the targets' lists may name (`#! people: sender g`).
pub const GROUP: (&str, &str) = ("g.people", "zhangwei\nLiNa\n");

/// Every hit's span is an exact slice of `text`, and explaining `text`
/// finds exactly what scanning it finds, in every kind of conversation:
/// each audience, and messages between members of the group and others.
pub fn scanning_agrees_with_explaining(rs: &Ruleset, text: &str) {
    let mut conversations: Vec<Conversation> = Audience::ALL.map(Conversation::from).to_vec();
    for (from, to) in [("zhangwei", "lina"), ("wang", "zhangwei"), ("wang", "zhao")] {
        conversations.push(rs.conversation(Audience::Internal, Some(from), [to]));
    }
    // written before, in and after a window of 2026, and at the ends of time
    for ms in [
        1_700_000_000_000,
        1_790_000_000_000,
        1_800_000_000_000,
        i64::MIN,
        i64::MAX,
    ] {
        conversations.push(Conversation::from(Audience::Unknown).written_at(Some(ms)));
    }
    for conversation in conversations {
        let scanned = rs.scanner().scan_for(&[text], conversation);
        let (explained, _) = rs.scanner().explain_for(&[text], conversation);
        assert_eq!(spans(text, &scanned.hits), spans(text, &explained.hits));
        assert_eq!(scanned.bulk, explained.bulk);
        // a hit is raised exactly where its list's threshold was reached
        for h in &scanned.hits {
            let reached = scanned
                .bulk
                .iter()
                .find(|b| b.category == h.category() && b.reached());
            let want = reached.map_or(h.rule().severity, |b| {
                h.rule().severity.max(b.bulk.severity)
            });
            assert_eq!(h.severity(), want);
        }
    }
}

fn spans(text: &str, hits: &[Hit<'_>]) -> Vec<(String, usize, usize, u32)> {
    hits.iter()
        .map(|h| {
            assert!(h.start <= h.end && h.end <= text.len());
            assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
            let _ = h.evasions(text);
            (h.term().to_string(), h.start, h.end, h.count)
        })
        .collect()
}
