//! The detection conventions of DETECTION.md and the word-list format of the
//! README, each with its false-positive control beside it.

use proptest::prelude::*;
use wordwarden::audience::Audience;
use wordwarden::evasion::Evasion;
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::Ruleset;

fn ruleset(files: &[(&str, &str)]) -> Ruleset {
    let lists = WordListSet::from_sources(
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect(),
    );
    Ruleset::builder().build(&lists).expect("lists compile")
}

/// (term, category, matched) of every hit.
fn hits(rs: &Ruleset, text: &str) -> Vec<(String, String, String)> {
    rs.find(text)
        .iter()
        .map(|h| {
            (
                h.term().to_string(),
                h.category().to_string(),
                text[h.start..h.end].to_string(),
            )
        })
        .collect()
}

fn terms(rs: &Ruleset, text: &str) -> Vec<String> {
    hits(rs, text).into_iter().map(|h| h.0).collect()
}

fn fires(rs: &Ruleset, text: &str) -> bool {
    !rs.find(text).is_empty()
}

#[test]
fn evasions_of_a_chinese_term() {
    let rs = ruleset(&[("finance/insider.txt", "内幕消息\n")]);
    for text in [
        "内幕消息",
        "内*幕*消*息",
        "内 幕 消 息",
        "內幕消息",
        "内\u{200B}幕\u{200C}消\u{FEFF}息",
        "内😀幕消息",
        "内-幕-消-息",
        "内\u{3000}幕消息",
        "内\u{3164}幕\u{3164}消\u{3164}息",
        "内内幕幕消消息息",
        "neimuxiaoxi",
        "ＮＥＩＭＵ ＸＩＡＯＸＩ",
    ] {
        assert!(fires(&rs, text), "should fire: {text}");
    }
    for text in ["内部的消息", "内幕的消息", "内幕", "myneimuxiaoxi2"] {
        assert!(!fires(&rs, text), "must not fire: {text}");
    }
}

/// `ü` in pinyin written as pinyin keyboards type it (`v`), as itself, or
/// as `u`, in capitals and with spaces between syllables too.
#[test]
fn pinyin_u_umlaut_typed_as_v() {
    let rs = ruleset(&[("a.txt", "律师函\n女主播\n")]);
    for text in [
        "发lvshihan给你",
        "lüshihan",
        "lushihan",
        "LV SHI HAN",
        "nvzhubo",
    ] {
        assert!(fires(&rs, text), "should fire: {text}");
    }
    for text in ["lvshi", "lvshihanshu", "nvzhu"] {
        assert!(!fires(&rs, text), "must not fire: {text}");
    }
}

/// Radical forms written for the characters they look like: the CJK
/// Radicals Supplement (`⻢`, `⻓`, `⻔`) and Kangxi radicals (`⼈`).
#[test]
fn radicals_written_for_characters() {
    let rs = ruleset(&[("a.txt", "草泥马\n长线内幕\n人民币\n")]);
    assert_eq!(hits(&rs, "你个草泥⻢")[0].2, "草泥⻢");
    assert_eq!(terms(&rs, "⻓线内幕"), vec!["长线内幕"]);
    assert_eq!(terms(&rs, "⼈⺠币"), vec!["人民币"]);
    // a radical is a character: between a term's characters it breaks it
    assert!(!fires(&rs, "长线⻔内幕"));
}

#[test]
fn matched_is_the_whole_original_slice() {
    let rs = ruleset(&[("a.txt", "内幕消息\n")]);
    let text = "快看内*幕*消*息!";
    assert_eq!(hits(&rs, text)[0].2, "内*幕*消*息");
    let text = "x內\u{200B}幕 消息y";
    assert_eq!(hits(&rs, text)[0].2, "內\u{200B}幕 消息");
}

#[test]
fn ascii_word_boundaries() {
    let rs = ruleset(&[("a.txt", "vx\nsb\nabc\nav\ncat\nab\nkill you\nidiot\n")]);
    assert_eq!(terms(&rs, "加我vx"), vec!["vx"]);
    assert_eq!(terms(&rs, "你是SB吧"), vec!["sb"]);
    assert_eq!(terms(&rs, "好ａｂｃ的"), vec!["abc"]);
    assert_eq!(terms(&rs, "x_sb_"), vec!["sb"]); // underscore is a boundary
    assert!(terms(&rs, "have").is_empty());
    assert!(terms(&rs, "concatenate").is_empty());
    assert_eq!(terms(&rs, "ａｂｃ"), vec!["abc"]); // not `ab`
    assert!(terms(&rs, "skill your").is_empty());
    assert!(terms(&rs, "idiotic").is_empty());
    assert_eq!(terms(&rs, "kill you!"), vec!["kill you"]);
}

#[test]
fn digit_terms_never_fire_inside_longer_digit_runs() {
    let rs = ruleset(&[("a.txt", "8964\n")]);
    assert!(fires(&rs, "纪念8964事件"));
    assert!(!fires(&rs, "编号189645"));
    assert!(fires(&rs, "８９６４"));
}

#[test]
fn noise_inside_but_boundaries_at_the_ends() {
    let rs = ruleset(&[("a.txt", "fuck\nwanker\nshit\nwhore\n")]);
    assert_eq!(terms(&rs, "f*u*c*k you"), vec!["fuck"]);
    assert_eq!(terms(&rs, "W A N K E R"), vec!["wanker"]);
    assert!(terms(&rs, "push it").is_empty());
    assert!(terms(&rs, "who report").is_empty());
}

#[test]
fn styled_letters_accents_confusables() {
    let rs = ruleset(&[("a.txt", "fuck\nconfidential\n")]);
    for t in [
        "ⓕⓤⓒⓚ",
        "𝒇𝒖𝒄𝒌",
        "fúck",
        "f\u{0336}u\u{0336}c\u{0336}k",
        "сonfidentiаl",
        "ＣＯＮＦＩＤＥＮＴＩＡＬ",
        "ꜰᴜᴄᴋ",
        "🅵🆄🅲🅺",
        "🅕🅤🅒🅚",
        "ᴄᴏɴꜰɪᴅᴇɴᴛɪᴀʟ",
    ] {
        assert!(fires(&rs, t), "{t}");
    }
    assert!(!fires(&rs, "fдck"));
    // a flag is no pair of letters
    let rs = ruleset(&[("a.txt", "sb\n")]);
    assert!(!fires(&rs, "去了🇸🇧旅游"));
    assert!(fires(&rs, "你是🆂🅱吧"));
}

#[test]
fn digits_standing_for_letters_inside_words() {
    let rs = ruleset(&[("a.txt", "shit\nconfidential\nsb\nass\n内幕消息\n")]);
    for (text, term) in [
        ("sh1t", "shit"),
        ("5h1t!", "shit"),
        ("SH1T", "shit"),
        ("ｓｈ１ｔ", "shit"),
        ("sh11t", "shit"),
        ("这份C0NF1D3NT1AL别外传", "confidential"),
        ("c0nfidential", "confidential"),
        ("有ne1mu xia0xi吗", "内幕消息"),
    ] {
        assert_eq!(terms(&rs, text), vec![term], "{text}");
    }
    // the alert quotes what was written
    assert_eq!(hits(&rs, "what sh1t")[0].2, "sh1t");
    // controls: a digit is a digit where too few letters stand beside it
    for text in [
        "估值5b美元",
        "5B",
        "Galaxy A55 到货",
        "455",
        "sh1tty",
        "T1 S3 T1 机房",
        "s h 1 t",
        "2024年3月5日",
        "v1.0.3 版本",
    ] {
        assert!(
            terms(&rs, text).is_empty(),
            "{text}: {:?}",
            terms(&rs, text)
        );
    }
    // a term written with a digit still needs it
    let rs = ruleset(&[("a.txt", "b1t\n8964\n")]);
    assert!(fires(&rs, "b1t"));
    assert!(!fires(&rs, "bit"));
    assert!(fires(&rs, "8964"));
    assert!(!fires(&rs, "896a"));
}

