//! The streaming engine against librdkafka's in-process mock cluster (a real
//! Kafka protocol server on localhost): exact alerts, per-partition order, the
//! dead-letter topic, graceful shutdown, restart from committed offsets and
//! exactly-once mode.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use rdkafka::mocking::MockCluster;
use wordwarden::engine::Delivery;

const IDLE: Duration = Duration::from_millis(1500);

fn mock_with_topics(
    input: &str,
    partitions: i32,
) -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(input, partitions, 1).unwrap();
    mock.create_topic(&format!("{input}.alerts"), 1, 1).unwrap();
    mock.create_topic(&format!("{input}.dlq"), 1, 1).unwrap();
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_alerts_in_partition_order() {
    let mock = mock_with_topics("in1", 3);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let texts: Vec<String> = (0..90)
        .map(|i| match i % 6 {
            0 => format!("第{i}条：把客户名单发我"),
            3 => format!("第{i}条：把客 户 名 单发我"),
            1 | 4 => format!("第{i}条：今天开会"),
            _ => format!("第{i}条：我的电话 13812345678"),
        })
        .collect();
    let engine = Running::fed(config(&brokers, "g1", "in1", lists.path()), &texts, 3).await;
    let metrics = engine.shared.metrics.render();
    engine.stop().await;
    // the 15 written with spaces are counted as such, every other kind at 0
    for kind in wordwarden::evasion::Evasion::ALL {
        let n = if kind.name() == "separators" { 15 } else { 0 };
        let line = format!("wordwarden_evasions_total{{kind=\"{kind}\"}} {n}\n");
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }

    let alerts = read_topic(&brokers, "in1.alerts", false, IDLE);
    assert_eq!(
        alerts.len(),
        60,
        "30 client-list and 30 mobile messages alert"
    );
    let mut last_offset: BTreeMap<i64, i64> = BTreeMap::new();
    for r in &alerts {
        let a = r.json();
        let src = &a["source"];
        let (p, o) = (
            src["partition"].as_i64().unwrap(),
            src["offset"].as_i64().unwrap(),
        );
        // per-partition order of alerts follows the input order
        assert!(
            last_offset.get(&p).is_none_or(|prev| *prev < o),
            "partition {p} out of order"
        );
        last_offset.insert(p, o);
        let hit = &a["hits"][0];
        let text = hit["matched"].as_str().unwrap().to_string();
        let evasions = hit.get("evasions").cloned();
        match text.as_str() {
            "客户名单" | "138****5678" => assert_eq!(evasions, None, "{a}"),
            "客 户 名 单" => assert_eq!(evasions, Some(serde_json::json!(["separators"]))),
            _ => panic!("{text}"),
        }
        assert_eq!(
            r.headers["ruleset_version"],
            a["ruleset_version"].as_str().unwrap()
        );
        assert_eq!(r.headers["content-type"], "application/json");
        let key = String::from_utf8(r.key.clone().unwrap()).unwrap();
        assert_eq!(key, format!("in1/{p}/{o}"));
    }
    assert!(read_topic(&brokers, "in1.dlq", false, Duration::from_millis(500)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_messages_go_to_the_dead_letter_topic_byte_for_byte() {
    let mock = mock_with_topics("in2", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let bad: Vec<Input<'_>> = vec![
        (Some("k1"), Some(b"ok \xff\xfe bytes".to_vec()), Some(0)),
        (Some("k2"), None, Some(0)),
        (
            Some("k3"),
            Some("客户名单 fine".as_bytes().to_vec()),
            Some(0),
        ),
        (Some("k4"), Some(vec![b'x'; 20_000]), Some(0)),
    ];
    let mut cfg = config(&brokers, "g2", "in2", lists.path());
    cfg.max_message_bytes = 10_000;
    let engine = Running::start(cfg);
    engine.wait_joined(Duration::from_secs(60)).await;
    produce(&brokers, "in2", &bad).await;
    engine.wait_processed(4, Duration::from_secs(60)).await;
    engine.stop().await;

    let dlq = read_topic(&brokers, "in2.dlq", false, IDLE);
    let reasons: Vec<(&str, &str)> = dlq
        .iter()
        .map(|r| {
            (
                r.headers["reason"].as_str(),
                r.headers["source_offset"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![("not_utf8", "0"), ("empty", "1"), ("too_large", "3")]
    );
    assert_eq!(dlq[0].payload.as_deref(), Some(&b"ok \xff\xfe bytes"[..]));
    assert_eq!(dlq[0].key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(dlq[0].headers["source_topic"], "in2");
    assert_eq!(dlq[0].headers["source_partition"], "0");
    assert!(dlq[1].payload.is_none());
    assert_eq!(dlq[2].payload.as_ref().map(Vec::len), Some(20_000));
    let alerts = read_topic(&brokers, "in2.alerts", false, Duration::from_millis(500));
    assert_eq!(alerts.len(), 1);
    let m = engine_metric_snapshot(&alerts);
    assert_eq!(m, 1);
}

/// `wordwarden redrive` from `dlq_topic` with `extra` arguments: its
/// one-line summary.
fn redrive(brokers: &str, dlq_topic: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["redrive", "--brokers", brokers, "--dlq-topic", dlq_topic];
    args.extend_from_slice(extra);
    serde_json::from_slice(&wordwarden_quietly(&args)).expect("one JSON line")
}

/// `wordwarden redrive` against the engine's own dead letters: a message
/// dead-lettered as too large is sent back once the limit is raised and is
/// judged then; letters of other reasons, letters cut to fit and letters
/// that name no source stay where they are; `--dry-run` sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_redriven_after_the_fix_are_judged() {
    let mock = mock_with_topics("in10", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let long = format!("{} 把客户名单发你", "很长的会议纪要".repeat(10));
    let messages: Vec<Input<'_>> = vec![
        (Some("k1"), Some(long.clone().into_bytes()), Some(0)),
        (Some("k2"), Some(b"\xff\xfe".to_vec()), Some(0)),
        (None, Some("把客户名单发我".as_bytes().to_vec()), Some(0)),
    ];
    let mut cfg = config(&brokers, "g10", "in10", lists.path());
    cfg.max_message_bytes = 100;
    let engine = Running::start(cfg.clone());
    engine.wait_joined(Duration::from_secs(60)).await;
    produce(&brokers, "in10", &messages).await;
    engine.wait_processed(3, Duration::from_secs(60)).await;
    engine.stop().await;
    // a letter cut to fit, and one that does not say where it came from
    {
        use rdkafka::message::{Header, OwnedHeaders};
        use rdkafka::producer::{FutureProducer, FutureRecord};
        let producer: FutureProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .expect("producer");
        for headers in [
            vec![
                ("reason", "too_large"),
                ("source_topic", "in10"),
                ("truncated", "true"),
            ],
            vec![("reason", "too_large")],
        ] {
            let mut h = OwnedHeaders::new();
            for (key, value) in headers {
                h = h.insert(Header {
                    key,
                    value: Some(value),
                });
            }
            let r: FutureRecord<'_, str, str> = FutureRecord::to("in10.dlq")
                .payload("客户名单...")
                .headers(h);
            producer
                .send(r, Duration::from_secs(10))
                .await
                .map_err(|(e, _)| e)
                .expect("produce");
        }
    }
    let redrive = |extra: &[&str]| redrive(&brokers, "in10.dlq", extra);
    let said = redrive(&["--reason", "too_large", "--dry-run"]);
    assert_eq!(
        said,
        serde_json::json!({"read": 4, "redriven": 1, "dry_run": true, "to": {"in10": 1},
            "by_reason": {"too_large": 1}, "failed_after_redrive": 0,
            "skipped": {"other_reason": 1, "truncated": 1, "no_source_topic": 1}, "failed": 0})
    );
    let said = redrive(&["--to", "in10.dlq", "--dry-run"]);
    assert_eq!(
        said["skipped"],
        serde_json::json!({"loops_back": 3, "truncated": 1})
    );
    assert_eq!(
        read_topic(&brokers, "in10", false, IDLE).len(),
        3,
        "a dry run sends nothing"
    );

    let said = redrive(&["--reason", "too_large"]);
    assert_eq!(
        (said["redriven"].clone(), said["failed"].clone()),
        (1.into(), 0.into())
    );
    let input = read_topic(&brokers, "in10", false, IDLE);
    assert_eq!(input.len(), 4);
    let back = &input[3];
    assert_eq!(back.payload.as_deref(), Some(long.as_bytes()));
    assert_eq!(back.key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(back.headers["redriven_from"], "in10.dlq/0/0");
    assert_eq!(back.headers["redriven_reason"], "too_large");

    // the limit raised, the engine reads on from its committed offset (one
    // consumer, as the input is there before it starts: see
    // `Running::wait_joined`)
    cfg.max_message_bytes = 1 << 20;
    cfg.workers = 1;
    let engine = Running::start(cfg);
    engine.wait_joined(Duration::from_secs(60)).await;
    engine.wait_processed(1, Duration::from_secs(60)).await;
    engine.stop().await;
    let alerts = read_topic(&brokers, "in10.alerts", false, IDLE);
    let offsets: Vec<serde_json::Value> = alerts
        .iter()
        .map(|r| r.json()["source"]["offset"].clone())
        .collect();
    assert_eq!(offsets, vec![serde_json::json!(2), serde_json::json!(3)]);
    assert_eq!(read_topic(&brokers, "in10.dlq", false, IDLE).len(), 4);
}

/// A producer writing GBK (an archiver on Chinese Windows): its message is
/// dead-lettered `not_utf8`, the letter's `detail` naming the encoding it
/// reads as; with `input_encoding` set, the letter sent back alerts, quoted
/// as Chinese, while bytes that read in neither stay dead letters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gbk_message_is_named_then_read_once_its_encoding_is_set() {
    let mock = mock_with_topics("in12", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let gbk = encoding_rs::GBK.encode("把客户名单发你").0.into_owned();
    let messages: Vec<Input<'_>> = vec![
        (Some("k1"), Some(gbk.clone()), Some(0)),
        (Some("k2"), Some(b"ok \xff\xff".to_vec()), Some(0)),
    ];
    let mut cfg = config(&brokers, "g12", "in12", lists.path());
    let engine = Running::start(cfg.clone());
    engine.wait_joined(Duration::from_secs(60)).await;
    produce(&brokers, "in12", &messages).await;
    engine.wait_processed(2, Duration::from_secs(60)).await;
    assert_eq!(engine.shared.metrics.transcoded.get(), 0);
    engine.stop().await;
    let dlq = read_topic(&brokers, "in12.dlq", false, IDLE);
    assert_eq!(dlq.len(), 2);
    assert_eq!(dlq[0].payload.as_deref(), Some(&gbk[..]));
    assert_eq!(dlq[0].headers["reason"], "not_utf8");
    let detail = &dlq[0].headers["detail"];
    assert!(
        detail.contains("reads as gb18030") && detail.contains("input_encoding"),
        "{detail}"
    );
    assert!(!dlq[1].headers["detail"].contains("reads as"));
    assert!(read_topic(&brokers, "in12.alerts", false, Duration::from_millis(500)).is_empty());

    let said = redrive(&brokers, "in12.dlq", &["--reason", "not_utf8"]);
    assert_eq!(said["redriven"], 2);
    cfg.input_encoding = "gb18030".into();
    cfg.workers = 1;
    let engine = Running::start(cfg);
    engine.wait_joined(Duration::from_secs(60)).await;
    engine.wait_processed(2, Duration::from_secs(60)).await;
    assert_eq!(engine.shared.metrics.transcoded.get(), 1);
    engine.stop().await;
    let alerts = read_topic(&brokers, "in12.alerts", false, IDLE);
    assert_eq!(alerts.len(), 1);
    let alert = alerts[0].json();
    assert_eq!(alert["source"]["offset"], 2);
    assert_eq!(alert["hits"][0]["matched"], "客户名单");
    assert_eq!(alert["snippet"], "把客户名单发你");
    let dlq = read_topic(&brokers, "in12.dlq", false, IDLE);
    assert_eq!(dlq.len(), 3, "the bytes that read in neither, again");
    assert!(dlq[2].headers["detail"].contains("neither UTF-8 nor gb18030"));
}

/// `redrive --group` sends each letter once, however often it runs: run
/// again before the cause is fixed, it sends only the letters the failed
/// redrive produced, not those and the old ones again (which would double
/// the dead-letter topic with every run, as a run without a group does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_with_a_group_sends_each_letter_once() {
    let mock = mock_with_topics("in11", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let long = format!("{} 把客户名单发你", "很长的会议纪要".repeat(10));
    let messages: Vec<Input<'_>> = vec![
        (Some("k1"), Some(long.clone().into_bytes()), Some(0)),
        (Some("k2"), Some(long.clone().into_bytes()), Some(0)),
        (Some("k3"), Some(b"\xff\xfe".to_vec()), Some(0)),
    ];
    let mut cfg = config(&brokers, "g11", "in11", lists.path());
    cfg.max_message_bytes = 100;
    // one consumer: the input is there before the engine starts, and with
    // two the first to join could judge a message that is judged again once
    // the second one's join rebalances the group (see
    // `Running::wait_joined`): one dead letter more than the counts below
    let judged = |mut cfg: wordwarden::engine::Config, expected: i64| async move {
        cfg.workers = 1;
        let engine = Running::start(cfg);
        engine.wait_joined(Duration::from_secs(60)).await;
        engine
            .wait_processed(expected, Duration::from_secs(60))
            .await;
        engine.stop().await;
    };
    produce(&brokers, "in11", &messages).await;
    judged(cfg.clone(), 3).await;
    let redrive = |extra: &[&str]| redrive(&brokers, "in11.dlq", extra);
    let counts = |said: &serde_json::Value| {
        (
            said["read"].as_u64(),
            said["redriven"].as_u64(),
            said["committed"].as_bool(),
        )
    };
    let grouped = ["--group", "redrive-too-large", "--reason", "too_large"];
    assert_eq!(
        counts(&redrive(&[&grouped[..], &["--dry-run"]].concat())),
        (Some(3), Some(2), Some(false)),
        "a dry run commits nothing"
    );
    assert_eq!(counts(&redrive(&grouped)), (Some(3), Some(2), Some(true)));
    assert_eq!(committed(&brokers, "redrive-too-large", "in11.dlq", 0), 3);
    // not fixed yet: both fail again, and their new letters say so
    judged(cfg.clone(), 2).await;
    let letters = read_topic(&brokers, "in11.dlq", false, IDLE);
    assert_eq!(letters.len(), 5);
    let lineage: Vec<Option<&str>> = letters
        .iter()
        .map(|l| l.headers.get("redriven_from").map(String::as_str))
        .collect();
    assert_eq!(
        lineage,
        [None, None, None, Some("in11.dlq/0/0"), Some("in11.dlq/0/1")]
    );
    let said = redrive(&grouped);
    assert_eq!(counts(&said), (Some(2), Some(2), Some(true)), "{said}");
    assert_eq!(said["failed_after_redrive"], 2);
    assert_eq!(committed(&brokers, "redrive-too-large", "in11.dlq", 0), 5);
    assert_eq!(counts(&redrive(&grouped)), (Some(0), Some(0), Some(false)));
    // without a group a run reads the whole topic again: the old letters too
    let said = redrive(&["--reason", "too_large", "--dry-run"]);
    assert_eq!(
        (said["read"].as_u64(), said["redriven"].as_u64()),
        (Some(5), Some(4))
    );
    assert!(said.get("committed").is_none() && said.get("group").is_none());

    // fixed: the two letters of the last redrive alert, once each
    cfg.max_message_bytes = 1 << 20;
    judged(cfg.clone(), 2).await;
    let alerts = read_topic(&brokers, "in11.alerts", false, IDLE);
    let keys: Vec<serde_json::Value> = alerts
        .iter()
        .map(|r| r.json()["source"]["key"].clone())
        .collect();
    assert_eq!(keys, vec![serde_json::json!("k1"), serde_json::json!("k2")]);
}

fn engine_metric_snapshot(alerts: &[Record]) -> usize {
    alerts
        .iter()
        .filter(|a| a.json()["severity"] == "high")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_then_restart_from_committed_offsets() {
    let mock = mock_with_topics("in3", 2);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let first = alerting_texts(0..50);
    let engine = Running::start(config(&brokers, "g3", "in3", lists.path()));
    engine.wait_joined(Duration::from_secs(60)).await;
    produce_texts(&brokers, "in3", &first, 2).await;
    engine.wait_processed(50, Duration::from_secs(60)).await;
    let took = engine.stop().await;
    assert!(took < Duration::from_secs(20), "shutdown took {took:?}");
    assert_eq!(
        [0, 1].map(|p| committed(&brokers, "g3", "in3", p)),
        [25, 25],
        "a graceful stop commits every processed message"
    );

    // more input while nothing runs
    let second = alerting_texts(50..80);
    produce_texts(&brokers, "in3", &second, 2).await;

    // one consumer: a lone member's join cannot start a second rebalance
    // that redoes work (see `Running::wait_joined`), so every message it
    // processes beyond the committed offsets would be a fault
    let mut restart = config(&brokers, "g3", "in3", lists.path());
    restart.workers = 1;
    let engine = Running::start(restart);
    engine.wait_processed(30, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        engine.processed(),
        30,
        "restart resumes at the committed offsets"
    );
    engine.stop().await;

    let alerts = read_topic(&brokers, "in3.alerts", false, IDLE);
    let mut seen: Vec<String> = alerts
        .iter()
        .map(|r| r.json()["snippet"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 80, "every message alerted, none lost");
    assert_eq!(alerts.len(), 80, "no duplicates after a clean shutdown");
}

/// Terms sent a character or two a message, conversations interleaved
/// over four partitions and two consumers: each run alerts once, on its
/// last message, naming the ones before; fragments of two senders, or
/// with a pause between, do not; `split_messages = false` judges each
/// message alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terms_split_across_messages_alert_on_their_last_message() {
    let mock = mock_with_topics("in9", 4);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let mut lines = Vec::new();
    for round in 0..3u64 {
        for c in 0..6 {
            let (from, to) = (format!("sender{c}"), format!("peer{c}"));
            let id = format!("c{c}-{round}");
            let text = ["客户", "名", "单"][round as usize];
            let line = match c {
                // the other side answers the second part: no one run
                4 if round == 1 => wecom_text(&id, &to, &from, round, text),
                // a pause of over a minute before each part
                5 => wecom_text(&id, &from, &to, round * 61, text),
                _ => wecom_text(&id, &from, &to, round, text),
            };
            lines.push(line);
            lines.push(wecom_text(
                &format!("x{c}-{round}"),
                "other",
                &to,
                round,
                "今天下午开会吧",
            ));
        }
    }
    let run = |split: bool, group: &'static str| {
        let (brokers, lines) = (brokers.clone(), lines.clone());
        let lists = lists.path().to_path_buf();
        async move {
            let mut cfg = config(&brokers, group, "in9", &lists);
            cfg.input_format = "wecom".into();
            cfg.split_messages = split;
            let engine = Running::start(cfg);
            engine.wait_joined(Duration::from_secs(60)).await;
            if split {
                produce_by_conversation(&brokers, "in9", &lines, 4).await;
            }
            engine
                .wait_processed(lines.len() as i64, Duration::from_secs(60))
                .await;
            let metrics = engine.shared.metrics.render();
            engine.stop().await;
            metrics
        }
    };
    let metrics = run(true, "g9").await;
    // six senders' runs and the one answer, across both consumers
    assert!(
        metrics.contains("wordwarden_split_speakers 7\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wordwarden_evasions_total{kind=\"split_messages\"} 4\n"),
        "{metrics}"
    );
    let alerts = read_topic(&brokers, "in9.alerts", false, IDLE);
    let mut found: Vec<(String, String, serde_json::Value)> = alerts
        .iter()
        .map(|r| {
            let a = r.json();
            assert_eq!(a["hits"][0]["field"], "#split", "{a}");
            assert_eq!(a["hits"][0]["matched"], "客户名单");
            (
                String::from_utf8(r.key.clone().unwrap()).unwrap(),
                a["source"]["msgid"].as_str().unwrap().to_string(),
                a["split_from"].clone(),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let wanted: Vec<(String, String, serde_json::Value)> = (0..4)
        .map(|c| {
            let last = format!("c{c}-2");
            (
                last.clone(),
                last,
                serde_json::json!([format!("c{c}-0"), format!("c{c}-1")]),
            )
        })
        .collect();
    assert_eq!(found, wanted);
    // the same messages again, each alone: nothing
    let metrics = run(false, "g9-alone").await;
    assert!(
        metrics.contains("wordwarden_evasions_total{kind=\"split_messages\"} 0\n"),
        "{metrics}"
    );
    assert_eq!(read_topic(&brokers, "in9.alerts", false, IDLE).len(), 4);
}

/// A customer roster sent a number a message and a term sent a character
/// a message, each straddling a restart: the restarted engine reads the
/// partitions' recent messages back into its memory first (alerting on none
/// of them), so the roster's third number raises its list to critical
/// naming the two before the restart, and the term's second half alerts
/// naming its first. With `recall_max_messages = 0` it remembers nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_engine_recalls_runs_and_tallies_from_before_it() {
    let lists = roster_lists();
    let before = [
        wecom_text("r1", "li", "wmOutsider1", 0, "客户电话 13812340001"),
        wecom_text("r2", "li", "wmOutsider1", 60, "还有 13912340002"),
        wecom_text("z1", "zhang", "wmPeer", 100, "客户"),
    ];
    let after = [
        wecom_text("r3", "li", "wmOutsider1", 120, "最后一个 13712340003"),
        wecom_text("z2", "zhang", "wmPeer", 130, "名单"),
    ];
    let mock = mock_with_topics("in-recall", 2);
    mock.create_topic("in-forget", 2, 1).unwrap();
    mock.create_topic("in-forget.alerts", 1, 1).unwrap();
    mock.create_topic("in-forget.dlq", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let run = |topic: &'static str, recall: bool, lines: Vec<String>| {
        let (brokers, lists) = (brokers.clone(), lists.path().to_path_buf());
        async move {
            let mut cfg = config(&brokers, &format!("g-{topic}"), topic, &lists);
            cfg.input_format = "wecom".into();
            // one consumer: its lone join starts no second rebalance
            cfg.workers = 1;
            if !recall {
                cfg.recall_max_messages = 0;
            }
            let engine = Running::start(cfg);
            engine.wait_joined(Duration::from_secs(60)).await;
            produce_by_conversation(&brokers, topic, &lines, 2).await;
            engine
                .wait_processed(lines.len() as i64, Duration::from_secs(60))
                .await;
            let metrics = engine.shared.metrics.render();
            engine.stop().await;
            metrics
        }
    };
    for (topic, recall) in [("in-recall", true), ("in-forget", false)] {
        let first = run(topic, recall, before.to_vec()).await;
        // nothing before the first messages: nothing to read back
        assert_eq!(
            metric_sum(&first, "wordwarden_recalled_messages_total"),
            0.0
        );
        let second = run(topic, recall, after.to_vec()).await;
        let alerts = read_topic(&brokers, &format!("{topic}.alerts"), false, IDLE);
        let by_id = alerts_by_msgid(&alerts);
        let r3 = &by_id["r3"];
        if recall {
            assert_eq!(
                metric_sum(&second, "wordwarden_recalled_messages_total"),
                3.0,
                "{second}"
            );
            assert!(
                !second.contains("wordwarden_recalls_total{outcome=\"complete\"} 0\n"),
                "{second}"
            );
            assert_eq!(r3["severity"], "critical", "{r3}");
            assert_eq!(
                r3["bulk"][0]["earlier_messages"],
                serde_json::json!(["r1", "r2"])
            );
            assert_eq!(by_id["z2"]["split_from"], serde_json::json!(["z1"]));
            // the messages read back alerted once, when first judged
            assert_eq!(alerts.len(), 4, "{by_id:?}");
        } else {
            assert_eq!(
                metric_sum(&second, "wordwarden_recalled_messages_total"),
                0.0
            );
            assert_eq!(r3["severity"], "high", "{r3}");
            assert!(!by_id.contains_key("z2"), "{by_id:?}");
            assert_eq!(alerts.len(), 3, "{by_id:?}");
        }
    }
}

/// A list counting a sender's values across conversations sees them whole
/// only where the input is keyed by sender: a consumer given one sender's
/// values on two partitions of the topic counts it (here the input is
/// keyed by conversation, as archive exporters key it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_counted_across_conversations_on_two_partitions_are_pointed_out() {
    let lists = tempfile::tempdir().unwrap();
    std::fs::write(
        lists.path().join("pii.txt"),
        "#! severity: high\n#! bulk: 3 critical within 1h across conversations\n@cn_mobile\n",
    )
    .unwrap();
    let mock = mock_with_topics("in-spread", 2);
    let brokers = mock.bootstrap_servers();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // li's two conversations on two partitions; zhang's one on one
    let records = [
        (
            0,
            wecom_text("r1", "li", "wmOutsider1", 0, "电话 13812340001"),
            now,
        ),
        (
            1,
            wecom_text("r2", "li", "wmOutsider2", 60, "电话 13912340002"),
            now,
        ),
        (
            0,
            wecom_text("z1", "zhang", "wmPeer", 0, "电话 13712340003"),
            now,
        ),
        (
            0,
            wecom_text("z2", "zhang", "wmPeer", 60, "电话 13612340004"),
            now,
        ),
    ];
    let mut cfg = config(&brokers, "g-spread", "in-spread", lists.path());
    cfg.input_format = "wecom".into();
    // one consumer holds both partitions
    cfg.workers = 1;
    let engine = Running::start(cfg);
    engine.wait_joined(Duration::from_secs(60)).await;
    produce_at(&brokers, "in-spread", &records).await;
    engine.wait_processed(4, Duration::from_secs(60)).await;
    let metrics = engine.shared.metrics.render();
    engine.stop().await;
    assert_eq!(
        metric_sum(&metrics, "wordwarden_across_conversations_spread_total"),
        1.0,
        "{metrics}"
    );
}

/// An archive exporter that was down publishes hours of messages at once:
/// a restarted engine's recall reads back from when its first message was
/// written, not from when it was published, so the roster's numbers
/// published before the outage still count with the one after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_reads_back_by_when_messages_were_written() {
    let lists = roster_lists();
    let mock = mock_with_topics("in-late", 1);
    let brokers = mock.bootstrap_servers();
    // `wecom_text`'s times start here
    let written = 1_764_000_000_000i64;
    let hour = 3_600_000;
    // published as they were written
    let before = [
        (
            0,
            wecom_text("r1", "li", "wmOutsider1", 0, "客户电话 13812340001"),
            written + 1_000,
        ),
        (
            0,
            wecom_text("r2", "li", "wmOutsider1", 60, "还有 13912340002"),
            written + 61_000,
        ),
    ];
    // written ten minutes later, published three hours later
    let after = [(
        0,
        wecom_text("r3", "li", "wmOutsider1", 600, "最后一个 13712340003"),
        written + 3 * hour,
    )];
    let mut cfg = config(&brokers, "g-late", "in-late", lists.path());
    cfg.input_format = "wecom".into();
    cfg.workers = 1;
    for records in [&before[..], &after[..]] {
        let engine = Running::start(cfg.clone());
        engine.wait_joined(Duration::from_secs(60)).await;
        let done = engine.processed();
        produce_at(&brokers, "in-late", records).await;
        engine
            .wait_processed(done + records.len() as i64, Duration::from_secs(60))
            .await;
        engine.stop().await;
    }
    let alerts = read_topic(&brokers, "in-late.alerts", false, IDLE);
    let by_id = alerts_by_msgid(&alerts);
    let r3 = &by_id["r3"];
    assert_eq!(r3["severity"], "critical", "{r3}");
    assert_eq!(
        r3["bulk"][0]["earlier_messages"],
        serde_json::json!(["r1", "r2"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_mode_publishes_each_alert_once() {
    // The mock cluster keeps neither transactional offset commits across
    // consumers nor aborted-record filtering for read_committed readers, so
    // restarts in exactly-once mode are proven against tansu (tests/e2e_tansu.rs).
    let mock = mock_with_topics("in4", 2);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let texts: Vec<String> = (0..40).map(|i| format!("{i} 内幕消息")).collect();
    let mut cfg = config(&brokers, "g4", "in4", lists.path());
    cfg.delivery = Delivery::ExactlyOnce;
    cfg.transactional_id = Some("wordwarden-test-eos".into());
    cfg.transaction_max_messages = 7;
    let engine = Running::fed(cfg.clone(), &texts, 2).await;
    let metrics = engine.shared.metrics.render();
    engine.stop().await;
    assert!(
        !metrics.contains("wordwarden_transactions_total{result=\"aborted\"}"),
        "{metrics}"
    );
    let committed: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("wordwarden_transactions_total{result=\"committed\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(
        committed >= 6,
        "40 messages in batches of at most 7: {committed} transactions"
    );

    let alerts = read_topic(&brokers, "in4.alerts", true, IDLE);
    assert_eq!(alerts.len(), 40);
    let mut ids: Vec<String> = alerts
        .iter()
        .map(|r| r.json()["alert_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wecom_records_alert_per_field_and_textless_are_counted() {
    let mock = mock_with_topics("in5", 1);
    let brokers = mock.bootstrap_servers();
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/demo/wecom-sample.jsonl"
    ))
    .unwrap();
    let lines: Vec<String> = sample.lines().map(str::to_string).collect();
    let mut cfg = config(&brokers, "g5", "in5", &wordlists());
    cfg.input_format = "wecom".into();
    let engine = Running::fed(cfg, &lines, 1).await;
    let shared = engine.shared.clone();
    engine.stop().await;
    let alerts = read_topic(&brokers, "in5.alerts", false, IDLE);
    assert_eq!(alerts.len(), 36);
    // a sender withdrawing a message that had alerted: an alert on the
    // recall record, naming the message and its alert, quoting nothing
    let withdrawn = "7983392519337473236_1732500017";
    let by_msgid = |id: &str| {
        alerts
            .iter()
            .map(|r| r.json())
            .find(|a| a["source"]["msgid"] == id)
            .expect("alerted")
    };
    let (sent, recall) = (
        by_msgid(withdrawn),
        by_msgid("6009881325690701029_1732500047"),
    );
    assert_eq!(recall["withdrawn"]["msgid"], withdrawn);
    assert_eq!(recall["withdrawn"]["alert_id"], sent["alert_id"]);
    assert_eq!(recall["source"]["msgtype"], "revoke");
    assert_eq!(
        (&recall["severity"], &recall["audience"]),
        (&sent["severity"], &sent["audience"])
    );
    let terms = |a: &serde_json::Value| -> Vec<String> {
        a["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["term"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(terms(&recall), terms(&sent));
    assert!(recall["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h.get("matched").is_none()));
    assert!(recall.get("snippet").is_none());
    assert!(
        alerts
            .iter()
            .filter(|r| r.json().get("withdrawn").is_some())
            .count()
            == 1
    );
    assert_eq!(
        shared
            .metrics
            .withdrawn_alerts
            .with_label_values(&["high", "internal"])
            .get(),
        1
    );
    // every alerting message remembered, should its sender withdraw it
    assert_eq!(shared.metrics.remembered_alerts.get(), 35);
    // a roster sent a few numbers a message: raised on the message that
    // brings the tenth, naming the two before it
    let roster = alerts
        .iter()
        .map(|r| r.json())
        .find(|a| a["source"]["msgid"] == "5120398476512093843_1732500062")
        .expect("alerted");
    assert_eq!(roster["severity"], "critical");
    assert_eq!(
        roster["bulk"][0]["earlier_messages"],
        serde_json::json!([
            "5120398476512093841_1732500060",
            "5120398476512093842_1732500061"
        ])
    );
    // `secrets/sent-outside` watches conversations with an external
    // contact: a client list filed in a colleagues' group is work
    let audience_of = |msgid: &str| {
        alerts
            .iter()
            .map(|r| r.json())
            .find(|a| a["source"]["msgid"] == msgid)
            .map(|a| a["audience"].clone())
    };
    assert_eq!(audience_of("7167232806441521800_1732500024"), None);
    assert_eq!(
        audience_of("3651091639319849665_1732500026"),
        Some(serde_json::json!("external"))
    );
    // a client list shared outside as a link whose file name is escaped
    let link = by_msgid("5830174926601843215_1732500041");
    assert_eq!(
        (&link["hits"][0]["term"], &link["hits"][0]["evasions"]),
        (
            &serde_json::json!("客户名单"),
            &serde_json::json!(["url_encoded"])
        )
    );
    let external = alerts
        .iter()
        .filter(|r| r.json()["audience"] == "external")
        .count();
    // the recall's alert among the internal ones
    assert_eq!((external, alerts.len() - external), (18, 18));
    let metrics = shared.metrics.render();
    let counted: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("wordwarden_alerts_total{audience=\"external\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, 18, "{metrics}");
    // a phone number in Chinese numerals (masked), a term half in pinyin
    // (each message's first hit of a list other than conduct/off-record,
    // which the first one also hits: `别在群里说`)
    let first_hit = |msgid: &str| {
        let a = alerts
            .iter()
            .map(|r| r.json())
            .find(|a| a["source"]["msgid"] == msgid)
            .unwrap();
        let h = a["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["category"] != "conduct/off-record")
            .cloned()
            .unwrap();
        (h["term"].to_string(), h["matched"].to_string())
    };
    assert_eq!(
        first_hit("5129037781164420931_1732502210"),
        ("\"@cn_mobile\"".into(), "\"幺三八-****-五六七八\"".into())
    );
    // a password pasted into chat with an outsider: masked on the topic
    assert_eq!(
        first_hit("6021847392015847362_1732502455"),
        (
            "\"@url_password\"".into(),
            "\"mysql://trade_ro:*********@10.20.3.15:3306\"".into()
        )
    );
    assert_eq!(
        first_hit("6038815502913377204_1732502295"),
        ("\"内幕消息\"".into(), "\"内幕xiaoxi\"".into())
    );
    // a roster of twelve customers' numbers sent outside: the personal-data
    // list's values in bulk raise it from high to critical, and say why
    let roster = alerts
        .iter()
        .map(|r| r.json())
        .find(|a| a["source"]["msgid"] == "6117204958336120475_1732502500")
        .expect("the roster's alert");
    assert_eq!(
        (&roster["severity"], &roster["hits"][0]["severity"]),
        (&"critical".into(), &"critical".into())
    );
    assert_eq!(
        roster["bulk"],
        serde_json::json!([
            {"category": "personal/pii", "values": 12, "at_least": 10, "severity": "critical",
                "within_secs": 3600}
        ])
    );
    assert_eq!(roster["hits"][0]["count"], 12);
    // and the roster sent a few numbers a message
    let bulk_line =
        "wordwarden_bulk_alerts_total{audience=\"external\",category=\"personal/pii\"} 2\n";
    assert!(metrics.contains(bulk_line), "{metrics}");
    // the values of the personal-data list (`within 1h`) each sender sent
    // each conversation, held to count over time: the newest 10 of each
    // roster (the threshold needs no more) and the sample's other numbers
    // and addresses
    let held = metrics
        .lines()
        .find_map(|l| l.strip_prefix("wordwarden_bulk_tally_values "))
        .and_then(|v| v.parse::<u64>().ok());
    assert_eq!(held, Some(25), "{metrics}");
    // digits for letters; a term written backwards after a right-to-left
    // override, quoted as written
    assert_eq!(
        first_hit("7214490087315532816_1732502340"),
        ("\"confidential\"".into(), "\"C0NF1D3NT1AL\"".into())
    );
    assert_eq!(
        first_hit("3390176645528801937_1732502388"),
        ("\"内幕消息\"".into(), "\"息消幕内\"".into())
    );
    let m = shared.metrics.render();
    for kind in [
        "digits_for_letters",
        "reversed",
        "pinyin",
        "numerals",
        "url_encoded",
    ] {
        assert!(
            !m.contains(&format!("wordwarden_evasions_total{{kind=\"{kind}\"}} 0\n")),
            "{kind}: {m}"
        );
    }
    let dlq = read_topic(&brokers, "in5.dlq", false, IDLE);
    let mut reasons: Vec<&str> = dlq.iter().map(|r| r.headers["reason"].as_str()).collect();
    reasons.sort();
    assert_eq!(reasons, vec!["no_text", "not_json", "unreadable_field"]);
    let unreadable = dlq
        .iter()
        .find(|r| r.headers["reason"] == "unreadable_field")
        .unwrap();
    assert!(unreadable.headers["detail"].contains("/mixed/item/0/content"));
    let m = shared.metrics.render();
    assert!(
        m.contains("wordwarden_textless_messages_total{msgtype=\"image\"} 1"),
        "{m}"
    );
    // a forwarded chat record alerts with pointers into its nested JSON
    let nested = alerts
        .iter()
        .map(|r| r.json())
        .find(|a| a["source"]["msgtype"] == "chatrecord")
        .unwrap();
    let fields: Vec<&str> = nested["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"/chatrecord/item/2/content/item/0/content/content"),
        "{fields:?}"
    );

    // `wordwarden explain --at` the place an alert names: the record as the
    // engine read it, each field, the evasion
    let reversed = alerts
        .iter()
        .map(|r| r.json())
        .find(|a| a["source"]["msgid"] == "3390176645528801937_1732502388")
        .unwrap();
    let at = format!(
        "{}/{}/{}",
        reversed["source"]["topic"].as_str().unwrap(),
        reversed["source"]["partition"],
        reversed["source"]["offset"]
    );
    let explain_with = |at: &str, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
            .args(["explain", "--wordlists"])
            .arg(wordlists())
            .args(["--input-format", "wecom", "--brokers", &brokers, "--at", at])
            .args(extra)
            .output()
            .expect("runs")
    };
    let explain = |at: &str| explain_with(at, &[]);
    let o = explain(&at);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(said.contains("audience internal (from its ids)"), "{said}");
    assert!(said.contains("evasions: reversed"), "{said}");
    let o = explain("in5/0/100000");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no record at in5/0/100000"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // the roster's last message, explained at its place, with the
    // partition's messages before it read back as the engine's recall
    // reads them: the tenth value with its sender's two messages before
    let last_of_roster = alerts
        .iter()
        .map(|r| r.json())
        .find(|a| a["source"]["msgid"] == "5120398476512093843_1732500062")
        .expect("alerted");
    let at = format!(
        "{}/{}/{}",
        last_of_roster["source"]["topic"].as_str().unwrap(),
        last_of_roster["source"]["partition"],
        last_of_roster["source"]["offset"]
    );
    let over_time = "bulk over time: 10 distinct values of personal/pii with the sender's \
         earlier messages in this conversation (5120398476512093841_1732500060, \
         5120398476512093842_1732500061), 10 or more: its hits are critical";
    let said = String::from_utf8(explain(&at).stdout).unwrap();
    assert!(said.contains(over_time), "{said}");
    assert!(
        said.contains("before it read back (published since"),
        "{said}"
    );
    let alone = String::from_utf8(explain_with(&at, &["--earlier", "0"]).stdout).unwrap();
    assert!(!alone.contains("bulk over time"), "{alone}");
    assert!(alone.contains("fewer than 10"), "{alone}");

    // `wordwarden report` sums up the same alerts, one published twice
    // counted once, and quotes no message text
    produce(
        &brokers,
        "in5.alerts",
        &[(None, alerts[0].payload.clone(), None)],
    )
    .await;
    let report = |extra: &[&str]| {
        // (the mock cluster cannot look offsets up by time: `--since` is
        // tested on tansu; reading to each partition's end is no error to
        // log)
        let mut args = vec![
            "report",
            "--brokers",
            &brokers,
            "--alert-topic",
            "in5.alerts",
        ];
        args.push("--from-beginning");
        args.extend_from_slice(extra);
        String::from_utf8(wordwarden_quietly(&args)).expect("UTF-8")
    };
    let r: serde_json::Value = serde_json::from_str(&report(&["--json"])).expect("JSON");
    assert_eq!(
        (r["alerts"].clone(), r["duplicates"].clone()),
        (35.into(), 1.into())
    );
    assert_eq!(
        r["by_audience"],
        serde_json::json!({"external": 18, "internal": 17})
    );
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_sender: BTreeMap<String, u64> = BTreeMap::new();
    // a recall's alert is counted apart (`withdrawn`), not with the rest
    assert_eq!(r["withdrawn"], 1);
    for a in alerts
        .iter()
        .map(|r| r.json())
        .filter(|a| a.get("withdrawn").is_none())
    {
        let mut cats: Vec<String> = a["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["category"].as_str().unwrap().to_string())
            .collect();
        cats.sort();
        cats.dedup();
        for c in cats {
            *by_category.entry(c).or_default() += 1;
        }
        *by_sender
            .entry(a["source"]["from"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(r["by_category"], serde_json::json!(by_category));
    let most = by_sender.values().max().copied().unwrap();
    let busiest = by_sender.iter().find(|(_, n)| **n == most).unwrap().0;
    assert_eq!(r["top_senders"][0]["name"], busiest.as_str());
    assert_eq!(r["top_senders"][0]["alerts"], most);
    assert_eq!(r["by_evasion"]["reversed"], 1);
    assert_eq!(r["by_evasion"]["split_messages"], 1);
    assert_eq!(r["by_evasion"]["url_encoded"], 1);
    let r: serde_json::Value =
        serde_json::from_str(&report(&["--json", "--external"])).expect("JSON");
    assert_eq!(r["alerts"], 18);
    // `tail` shows the twice-published alert once too
    let tailed = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(["tail", "--brokers", &brokers, "--alert-topic", "in5.alerts"])
        .args(["--from-beginning", "--json", "--idle-exit", "2"])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&tailed.stdout).lines().count(), 36);
    let readable = report(&["--top", "3"]);
    assert!(
        readable.contains("alerts      35 (1 published twice, counted once)\nwithdrawn   1 "),
        "{readable}"
    );
    // the rosters (in one message, over three), under the list whose
    // values they hold in bulk
    assert!(
        readable.contains("\nbulk        personal/pii 2\n"),
        "{readable}"
    );
    for a in alerts.iter().map(|r| r.json()) {
        // a recall's alert quotes nothing
        let Some(snippet) = a["snippet"].as_str() else {
            assert!(a.get("withdrawn").is_some(), "{a}");
            continue;
        };
        assert!(!readable.contains(snippet), "{snippet} in {readable}");
    }
}

/// JSON input told where its people are: the bundled list for what must
/// not leave the company fires where an outside address takes part, is
/// silent among colleagues, and watches messages that name no one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_messages_alert_by_the_companys_domains() {
    let mock = mock_with_topics("in9", 1);
    let brokers = mock.bootstrap_servers();
    let mut cfg = config(&brokers, "g9", "in9", &wordlists());
    cfg.input_format = "json".into();
    cfg.json_pointer = "/body".into();
    cfg.json_from_pointer = "/from/email".into();
    cfg.json_to_pointer = "/to".into();
    cfg.internal_domains = vec!["example.com".into()];
    let msg = |id: usize, to: serde_json::Value, body: &str| {
        serde_json::json!({"id": format!("m{id}"), "from": {"email": "li.na@example.com"},
            "to": to, "body": body})
        .to_string()
    };
    let outside = serde_json::json!(["wang@example.com", "buyer@gmail.com"]);
    let colleagues = serde_json::json!(["wang@example.com", "zhao@sh.example.com"]);
    let lines = vec![
        msg(1, outside.clone(), "把客户名单发你了"),
        msg(2, colleagues.clone(), "把客户名单发你了"),
        msg(3, colleagues, "有内幕消息"),
        // (a sender alone among colleagues is a conversation among them)
        msg(4, serde_json::Value::Null, "把客户名单发你了"),
        serde_json::json!({"id": "m5", "body": "把客户名单发你了"}).to_string(),
        msg(6, outside, "今天开会"),
    ];
    let engine = Running::fed(cfg, &lines, 1).await;
    let metrics = engine.shared.metrics.render();
    engine.stop().await;
    let alerts: Vec<serde_json::Value> = read_topic(&brokers, "in9.alerts", false, IDLE)
        .iter()
        .map(|r| r.json())
        .collect();
    let seen: Vec<(String, String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a["source"]["id"].as_str().unwrap_or_default().to_string(),
                a["audience"].as_str().unwrap_or("-").to_string(),
                a["hits"][0]["category"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let want = |id: &str, audience: &str, category: &str| {
        (id.to_string(), audience.to_string(), category.to_string())
    };
    assert_eq!(
        seen,
        vec![
            want("m1", "external", "secrets/sent-outside"),
            want("m3", "internal", "finance/insider"),
            want("m5", "-", "secrets/sent-outside"),
        ]
    );
    assert_eq!(alerts[0]["source"]["from"], "li.na@example.com");
    assert_eq!(alerts[0]["source"]["tolist"][1], "buyer@gmail.com");
    assert!(alerts[2]["source"].get("tolist").is_none());
    for (audience, severity) in [
        ("external", "high"),
        ("internal", "critical"),
        ("unknown", "high"),
    ] {
        let line = format!("audience=\"{audience}\",severity=\"{severity}\"}} 1\n");
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regex_subscription_reads_every_matching_topic() {
    let mock = MockCluster::new(1).expect("mock cluster");
    for t in ["in6.a", "in6.b", "in6x.alerts", "in6x.dlq", "other"] {
        mock.create_topic(t, 1, 1).unwrap();
    }
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let mut cfg = config(&brokers, "g6", "in6x", lists.path());
    cfg.input_topics = vec!["^in6\\..*".into()];
    let engine = Running::start(cfg);
    engine.wait_joined(Duration::from_secs(60)).await;
    produce_texts(&brokers, "in6.a", &["a 客户名单".to_string()], 1).await;
    produce_texts(&brokers, "in6.b", &["b 客户名单".to_string()], 1).await;
    produce_texts(&brokers, "other", &["c 客户名单".to_string()], 1).await;
    engine.wait_processed(2, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(engine.processed(), 2, "`other` does not match the pattern");
    engine.stop().await;
    let mut topics: Vec<String> = read_topic(&brokers, "in6x.alerts", false, IDLE)
        .iter()
        .map(|r| r.json()["source"]["topic"].as_str().unwrap().to_string())
        .collect();
    topics.sort();
    assert_eq!(topics, vec!["in6.a", "in6.b"]);
}

/// Archives are often produced compressed (`compression.type` on the
/// producer, or on the topic): batches in every codec Kafka has are read
/// and every message in them judged. A librdkafka built without a codec
/// cannot read its batches at all: the partition stalls at the first one
/// (as it did with zstd before it was built in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_in_every_compression_codec_are_judged() {
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let mock = mock_with_topics("packed", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let engine = Running::start(config(&brokers, "g1", "packed", lists.path()));
    engine.wait_joined(Duration::from_secs(60)).await;
    let codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
    // text that compresses well, or librdkafka sends the batch as it is
    let filler = "今天的会议改到下午三点，请大家准时参加。".repeat(10);
    for codec in codecs {
        let producer: FutureProducer = client(&brokers)
            .set("compression.type", codec)
            .set("linger.ms", "50")
            .create()
            .unwrap_or_else(|e| panic!("a producer with {codec}: {e}"));
        let texts: Vec<String> = (0..20)
            .map(|i| format!("{codec} {i}: 把客户名单发我。{filler}"))
            .collect();
        let sent = texts.iter().map(|t| {
            producer.send(
                FutureRecord::<(), str>::to("packed").payload(t.as_str()),
                Duration::from_secs(10),
            )
        });
        for result in futures::future::join_all(sent).await {
            result.map_err(|(e, _)| e).expect("produced");
        }
    }
    let total = 20 * codecs.len() as i64;
    engine.wait_processed(total, Duration::from_secs(60)).await;
    engine.stop().await;

    let alerts = read_topic(&brokers, "packed.alerts", false, IDLE);
    let offsets: std::collections::BTreeSet<i64> = alerts
        .iter()
        .map(|r| r.json()["source"]["offset"].as_i64().expect("an offset"))
        .collect();
    assert_eq!(offsets, (0..total).collect(), "one alert a message");
    assert!(read_topic(&brokers, "packed.dlq", false, Duration::from_millis(500)).is_empty());
}

/// An error librdkafka returns instead of input (here: the input topic does
/// not exist) is counted in `wordwarden_consume_errors_total`, which the
/// `WordwardenInputUnreadable` rule watches, one a consumer; the engine
/// stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_instead_of_input_are_counted() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic("gone.alerts", 1, 1).unwrap();
    mock.create_topic("gone.dlq", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let config = config(&brokers, "g1", "gone", lists.path());
    let consumers = config.consumer_count() as f64;
    let engine = Running::start(config);
    let start = std::time::Instant::now();
    let errors = || {
        metric_sum(
            &engine.shared.metrics.render(),
            "wordwarden_consume_errors_total",
        )
    };
    while errors() < consumers && start.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(errors() >= consumers, "{} consume errors", errors());
    assert!(engine.is_running(), "the engine stays up");
    engine.stop().await;
}

/// A committed position librdkafka cannot fetch from is reset to
/// `auto.offset.reset` (earliest) and counted in
/// `wordwarden_offset_resets_total`, which `WordwardenPositionReset` watches:
/// below the log start (retention deleted what was not read) messages were
/// never screened. Neither the mock cluster nor tansu deletes records, so
/// the position here is past the end; the reset and its count are the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_reset_is_counted() {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};

    let mock = mock_with_topics("reset", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let texts: Vec<String> = (0..10).map(|i| format!("{i}：把客户名单发我")).collect();
    produce_texts(&brokers, "reset", &texts, 1).await;
    let committer: BaseConsumer = client(&brokers).set("group.id", "g1").create().unwrap();
    let mut position = rdkafka::TopicPartitionList::new();
    position
        .add_partition_offset("reset", 0, rdkafka::Offset::Offset(1000))
        .unwrap();
    committer.commit(&position, CommitMode::Sync).unwrap();
    drop(committer);

    let engine = Running::start(config(&brokers, "g1", "reset", lists.path()));
    engine.wait_processed(10, Duration::from_secs(60)).await;
    let resets = metric_sum(
        &engine.shared.metrics.render(),
        "wordwarden_offset_resets_total",
    );
    engine.stop().await;
    // (once, or again by a consumer that took the partition over before
    // the first one committed)
    assert!(resets >= 1.0, "{resets} resets");
    assert_eq!(read_topic(&brokers, "reset.alerts", false, IDLE).len(), 10);
}

/// An analyst's verdicts, written with `review`, are what `report` counts
/// (the terms with the most false alarms among them) and what `tail
/// --unreviewed` leaves out; the review is in the audit trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_on_alerts_are_counted_and_reviewed_alerts_left_out() {
    let mock = mock_with_topics("rev", 1);
    mock.create_topic("rev.reviews", 1, 1).unwrap();
    mock.create_topic("rev.audit", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let messages = [
        "把客户名单发我",
        "内幕消息明天出",
        "电话 13812345678",
        "今天开会",
    ]
    .map(String::from);
    let engine = Running::fed(config(&brokers, "grev", "rev", lists.path()), &messages, 1).await;
    engine.wait_processed(4, Duration::from_secs(60)).await;
    engine.stop().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
            .args(args)
            .args(["--brokers", &brokers, "--review-topic", "rev.reviews"])
            .args(["--audit-topic", "rev.audit", "--actor", "analyst-3"])
            .output()
            .expect("runs")
    };
    let alerts = read_topic(&brokers, "rev.alerts", false, IDLE);
    let id_of = |term: &str| -> String {
        let a = alerts
            .iter()
            .map(Record::json)
            .find(|a| a["hits"][0]["term"] == term)
            .unwrap_or_else(|| panic!("an alert on {term}"));
        a["alert_id"].as_str().unwrap().to_string()
    };
    let (list_id, tip_id) = (id_of("客户名单"), id_of("内幕消息"));
    let reviewed = |verdict: &str, id: &str| {
        let out = run(&["review", "--verdict", verdict, "--note", "checked", id]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // a verdict given again replaces the one before
    reviewed("confirmed", &list_id);
    let said = reviewed("false_positive", &list_id);
    assert!(said.contains(r#""recorded":1"#), "{said}");
    reviewed("confirmed", &tip_id);
    // no alert's id: refused, nothing written
    let refused = run(&["review", "--verdict", "confirmed", "rev/0/1"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not an alert id"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let records = read_topic(&brokers, "rev.reviews", false, IDLE);
    let keys: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(keys, [list_id.clone(), list_id.clone(), tip_id.clone()]);
    let last = records[1].json();
    assert_eq!(
        (&last["verdict"], &last["by"], &last["note"]),
        (
            &"false_positive".into(),
            &"analyst-3".into(),
            &"checked".into()
        )
    );

    let report = run(&[
        "report",
        "--alert-topic",
        "rev.alerts",
        "--from-beginning",
        "--json",
    ]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(
        report["reviews"],
        serde_json::json!({"confirmed": 1, "false_positive": 1, "unreviewed": 1})
    );
    let fp = &report["false_positive_terms"];
    assert_eq!(fp.as_array().map(Vec::len), Some(1), "{fp}");
    assert_eq!(
        (
            &fp[0]["name"],
            &fp[0]["false_positives"],
            &fp[0]["reviewed"]
        ),
        (&"客户名单 (leak)".into(), &1.into(), &1.into())
    );

    let tailed = run(&[
        "tail",
        "--alert-topic",
        "rev.alerts",
        "--from-beginning",
        "--unreviewed",
        "--json",
        "--idle-exit",
        "1",
    ]);
    let left: Vec<serde_json::Value> = String::from_utf8_lossy(&tailed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an alert"))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["hits"][0]["term"], "@cn_mobile");
    // without --unreviewed, every alert, the reviewed ones saying so
    let all = run(&[
        "tail",
        "--alert-topic",
        "rev.alerts",
        "--from-beginning",
        "--idle-exit",
        "1",
    ]);
    let all = String::from_utf8_lossy(&all.stdout).into_owned();
    assert_eq!(all.matches("[reviewed: ").count(), 2, "{all}");
    assert!(all.contains("[reviewed: false_positive]"), "{all}");
    // `--json`: each alert as published, its verdict beside it
    let printed = run(&[
        "tail",
        "--alert-topic",
        "rev.alerts",
        "--from-beginning",
        "--json",
        "--idle-exit",
        "1",
    ]);
    let printed: Vec<serde_json::Value> = String::from_utf8_lossy(&printed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an alert"))
        .collect();
    let review_of = |id: &str| {
        printed
            .iter()
            .find(|a| a["alert_id"] == id)
            .map(|a| a.get("review").cloned())
            .unwrap_or_else(|| panic!("alert {id} printed: {printed:?}"))
    };
    assert_eq!(
        review_of(&list_id),
        Some(serde_json::json!({"verdict": "false_positive"}))
    );
    assert_eq!(
        review_of(&tip_id),
        Some(serde_json::json!({"verdict": "confirmed"}))
    );
    let unreviewed = printed
        .iter()
        .find(|a| a["hits"][0]["term"] == "@cn_mobile")
        .expect("the phone number's alert");
    assert!(unreviewed.get("review").is_none(), "{unreviewed}");
    assert!(unreviewed["hits"][0]["matched"].is_string(), "{unreviewed}");

    // the reviews are in the audit trail, as `review` on the review topic
    let trail: Vec<(String, String)> = read_topic(&brokers, "rev.audit", false, IDLE)
        .iter()
        .map(Record::json)
        .map(|r| {
            (
                r["command"].as_str().unwrap().to_string(),
                r["read"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reviews = trail
        .iter()
        .filter(|(c, t)| c == "review" && t == "rev.reviews")
        .count();
    assert_eq!(reviews, 3, "{trail:?}");

    // brokers that cannot take the verdict: the analyst is told, in one line
    let closed = format!("127.0.0.1:{}", free_port());
    let lost = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args([
            "review",
            "--brokers",
            &closed,
            "--review-topic",
            "rev.reviews",
        ])
        .args(["--verdict", "dismissed", "--timeout-secs", "2", &tip_id])
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&lost.stderr);
    assert!(!lost.status.success());
    assert!(
        said.trim().lines().count() == 1
            && said
                .starts_with("error: the verdicts were not all written to rev.reviews (1 of 1: ")
            && said.contains("Connection refused"),
        "{said}"
    );
}

/// With `evidence_recipients` the alert topic holds no message text: each
/// alert's quotes (`matched`, `snippet`, the full `text`) are sealed to the
/// analysts' key; `tail --evidence-identity` opens them (its access record
/// says so), without it or with another key they show as sealed, and
/// `report` counts the sealed alerts as any others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_evidence_leaves_no_message_text_on_the_alert_topic() {
    let mock = mock_with_topics("seal", 1);
    mock.create_topic("seal.audit", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let keys = tempfile::tempdir().expect("tempdir");
    let keygen = |name: &str| {
        let path = keys.path().join(name);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
            .args(["keygen", "--out"])
            .arg(&path)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let recipient = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (path.display().to_string(), recipient)
    };
    let (analysts, recipient) = keygen("analysts.txt");
    let (stranger, _) = keygen("stranger.txt");
    let mut cfg = config(&brokers, "gseal", "seal", lists.path());
    cfg.evidence_recipients = vec![recipient];
    cfg.full_text_categories = vec!["leak".into()];
    let messages = [
        "把客户名单发我，保密",
        "内幕消息明天出",
        "电话 13812345678 找我",
        "今天开会",
    ]
    .map(String::from);
    let engine = Running::fed(cfg, &messages, 1).await;
    engine.wait_processed(4, Duration::from_secs(60)).await;
    engine.stop().await;
    let alerts = read_topic(&brokers, "seal.alerts", false, IDLE);
    assert_eq!(alerts.len(), 3);
    for record in &alerts {
        let bytes = String::from_utf8_lossy(record.payload.as_deref().unwrap_or_default());
        for quoted in [
            "发我",
            "保密",
            "明天出",
            "5678",
            "找我",
            "\"matched\"",
            "\"snippet\"",
        ] {
            assert!(
                !bytes.contains(quoted),
                "{quoted} on the alert topic: {bytes}"
            );
        }
        assert!(record.json()["sealed"]["key"].is_string(), "{bytes}");
    }
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
            .args(args)
            .args(["--brokers", &brokers, "--alert-topic", "seal.alerts"])
            .args(["--audit-topic", "seal.audit", "--actor", "analyst-5"])
            .arg("--from-beginning")
            .output()
            .expect("runs")
    };
    let tail = ["tail", "--idle-exit", "1"];
    let opened = run(&[&tail[..], &["--json", "--evidence-identity", &analysts]].concat());
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let opened: Vec<serde_json::Value> = String::from_utf8_lossy(&opened.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an alert"))
        .collect();
    let quotes: Vec<(&str, &str, bool)> = opened
        .iter()
        .map(|a| {
            (
                a["hits"][0]["matched"].as_str().unwrap_or_default(),
                a["snippet"].as_str().unwrap_or_default(),
                a["sealed"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        quotes,
        [
            ("客户名单", "把客户名单发我，保密", true),
            ("内幕消息", "内幕消息明天出", true),
            ("138****5678", "电话 138****5678 找我", true),
        ]
    );
    assert_eq!(opened[0]["text"], "把客户名单发我，保密");
    assert_eq!(opened[1]["text"], "内幕消息明天出");
    assert!(
        opened[2]["text"].is_null(),
        "full text only for its categories"
    );

    let shown = run(&tail);
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert_eq!(shown.matches("«sealed»").count(), 3, "{shown}");
    assert_eq!(
        shown
            .matches("(evidence sealed: --evidence-identity opens it)")
            .count(),
        3,
        "{shown}"
    );
    assert!(!shown.contains("保密"), "{shown}");
    let wrong = run(&[&tail[..], &["--evidence-identity", &stranger]].concat());
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(
        said.matches("none of the identities opens it").count(),
        1,
        "{said}"
    );
    assert_eq!(
        String::from_utf8_lossy(&wrong.stdout)
            .matches("«sealed»")
            .count(),
        3
    );
    let bad_key = run(&[&tail[..], &["--evidence-identity", "/nonexistent/key.txt"]].concat());
    assert!(!bad_key.status.success());
    assert!(
        String::from_utf8_lossy(&bad_key.stderr).contains("identity /nonexistent/key.txt"),
        "{}",
        String::from_utf8_lossy(&bad_key.stderr)
    );

    let report = run(&["report", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(
        (&report["alerts"], &report["unreadable"]),
        (&3.into(), &0.into()),
        "{report}"
    );

    // the trail tells the reads that opened evidence from the others; the
    // refused identity file read nothing and left no record
    let trail: Vec<(String, Option<String>)> = read_topic(&brokers, "seal.audit", false, IDLE)
        .iter()
        .map(Record::json)
        .map(|r| {
            (
                r["command"].as_str().unwrap_or_default().to_string(),
                r["evidence"].as_str().map(str::to_string),
            )
        })
        .collect();
    let opened_by = |c: &str| (c.to_string(), Some("opened".to_string()));
    assert_eq!(
        trail,
        [
            opened_by("tail"),
            ("tail".to_string(), None),
            opened_by("tail"),
            ("report".to_string(), None),
        ]
    );
}

/// The analyst's reads leave a trail: `tail`, `report`, `explain --at` and
/// `redrive` each write one access record to the audit topic before they
/// read (who, which command, what, the arguments without `-X` values), and
/// read nothing when the record cannot be written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_alerts_and_messages_are_recorded_before_they_happen() {
    let mock = mock_with_topics("acc", 1);
    mock.create_topic("acc.audit", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let engine = Running::fed(
        config(&brokers, "gacc", "acc", lists.path()),
        &["把客户名单发我".to_string()],
        1,
    )
    .await;
    engine.wait_processed(1, Duration::from_secs(60)).await;
    engine.stop().await;
    let audited = ["--audit-topic", "acc.audit", "--actor", "analyst-7"];
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
            .args(args)
            .args(audited)
            .output()
            .expect("runs")
    };
    let tailed = run(&[
        "tail",
        "--brokers",
        &brokers,
        "--alert-topic",
        "acc.alerts",
        "--from-beginning",
        "--json",
        "--idle-exit",
        "1",
        "-X",
        "client.id=analyst-box",
    ]);
    assert_eq!(String::from_utf8_lossy(&tailed.stdout).lines().count(), 1);
    let report = run(&[
        "report",
        "--brokers",
        &brokers,
        "--alert-topic",
        "acc.alerts",
        "--from-beginning",
    ]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let explained = run(&[
        "explain",
        "--wordlists",
        lists.path().to_str().unwrap(),
        "--brokers",
        &brokers,
        "--at",
        "acc/0/0",
    ]);
    assert!(String::from_utf8_lossy(&explained.stdout).contains("KEPT"));
    let redriven = run(&[
        "redrive",
        "--brokers",
        &brokers,
        "--dlq-topic",
        "acc.dlq",
        "--dry-run",
    ]);
    assert!(
        redriven.status.success(),
        "{}",
        String::from_utf8_lossy(&redriven.stderr)
    );

    let records: Vec<serde_json::Value> = read_topic(&brokers, "acc.audit", false, IDLE)
        .iter()
        .map(Record::json)
        .collect();
    let read: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["command"].as_str().unwrap(), r["read"].as_str().unwrap()))
        .collect();
    assert_eq!(
        read,
        [
            ("tail", "acc.alerts"),
            ("report", "acc.alerts"),
            ("explain", "acc/0/0"),
            ("redrive", "acc.dlq")
        ]
    );
    for r in &records {
        assert_eq!(
            (&r["kind"], &r["actor"]),
            (&"access".into(), &"analyst-7".into()),
            "{r}"
        );
        assert!(r["time"].as_f64().unwrap() > 1.7e9, "{r}");
    }
    let args = records[0]["args"].to_string();
    assert!(
        args.contains("client.id=(not recorded)") && !args.contains("analyst-box"),
        "{args}"
    );

    // the reviewer's view of the trail, itself recorded first: who looked
    // at the message acc/0/0, then every read
    let reviewed = |extra: &[&str]| {
        let mut args = vec!["audit", "--brokers", &brokers, "--from-beginning"];
        args.extend(extra);
        let out = run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let who = reviewed(&["--mentions", "acc/0/0"]);
    // the explain that read it, and this search for it
    let lines: Vec<&str> = who.lines().filter(|l| l.contains("acc/0/0")).collect();
    assert_eq!(lines.len(), 2, "{who}");
    assert!(
        lines[0].contains("  analyst-7  explain acc/0/0  [explain --wordlists"),
        "{who}"
    );
    assert!(
        lines[1].contains("  analyst-7  audit acc.audit  [audit "),
        "{who}"
    );
    assert!(
        who.contains("analyst-7        2 (audit 1, explain 1)"),
        "{who}"
    );
    let all = reviewed(&[]);
    assert!(
        all.contains("analyst-7        6 (audit 2, explain 1, redrive 1, report 1, tail 1)"),
        "{all}"
    );
    assert!(all.contains("reloads            0\n"), "{all}");

    // brokers that cannot take the record: nothing is read, and the
    // analyst is told why
    let closed = format!("127.0.0.1:{}", free_port());
    let refused = run(&[
        "tail",
        "--brokers",
        &closed,
        "--alert-topic",
        "acc.alerts",
        "--from-beginning",
        "--idle-exit",
        "1",
        "-X",
        "message.timeout.ms=1500",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(
            "nothing read: the access record could not be written to the audit topic acc.audit"
        ),
        "{said}"
    );
}

/// A list with dates judges text messages, which name no time of their own,
/// by their Kafka timestamp: a window long past is silent, one still open
/// fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_with_dates_judge_text_by_its_kafka_timestamp() {
    let mock = mock_with_topics("dated", 1);
    let brokers = mock.bootstrap_servers();
    let lists = tempfile::tempdir().unwrap();
    std::fs::write(
        lists.path().join("closed.txt"),
        "#! until: 2000-01-01\n客户名单\n",
    )
    .unwrap();
    std::fs::write(lists.path().join("open.txt"), "#! from: 2000-01-01\n底价\n").unwrap();
    let engine = Running::fed(
        config(&brokers, "gdated", "dated", lists.path()),
        &["客户名单和底价发你".to_string()],
        1,
    )
    .await;
    engine.wait_processed(1, Duration::from_secs(60)).await;
    engine.stop().await;
    let alerts = read_topic(&brokers, "dated.alerts", false, IDLE);
    assert_eq!(alerts.len(), 1);
    let terms: Vec<String> = alerts[0].json()["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["term"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(terms, ["底价"]);
}
