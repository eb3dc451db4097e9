//! `--input-format wecom` and `--input-format json` against `--input-format
//! text` on the same message texts: the cost of decoding records (JSON parse,
//! the walker, the pointers) on top of scanning. Full judge path for each
//! (decode, fold, match, alert), best of 5, one process. Then decoding alone:
//! the `json` format's one-pass reader against parsing each message into a
//! `serde_json::Value` and reading the pointer there (what the format did
//! before). Last, what telling a message's audience costs (`#! audience:
//! external`): the bundled lists, which have such a list, against the same
//! lists without the directive, on group-chat records of 20 recipients.
//! Then what looking for terms split across messages costs: records a
//! quarter of them short replies, judged in order with a split window
//! against each alone. `cargo bench --bench wecom`.

mod corpus;

use std::hint::black_box;
use std::time::{Duration, Instant};

use corpus::{bundled_sources, list_set, Gen};
use serde_json::{Map, Value};
use wordwarden::envelope::InputFormat;
use wordwarden::judge::Judge;
use wordwarden::ruleset::{Ruleset, Scanner};

/// The binary's allocator, so the bench measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed());
    }
    best
}

/// The full judge path: how many of `inputs` alert.
fn alerting(judge: &Judge, rs: &Ruleset, scanner: &mut Scanner<'_>, inputs: &[String]) -> usize {
    inputs
        .iter()
        .filter(|m| {
            judge
                .judge(rs, scanner, m.as_bytes(), Map::new(), "x")
                .alert
                .is_some()
        })
        .count()
}