#[test]
fn symbols_standing_for_letters_inside_words() {
    let rs = ruleset(&[
        (
            "a.txt",
            "shit\nasshole\nbitch\nbastard\nfuck\nsb\n!bitch please\n",
        ),
        ("b.txt", "#! match: exact\nsheet\n"),
    ]);
    for (text, term, matched) in [
        ("what a sh!t day", "shit", "sh!t"),
        ("$hit happens", "shit", "$hit"),
        ("you b@stard", "bastard", "b@stard"),
        ("a$$hole", "asshole", "a$$hole"),
        ("b!tch!", "bitch", "b!tch"),
        ("$H!T", "shit", "$H!T"),
        ("$h1t", "shit", "$h1t"),
        ("这$hit谁写的", "shit", "$hit"),
        // separators and symbols together
        ("s.h!t", "shit", "s.h!t"),
        // symbols that are symbols still separate letters
        ("f!u!c!k", "fuck", "f!u!c!k"),
        ("f*u*c*k", "fuck", "f*u*c*k"),
    ] {
        assert_eq!(
            hits(&rs, text),
            vec![(term.to_string(), term_category(term), matched.to_string())],
            "{text}"
        );
    }
    // controls: where the symbols are punctuation, prices, addresses, or
    // too many for the letters beside them
    for text in [
        "ok!",
        "$5b",
        "a$$",
        // a mention
        "@sshole 看下",
        "$$$hit",
        "sh!!!t",
        "US$ 5 bn",
        // an allow phrase covers what the symbols spell
        "b!tch please",
        // an exact list matches as written
        "$heet",
    ] {
        assert!(
            terms(&rs, text).is_empty(),
            "{text}: {:?}",
            terms(&rs, text)
        );
    }
    assert!(fires(&rs, "sheet"));
}

#[test]
fn letters_hidden_behind_asterisks() {
    let rs = ruleset(&[
        ("a.txt", "fuck\nshit\nslut\nasshole\nsb\n内幕消息\n"),
        ("b.txt", "#! match: exact\nsheet\n"),
    ]);
    for (text, found, matched) in [
        ("what the f*ck", vec!["fuck"], "f*ck"),
        ("F**K", vec!["fuck"], "F**K"),
        ("你个a**hole", vec!["asshole"], "a**hole"),
        ("真sh*t", vec!["shit"], "sh*t"),
        // one mask may hide either of two listed words: both are reported
        ("s**t", vec!["shit", "slut"], "s**t"),
        // asterisks between every letter are separators, as before
        ("f*u*c*k", vec!["fuck"], "f*u*c*k"),
    ] {
        let got = hits(&rs, text);
        assert_eq!(
            got.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
            found,
            "{text}"
        );
        assert!(got.iter().all(|h| h.2 == matched), "{text}: {got:?}");
    }
    // controls: emphasis, arithmetic, too many masks, part of a longer
    // word, a word of another length or letters, an exact list, a term of
    // two letters
    for text in [
        "**bold** text",
        "2*3=6",
        "f***",
        "f*cking",
        "xf*ck",
        "sh**t",
        "sh*et",
        "s*",
    ] {
        assert!(
            terms(&rs, text).is_empty(),
            "{text}: {:?}",
            terms(&rs, text)
        );
    }
}

#[test]
fn homophones_in_lists_that_ask_for_them() {
    let rs = ruleset(&[
        (
            "h.txt",
            "#! homophones: on\n内幕消息\n色情\n老鼠仓\n!老鼠仓库\n",
        ),
        ("p.txt", "飞单\n"),
    ]);
    for (text, term, matched) in [
        ("有内幕小溪吗", "内幕消息", "内幕小溪"),
        ("内木消息", "内幕消息", "内木消息"),
        ("內幕小溪", "内幕消息", "內幕小溪"),
        ("老鼠舱", "老鼠仓", "老鼠舱"),
        ("老*署*舱", "老鼠仓", "老*署*舱"),
        // the term itself is found once, not again as its own homophone
        ("内幕消息", "内幕消息", "内幕消息"),
    ] {
        assert_eq!(
            hits(&rs, text),
            vec![(term.to_string(), "h".to_string(), matched.to_string())],
            "{text}"
        );
    }
    assert_eq!(rs.find("内幕消息，内幕小溪")[0].count, 2);
    // controls: a list without the directive, a term of two characters,
    // an allow phrase's homophones, other readings, other characters, and
    // no stretch across two homophones
    for text in [
        "非单",
        "别发涩情图片",
        "老鼠舱库",
        "内幕",
        "小溪边",
        "今天天气不错",
        "内幕消小息",
    ] {
        assert!(
            terms(&rs, text).is_empty(),
            "{text}: {:?}",
            terms(&rs, text)
        );
    }
    assert!(fires(&rs, "飞单"));
}

#[test]
fn text_under_a_right_to_left_override_reads_as_displayed() {
    let rs = ruleset(&[
        ("a.txt", "内幕消息\n色情\n!特色情\n"),
        ("b.txt", "@cn_mobile\n"),
    ]);
    // U+202E shows what follows backwards, up to U+202C or the line's end
    for (text, term, matched) in [
        ("\u{202E}息消幕内", "内幕消息", "息消幕内"),
        ("请看\u{202E}息消幕内\u{202C}吧", "内幕消息", "息消幕内"),
        ("内幕\u{202E}息消", "内幕消息", "内幕\u{202E}息消"),
        ("电话\u{202E}8765-4321-831", "@cn_mobile", "8765-4321-831"),
    ] {
        assert_eq!(
            hits(&rs, text),
            vec![(term.to_string(), term_category(term), matched.to_string())],
            "{text:?}"
        );
    }
    // each place once: the displayed order adds only what the override moved
    let text = "内幕消息，\u{202E}息消幕内";
    let found = rs.find(text);
    assert_eq!((found.len(), found[0].count), (1, 2));
    // allow phrases read as displayed too
    assert!(terms(&rs, "\u{202E}景情色特").is_empty());
    // controls: popped, or on the next line, the text reads as written
    assert!(terms(&rs, "\u{202E}\u{202C}息消幕内").is_empty());
    assert!(terms(&rs, "\u{202E}好\n息消幕内").is_empty());
}

/// A link's words percent-encoded, as a browser copies a link, are read
/// decoded: the hit quotes the escapes and says `url_encoded`; allow
/// phrases read so too; escapes of ASCII alone or of GBK bytes stay as
/// written.
#[test]
fn a_links_percent_encoded_words_are_read_decoded() {
    let rs = ruleset(&[("a.txt", "内幕消息\n色情\n!特色情\nproject falcon\n")]);
    let search = "https://s.example.com/s?wd=%E5%86%85%E5%B9%95%E6%B6%88%E6%81%AF&ie=utf-8";
    let escapes = "%E5%86%85%E5%B9%95%E6%B6%88%E6%81%AF";
    assert_eq!(
        hits(&rs, search),
        vec![("内幕消息".to_string(), "a".to_string(), escapes.to_string())]
    );
    let found = rs.find(search);
    assert_eq!(found[0].evasions(search), [Evasion::UrlEncoded]);
    // half written, half escaped; and traditional characters escaped
    let half = "内幕%E6%B6%88%E6%81%AF";
    assert_eq!(terms(&rs, half), ["内幕消息"]);
    assert_eq!(rs.find(half)[0].evasions(half), [Evasion::UrlEncoded]);
    let traditional = "q=%E5%85%A7%E5%B9%95%E6%B6%88%E6%81%AF"; // 內幕消息
    assert_eq!(
        rs.find(traditional)[0].evasions(traditional),
        [Evasion::Traditional, Evasion::UrlEncoded]
    );
    // one place each: written once plainly and once escaped, counted twice
    let both = format!("内幕消息 {search}");
    let found = rs.find(&both);
    assert_eq!((found.len(), found[0].count, found[0].start), (1, 2, 0));
    // an allow phrase escaped too: 特色情景
    assert!(terms(&rs, "%E7%89%B9%E8%89%B2%E6%83%85%E6%99%AF").is_empty());
    assert_eq!(terms(&rs, "%E8%89%B2%E6%83%85"), ["色情"]);
    // a number beside escapes, whose hex digits would touch it as written
    let pii = ruleset(&[("pii.txt", "@cn_mobile\n")]);
    assert_eq!(
        hits(&pii, "%E6%89%8B%E6%9C%BA13812345678"),
        vec![(
            "@cn_mobile".to_string(),
            "pii".to_string(),
            "13812345678".to_string()
        )]
    );
    // controls: GBK's escapes of 内幕消息, ASCII escapes, a run cut short
    assert!(terms(&rs, "%C4%DA%C4%BB%CF%FB%CF%A2").is_empty());
    assert!(terms(&rs, "q=project%20falcon").is_empty());
    assert!(terms(&rs, "%E5%86%85%E5%B9%95%E6%B6%88%E6%81").is_empty());
}

