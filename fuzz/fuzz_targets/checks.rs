//! What the `matcher` and `scan` targets check of a ruleset and a text
//! (`#[path]`-included by each: fuzz targets are separate binaries).
use wordwarden::audience::Audience;
use wordwarden::ruleset::{Hit, Ruleset};

/// Every hit's span is an exact slice of `text`, and explaining `text`
/// finds exactly what scanning it finds, in every kind of conversation.
pub fn scanning_agrees_with_explaining(rs: &Ruleset, text: &str) {
    for audience in Audience::ALL {
        let scanned = rs.scanner().scan_for(&[text], audience);
        let (explained, _) = rs.scanner().explain_for(&[text], audience);
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
