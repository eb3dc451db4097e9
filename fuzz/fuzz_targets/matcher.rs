//! Matching never panics, every hit's span is an exact slice of the text,
//! and explaining a text finds exactly what scanning it finds, in every
//! kind of conversation. The lists use every feature of the format.
#![no_main]
use std::sync::OnceLock;

#[path = "checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::Ruleset;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| {
        let lists = WordListSet::from_sources(vec![
            (
                "a.txt".into(),
                "#! bulk: 3 critical\n内幕消息\n老鼠仓\nsb\nabc\nshit\n二二\n的的\n色情\n!特色情\n转账 & 账户 ~ 公司\nre:x+y\n@cn_mobile\n@cn_id_card\n@bank_card\n@email\n@private_key\n@access_key\n@api_token\n@jwt\n@url_password\n@webhook\n@hk_id_card\n@tw_id_card\n@cn_passport\n@password\n@cn_landline\n@intl_mobile\n@intl_landline\n@cn_travel_permit\n@cn_plate\n"
                    .into(),
            ),
            ("b.txt".into(), "#! match: exact\nKEY\n项目代号\n".into()),
            ("i.txt".into(), "#! pinyin: initials\n内部消息\n他妈的\n".into()),
            ("c.txt".into(), "#! homophones: on\n消息边\n!小溪边边\nabcd\n".into()),
            (
                "d.txt".into(),
                "#! audience: external\n#! pinyin: mixed\nnear:6 内幕 & 老鼠仓 ~ 特\nnear:3 sb & 色情\n草泥马\n"
                    .into(),
            ),
            (
                "e.txt".into(),
                "#! people: sender g\n#! people: not between g g\n停牌\n1380013\n".into(),
            ),
            (
                "f.txt".into(),
                "#! from: 2026-01-01\n#! until: 2027-01-01T00:00:00+08:00\n青松计划\n@cn_mobile\n".into(),
            ),
            (checks::GROUP.0.into(), checks::GROUP.1.into()),
        ]);
        Ruleset::builder().build(&lists).expect("fuzz lists compile")
    })
}

fuzz_target!(|text: &str| {
    checks::scanning_agrees_with_explaining(ruleset(), text);
});