/// The same, in order with one stream memory (runs of short messages,
/// bulk tallies), as an engine consumer judges.
fn alerting_in_order(judge: &Judge, rs: &Ruleset, inputs: &[String]) -> usize {
    let mut memory = judge.memory();
    let mut scanner = rs.scanner();
    inputs
        .iter()
        .filter(|m| {
            let bytes = m.as_bytes();
            let j = judge.judge_next(rs, &mut scanner, &mut memory, bytes, Map::new(), "x", None);
            j.alert.is_some()
        })
        .count()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    wordwarden::fold::warm_up();
    let texts = Gen::new(42).corpus(if quick { 1 << 20 } else { 8 << 20 });
    // the texts as WeCom text records from zhangwei to `tolist`
    let records_to = |tolist: &[String]| -> Vec<String> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                serde_json::json!({
                    "msgid": format!("{}_{}", 7447085704110748058u64 + i as u64, 1732500000 + i),
                    "action": "send", "from": "zhangwei", "tolist": tolist, "roomid": "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
                    "msgtime": 1732500000000u64 + i as u64, "msgtype": "text", "text": {"content": t}
                })
                .to_string()
            })
            .collect()
    };
    let records = records_to(&["lina".to_string()]);
    let plain_json: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({
                "id": format!("m-{i}"), "channel": "sales-east", "from": "zhangwei",
                "to": ["lina", "wangfang"], "ts": 1732500000000u64 + i as u64, "text": t
            })
            .to_string()
        })
        .collect();
    let terms = Gen::new(7).terms(100_000, true);
    let rs = Ruleset::builder()
        .build(&list_set(&terms))
        .expect("compiles");
    let text_judge = Judge::new(InputFormat::Text);
    let wecom_judge = Judge::new(InputFormat::wecom());
    let json_format = InputFormat::json("/text");
    let json_judge = Judge::new(json_format.clone());
    let mut scanner = rs.scanner();
    let runs = if quick { 2 } else { 5 };
    let t_text = best_of(runs, || alerting(&text_judge, &rs, &mut scanner, &texts));
    let t_wecom = best_of(runs, || alerting(&wecom_judge, &rs, &mut scanner, &records));
    let t_json = best_of(runs, || {
        alerting(&json_judge, &rs, &mut scanner, &plain_json)
    });
    let t_decode_value = best_of(runs, || {
        plain_json
            .iter()
            .filter(|r| {
                let Ok(v) = serde_json::from_slice::<Value>(r.as_bytes()) else {
                    return false;
                };
                let id = v.get("id").map(|id| id.to_string());
                matches!(v.pointer("/text"), Some(Value::String(_))) && id.is_some()
            })
            .count()
    });
    let t_decode_pass = best_of(runs, || {
        plain_json
            .iter()
            .filter(|r| {
                wordwarden::envelope::decode(r.as_bytes(), &json_format)
                    .is_ok_and(|m| m.id.is_some())
            })
            .count()
    });
    let n = texts.len() as f64;
    println!("{} messages, 100k-term list, best of {runs}", texts.len());
    println!("text : {:>10.0} messages/s", n / t_text.as_secs_f64());
    println!("wecom: {:>10.0} messages/s", n / t_wecom.as_secs_f64());
    println!("json : {:>10.0} messages/s", n / t_json.as_secs_f64());
    println!(
        "wecom/text ratio: {:.2}",
        t_text.as_secs_f64() / t_wecom.as_secs_f64()
    );
    println!(
        "json/text ratio: {:.2}",
        t_text.as_secs_f64() / t_json.as_secs_f64()
    );
    println!(
        "json decoding alone: one pass {:.0} messages/s, parsed document {:.0} messages/s: {:.2}x",
        n / t_decode_pass.as_secs_f64(),
        n / t_decode_value.as_secs_f64(),
        t_decode_value.as_secs_f64() / t_decode_pass.as_secs_f64()
    );

    // the audience: a list for conversations with outsiders against the
    // same lists without the directive (ids are read for messages with hits)
    let tolist: Vec<String> = (0..20).map(|i| format!("colleague{i:02}")).collect();
    let group_records = records_to(&tolist);
    let directive = "#! audience: external\n";
    let sources = bundled_sources();
    let unscoped_sources: Vec<(String, Vec<u8>)> = sources
        .iter()
        .map(|(p, b)| {
            (
                p.clone(),
                String::from_utf8_lossy(b)
                    .replace(directive, "")
                    .into_bytes(),
            )
        })
        .collect();
    let scoped = Ruleset::builder()
        .build(&wordwarden::lists::WordListSet::from_sources(sources))
        .expect("bundled lists compile");
    let unscoped = Ruleset::builder()
        .build(&wordwarden::lists::WordListSet::from_sources(
            unscoped_sources,
        ))
        .expect("bundled lists compile");
    assert!(scoped.is_scoped() && !unscoped.is_scoped());
    let alerting_with =
        |rs: &Ruleset| alerting(&wecom_judge, rs, &mut rs.scanner(), &group_records);
    // alternating, so a slow phase of the machine falls on both
    let (mut t_scoped, mut t_unscoped) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        t_scoped = t_scoped.min(best_of(1, || alerting_with(&scoped)));
        t_unscoped = t_unscoped.min(best_of(1, || alerting_with(&unscoped)));
    }
    println!(
        "group records, bundled lists: with a list for external conversations {:.0} messages/s, \
         without the directive {:.0}: {:.2}x",
        n / t_scoped.as_secs_f64(),
        n / t_unscoped.as_secs_f64(),
        t_unscoped.as_secs_f64() / t_scoped.as_secs_f64()
    );

    // runs of short messages: the same records, one in four a short reply
    // (`好的`, `收到`, `嗯`) from one of 1,000 senders, judged each alone
    // against judged in order with a split window (the engine's default)
    let replies = ["好的", "收到", "嗯", "ok", "👍", "在吗", "谢谢", "对"];
    let chat: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let text = match i % 4 {
                0 => replies[i / 4 % replies.len()],
                _ => t.as_str(),
            };
            serde_json::json!({
                "msgid": format!("m{i}"), "action": "send", "from": format!("user{}", i % 1000),
                "tolist": [format!("user{}", (i + 1) % 1000)], "roomid": "",
                "msgtime": 1732500000000u64 + i as u64 * 50, "msgtype": "text", "text": {"content": text}
            })
            .to_string()
        })
        .collect();
    let split_judge = Judge::new(InputFormat::wecom())
        .split_messages(Some(wordwarden::split::SplitOptions::default()));
    let (mut t_alone, mut t_split) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        t_alone = t_alone.min(best_of(1, || {
            alerting(&wecom_judge, &rs, &mut scanner, &chat)
        }));
        t_split = t_split.min(best_of(1, || alerting_in_order(&split_judge, &rs, &chat)));
    }
    println!(
        "a quarter short replies: each alone {:.0} messages/s, with split windows {:.0}: {:.2}x",
        n / t_alone.as_secs_f64(),
        n / t_split.as_secs_f64(),
        t_alone.as_secs_f64() / t_split.as_secs_f64()
    );

    // bulk over time: the same chat, one message in ten with a customer's
    // number (from the same 1,000 senders), judged in order against the
    // bundled lists (whose personal-data list counts its values `within
    // 1h`) and against the same lists counting each message alone
    let numbered: Vec<String> = chat
        .iter()
        .enumerate()
        .map(|(i, m)| match i % 10 {
            3 => m.replace(
                "\"text\":{\"content\":\"",
                &format!("\"text\":{{\"content\":\"客户 138{:08} ", i % 100_000_000),
            ),
            _ => m.clone(),
        })
        .collect();
    let timed = Ruleset::builder()
        .build(&wordwarden::lists::WordListSet::from_sources(
            bundled_sources(),
        ))
        .expect("bundled lists compile");
    let untimed_sources: Vec<(String, Vec<u8>)> = bundled_sources()
        .iter()
        .map(|(p, b)| {
            let text = String::from_utf8_lossy(b).replace(" within 1h", "");
            (p.clone(), text.into_bytes())
        })
        .collect();
    let untimed = Ruleset::builder()
        .build(&wordwarden::lists::WordListSet::from_sources(
            untimed_sources,
        ))
        .expect("bundled lists compile");
    let timed_bulk = |b: &wordwarden::lists::Bulk| b.within_secs.is_some();
    assert!(timed.stats().bulk.values().any(timed_bulk));
    assert!(!untimed.stats().bulk.values().any(timed_bulk));
    let in_order = |rs: &Ruleset| alerting_in_order(&wecom_judge, rs, &numbered);
    assert!(in_order(&timed) >= numbered.len() / 10, "the numbers alert");
    let (mut t_untimed, mut t_timed) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        t_untimed = t_untimed.min(best_of(1, || in_order(&untimed)));
        t_timed = t_timed.min(best_of(1, || in_order(&timed)));
    }
    println!(
        "one message in ten with a number, bundled lists: each message's values alone {:.0} \
         messages/s, counted over the sender's hour {:.0}: {:.2}x",
        n / t_untimed.as_secs_f64(),
        n / t_timed.as_secs_f64(),
        t_untimed.as_secs_f64() / t_timed.as_secs_f64()
    );
}
