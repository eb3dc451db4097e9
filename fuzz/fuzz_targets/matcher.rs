//! Matching never panics and every hit's span is an exact slice of the text.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::Ruleset;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| {
        let lists = WordListSet::from_sources(vec![(
            "a.txt".into(),
            "内幕消息\n老鼠仓\nsb\nabc\n二二\n色情\n!特色情\n转账 & 账户 ~ 公司\nre:x+y\n@cn_mobile\n@cn_id_card\n@bank_card\n@email\n".into(),
        )]);
        Ruleset::builder().build(&lists).expect("fuzz lists compile")
    })
}

fuzz_target!(|text: &str| {
    for h in ruleset().find(text) {
        assert!(h.start <= h.end && h.end <= text.len());
        assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
    }
});