/// Digits between a term's Chinese characters as filler (`内1幕2消3息`)
/// are read as spaces: the hit quotes the digits and says
/// `digits_between`; a term of two characters is not found so (`开2房`,
/// two rooms), nor across a number or a digit beside a letter.
#[test]
fn digits_between_chinese_characters_are_filler() {
    let rs = ruleset(&[(
        "a.txt",
        "内幕消息
老鼠仓
开房
!老鼠仓库
#one term written with digits
第1季度报告
",
    )]);
    let text = "我有内1幕2消3息，私聊";
    assert_eq!(
        hits(&rs, text),
        vec![(
            "内幕消息".to_string(),
            "a".to_string(),
            "内1幕2消3息".to_string()
        )]
    );
    assert_eq!(rs.find(text)[0].evasions(text), [Evasion::DigitsBetween]);
    // full-width digits, two digits, spaces around them, a single gap
    for text in ["内１幕２消３息", "老12鼠仓", "内 1 幕 2 消息", "内幕消7息"] {
        assert_eq!(rs.find(text).len(), 1, "{text}");
        let evasions = rs.find(text)[0].evasions(text);
        assert!(
            evasions.contains(&Evasion::DigitsBetween),
            "{text}: {evasions:?}"
        );
        assert!(
            !evasions.contains(&Evasion::DigitsForLetters),
            "{text}: {evasions:?}"
        );
    }
    // allow phrases read so too
    assert!(terms(&rs, "老1鼠2仓3库").is_empty());
    // a term repeating a character (its key holds the repeats as one)
    let laughs = ruleset(&[("a.txt", "哈哈哈\n")]);
    assert_eq!(terms(&laughs, "哈1哈2哈"), ["哈哈哈"]);
    // a term written with such digits is as written
    let quarter = "第1季度报告";
    assert_eq!(rs.find(quarter)[0].evasions(quarter), []);
    // controls: two characters, a number, a digit beside a letter or a sign
    for text in [
        "开2房",
        "开 2 房",
        "内1234幕消息",
        "内a1幕消息",
        "内幕1.5消息",
        "2024年3月5日",
    ] {
        assert!(terms(&rs, text).is_empty(), "{text}");
    }
}

fn term_category(term: &str) -> String {
    match term.starts_with('@') {
        true => "b".to_string(),
        false => "a".to_string(),
    }
}

#[test]
fn cjk_terms_match_anywhere_and_letters_break() {
    let rs = ruleset(&[("a.txt", "内部资料\n")]);
    assert!(fires(&rs, "这是abc内部资料xyz"));
    assert!(!fires(&rs, "内部的资料"));
    assert!(!fires(&rs, "内部a资料"));
}

#[test]
fn overlapping_and_nested_terms_all_reported() {
    let rs = ruleset(&[("a.txt", "我的\n我的世界\n中国\n国人\n")]);
    assert_eq!(terms(&rs, "我的世界"), vec!["我的", "我的世界"]);
    assert_eq!(terms(&rs, "中国人"), vec!["中国", "国人"]);
}

#[test]
fn same_term_in_two_categories_gives_two_hits() {
    let rs = ruleset(&[("a.txt", "内幕\n"), ("b/c.txt", "内幕\n")]);
    let h = hits(&rs, "内幕");
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].1, "a");
    assert_eq!(h[1].1, "b/c");
}

#[test]
fn traditional_and_simplified_both_ways() {
    let rs = ruleset(&[("a.txt", "內幕消息\n机密资料\n")]);
    assert!(fires(&rs, "内幕消息"));
    assert!(fires(&rs, "內幕消息"));
    assert!(fires(&rs, "機密資料"));
    assert!(fires(&rs, "机密资料"));
}

#[test]
fn allow_phrases_only_where_they_occur() {
    let rs = ruleset(&[("adult.txt", "色情\n!特色情\n")]);
    assert!(!fires(&rs, "特色情景喜剧"));
    assert!(fires(&rs, "色情"));
    // the same term elsewhere in the message still fires
    let h = hits(&rs, "特色情景和色情网站");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].2, "色情");
    // allow phrases apply to hits of every list
    let rs = ruleset(&[("adult.txt", "色情\n"), ("allow.txt", "!特色情\n")]);
    assert!(!fires(&rs, "特色情景"));
}

#[test]
fn stretch_keeps_genuine_repeats() {
    let rs = ruleset(&[("a.txt", "老鼠仓\n二二\nassert\n")]);
    assert_eq!(terms(&rs, "老老鼠鼠仓仓"), vec!["老鼠仓"]);
    assert_eq!(terms(&rs, "二二"), vec!["二二"]);
    assert!(terms(&rs, "二").is_empty());
    assert_eq!(terms(&rs, "assert"), vec!["assert"]);
    assert_eq!(terms(&rs, "asssert"), vec!["assert"]);
    assert!(terms(&rs, "asert").is_empty());
    // a stretched match covers its last character's whole run
    assert_eq!(hits(&rs, "看老老鼠鼠仓仓仓!")[0].2, "老老鼠鼠仓仓仓");
    assert_eq!(hits(&rs, "二二二")[0].2, "二二二");
}

#[test]
fn stretch_never_joins_two_words() {
    let rs = ruleset(&[("a.txt", "sb\nshit\nfuck\n内幕消息\n")]);
    // a word ending in a term's first letter, or starting with its last
    for (text, term) in [
        ("he is sb", "sb"),
        ("this shit", "shit"),
        ("bus sb", "sb"),
        ("sb bad", "sb"),
        ("his sb boss", "sb"),
    ] {
        let found: Vec<(String, String)> =
            hits(&rs, text).into_iter().map(|h| (h.0, h.2)).collect();
        assert_eq!(found, vec![(term.to_string(), term.to_string())], "{text}");
    }
    // letters spaced out one by one still stretch, and CJK across noise
    assert_eq!(terms(&rs, "f u u u c k"), vec!["fuck"]);
    assert_eq!(terms(&rs, "s s b"), vec!["sb"]);
    assert_eq!(terms(&rs, "内幕 幕消息"), vec!["内幕消息"]);
    // controls: the term's first letter still needs a word boundary
    assert!(terms(&rs, "this b").is_empty());
    assert!(terms(&rs, "push it").is_empty());
}

#[test]
fn combination_rules() {
    let rs = ruleset(&[("deal.txt", "转账 & 私人账户 ~ 公司账户\n")]);
    let text = "先转账，打到我私人账户";
    let h = hits(&rs, text);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].0, "转账 & 私人账户 ~ 公司账户");
    assert_eq!(h[0].2, "转账，打到我私人账户");
    assert!(!fires(&rs, "转账到私人账户还是公司账户"));
    assert!(!fires(&rs, "只说私人账户"));
    // parts are folded like terms
    assert!(fires(&rs, "轉賬 到 私*人*賬*戶"));
}

