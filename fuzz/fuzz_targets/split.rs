//! Messages judged in order with a stream memory: any texts, senders and
//! times give alerts without panicking, each hit found across messages
//! tagged and naming the messages before, each bulk threshold reached over
//! time raising its list's hits, each withdrawal of an alerting message
//! alerting with that message's alert, and the memory stays bounded.
//! The input is messages a line: a byte for the sender and recipient
//! (its high bit: a message read again), a byte for the seconds since the
//! one before, then the text; a text of 0x7F and a byte `back` is a WeCom
//! `revoke` record withdrawing the message `back` lines before.
#![no_main]
use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wordwarden::envelope::InputFormat;
use wordwarden::evasion::Evasion;
use wordwarden::judge::{Judge, SPLIT_FIELD};
use wordwarden::lists::WordListSet;
use wordwarden::ruleset::Ruleset;
use wordwarden::split::SplitOptions;

fn ruleset() -> &'static Ruleset {
    static RULESET: OnceLock<Ruleset> = OnceLock::new();
    RULESET.get_or_init(|| {
        let lists = WordListSet::from_sources(vec![
            (
                "a.txt".into(),
                "内幕\n内幕消息\n老鼠仓\nsb\nshit\n二二\n@cn_mobile\n!特色情\n色情\n".into(),
            ),
            (
                "pii.txt".into(),
                "#! severity: low\n#! bulk: 3 critical within 1m\n@email\n@cn_id_card\n".into(),
            ),
            (
                "ids.txt".into(),
                "#! severity: low\n#! bulk: 2 high within 1m across conversations\n\
                 @cn_travel_permit\n@cn_passport\n@bank_card\n"
                    .into(),
            ),
        ]);
        Ruleset::builder().build(&lists).expect("compiles")
    })
}

fuzz_target!(|data: &[u8]| {
    let rs = ruleset();
    let options = SplitOptions {
        max_speakers: 2,
        ..Default::default()
    };
    let judge = Judge::new(InputFormat::wecom())
        .split_messages(Some(options))
        .bulk_tally_values(4)
        .remembered_alerts(3);
    // each message's last alert, the line that raised it, and its sender
    let mut alerted: HashMap<String, (String, usize, String)> = HashMap::new();
    let mut memory = judge.memory();
    let mut scanner = rs.scanner();
    let mut at = 1_764_000_000_000i64;
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let [who, pause, text @ ..] = line else {
            continue;
        };
        at += i64::from(*pause) * 1000;
        // a sender byte with its high bit set reads an earlier message
        // again, as after an aborted transaction
        let id = if who & 0x80 != 0 { i / 2 } else { i };
        // the sender's recipient, one of three: values sent to several count
        // together only for the list counting across conversations
        let to = format!("peer{}", (who >> 2) % 3);
        let msgid = format!("m{id}");
        let (from, tolist) = (format!("u{}", who % 3), [to]);
        let withdraws = match text {
            [0x7f, back] => Some(format!("m{}", i.saturating_sub(usize::from(*back)))),
            _ => None,
        };
        let rec = match &withdraws {
            Some(pre_msgid) => serde_json::json!({"msgid": msgid, "from": from, "tolist": tolist,
                "msgtime": at, "msgtype": "revoke", "revoke": {"pre_msgid": pre_msgid}}),
            None => serde_json::json!({"msgid": msgid, "from": from, "tolist": tolist,
                "msgtime": at, "msgtype": "text",
                "text": {"content": String::from_utf8_lossy(text)}}),
        };
        let bytes = rec.to_string();
        let j = judge.judge_next(
            rs,
            &mut scanner,
            &mut memory,
            bytes.as_bytes(),
            Default::default(),
            "x",
            None,
        );
        assert!(memory.runs().is_some_and(|w| w.speakers() <= 2));
        assert!(memory.tally().values_held() <= 4);
        assert!(memory.alerted().len() <= 3);
        if let Some(named) = &withdraws {
            // the line just before alerted: the newest alerting message is
            // always remembered
            let newest = alerted
                .get(named)
                .is_some_and(|(_, line, _)| *line + 1 == i);
            assert!(!newest || j.alert.is_some(), "{named} withdrawn unnoticed");
            let Some(alert) = j.alert else { continue };
            let withdrawn = alert
                .withdrawn
                .as_ref()
                .expect("a withdrawal's alert says so");
            assert_eq!(&withdrawn.msgid, named);
            assert_eq!(
                Some(&withdrawn.alert_id),
                alerted.get(named).map(|(id, _, _)| id)
            );
            // named where someone other than its sender withdrew it
            let sender = alerted.get(named).map(|(_, _, sender)| sender);
            assert_eq!(
                withdrawn.sender.as_ref(),
                sender.filter(|&sender| *sender != from)
            );
            assert_eq!(alert.source["msgid"], msgid.as_str());
            assert!(alert.snippet.is_empty() && alert.split_from.is_empty());
            assert!(!alert.hits.is_empty() && alert.hits.iter().all(|h| h.matched.is_empty()));
            continue;
        }
        if let Some(alert) = j.alert {
            assert!(alert.withdrawn.is_none());
            alerted.insert(msgid, (alert.alert_id.clone(), i, from));
            for b in &alert.bulk {
                let reached = b.values >= b.at_least;
                let raised = alert
                    .hits
                    .iter()
                    .filter(|h| h.category == b.category)
                    .filter(|h| h.field.as_deref() != Some(SPLIT_FIELD))
                    .all(|h| h.severity == b.severity);
                assert_eq!(reached, raised, "{b:?}");
            }
            for h in &alert.hits {
                if h.field.as_deref() == Some(SPLIT_FIELD) {
                    assert!(h.evasions.contains(&Evasion::SplitMessages));
                    assert!(!alert.split_from.is_empty());
                    assert!(h.start < h.end);
                }
            }
        }
    }
});
