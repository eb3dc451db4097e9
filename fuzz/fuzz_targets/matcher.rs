//! Matching never panics, every hit's span is an exact slice of the text,
//! and explaining a text finds exactly what scanning it finds, in every
//! kind of conversation. The lists use every feature of the format.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wordwarden::audience::Audience;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::Ruleset;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| {
        let lists = WordListSet::from_sources(vec![
            (
                "a.txt".into(),
                "内幕消息\n老鼠仓\nsb\nabc\nshit\n二二\n的的\n色情\n!特色情\n转账 & 账户 ~ 公司\nre:x+y\n@cn_mobile\n@cn_id_card\n@bank_card\n@email\n"
                    .into(),
            ),
            ("b.txt".into(), "#! match: exact\nKEY\n项目代号\n".into()),
            ("c.txt".into(), "#! homophones: on\n消息边\n!小溪边边\nabcd\n".into()),
            (
                "d.txt".into(),
                "#! audience: external\n#! pinyin: mixed\nnear:6 内幕 & 老鼠仓 ~ 特\nnear:3 sb & 色情\n草泥马\n"
                    .into(),
            ),
        ]);
        Ruleset::builder().build(&lists).expect("fuzz lists compile")
    })
}

fn spans(text: &str, hits: &[wordwarden::ruleset::Hit<'_>]) -> Vec<(String, usize, usize, u32)> {
    hits.iter()
        .map(|h| {
            assert!(h.start <= h.end && h.end <= text.len());
            assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
            let _ = h.evasions(text);
            (h.term().to_string(), h.start, h.end, h.count)
        })
        .collect()
}

fuzz_target!(|text: &str| {
    let rs = ruleset();
    for audience in Audience::ALL {
        let scanned = rs.scanner().scan_for(&[text], audience);
        let (explained, _) = rs.scanner().explain_for(&[text], audience);
        assert_eq!(spans(text, &scanned.hits), spans(text, &explained.hits));
    }
});