/// `near:N`: the parts within N characters of each other (letters, digits
/// and Chinese characters; noise between them does not count), in either
/// order, in one field; the report covers the first stretch that holds
/// them. A `~` part still vetoes the whole message.
#[test]
fn near_combinations_need_their_parts_close_together() {
    let rule = "near:10 转账 & 私人账户 ~ 公司账户";
    let rs = ruleset(&[("deal.txt", &format!("{rule}\n"))]);
    let h = hits(&rs, "先转账，打到我私人账户");
    assert_eq!(
        h,
        vec![(rule.into(), "deal".into(), "转账，打到我私人账户".into())]
    );
    // 8 characters from 转 to 户, then 11 and 10
    assert!(fires(&rs, "转账到我私人账户"));
    assert!(!fires(&rs, "转账后打到我的私人账户"));
    assert!(fires(&rs, "转账后打到我私人账户"));
    // separators, spaces and emoji do not count, as for terms
    assert!(fires(&rs, "转*账 😀 后…打到我 私*人*账*户"));
    assert!(!fires(&rs, "转*账 😀 后…打到我的 私*人*账*户"));
    // a long message with the parts far apart: not this rule
    let filler = "今天下午的会议改到三点";
    let far = format!("请转账。{filler}{filler}。私人账户的事再说");
    assert!(!fires(&rs, &far));
    let message_wide = ruleset(&[("deal.txt", "转账 & 私人账户 ~ 公司账户\n")]);
    assert!(fires(&message_wide, &far));
    // the first close pair is reported, either order
    let text = format!("私人账户{filler}{filler}，转账到私人账户");
    let h = hits(&rs, &text);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].2, "转账到私人账户");
    let text = format!("转账{filler}{filler}私人账户给我转账");
    assert_eq!(hits(&rs, &text)[0].2, "私人账户给我转账");
    // a `~` part anywhere vetoes; parts in two fields are not near
    assert!(!fires(
        &rs,
        &format!("转账到私人账户。{filler}{filler}公司账户")
    ));
    assert!(rs.scan_fields(&["请转账", "私人账户"]).hits.is_empty());
    // three parts: all within the window
    let three = ruleset(&[("a.txt", "near:12 内幕 & 买入 & 明天\n")]);
    assert!(fires(&three, "有内幕，明天开盘买入"));
    assert!(!fires(&three, &format!("有内幕，明天开盘{filler}买入")));
    // a link's escapes count as the characters they spell
    let three = ruleset(&[("a.txt", "near:6 内幕 & 老鼠仓\n")]);
    assert!(fires(&three, "老鼠仓%E5%86%85%E5%B9%95"));
    assert!(!fires(
        &three,
        "老鼠仓%E7%9A%84%E7%9A%84%E7%9A%84%E7%9A%84内幕"
    ));
    // explain says why a rule whose parts are all there did not fire
    let (found, cands) = rs.scanner().explain(&[far.as_str()]);
    assert!(found.hits.is_empty());
    assert!(
        cands
            .iter()
            .any(|c| c.verdict == wordwarden::ruleset::Verdict::PartsTooFarApart(10)),
        "{cands:?}"
    );
}

#[test]
fn regexes_see_width_and_case_folded_text() {
    let rs = ruleset(&[("leak.txt", "re:project\\s+falcon\n")]);
    let text = "关于 ＰＲＯＪＥＣＴ　Falcon 的";
    let h = hits(&rs, text);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].2, "ＰＲＯＪＥＣＴ　Falcon");
    assert!(!fires(&rs, "project hawk"));
}

#[test]
fn exact_regexes_see_the_text_as_written() {
    let rs = ruleset(&[("keys.txt", "#! match: exact\nre:AKIA[0-9A-Z]{16}\n")]);
    let text = "密钥 AKIAABCDEFGHIJKLMNOP 别外传";
    let h = hits(&rs, text);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].2, "AKIAABCDEFGHIJKLMNOP");
    // not folded: full-width or lower case is another string
    assert!(!fires(&rs, "akiaabcdefghijklmnop"));
    assert!(!fires(&rs, "ＡＫＩＡABCDEFGHIJKLMNOP"));
}

#[test]
fn detectors() {
    let rs = ruleset(&[("pii.txt", "@cn_id_card\n@bank_card\n@cn_mobile\n@email\n")]);
    let text =
        "身份证11010519491231002X，卡号6222 0212 3456 7890 128？手机138-1234-5678 邮箱a.b@corp.cn";
    let found = terms(&rs, text);
    assert!(found.contains(&"@cn_id_card".to_string()), "{found:?}");
    assert!(found.contains(&"@cn_mobile".to_string()), "{found:?}");
    assert!(found.contains(&"@email".to_string()), "{found:?}");
    // invalid checksums and longer runs stay quiet
    assert!(!fires(&rs, "订单号110105194912310021"));
    assert!(!fires(&rs, "流水号 138123456789"));
}

#[test]
fn exact_mode_files_do_not_fold() {
    let rs = ruleset(&[("code.txt", "#! match: exact\nAPI_KEY\n")]);
    assert!(fires(&rs, "export API_KEY=1"));
    assert!(!fires(&rs, "api_key"));
    assert!(!fires(&rs, "ＡＰＩ_ＫＥＹ"));
    assert!(!fires(&rs, "MYAPI_KEY"));
}

#[test]
fn escaped_entries_are_terms() {
    let rs = ruleset(&[("a.txt", "\\!重要\n\\@所有人 紧急\n")]);
    assert!(fires(&rs, "重要"));
    assert!(fires(&rs, "所有人紧急"));
}

#[test]
fn hits_are_capped_with_a_marker() {
    let terms: String = (0..300).map(|i| format!("词{i:03}x\n")).collect();
    let lists = WordListSet::from_sources(vec![("a.txt".into(), terms.clone().into_bytes())]);
    let rs = Ruleset::builder().max_hits(50).build(&lists).unwrap();
    let text: String = terms.lines().collect::<Vec<_>>().join(" ");
    let f = rs.scan_fields(&[text.as_str()]);
    assert_eq!(f.hits.len(), 50);
    assert!(f.truncated);
}

#[test]
fn bad_lists_do_not_compile() {
    let lists = WordListSet::from_sources(vec![("a.txt".into(), b"re:(\n".to_vec())]);
    let err = Ruleset::builder().build(&lists).unwrap_err();
    assert_eq!(err.diagnostics()[0].code, "bad-regex");
}

#[test]
fn regex_bombs_are_bounded() {
    let lists = WordListSet::from_sources(vec![("a.txt".into(), b"re:(a{1000}){1000}\n".to_vec())]);
    let err = Ruleset::builder().build(&lists).unwrap_err();
    assert_eq!(err.diagnostics()[0].code, "bad-regex");
}

#[test]
fn bundled_lists_compile_and_catch_their_scenarios() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wordlists");
    let rs = Ruleset::from_dir(&dir).expect("bundled lists compile");
    assert!(fires(&rs, "我有内*幕*消*息，明天涨停"));
    assert!(fires(&rs, "加我私人微信，以后直接找我"));
    assert!(!fires(&rs, "特色情景喜剧很好看"));
    assert!(!fires(&rs, "今天天气不错，下午三点开会"));
}

fn props_ruleset() -> Ruleset {
    ruleset(&[
        ("a.txt", "内幕消息\n老鼠仓\nsb\nabc\n二二\n色情\n!特色情\n转账 & 账户\nre:x+y\n@cn_mobile\n@email\n"),
        ("b.txt", "#! match: exact\nKEY\n"),
        ("c.txt", "#! homophones: on\n消息边\n!小溪边边\nabcd\n"),
        ("d.txt", "#! audience: external\nnear:6 内幕 & 老鼠仓 ~ 特\nnear:3 sb & 色情\n"),
    ])
}

#[test]
fn exact_lists_match_cjk_and_ascii_as_written() {
    // CJK exact terms go to the char-wise automaton, ASCII-only sets to
    // aho-corasick: both keep exact semantics and word boundaries
    let cjk = ruleset(&[("ids.txt", "#! match: exact\n项目代号\nAPI-KEY\n")]);
    assert_eq!(terms(&cjk, "说一下项目代号吧"), vec!["项目代号"]);
    assert!(!fires(&cjk, "项目代號")); // no folding in exact lists
    assert_eq!(terms(&cjk, "the API-KEY leaked"), vec!["API-KEY"]);
    assert!(!fires(&cjk, "xAPI-KEYx"));
    let ascii = ruleset(&[("ids.txt", "#! match: exact\nAPI-KEY\n")]);
    assert_eq!(terms(&ascii, "the API-KEY leaked"), vec!["API-KEY"]);
    assert!(!fires(&ascii, "api-key"));
}

#[test]
fn raw_mode_matches_as_written_and_keeps_rules() {
    let lists = || {
        WordListSet::from_sources(vec![(
            "a.txt".into(),
            "内幕消息\n!内幕消息来源\n色情\n@cn_mobile\n".into(),
        )])
    };
    let raw = Ruleset::builder()
        .raw(true)
        .build(&lists())
        .expect("compiles");
    assert_eq!(terms(&raw, "有内幕消息"), vec!["内幕消息"]);
    assert!(!fires(&raw, "有內幕消息")); // traditional form: folding is off
    assert!(!fires(&raw, "内*幕*消*息"));
    assert!(!fires(&raw, "neimuxiaoxi")); // no pinyin variants
    assert!(!fires(&raw, "内幕消息来源")); // allow phrases still apply
    assert_eq!(terms(&raw, "电话13812345678"), vec!["@cn_mobile"]);
    let fold = Ruleset::builder().build(&lists()).expect("compiles");
    assert!(fires(&fold, "有內幕消息"));
}

