//! The list parser and compiler take any bytes without panicking, as a
//! list or as a people group, and lint never panics on what they accept;
//! the encoding a file not in UTF-8 is said to read as reads it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wordwarden::encoding::{decode, legacy_encoding};
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::RulesetBuilder;

fuzz_target!(|data: &[u8]| {
    let set = WordListSet::from_sources(vec![
        ("fuzz/list.txt".into(), data.to_vec()),
        ("g.people".into(), data.to_vec()),
    ]);
    let builder = RulesetBuilder::new().regex_size_limit(1 << 16);
    let _ = wordwarden::lint::lint(&set, &builder);
    // what the not-UTF-8 error names is what `import` reads it as
    if let Some(named) = legacy_encoding(data) {
        let read = decode(data, None).expect("the encoding named reads it");
        assert_eq!(read.encoding, named);
    }
    let _ = decode(data, Some("big5"));
});
