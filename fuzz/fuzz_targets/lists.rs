//! The list parser and compiler take any bytes without panicking, as a
//! list or as a people group, and lint never panics on what they accept.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::RulesetBuilder;

fuzz_target!(|data: &[u8]| {
    let set = WordListSet::from_sources(vec![
        ("fuzz/list.txt".into(), data.to_vec()),
        ("g.people".into(), data.to_vec()),
    ]);
    let builder = RulesetBuilder::new().regex_size_limit(1 << 16);
    let _ = wordwarden::lint::lint(&set, &builder);
});
