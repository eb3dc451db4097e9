//! Any word list against any text: compiling gives a ruleset or
//! diagnostics, and a ruleset that compiles scans any text (folded or raw,
//! in every kind of conversation) without panicking, with every hit an
//! exact slice of the text and explaining agreeing with scanning.
//! The input is the list, a NUL byte, then the text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wordwarden::audience::Audience;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::{Hit, Ruleset};

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

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let (list, text) = (&data[..split], &data[split + 1..]);
    let text = String::from_utf8_lossy(text);
    for raw in [false, true] {
        let lists = WordListSet::from_sources(vec![("a.txt".into(), list.to_vec())]);
        let builder = Ruleset::builder().raw(raw).regex_size_limit(1 << 16);
        let Ok(rs) = builder.build(&lists) else {
            continue;
        };
        for audience in Audience::ALL {
            let scanned = rs.scanner().scan_for(&[&*text], audience);
            let (explained, _) = rs.scanner().explain_for(&[&*text], audience);
            assert_eq!(spans(&text, &scanned.hits), spans(&text, &explained.hits));
        }
    }
});
