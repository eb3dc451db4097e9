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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reload_under_load_switches_versions_cleanly() {
    let tansu = Tansu::start();
    create_topics(
        &tansu.brokers,
        &[("t5", 1), ("t5.alerts", 1), ("t5.dlq", 1)],
    )
    .await;
    let lists = tempfile::tempdir().unwrap();
    let file = lists.path().join("leak.txt");
    std::fs::write(&file, "客户名单\n").unwrap();
    let engine = EngineProcess::start(
        &tansu.brokers,
        "e2e-hup",
        "t5",
        lists.path(),
        &[("WORDWARDEN_WATCH_WORDLISTS", "false")],
    );
    let total = 2000usize;
    let brokers = tansu.brokers.clone();
    let load = tokio::spawn(async move {
        for chunk in 0..20 {
            let texts: Vec<String> = (chunk * 100..chunk * 100 + 100)
                .map(|i| format!("{i} 客户名单和报价底价"))
                .collect();
            produce_texts(&brokers, "t5", &texts, 1).await;
        }
    });
    engine.wait_processed(500.0, Duration::from_secs(90));
    std::fs::write(&file, "客户名单\n报价底价\n").unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &engine.child.id().to_string()])
        .status();
    load.await.unwrap();
    engine.wait_processed(total as f64, Duration::from_secs(120));
    let metrics = engine.metrics();
    let (code, _, logs) = engine.terminate();
    assert_eq!(code, Some(0), "{logs}");
    assert!(
        metrics.contains("wordwarden_reloads_total{result=\"success\",trigger=\"signal\"} 1"),
        "{metrics}"
    );
    assert!(
        logs.contains("wordwarden::audit") && logs.contains("\"trigger\":\"signal\""),
        "audit record logged"
    );

    let mut rows: Vec<(i64, String, usize)> = read_topic(
        &tansu.brokers,
        "t5.alerts",
        false,
        Duration::from_millis(1500),
    )
    .iter()
    .map(|r| {
        let a = r.json();
        (
            a["source"]["offset"].as_i64().unwrap(),
            a["ruleset_version"].as_str().unwrap().to_string(),
            a["hits"].as_array().unwrap().len(),
        )
    })
    .collect();
    rows.sort();
    assert_eq!(rows.len(), total, "no message lost or doubled");
    let switch = rows
        .iter()
        .position(|r| r.2 == 2)
        .expect("new version in use");
    assert!(switch >= 500);
    assert!(rows[..switch].iter().all(|r| r.2 == 1 && r.1 == rows[0].1));
    assert!(rows[switch..]
        .iter()
        .all(|r| r.2 == 2 && r.1 == rows[switch].1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_follow_published_lists() {
    let tansu = Tansu::start();
    create_topics(
        &tansu.brokers,
        &[("t6", 2), ("t6.alerts", 1), ("t6.dlq", 1), ("t6.lists", 1)],
    )
    .await;
    let env = [
        ("WORDWARDEN_WORDLISTS_TOPIC", "t6.lists"),
        ("WORDWARDEN_WATCH_WORDLISTS", "false"),
    ];
    let lists_a = small_lists();
    let lists_b = small_lists();
    let a = EngineProcess::start(&tansu.brokers, "e2e-follow", "t6", lists_a.path(), &env);
    let b = EngineProcess::start(&tansu.brokers, "e2e-follow", "t6", lists_b.path(), &env);
    let publish = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(["publish-wordlists"])
        .arg(wordlists())
        .args([
            "--brokers",
            &tansu.brokers,
            "--topic",
            "t6.lists",
            "--publisher",
            "release-bot",
        ])
        .output()
        .unwrap();
    assert!(
        publish.status.success(),
        "{}",
        String::from_utf8_lossy(&publish.stderr)
    );
    let version = wordwarden::lists::WordListSet::load_dir(&wordlists())
        .unwrap()
        .version()
        .to_string();
    let start = std::time::Instant::now();
    let info = |e: &EngineProcess| {
        e.metrics().contains(&format!(
            "wordwarden_ruleset_info{{version=\"{version}\"}} 1"
        ))
    };
    while !(info(&a) && info(&b)) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "instances did not converge on {version}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, _, logs) = a.terminate();
    drop(b);
    assert_eq!(code, Some(0));
    assert!(
        logs.contains("\"actor\":\"release-bot\""),
        "the publisher is the audited actor: {logs}"
    );
}
