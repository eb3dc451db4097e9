//! Fault suite on the mock cluster (it can take brokers down and inject
//! errors): broker outage with /readyz, an unwritable alert topic, instances
//! joining and leaving under load, a poison corpus, and pseudonymized alerts.
//! Each test counts from the input and alert topics that nothing is lost and
//! reports duplicates.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

type Mock = MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

fn mock(input: &str, partitions: i32) -> Mock {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(input, partitions, 1).unwrap();
    mock.create_topic(&format!("{input}.alerts"), 1, 1).unwrap();
    mock.create_topic(&format!("{input}.dlq"), 1, 1).unwrap();
    mock
}

/// Alerts by (partition, offset) of their input message.
fn alerts_by_source(brokers: &str, topic: &str) -> BTreeMap<(i64, i64), usize> {
    let mut out = BTreeMap::new();
    for r in read_topic(brokers, topic, false, Duration::from_millis(1200)) {
        let a = r.json();
        *out.entry((
            a["source"]["partition"].as_i64().unwrap(),
            a["source"]["offset"].as_i64().unwrap(),
        ))
        .or_insert(0) += 1;
    }
    out
}

async fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < limit,
            "{what} not reached after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_waits_reconnects_and_readyz_reflects_it() {
    let mock = mock("f1", 2);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let mut cfg = config(&brokers, "fg1", "f1", lists.path());
    let addr = format!("127.0.0.1:{}", free_port());
    cfg.metrics_addr = addr.clone();
    cfg.kafka
        .insert("statistics.interval.ms".into(), "500".into());
    cfg.kafka
        .insert("reconnect.backoff.max.ms".into(), "1000".into());
    let engine = Running::start(cfg);
    produce_texts(&brokers, "f1", &alerting_texts(0..100), 2).await;
    engine.wait_processed(100, Duration::from_secs(60)).await;
    let a = addr.clone();
    wait_until(Duration::from_secs(20), "ready", move || {
        http_get(&a, "/readyz").map(|r| r.0) == Some(200)
    })
    .await;

    mock.broker_down(1).unwrap();
    let a = addr.clone();
    wait_until(
        Duration::from_secs(30),
        "/readyz reports the outage",
        move || http_get(&a, "/readyz").map(|r| r.0) == Some(503),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    mock.broker_up(1).unwrap();

    produce_texts(&brokers, "f1", &alerting_texts(100..200), 2).await;
    // the outage may expire the group member: work redone after the
    // rebalance counts as processed twice, so wait on the alerts themselves
    let start = Instant::now();
    while alerts_by_source(&brokers, "f1.alerts").len() < 200
        && start.elapsed() < Duration::from_secs(90)
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let a = addr.clone();
    wait_until(Duration::from_secs(30), "ready again", move || {
        http_get(&a, "/readyz").map(|r| r.0) == Some(200)
    })
    .await;
    engine.stop().await;
    let got = alerts_by_source(&brokers, "f1.alerts");
    assert_eq!(got.len(), 200, "nothing lost across the outage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_alert_topic_stops_offsets_until_it_recovers() {
    let mock = mock("f2", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    produce_texts(&brokers, "f2", &alerting_texts(0..50), 1).await;
    // every produce request fails with an authorization error for a while
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 12],
    );
    let engine = Running::start(config(&brokers, "fg2", "f2", lists.path()));
    // watch the committed offset from the first failed delivery on
    let start = Instant::now();
    let mut max_committed = -1;
    let mut watched_after_failure = 0;
    while watched_after_failure < 8 && start.elapsed() < Duration::from_secs(60) {
        max_committed = max_committed.max(committed(&brokers, "fg2", "f2", 0));
        if engine.shared.metrics.delivery_retries.get() > 0 {
            watched_after_failure += 1;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let retries = engine.shared.metrics.delivery_retries.get();
    assert!(
        max_committed <= 0,
        "offsets advanced past unwritten alerts: {max_committed}"
    );
    assert!(retries > 0, "deliveries were retried");
    mock.clear_request_errors(RDKafkaApiKey::Produce);
    engine.wait_processed(50, Duration::from_secs(120)).await;
    engine.stop().await;
    assert_eq!(committed(&brokers, "fg2", "f2", 0), 50);
    let got = alerts_by_source(&brokers, "f2.alerts");
    assert_eq!(
        got.len(),
        50,
        "every alert written once the topic recovered"
    );
}

/// The backstop under the shutdown's bounded steps: with every write to the
/// alert topic refused (retriably, so records stay queued) and the
/// producer's queue full, the consume loop waits to enqueue and never
/// reaches its stop. The engine gives the shutdown up at the deadline plus
/// its grace, with an error, instead of waiting for the queue to drain; it
/// committed nothing, so the messages are read again after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_that_cannot_finish_is_given_up_at_the_deadline() {
    let mock = mock("f6", 1);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    produce_texts(&brokers, "f6", &alerting_texts(0..200), 1).await;
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 100_000],
    );
    let mut cfg = config(&brokers, "fg6", "f6", lists.path());
    cfg.shutdown_timeout_secs = 3;
    cfg.kafka
        .insert("queue.buffering.max.messages".into(), "5".into());
    let engine = Running::start(cfg);
    engine.wait_joined(Duration::from_secs(60)).await;
    // the loop takes the backlog and fills the producer's queue at once
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(engine.processed(), 0, "no alert could be written");
    let (outcome, took) = engine.stop_outcome().await;
    assert!(
        matches!(
            outcome,
            Err(wordwarden::engine::EngineError::ShutdownOverrun(3))
        ),
        "{outcome:?}"
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(3 + 2 + 3),
        "gave up after {took:?}"
    );
    assert!(
        committed(&brokers, "fg6", "f6", 0) <= 0,
        "nothing committed past unwritten alerts"
    );
    eprintln!("shutdown given up after {took:?} (timeout 3 s)");
    // let the abandoned producer drain before the cluster goes
    mock.clear_request_errors(RDKafkaApiKey::Produce);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_join_and_leave_under_load_without_loss() {
    join_and_leave_under_load("f3", None).await;
}