#[test]
fn build_from_and_sequential_builds_compile_the_same_ruleset_as_build() {
    let lists = WordListSet::load_dir(std::path::Path::new("wordlists")).expect("bundled lists");
    let borrowed = Ruleset::builder().build(&lists).expect("compiles");
    // as reloads compile: owned lists, automata built one after the other
    let owned = Ruleset::builder()
        .parallel(false)
        .build_from(lists)
        .expect("compiles");
    assert_eq!(borrowed.version(), owned.version());
    assert_eq!(borrowed.rules().len(), owned.rules().len());
    // the owned compile moves each entry's text into its rule
    for (b, o) in borrowed.rules().iter().zip(owned.rules()) {
        assert_eq!(
            (&b.term, &b.category, &b.file, b.line, b.kind),
            (&o.term, &o.category, &o.file, o.line, o.kind)
        );
    }
    let sample = std::fs::read_to_string("deploy/demo/wecom-sample.jsonl").expect("sample");
    let mut hit = 0;
    for line in sample.lines() {
        let h = hits(&borrowed, line);
        hit += usize::from(!h.is_empty());
        assert_eq!(h, hits(&owned, line));
    }
    // the comparison means something only if the sample hits
    assert!(hit >= 10, "{hit} sample lines hit");
    for pinyin_or_latin in ["neimu xiaoxi", "laoshucang"] {
        assert_eq!(
            hits(&borrowed, pinyin_or_latin),
            hits(&owned, pinyin_or_latin)
        );
        assert!(
            !hits(&borrowed, pinyin_or_latin).is_empty(),
            "{pinyin_or_latin}"
        );
    }
}

