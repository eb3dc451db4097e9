//! Any word list against any text: compiling gives a ruleset or
//! diagnostics, and a ruleset that compiles scans any text (folded or raw,
//! in every kind of conversation) without panicking, with every hit an
//! exact slice of the text and explaining agreeing with scanning.
//! The input is the list, a NUL byte, then the text.
#![no_main]
#[path = "checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::Ruleset;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let (list, text) = (&data[..split], &data[split + 1..]);
    let text = String::from_utf8_lossy(text);
    for raw in [false, true] {
        let lists = WordListSet::from_sources(vec![
            ("a.txt".into(), list.to_vec()),
            (checks::GROUP.0.into(), checks::GROUP.1.into()),
        ]);
        let builder = Ruleset::builder().raw(raw).regex_size_limit(1 << 16);
        let Ok(rs) = builder.build(&lists) else {
            continue;
        };
        checks::scanning_agrees_with_explaining(&rs, &text);
    }
});