/// The same with librdkafka's incremental rebalancing, which operators set
/// (`[kafka] partition.assignment.strategy`) so that a joining or leaving
/// instance moves only the partitions that change hands: revokes are then
/// partial, and the engine commits and hands over just those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_join_and_leave_under_load_without_loss_cooperatively() {
    join_and_leave_under_load("f3c", Some("cooperative-sticky")).await;
}

async fn join_and_leave_under_load(input: &str, strategy: Option<&str>) {
    let mock = mock(input, 6);
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    // load until the last joiner has left: a handover can take several
    // rounds of the group protocol (incremental rebalancing)
    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (b, topic, stop) = (brokers.clone(), input.to_string(), stop_load.clone());
        tokio::spawn(async move {
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                produce_texts(&b, &topic, &alerting_texts(sent..sent + 200), 6).await;
                sent += 200;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            sent
        })
    };
    let group = format!("{input}-group");
    let instance = || {
        let mut c = config(&brokers, &group, input, lists.path());
        if let Some(s) = strategy {
            c.kafka
                .insert("partition.assignment.strategy".into(), s.into());
        }
        Running::start(c)
    };
    let joined = |r: &Running| r.processed() > 0;
    let a = instance();
    a.wait_processed(500, Duration::from_secs(60)).await;
    let b2 = instance();
    wait_until(
        Duration::from_secs(60),
        "the second instance judges",
        || joined(&b2),
    )
    .await;
    let c = instance();
    wait_until(Duration::from_secs(60), "the third instance judges", || {
        joined(&c)
    })
    .await;
    b2.stop().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.stop().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_load.store(true, std::sync::atomic::Ordering::Relaxed);
    let total = load.await.unwrap();
    let alerts = format!("{input}.alerts");
    let start = Instant::now();
    let mut got = alerts_by_source(&brokers, &alerts);
    while got.len() < total && start.elapsed() < Duration::from_secs(90) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        got = alerts_by_source(&brokers, &alerts);
    }
    a.stop().await;
    let dups: usize = got.values().map(|n| n - 1).sum();
    eprintln!(
        "rebalance under load ({}): {total} messages, {} alerted, {dups} duplicates",
        strategy.unwrap_or("eager"),
        got.len()
    );
    assert_eq!(
        got.len(),
        total,
        "nothing lost while instances joined and left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_corpus_goes_to_the_dead_letters_or_is_capped() {
    let mock = mock("f4", 1);
    let brokers = mock.bootstrap_servers();
    let lists = tempfile::tempdir().unwrap();
    // many terms, and a regex that would be catastrophic for a backtracking engine
    let terms: String = (0..500).map(|i| format!("词{i:03}x\n")).collect();
    std::fs::write(lists.path().join("many.txt"), &terms).unwrap();
    std::fs::write(lists.path().join("bomb.txt"), "re:(x+x+)+y\n").unwrap();
    let mut cfg = config(&brokers, "fg4", "f4", lists.path());
    cfg.input_format = "json".into();
    cfg.max_message_bytes = 512 * 1024;
    cfg.max_hits = 50;
    let everything: String = terms.lines().collect::<Vec<_>>().join(" ");
    let poison: Vec<Input<'_>> = vec![
        (
            Some("utf8"),
            Some(b"{\"text\": \"\xff\xfe\"}".to_vec()),
            Some(0),
        ),
        (
            Some("truncated"),
            Some(b"{\"text\": \"abc".to_vec()),
            Some(0),
        ),
        (
            Some("nested"),
            Some(
                format!(
                    "{{\"text\": {}1{}}}",
                    "[".repeat(100_000),
                    "]".repeat(100_000)
                )
                .into_bytes(),
            ),
            Some(0),
        ),
        (
            Some("huge"),
            Some(format!("{{\"text\": \"{}\"}}", "a".repeat(600_000)).into_bytes()),
            Some(0),
        ),
        (Some("empty"), Some(Vec::new()), Some(0)),
        (Some("null"), None, Some(0)),
        (
            Some("hits"),
            Some(
                serde_json::json!({"text": everything})
                    .to_string()
                    .into_bytes(),
            ),
            Some(0),
        ),
        (
            Some("bomb"),
            Some(
                serde_json::json!({"text": "x".repeat(100_000)})
                    .to_string()
                    .into_bytes(),
            ),
            Some(0),
        ),
        (
            Some("ok"),
            Some(
                serde_json::json!({"text": "词001x"})
                    .to_string()
                    .into_bytes(),
            ),
            Some(0),
        ),
    ];
    let engine = Running::start(cfg);
    engine.wait_joined(Duration::from_secs(60)).await;
    produce(&brokers, "f4", &poison).await;
    engine
        .wait_processed(poison.len() as i64, Duration::from_secs(60))
        .await;
    engine.stop().await;
    let dlq = read_topic(&brokers, "f4.dlq", false, Duration::from_millis(1200));
    let reasons: BTreeMap<String, String> = dlq
        .iter()
        .map(|r| {
            (
                String::from_utf8(r.key.clone().unwrap()).unwrap(),
                r.headers["reason"].clone(),
            )
        })
        .collect();
    let want: BTreeMap<String, String> = [
        ("utf8", "not_utf8"),
        ("truncated", "not_json"),
        // valid JSON, but an array 100,000 deep where the text should be:
        // its strings would be read, and it is deeper than a parse goes
        ("nested", "too_deep"),
        ("huge", "too_large"),
        ("empty", "empty"),
        ("null", "empty"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(reasons, want);
    let alerts = read_topic(&brokers, "f4.alerts", false, Duration::from_millis(1200));
    assert_eq!(
        alerts.len(),
        2,
        "the many-hits message and the ordinary one"
    );
    let capped = alerts
        .iter()
        .map(|r| r.json())
        .find(|a| a["hits"].as_array().unwrap().len() == 50)
        .unwrap();
    assert_eq!(capped["hits_truncated"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonymized_alerts_carry_no_user_ids_and_minimum_text() {
    let mock = mock("f5", 1);
    let brokers = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    let mut cfg = config(&brokers, "fg5", "f5", &wordlists());
    cfg.input_format = "wecom".into();
    cfg.pseudonymize_ids = true;
    cfg.pseudonym_key_file = Some(key);
    let long_tail = "这是一段很长的聊天内容，和敏感词没有关系，".repeat(20);
    let rec = serde_json::json!({"msgid": "m1", "action": "send", "from": "zhangwei", "tolist": ["lina"],
        "roomid": "", "msgtime": 1, "msgtype": "text", "text": {"content": format!("把客户名单发我，电话13812345678{long_tail}")}});
    produce_texts(&brokers, "f5", &[rec.to_string()], 1).await;
    let engine = Running::start(cfg);
    engine.wait_processed(1, Duration::from_secs(60)).await;
    engine.stop().await;
    let alert = read_topic(&brokers, "f5.alerts", false, Duration::from_millis(1200))[0].json();
    let text = alert.to_string();
    assert!(
        !text.contains("zhangwei") && !text.contains("lina"),
        "{text}"
    );
    // the phone number next to the hit is quoted masked (the default)
    assert!(
        !text.contains("13812345678") && alert["snippet"].as_str().unwrap().contains("138****5678"),
        "{text}"
    );
    assert!(alert["source"]["from"].as_str().unwrap().starts_with("u_"));
    assert!(alert["text"].is_null(), "no full text by default");
    assert!(
        alert["snippet"].as_str().unwrap().chars().count() < 40,
        "the snippet is small: {}",
        alert["snippet"]
    );
}