/// The hits (term, place, count) of scanning `fields` and of explaining them,
/// which must agree.
type Places = Vec<(String, usize, usize, u32)>;
fn scanned_and_explained<S: AsRef<str>>(rs: &Ruleset, fields: &[S]) -> (Places, Places) {
    let place = |hits: &[wordwarden::ruleset::Hit<'_>]| -> Places {
        hits.iter()
            .map(|h| (h.term().to_string(), h.start, h.end, h.count))
            .collect()
    };
    let scanned = place(&rs.scanner().scan(fields).hits);
    let (explained, _) = rs.scanner().explain(fields);
    (scanned, place(&explained.hits))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn hit_spans_are_exact_char_boundaries(text in "[内幕消息老鼠仓二色情特转账户小溪边sabcdxyKEY1380@$!.\\-* 　\u{200B}😀ａｂｃ內\u{202E}\u{202C}\n5lO]{0,40}") {
        let rs = props_ruleset();
        for h in rs.find(&text) {
            prop_assert!(h.start <= h.end && h.end <= text.len());
            prop_assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
            prop_assert!(text.get(h.start..h.end).is_some());
            let _ = h.evasions(&text);
        }
        // explaining finds what scanning finds, overrides and all, in every
        // kind of conversation
        for audience in Audience::ALL {
            let scanned: Vec<_> = rs.scanner().scan_for(&[&text], audience).hits.iter().map(|h| (h.term().to_string(), h.start, h.end, h.count)).collect();
            let (explained, _) = rs.scanner().explain_for(&[&text], audience);
            let explained: Vec<_> = explained.hits.iter().map(|h| (h.term().to_string(), h.start, h.end, h.count)).collect();
            prop_assert_eq!(scanned, explained);
        }
    }

    /// A term with some of its letters written as the symbols that stand
    /// for them (no more symbols than letters, none of three in a row, no
    /// `!` first or last, no `@` first) is found where it is written,
    /// whatever is around.
    #[test]
    fn a_term_with_symbols_for_letters_is_found(
        pick in 0usize..3,
        swaps in proptest::collection::vec(any::<bool>(), 7),
        before in "[内幕a-z1 *。!@$]{0,6}",
        after in "[消息a-z1 *。!@$]{0,6}",
    ) {
        let rs = ruleset(&[("a.txt", "shit\nasshole\nsession\n")]);
        let term = ["shit", "asshole", "session"][pick];
        let mut word: Vec<char> = term.chars().collect();
        let last = word.len() - 1;
        let mut symbols = 0;
        for (i, swap) in swaps.iter().enumerate().take(word.len()) {
            let symbol = match word[i] {
                's' => '$',
                'a' if i != 0 => '@',
                'i' if i != 0 && i != last => '!',
                _ => continue,
            };
            let in_a_row = i >= 2 && !word[i - 1].is_ascii_alphabetic() && !word[i - 2].is_ascii_alphabetic();
            if *swap && !in_a_row && 2 * (symbols + 1) <= word.len() {
                word[i] = symbol;
                symbols += 1;
            }
        }
        let word: String = word.into_iter().collect();
        let text = format!("{before} {word} {after}");
        let at = before.len() + 1;
        let found = rs.find(&text);
        // (stretch may take in a letter before or after: `s shit`); a hit
        // is its rule's first place, so where `before` holds the term too
        // (`s**t`, its masked form), the word is the hit's second place
        let at_word = |h: &wordwarden::ruleset::Hit<'_>| h.start <= at && at + word.len() <= h.end;
        let before_word = |h: &wordwarden::ruleset::Hit<'_>| h.end <= at && h.count >= 2;
        prop_assert!(
            found.iter().any(|h| h.term() == term && (at_word(h) || before_word(h))),
            "{:?}: {:?}", text, found.iter().map(|h| (h.term(), h.start, h.end, h.count)).collect::<Vec<_>>()
        );
    }

    /// A list with `#! audience: external` is, among colleagues, as if it
    /// held only its allow phrases (which apply to every list), and in any
    /// other conversation as if it had no directive.
    #[test]
    fn a_list_for_external_conversations_is_left_out_among_colleagues(
        text in "[内幕消息老鼠仓特色情转账户sbabcdxy1380@.\\-* 　內]{0,40}",
        audience in proptest::sample::select(Audience::ALL.to_vec()),
    ) {
        let any = "内幕消息\nsb\n色情\n转账 & 账户\n";
        let watched = "内幕消息\n老鼠仓 & 账户 ~ 转账\nre:x+y\n@cn_mobile\nabcd\n!特色情\n";
        let scoped = ruleset(&[("a.txt", any), ("b.txt", &format!("#! audience: external\n{watched}"))]);
        let reference = match audience {
            Audience::Internal => ruleset(&[("a.txt", any), ("b.txt", "!特色情\n")]),
            _ => ruleset(&[("a.txt", any), ("b.txt", watched)]),
        };
        let found = |rs: &Ruleset| -> Vec<(String, String, usize, usize, u32)> {
            rs.scanner()
                .scan_for(&[&text], audience)
                .hits
                .iter()
                .map(|h| (h.term().to_string(), h.category().to_string(), h.start, h.end, h.count))
                .collect()
        };
        prop_assert_eq!(found(&scoped), found(&reference));
    }

    /// A list with `#! people:` is, for a message of other people, as if
    /// it held only its allow phrases, and for its own people's messages,
    /// or a message naming no one, as if it had no directive. The sender and
    /// recipients are drawn from both groups' members (in any ASCII case)
    /// and outsiders of both.
    #[test]
    fn a_list_for_some_peoples_messages_is_left_out_for_others(
        // (a term of the scoped list in every text: chance seldom writes one)
        text in "[内幕消息老鼠仓特色情转账户sbabcdxy1380@.\\-* 　內]{0,20}\
                 (内幕消息|abcd|老鼠仓的账户|13812345678|特色情)\
                 [内幕消息老鼠仓特色情转账户sbabcdxy1380@.\\-* 　內]{0,20}",
        scope in proptest::collection::vec(proptest::sample::select(vec![
            "sender ibd", "participant ibd", "between ibd research", "between ibd ibd",
            "not sender research", "not participant ibd", "not between ibd research",
        ]), 1..3),
        sender in proptest::option::of(proptest::sample::select(vec![
            "zhangwei", "ZhangWei", "lina", "wangfang", "",
        ])),
        recipients in proptest::collection::vec(
            proptest::sample::select(vec!["zhangwei", "qian", "LINA", "wangfang"]), 0..3,
        ),
        named in any::<bool>(),
    ) {
        let any = "内幕消息\nsb\n色情\n转账 & 账户\n";
        let watched = "内幕消息\n老鼠仓 & 账户 ~ 转账\nre:x+y\n@cn_mobile\nabcd\n!特色情\n";
        let groups = [("ibd.people", "zhangwei\nqian\n"), ("research.people", "lina\n")];
        let directives: String = scope.iter().map(|s| format!("#! people: {s}\n")).collect();
        let scoped_file = format!("{directives}{watched}");
        let scoped = ruleset(&[groups[0], groups[1], ("a.txt", any), ("b.txt", &scoped_file)]);
        let audience = if named { Audience::Internal } else { Audience::Unknown };
        let conversation = scoped.conversation(audience, sender, recipients.iter().copied());
        // the scope's meaning, written out again over plain sets
        let ibd = |id: &str| ["zhangwei", "qian"].contains(&id.to_ascii_lowercase().as_str());
        let research = |id: &str| id.eq_ignore_ascii_case("lina");
        let from = sender.unwrap_or_default();
        let to_ibd = recipients.iter().any(|r| ibd(r));
        let to_research = recipients.iter().any(|r| research(r));
        let holds = |line: &str| {
            let (not, line) = match line.strip_prefix("not ") {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            not != match line {
                "sender ibd" => ibd(from),
                "sender research" => research(from),
                "participant ibd" => ibd(from) || to_ibd,
                "between ibd research" => (ibd(from) && to_research) || (research(from) && to_ibd),
                "between ibd ibd" => ibd(from) && to_ibd,
                other => panic!("{other}"),
            }
        };
        let watches = !named || scope.iter().all(|line| holds(line));
        let reference = if watches {
            ruleset(&[("a.txt", any), ("b.txt", watched)])
        } else {
            ruleset(&[("a.txt", any), ("b.txt", "!特色情\n")])
        };
        let found = |rs: &Ruleset, conversation: wordwarden::people::Conversation| {
            rs.scanner()
                .scan_for(&[&text], conversation)
                .hits
                .iter()
                .map(|h| (h.term().to_string(), h.category().to_string(), h.start, h.end, h.count))
                .collect::<Vec<_>>()
        };
        prop_assert_eq!(found(&scoped, conversation), found(&reference, audience.into()));
    }

    #[test]
    fn nothing_panics_on_any_string(text in any::<String>()) {
        let rs = props_ruleset();
        for h in rs.find(&text) {
            prop_assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
        }
    }

    /// Word lists are maintainers' input: whatever a file holds, compiling,
    /// linting and scanning with it give a ruleset or diagnostics, never a
    /// panic. Lines are pieced together from the format's syntax (directives,
    /// allow phrases, regexes, detectors, combinations) and stray bytes.
    #[test]
    fn nothing_panics_on_any_word_list(
        lines in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec![
                        "#! severity: ", "#! match: exact", "#! match: ", "#! pinyin: off", "#! pinyin: initials",
                        "#! description: ", "high", "bogus", "!", "re:", "@cn_mobile", "@", " & ",
                        "near:", "near:3 ", "near:0 ", "#! audience: external", "#! audience: ",
                        "#! people: between g g", "#! people: sender ", "#! people: sender g",
                        " ~ ", "&", "~", "(", ")", "[", "]", "*", "+", "?", "{9999}", "\\",
                        "(?-i:", "内幕", "二二", "的的", "ａ", "A", "x", " ", "\t", "\u{200B}",
                        "😀", "#", "內", "卐",
                    ]).prop_map(|s| s.as_bytes().to_vec()),
                    proptest::collection::vec(any::<u8>(), 1..4),
                ],
                0..8,
            ).prop_map(|parts| parts.concat()),
            0..12,
        ),
        exact in any::<bool>(),
    ) {
        let mut text = lines.join(&b'\n');
        if exact {
            text.splice(0..0, b"#! match: exact\n".iter().copied());
        }
        let lists = WordListSet::from_sources(vec![
            ("a.txt".into(), text),
            ("b.txt".into(), "内幕\n!特\n".as_bytes().to_vec()),
            ("g.people".into(), "zhangwei\n".as_bytes().to_vec()),
        ]);
        let builder = Ruleset::builder();
        let _ = wordwarden::lint::lint(&lists, &builder);
        if let Ok(rs) = builder.build(&lists) {
            for probe in ["内幕消息", "二二的的 x ａ", "", "13800138000 A*B"] {
                for h in rs.find(probe) {
                    prop_assert!(probe.is_char_boundary(h.start) && probe.is_char_boundary(h.end));
                }
            }
        }
    }

    #[test]
    fn folding_already_folded_text_changes_nothing(text in any::<String>()) {
        let once = wordwarden::fold::fold_term(&text);
        prop_assert_eq!(wordwarden::fold::fold_term(&once), once);
    }

    /// A text with some of its pieces percent-encoded finds the terms the
    /// text finds, each span on the text's own character boundaries.
    #[test]
    fn percent_encoded_pieces_find_what_the_text_finds(
        pieces in proptest::collection::vec(("[内幕消息老鼠仓二色情特账户转]{1,6}", any::<bool>()), 1..6),
    ) {
        let rs = props_ruleset();
        let plain: String = pieces.iter().map(|(p, _)| p.as_str()).collect();
        let written: String = pieces
            .iter()
            .map(|(p, escaped)| match escaped {
                true => percent_encoding::utf8_percent_encode(p, percent_encoding::NON_ALPHANUMERIC).to_string(),
                false => p.clone(),
            })
            .collect();
        let mut found = terms(&rs, &written);
        let mut expected = terms(&rs, &plain);
        found.sort();
        expected.sort();
        prop_assert_eq!(found, expected, "{}", written);
        for h in rs.find(&written) {
            prop_assert!(written.is_char_boundary(h.start) && written.is_char_boundary(h.end));
            let _ = h.evasions(&written);
        }
        // explaining finds what scanning finds
        let (scanned, explained) = scanned_and_explained(&rs, &[&written]);
        prop_assert_eq!(scanned, explained);
    }

    /// A text with one to three digits between some of its Chinese
    /// characters finds the terms of three characters or more the text
    /// finds, each tagged `digits_between` where it holds some, and
    /// explaining finds what scanning finds.
    #[test]
    fn digits_between_characters_find_what_the_text_finds(
        text in "[内幕消息老鼠仓二色情特账户转]{1,12}",
        fillers in proptest::collection::vec(("[0-9０-９]{1,3}", any::<bool>()), 12),
    ) {
        let rs = props_ruleset();
        let mut written = String::new();
        for (c, (digits, put)) in text.chars().zip(&fillers) {
            if *put && !written.is_empty() {
                written.push_str(digits);
            }
            written.push(c);
        }
        // (terms only: a combination's parts may be two characters each)
        let long = |text: &str| -> Vec<String> {
            let mut terms: Vec<String> = rs
                .find(text)
                .iter()
                .filter(|h| h.rule().kind == wordwarden::ruleset::RuleKind::Term)
                .map(|h| h.term().to_string())
                .filter(|t| t.chars().count() >= 3)
                .collect();
            terms.sort();
            terms
        };
        prop_assert_eq!(long(&written), long(&text), "{}", written);
        for h in rs.find(&written) {
            prop_assert!(written.is_char_boundary(h.start) && written.is_char_boundary(h.end));
            // (a combination's hit spans its parts and what lies between)
            let term = h.rule().kind == wordwarden::ruleset::RuleKind::Term;
            let holds_digits = written[h.start..h.end].chars().any(|c| c.is_numeric());
            let evasions = h.evasions(&written);
            prop_assert_eq!(evasions.contains(&Evasion::DigitsBetween), term && holds_digits, "{}", written);
        }
        let (scanned, explained) = scanned_and_explained(&rs, &[&written]);
        prop_assert_eq!(scanned, explained);
    }

    /// Scanning, which walks a field in which only allow phrases and a
    /// combination's lesser parts occur only when the message needs them,
    /// finds what explaining, which walks every field in full, finds.
    #[test]
    fn quiet_patterns_change_nothing_that_is_reported(
        fields in proptest::collection::vec(
            proptest::collection::vec(
                proptest::sample::select(vec![
                    "用", "这个", "signal", "s1gnal", "发到", "私人邮箱", "私1人2邮3箱",
                    "内幕", "消息", "内幕消息", "内幕消息培训", "培训", "别外传", "密码",
                    "股票", "sh!t", "shit", "happens", " ", "，", "8",
                ]),
                0..8,
            ),
            1..4,
        ),
    ) {
        let rs = ruleset(&[
            ("off.txt", "用 & signal\nnear:12 发到 & 私人邮箱\nnear:20 股票 & 别外传 ~ 密码\n"),
            ("insider.txt", "内幕消息\n!内幕消息培训\n"),
            ("abuse.txt", "shit\n!sh!t happens\n"),
        ]);
        let fields: Vec<String> = fields.iter().map(|f| f.concat()).collect();
        let (scanned, explained) = scanned_and_explained(&rs, &fields);
        prop_assert_eq!(scanned, explained, "{:?}", fields);
    }

    /// A message sent in pieces of a few characters, by one sender, in
    /// order: every term the whole message holds is reported on some
    /// piece, whole in one or split across several (`split_from`), and
    /// judging in order never panics.
    #[test]
    fn a_message_sent_in_pieces_alerts_every_term_it_holds(
        text in "[内幕消息老鼠仓二色情特sb *]{1,24}",
        cuts in proptest::collection::vec(1usize..5, 8),
    ) {
        use wordwarden::envelope::InputFormat;
        use wordwarden::judge::Judge;
        use wordwarden::split::SplitOptions;
        let rs = ruleset(&[("a.txt", "内幕\n内幕消息\n老鼠仓\nsb\n二二\n色情\n")]);
        // pieces of 1-4 characters, at most 8 (a run keeps 8)
        let chars: Vec<char> = text.chars().collect();
        let mut pieces: Vec<String> = Vec::new();
        let mut at = 0;
        for n in cuts {
            if at >= chars.len() {
                break;
            }
            let end = (at + n).min(chars.len());
            pieces.push(chars[at..end].iter().collect());
            at = end;
        }
        let whole: String = pieces.concat();
        let judge = Judge::new(InputFormat::wecom()).split_messages(Some(SplitOptions::default()));
        let mut window = judge.memory();
        let mut scanner = rs.scanner();
        let mut reported = std::collections::BTreeSet::new();
        for (i, piece) in pieces.iter().enumerate() {
            let rec = serde_json::json!({"msgid": format!("m{i}"), "from": "li", "tolist": ["wang"],
                "msgtime": 1_764_000_000_000u64 + i as u64, "msgtype": "text", "text": {"content": piece}});
            let j = judge.judge_next(&rs, &mut scanner, &mut window, rec.to_string().as_bytes(),
                Default::default(), "x", None);
            if let Some(a) = j.alert {
                for h in &a.hits {
                    if h.field.as_deref() == Some("#split") {
                        prop_assert!(!a.split_from.is_empty());
                        prop_assert!(h.evasions.contains(&wordwarden::evasion::Evasion::SplitMessages));
                    }
                    reported.insert(h.term.clone());
                }
            }
        }
        let held: std::collections::BTreeSet<String> =
            rs.find(&whole).iter().map(|h| h.term().to_string()).collect();
        prop_assert!(held.is_subset(&reported), "{whole:?} in {pieces:?}: {held:?} held, {reported:?} reported");
    }
}

