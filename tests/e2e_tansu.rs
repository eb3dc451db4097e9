//! End to end against an independent Kafka-compatible broker process (tansu)
//! and the real `wordwarden run` binary: exact alerts for a WeCom stream,
//! graceful shutdown and restart, kill -9 in at-least-once and exactly-once
//! modes. The harness starts tansu on a free localhost port.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;

/// Alerts by (partition, offset) of the input message, with how often each came.
fn alerts_by_source(
    brokers: &str,
    topic: &str,
    read_committed: bool,
) -> BTreeMap<(i64, i64), usize> {
    let mut out = BTreeMap::new();
    for r in read_topic(brokers, topic, read_committed, Duration::from_millis(1500)) {
        let a = r.json();
        let key = (
            a["source"]["partition"].as_i64().unwrap(),
            a["source"]["offset"].as_i64().unwrap(),
        );
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

fn texts(n: usize) -> (Vec<String>, usize) {
    let t: Vec<String> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                format!("msg {i} 把客户名单发我")
            } else {
                format!("msg {i} 普通消息")
            }
        })
        .collect();
    (t, n.div_ceil(2))
}

/// Waits until `expected` distinct input messages have alerts.
fn wait_alerts(
    brokers: &str,
    topic: &str,
    read_committed: bool,
    expected: usize,
    limit: Duration,
) -> BTreeMap<(i64, i64), usize> {
    let start = Instant::now();
    loop {
        let got = alerts_by_source(brokers, topic, read_committed);
        if got.len() >= expected || start.elapsed() > limit {
            return got;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wecom_stream_gives_exactly_the_expected_alerts() {
    let tansu = Tansu::start();
    create_topics(
        &tansu.brokers,
        &[("wecom", 3), ("wecom.alerts", 1), ("wecom.dlq", 1)],
    )
    .await;
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/demo/wecom-sample.jsonl"
    ))
    .unwrap();
    let lines: Vec<String> = sample.lines().map(str::to_string).collect();
    produce_texts(&tansu.brokers, "wecom", &lines, 3).await;

    let engine = EngineProcess::start(
        &tansu.brokers,
        "e2e-wecom",
        "wecom",
        &wordlists(),
        &[("WORDWARDEN_INPUT_FORMAT", "wecom")],
    );
    engine.wait_processed(lines.len() as f64, Duration::from_secs(90));
    let (code, took, logs) = engine.terminate();
    assert_eq!(code, Some(0), "clean exit on SIGTERM; logs:\n{logs}");
    assert!(took < Duration::from_secs(30), "{took:?}");

    let alerts = read_topic(
        &tansu.brokers,
        "wecom.alerts",
        false,
        Duration::from_millis(1500),
    );
    assert_eq!(alerts.len(), 24);
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for a in &alerts {
        *by_type
            .entry(a.json()["source"]["msgtype"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for t in [
        "text",
        "file",
        "link",
        "chatrecord",
        "mixed",
        "docmsg",
        "meeting",
        "todo",
        "calendar",
        "collect",
        "markdown",
    ] {
        assert!(
            by_type.contains_key(t),
            "no alert from a {t} record: {by_type:?}"
        );
    }
    for t in ["image", "voice", "video", "emotion", "revoke", "switch"] {
        assert!(!by_type.contains_key(t), "a {t} record alerted");
    }
    let dlq = read_topic(
        &tansu.brokers,
        "wecom.dlq",
        false,
        Duration::from_millis(1500),
    );
    let mut reasons: Vec<String> = dlq.iter().map(|r| r.headers["reason"].clone()).collect();
    reasons.sort();
    assert_eq!(reasons, vec!["no_text", "not_json", "unreadable_field"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_then_restart_loses_and_repeats_nothing() {
    let tansu = Tansu::start();
    create_topics(
        &tansu.brokers,
        &[("t2", 4), ("t2.alerts", 1), ("t2.dlq", 1)],
    )
    .await;
    let (input, expected) = texts(4000);
    produce_texts(&tansu.brokers, "t2", &input, 4).await;
    let lists = small_lists();

    let engine = EngineProcess::start(&tansu.brokers, "e2e-term", "t2", lists.path(), &[]);
    engine.wait_processed(300.0, Duration::from_secs(90));
    let (code, took, logs) = engine.terminate();
    assert_eq!(code, Some(0), "logs:\n{logs}");
    assert!(took < Duration::from_secs(30), "shutdown took {took:?}");

    let engine = EngineProcess::start(&tansu.brokers, "e2e-term", "t2", lists.path(), &[]);
    let got = wait_alerts(
        &tansu.brokers,
        "t2.alerts",
        false,
        expected,
        Duration::from_secs(120),
    );
    let (code, _, _) = engine.terminate();
    assert_eq!(code, Some(0));
    assert_eq!(got.len(), expected, "every alerting message has its alert");
    let dups: usize = got.values().map(|n| n - 1).sum();
    assert_eq!(
        dups, 0,
        "a graceful shutdown commits everything it published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_at_least_once_loses_nothing() {
    let tansu = Tansu::start();
    create_topics(
        &tansu.brokers,
        &[("t3", 4), ("t3.alerts", 1), ("t3.dlq", 1)],
    )
    .await;
    let (input, expected) = texts(6000);
    produce_texts(&tansu.brokers, "t3", &input, 4).await;
    let lists = small_lists();
    let env = [("WORDWARDEN_MAX_IN_FLIGHT", "500")];
    for kill_after in [200.0, 700.0, 300.0] {
        let engine = EngineProcess::start(&tansu.brokers, "e2e-kill", "t3", lists.path(), &env);
        engine.wait_processed(kill_after, Duration::from_secs(90));
        engine.kill9();
    }
    let engine = EngineProcess::start(&tansu.brokers, "e2e-kill", "t3", lists.path(), &env);
    let got = wait_alerts(
        &tansu.brokers,
        "t3.alerts",
        false,
        expected,
        Duration::from_secs(180),
    );
    drop(engine);
    assert_eq!(got.len(), expected, "zero lost alerts after 3 kills");
    let dups: usize = got.values().map(|n| n - 1).sum();
    eprintln!(
        "kill -9 x3: {expected} alerting messages, 0 lost, {dups} duplicates (at-least-once)"
    );
    assert!(
        dups <= 3 * 500 + 3 * 1000,
        "duplicates only within the in-flight window: {dups}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_exactly_once_read_committed_sees_each_alert_once() {
    let tansu = Tansu::start();
    create_topics(
        &tansu.brokers,
        &[("t4", 2), ("t4.alerts", 1), ("t4.dlq", 1)],
    )
    .await;
    let (input, expected) = texts(3000);
    produce_texts(&tansu.brokers, "t4", &input, 2).await;
    let lists = small_lists();
    let env = [
        ("WORDWARDEN_DELIVERY", "exactly-once"),
        ("WORDWARDEN_TRANSACTIONAL_ID", "e2e-eos-1"),
        ("WORDWARDEN_TRANSACTION_MAX_MESSAGES", "200"),
    ];
    for kill_after in [400.0, 600.0] {
        let engine = EngineProcess::start(&tansu.brokers, "e2e-eos", "t4", lists.path(), &env);
        engine.wait_processed(kill_after, Duration::from_secs(120));
        engine.kill9();
    }
    let engine = EngineProcess::start(&tansu.brokers, "e2e-eos", "t4", lists.path(), &env);
    let got = wait_alerts(
        &tansu.brokers,
        "t4.alerts",
        true,
        expected,
        Duration::from_secs(180),
    );
    let (code, _, logs) = engine.terminate();
    assert_eq!(code, Some(0), "logs:\n{logs}");
    assert_eq!(got.len(), expected, "zero lost alerts");
    let dups: usize = got.values().map(|n| n - 1).sum();
    assert_eq!(
        dups, 0,
        "read_committed sees each alert once across kill -9"
    );
}