#[test]
fn pinyin_variants_for_short_chinese_terms_only() {
    let rs = ruleset(&[("a.txt", "内幕\n内幕消息\n内部资料外传\n")]);
    assert_eq!(terms(&rs, "有neimu"), vec!["内幕"]);
    assert_eq!(terms(&rs, "Nei Mu Xiao Xi"), vec!["内幕", "内幕消息"]);
    // six characters: no pinyin variant
    assert!(terms(&rs, "neibuziliaowaichuan").is_empty());
    // pinyin needs word boundaries like any ASCII term
    assert!(terms(&rs, "sneimus").is_empty());
    let rs = ruleset(&[("a.txt", "#! pinyin: off\n内幕\n")]);
    assert!(terms(&rs, "neimu").is_empty());
    assert_eq!(terms(&rs, "内幕"), vec!["内幕"]);
}

#[test]
fn pinyin_variants_read_polyphonic_characters_as_words_do() {
    let rs = ruleset(&[("a.txt", "银行\n长线\n还款\n重仓\n调仓\n行长\n内幕\n")]);
    for (pinyin, term) in [
        // the reading the word takes, and the character's most common one
        ("yinhang", "银行"),
        ("yinxing", "银行"),
        ("changxian", "长线"),
        ("zhangxian", "长线"),
        ("huankuan", "还款"),
        ("chongcang", "重仓"),
        ("zhongcang", "重仓"),
        ("tiaocang", "调仓"),
        ("hangzhang", "行长"),
    ] {
        assert_eq!(terms(&rs, pinyin), vec![term], "{pinyin}");
    }
    // readings no word in use takes are no keys (内 as `rui`, 幕 as `man`),
    // nor two characters read the uncommon way at once
    for nothing in ["ruimu", "neiman", "hangchang"] {
        assert!(terms(&rs, nothing).is_empty(), "{nothing}");
    }
}

#[test]
fn mixed_pinyin_matches_terms_written_half_in_pinyin() {
    let rs = ruleset(&[("a.txt", "#! pinyin: mixed\n内幕消息\n老鼠仓\n银行\n")]);
    for (text, term) in [
        ("有内幕xiaoxi吗", "内幕消息"),
        ("neimu消息", "内幕消息"),
        ("内mu消xi", "内幕消息"),
        ("nei幕xiao息", "内幕消息"),
        ("內幕 xiao xi", "内幕消息"), // traditional, noise between
        ("neimuxiaoxi", "内幕消息"),  // the whole term, as with `on`
        ("lao鼠仓", "老鼠仓"),
        ("老鼠cang的事", "老鼠仓"),
        ("去银hang", "银行"), // another reading, mixed
    ] {
        assert_eq!(terms(&rs, text), vec![term], "{text}");
    }
    // an end in pinyin needs a word boundary there, as any ASCII term
    for nothing in ["xlao鼠仓", "老鼠cangku", "内幕xiaoxin"] {
        assert!(terms(&rs, nothing).is_empty(), "{nothing}");
    }
    // the default (`on`) matches the whole term in pinyin only
    let rs = ruleset(&[("a.txt", "内幕消息\n")]);
    assert!(terms(&rs, "内幕xiaoxi").is_empty());
    assert_eq!(terms(&rs, "neimuxiaoxi"), vec!["内幕消息"]);
}

/// `#! pinyin: initials` also matches a term of three or four characters
/// abbreviated to its initials, as a word of its own, in any case or width;
/// never two characters' initials, and never without the directive.
#[test]
fn pinyin_initials_match_terms_abbreviated() {
    let rs = ruleset(&[(
        "a.txt",
        "#! pinyin: initials\n内幕消息\n他妈的\n银行长\n傻逼\n",
    )]);
    for (text, term) in [
        ("有nmxx吗", "内幕消息"),
        ("NMXX", "内幕消息"),
        ("ｎｍｘｘ", "内幕消息"),     // full width
        ("n.m.x.x 给你", "内幕消息"), // separated
        ("neimuxiaoxi", "内幕消息"),  // the whole term, as with `on`
        ("tmd 又加班", "他妈的"),
        ("yhz说的", "银行长"), // another reading's initials
        ("yxz说的", "银行长"),
    ] {
        assert_eq!(terms(&rs, text), vec![term], "{text}");
    }
    // a word of their own only; two characters' initials are no variant
    for nothing in ["nmxxyz", "nmx", "htmd", "sb", "内幕xiaoxi"] {
        assert!(terms(&rs, nothing).is_empty(), "{nothing}");
    }
    let rs = ruleset(&[("a.txt", "内幕消息\n")]);
    assert!(terms(&rs, "nmxx").is_empty());
}

/// Allow phrases and a combination's parts but its first (the longest)
/// report nothing on their own, so a field in which only they occur is
/// walked in full only when the message holds something they bear on: they
/// still count wherever it does, in another field or another reading of
/// the same field.
#[test]
fn quiet_parts_and_allow_phrases_count_wherever_the_message_needs_them() {
    let rs = ruleset(&[
        ("off.txt", "用 & signal\nnear:12 发到 & 私人邮箱\n"),
        ("abuse.txt", "shit\n!sh!t happens\n"),
    ]);
    // the first part in another field, before or after the rare one
    for fields in [["用这个", "换 signal 聊"], ["换 signal 聊", "用这个"]] {
        let found = rs.scan_fields(&fields);
        assert_eq!(found.hits.len(), 1, "{fields:?}");
        assert_eq!(found.hits[0].term(), "用 & signal");
    }
    assert!(rs.scan_fields(&["用这个", "会议纪要"]).hits.is_empty());
    // the rare part found only in another reading of the field (digits
    // between its characters), the common one as written
    assert_eq!(terms(&rs, "发到 私1人2邮3箱"), ["near:12 发到 & 私人邮箱"]);
    // an allow phrase as written takes away a hit another reading found
    // (symbols as letters: `sh!t` read `shit`)
    assert!(terms(&rs, "well, sh!t happens").is_empty());
    assert_eq!(terms(&rs, "oh sh!t"), ["shit"]);
    // explain still shows a lone part
    let (found, cands) = rs.scanner().explain(&["用这个"]);
    assert!(found.hits.is_empty());
    assert!(
        cands
            .iter()
            .any(|c| c.verdict == wordwarden::ruleset::Verdict::CombinationPart),
        "{cands:?}"
    );
}

#[test]
fn combinations_see_all_fields_of_one_record() {
    let rs = ruleset(&[("deal.txt", "转账 & 私人账户\n")]);
    let f = rs.scan_fields(&["请尽快转账", "账号是我私人账户"]);
    assert_eq!(f.hits.len(), 1);
    assert_eq!(f.hits[0].term(), "转账 & 私人账户");
    // a single field with only one part does not fire
    assert!(rs.scan_fields(&["请尽快转账", "会议纪要"]).hits.is_empty());
}

/// The credential detectors fire on secrets as people paste them into chat,
/// and stay quiet on the tech talk around them: links, clone commands,
/// words that start like a key, tokens shaped right but invented.
#[test]
fn credentials_fire_on_secrets_and_not_on_tech_talk() {
    let rs = ruleset(&[(
        "secrets/credentials.txt",
        "@private_key\n@access_key\n@api_token\n@jwt\n@url_password\n@webhook\n@password\n",
    )]);
    for (text, term) in [
        ("把这个key给你 -----BEGIN OPENSSH PRIVATE KEY-----", "@private_key"),
        ("AK：LTAI5tHk2pQm8RxVb3NcWd7e，SK 私聊发你", "@access_key"),
        ("aws_access_key_id=AKIAZ7VRSQ5TLEXAMPLF", "@access_key"),
        ("临时用我的 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", "@api_token"),
        ("生产库：mysql://root:Zx9!kq2@10.1.2.3:3306", "@url_password"),
        ("跳板机 root 密码：Qwe@1234，用完就改", "@password"),
        (
            "告警发这个群 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-2c5b8e7d1a40",
            "@webhook",
        ),
    ] {
        assert_eq!(terms(&rs, text), [term], "{text}");
    }
    for text in [
        "git clone https://github.com/example/repo.git",
        "代码在 https://gitlab.example.com/team/app/-/merge_requests/42",
        "ASIAN markets opened higher, AKIAS is a name",
        "这是 risk-free 的 desk-top 方案",
        "pip install scikit-learn；sk-learn 是简称",
        "公钥贴一下 -----BEGIN PUBLIC KEY-----",
        "ghp_Ky8Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL",
        "https://alice@wiki.example.com/page",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
        "eyJhbGciOiJIUzI1NiJ9 是 base64 的开头",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY",
        "密码是多少？我又忘了密码",
        "password: required; passwords expire in 90 days",
        "pwd: /home/alice",
    ] {
        assert!(!fires(&rs, text), "should not fire: {text}");
    }
}

/// Numbers written to get past a filter, or formatted with a dash between
/// spaces, are found; the numeric text of work chat around them is not:
/// addresses, versions, dates, prices, lists, paths, tags and table
/// columns of small numbers, over every shape a seeded generator makes.
#[test]
fn unionpay_numbers_without_luhn_need_a_word_for_a_card() {
    let rs = ruleset(&[("pii.txt", "@bank_card\n")]);
    // 62…, 16-19 digits, failing Luhn: a card where a word names one
    for text in [
        "我的银行卡号是6222021234567890123",
        "卡号：6222 0212 3456 7890 123",
        "6217000010012345678 这张借记卡",
        "Card no. 6212261202011584349",
        "收款账号 6217000010012345",
    ] {
        assert_eq!(terms(&rs, text), ["@bank_card"], "{text}");
    }
    for text in [
        // no word for a card, or too far from it
        "订单号 6222021234567890123",
        "银行卡的事情我们改天再说吧，今天先不聊了，流水号 6222021234567890123",
        // not UnionPay's shape
        "卡号 6322021234567890123",
        "卡号 622202123456789",
        // a card's blocks are fours but the last
        "卡号 622 2021 2345 6789 0123",
    ] {
        assert!(!fires(&rs, text), "should not fire: {text}");
    }
}

#[test]
fn numbers_spelled_out_fire_and_numeric_chat_does_not() {
    let rs = ruleset(&[("pii.txt", "@cn_mobile\n@cn_id_card\n@bank_card\n")]);
    for text in [
        "电话 138 - 1234 - 5678",
        "加我 1*3*8*1*2*3*4*5*6*7*8",
        "vx：1.3.8.1.2.3.4.5.6.7.8",
        "号码 1_3_9_1_2_3_4_5_6_7_8 别外传",
        "vx：138.1234.5678 谢谢",
        "号码138_1234_5678",
    ] {
        assert_eq!(terms(&rs, text), ["@cn_mobile"], "{text}");
    }
    assert_eq!(terms(&rs, "身份证 110105.19491231.002X"), ["@cn_id_card"]);
    assert_eq!(terms(&rs, "卡号 6222.0212.3456.7890.128"), ["@bank_card"]);
    // blocks between separators only in a number's usual shapes, one
    // separator throughout: a masked number, mixed or doubled separators
    // and other shapes are none
    for text in [
        "138****5678",
        "138*1234.5678",
        "138..1234..5678",
        "1381.234.5678",
        "13_8123_45678",
        "IMG_158_7721_8517_9.jpg",
        // `*` between blocks is a product (a panel's size in millimetres)
        "尺寸 150*1200*2400 毫米",
        "138*1234*5678",
    ] {
        assert!(!fires(&rs, text), "should not fire: {text}");
    }
    // the shapes of the numeric text people write, 2,500 of each, from a
    // small deterministic generator (xorshift: no dependency)
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for i in 0..20_000 {
        let digits = |next: &mut dyn FnMut(u64) -> u64, sep: &str, count: u64| {
            (0..count)
                .map(|_| next(10).to_string())
                .collect::<Vec<_>>()
                .join(sep)
        };
        let text = match i % 12 {
            0 => format!(
                "服务器 {}.{}.{}.{} 挂了",
                1 + next(223),
                next(256),
                next(256),
                next(256)
            ),
            1 => format!("版本 {}.{}.{} 发布", next(10), next(10), next(30)),
            2 => format!("{}.{}.{} 开会", 2000 + next(30), 1 + next(12), 1 + next(31)),
            3 => {
                let n = 3 + next(10);
                format!("第{}条", digits(&mut next, "、", n))
            }
            4 => {
                let n = 3 + next(10);
                format!("路径 /{}", digits(&mut next, "/", n))
            }
            5 => {
                let n = 3 + next(8);
                format!("编号 {}", digits(&mut next, ".", n))
            }
            6 => format!("单价 {}.{:02} 元", 1 + next(99_999), next(100)),
            // identifiers and dotted numbers of many-digit parts
            8 => {
                let parts: Vec<String> = (0..2 + next(4))
                    .map(|_| {
                        let width = 1 + next(5) as u32;
                        next(10u64.pow(width)).to_string()
                    })
                    .collect();
                format!("文件 IMG_{}.jpg", parts.join("_"))
            }
            9 => {
                let parts: Vec<String> = (0..3 + next(6))
                    .map(|_| (1 + next(400)).to_string())
                    .collect();
                format!("OID {}", parts.join("."))
            }
            10 => format!("合计 {}.{} 元", next(10u64.pow(9)), next(100)),
            11 => {
                let parts: Vec<String> = (0..2 + next(3))
                    .map(|_| (1 + next(9_999)).to_string())
                    .collect();
                format!("算式 {} = ?", parts.join("*"))
            }
            _ => {
                let cells: Vec<String> = (0..3 + next(6))
                    .map(|_| (1 + next(9_999)).to_string())
                    .collect();
                format!("表格 {}", cells.join("  "))
            }
        };
        assert!(!fires(&rs, &text), "should not fire: {text}");
    }
}
