//! Hot reload in the running engine (mock cluster): a swap under load judges
//! each message by exactly one version, bad lists never replace the last good
//! one, rapid edits converge, HTTP reload is authorized and audited, and two
//! instances following the word-list topic converge on one version.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use wordwarden::lists::WordListSet;

fn mock(input: &str) -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(input, 1, 1).unwrap();
    mock.create_topic(&format!("{input}.alerts"), 1, 1).unwrap();
    mock.create_topic(&format!("{input}.dlq"), 1, 1).unwrap();
    mock
}

/// Replaces a file the way editors do: write a temporary file, rename it over.
fn write_atomically(path: &Path, content: &str) {
    let tmp = path.with_extension("txt.tmp~");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn version_of(files: &[(&str, &str)]) -> String {
    WordListSet::from_sources(
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect(),
    )
    .version()
    .to_string()
}

async fn wait_version(engine: &Running, version: &str, limit: Duration) {
    let start = Instant::now();
    while engine.shared.ruleset.load().version() != version {
        assert!(
            start.elapsed() < limit,
            "version {version} not loaded after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn post(addr: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        buf.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swap_under_load_judges_each_message_by_exactly_one_version() {
    let mock = mock("r1");
    let brokers = mock.bootstrap_servers();
    let lists = tempfile::tempdir().unwrap();
    let file = lists.path().join("leak.txt");
    std::fs::write(&file, "客户名单\n").unwrap();
    let v1 = version_of(&[("leak.txt", "客户名单\n")]);
    let v2 = version_of(&[("leak.txt", "客户名单\n报价底价\n")]);

    let engine = Running::start(config(&brokers, "rg1", "r1", lists.path()));
    engine.wait_joined(Duration::from_secs(60)).await;
    // continuous load: 3000 messages, every one alerts under both versions
    let total = 3000usize;
    let b = brokers.clone();
    let producer_task = tokio::spawn(async move {
        let p: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &b)
            .create()
            .unwrap();
        for i in 0..total {
            let text = format!("{i} 客户名单和报价底价");
            p.send(
                FutureRecord::<str, str>::to("r1").payload(&text),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
            if i % 100 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    engine.wait_processed(800, Duration::from_secs(60)).await;
    write_atomically(&file, "客户名单\n报价底价\n");
    wait_version(&engine, &v2, Duration::from_secs(10)).await;
    producer_task.await.unwrap();
    engine
        .wait_processed(total as i64, Duration::from_secs(60))
        .await;
    engine.stop().await;

    let alerts = read_topic(&brokers, "r1.alerts", false, Duration::from_millis(1500));
    assert_eq!(
        alerts.len(),
        total,
        "no message lost or doubled during the swap"
    );
    let rows = version_rows(&alerts);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.0, i as i64, "every offset alerted once");
    }
    let switch = rows
        .iter()
        .position(|r| r.1 == v2)
        .expect("new version used");
    assert!(switch > 0, "old version used before the swap");
    for (offset, version, hits) in &rows[..switch] {
        assert_eq!(version, &v1, "offset {offset}: versions interleave");
        assert_eq!(*hits, 1, "offset {offset}: judged by v1");
    }
    for (offset, version, hits) in &rows[switch..] {
        assert_eq!(version, &v2, "offset {offset}: back to the old version");
        assert_eq!(*hits, 2, "offset {offset}: judged by v2");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lists_never_replace_the_last_good_one() {
    let mock = mock("r2");
    let brokers = mock.bootstrap_servers();
    let lists = tempfile::tempdir().unwrap();
    std::fs::write(lists.path().join("leak.txt"), "客户名单\n").unwrap();
    let good = version_of(&[("leak.txt", "客户名单\n")]);
    let mut cfg = config(&brokers, "rg2", "r2", lists.path());
    cfg.watch_wordlists = false; // reload explicitly over HTTP, step by step
    let addr = format!("127.0.0.1:{}", free_port());
    cfg.metrics_addr = addr.clone();
    let engine = Running::start(cfg);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // a bad regex
    std::fs::write(lists.path().join("bad.txt"), "re:(unclosed\n").unwrap();
    let (code, body) = tokio::task::spawn_blocking({
        let a = addr.clone();
        move || post(&a, "/admin/reload", None)
    })
    .await
    .unwrap();
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("bad.txt:1"), "{body}");
    assert_eq!(engine.shared.ruleset.load().version(), good);
    let (_, status) = http_get(&addr, "/admin/ruleset").unwrap();
    assert!(status.contains("bad.txt"), "{status}");
    assert!(status.contains(&good), "{status}");
    std::fs::remove_file(lists.path().join("bad.txt")).unwrap();

    // a binary file
    std::fs::write(lists.path().join("blob.txt"), [0u8, 159, 146, 150, 255]).unwrap();
    let a = addr.clone();
    let (code, body) = tokio::task::spawn_blocking(move || post(&a, "/admin/reload", None))
        .await
        .unwrap();
    assert_eq!(code, 422, "{body}");
    assert_eq!(engine.shared.ruleset.load().version(), good);
    std::fs::remove_file(lists.path().join("blob.txt")).unwrap();

    // an empty directory (the file deleted)
    std::fs::remove_file(lists.path().join("leak.txt")).unwrap();
    let a = addr.clone();
    let (code, _) = tokio::task::spawn_blocking(move || post(&a, "/admin/reload", None))
        .await
        .unwrap();
    assert_eq!(code, 422);
    assert_eq!(engine.shared.ruleset.load().version(), good);

    // messages are still judged by the last good version meanwhile
    produce_texts(&brokers, "r2", &["把客户名单发我".to_string()], 1).await;
    engine.wait_processed(1, Duration::from_secs(30)).await;

    // recreated: loads
    std::fs::write(lists.path().join("leak.txt"), "客户名单\n底价\n").unwrap();
    let a = addr.clone();
    let (code, body) = tokio::task::spawn_blocking(move || post(&a, "/admin/reload", None))
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"result\":\"loaded\""), "{body}");
    assert!(body.contains("\"added\":{\"leak\":1}"), "{body}");
    assert_eq!(
        engine.shared.ruleset.load().version(),
        version_of(&[("leak.txt", "客户名单\n底价\n")])
    );
    let metrics = engine.shared.metrics.render();
    assert!(
        metrics.contains("wordwarden_reloads_total{result=\"failure\",trigger=\"http\"} 3"),
        "{metrics}"
    );
    engine.stop().await;
    let alerts = read_topic(&brokers, "r2.alerts", false, Duration::from_millis(1000));
    assert_eq!(alerts[0].json()["ruleset_version"], good.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_successive_edits_converge_on_the_final_content() {
    let mock = mock("r3");
    let brokers = mock.bootstrap_servers();
    let lists = tempfile::tempdir().unwrap();
    let file = lists.path().join("leak.txt");
    std::fs::write(&file, "客户名单\n").unwrap();
    let engine = Running::start(config(&brokers, "rg3", "r3", lists.path()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut last = String::new();
    for i in 0..25 {
        last = format!("客户名单\n词语{i}号\n");
        if i % 2 == 0 {
            write_atomically(&file, &last);
        } else {
            std::fs::write(&file, &last).unwrap(); // in place, like some editors
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    wait_version(
        &engine,
        &version_of(&[("leak.txt", &last)]),
        Duration::from_secs(15),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        engine.shared.ruleset.load().version(),
        version_of(&[("leak.txt", &last)])
    );
    // a reload reads the lists; reading them is no change and starts no
    // further reload (it did once: five reloads a second, forever)
    let file_reloads = || metric_sum(&engine.shared.metrics.render(), "wordwarden_reloads_total");
    let before = file_reloads();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(file_reloads(), before, "reloads with nothing changed");
    // nor does git's bookkeeping in a list checkout (the reader skips it)
    let git = lists.path().join(".git/objects/ab");
    std::fs::create_dir_all(&git).unwrap();
    for i in 0..5 {
        std::fs::write(git.join(format!("obj{i}")), "blob").unwrap();
        std::fs::write(lists.path().join(".git/index.lock"), "lock").unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(file_reloads(), before, "reloads for changes inside .git");
    engine.stop().await;
}

/// People groups reload with the lists: a member added to a group on disk
/// changes, without a restart, which WeCom records a barrier list watches,
/// and the reload's audit record counts the ids added (not who).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_people_group_edited_on_disk_changes_what_the_engine_watches() {
    let mock = mock("r5");
    let brokers = mock.bootstrap_servers();
    let lists = tempfile::tempdir().unwrap();
    let barrier = "#! people: between ibd research\n停牌\n";
    let files = |research: &'static str| {
        [
            ("barrier.txt", barrier),
            ("ibd.people", "zhangwei\n"),
            ("research.people", research),
        ]
    };
    for (name, text) in files("lina\n") {
        std::fs::write(lists.path().join(name), text).unwrap();
    }
    mock.create_topic("r5.audit", 1, 1).unwrap();
    let mut cfg = config(&brokers, "rg5", "r5", lists.path());
    cfg.input_format = "wecom".into();
    cfg.audit_topic = Some("r5.audit".into());
    let engine = Running::start(cfg);
    wait_version(
        &engine,
        &version_of(&files("lina\n")),
        Duration::from_secs(10),
    )
    .await;
    let record = |id: &str| -> Vec<u8> {
        format!(
            r#"{{"msgid":"{id}","from":"zhangwei","tolist":["wangfang"],"msgtype":"text","text":{{"content":"下周停牌"}}}}"#
        )
        .into_bytes()
    };
    produce(&brokers, "r5", &[(None, Some(record("before")), None)]).await;
    engine.wait_processed(1, Duration::from_secs(30)).await;
    // committed first: a rebalance on a loaded machine would otherwise read
    // it again, rightly judged by the lists of then
    let deadline = Instant::now() + Duration::from_secs(30);
    while committed(&brokers, "rg5", "r5", 0) < 1 {
        assert!(Instant::now() < deadline, "`before` never committed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // wangfang joins research: the same message now crosses the barrier
    let research = lists.path().join("research.people");
    let tmp = research.with_extension("people.tmp~");
    std::fs::write(&tmp, "lina\nwangfang\n").unwrap();
    std::fs::rename(&tmp, &research).unwrap();
    wait_version(
        &engine,
        &version_of(&files("lina\nwangfang\n")),
        Duration::from_secs(15),
    )
    .await;
    produce(&brokers, "r5", &[(None, Some(record("after")), None)]).await;
    engine.wait_processed(2, Duration::from_secs(30)).await;
    engine.stop().await;
    let alerts = read_topic(&brokers, "r5.alerts", false, Duration::from_millis(1000));
    let ids: Vec<String> = alerts
        .iter()
        .map(|a| {
            a.json()["source"]["msgid"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["after"]);
    let audit = read_topic(&brokers, "r5.audit", false, Duration::from_millis(1000));
    let loaded: Vec<serde_json::Value> = audit
        .iter()
        .map(|r| r.json())
        .filter(|r| r["result"] == "loaded")
        .collect();
    assert_eq!(loaded.len(), 1, "{audit:?}");
    assert_eq!(
        loaded[0]["people_added"],
        serde_json::json!({"research": 1})
    );
    assert!(loaded[0].get("people_removed").is_none(), "{}", loaded[0]);
    assert!(!loaded[0].to_string().contains("wangfang"), "{}", loaded[0]);
    // the trail as a reviewer reads it: the reload, by the file watcher
    let trail = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(["audit", "--brokers", &brokers, "--audit-topic", "r5.audit"])
        .arg("--from-beginning")
        .args(["--command", "reload", "--actor", "dpo"])
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&trail.stdout);
    assert!(trail.status.success(), "{said}");
    let reloads: Vec<&str> = said.lines().filter(|l| l.contains("  reload (")).collect();
    assert_eq!(reloads.len(), audit.len(), "{said}");
    assert!(
        reloads
            .iter()
            .any(|l| l.contains(" loaded ") && l.ends_with(", people +1 -0")),
        "{said}"
    );
    assert!(
        said.contains(&format!("reloads            {}", audit.len())),
        "{said}"
    );
    assert!(!said.contains("wangfang"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_reload_requires_a_configured_token() {
    let mock = mock("r4");
    let brokers = mock.bootstrap_servers();
    let lists = small_lists();
    let mut cfg = config(&brokers, "rg4", "r4", lists.path());
    let addr = format!("127.0.0.1:{}", free_port());
    cfg.metrics_addr = addr.clone();
    cfg.watch_wordlists = false;
    cfg.admin_tokens.insert(
        "alice".into(),
        wordwarden::engine::http::hash_token("s3cret-token"),
    );
    let engine = Running::start(cfg);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = addr.clone();
    let results = tokio::task::spawn_blocking(move || {
        (
            post(&a, "/admin/reload", None).0,
            post(&a, "/admin/reload", Some("wrong")).0,
            post(&a, "/admin/reload", Some("s3cret-token")),
        )
    })
    .await
    .unwrap();
    assert_eq!(results.0, 401);
    assert_eq!(results.1, 401);
    assert_eq!(results.2 .0, 200);
    assert!(
        results.2 .1.contains("\"actor\":\"alice\""),
        "{}",
        results.2 .1
    );
    assert!(
        results.2 .1.contains("\"result\":\"unchanged\""),
        "{}",
        results.2 .1
    );
    engine.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_following_the_list_topic_converge() {
    let mock = mock("r5");
    let brokers = mock.bootstrap_servers();
    mock.create_topic("r5.lists", 1, 1).unwrap();
    let lists_a = small_lists();
    let lists_b = small_lists();
    let mut a = config(&brokers, "rg5", "r5", lists_a.path());
    a.wordlists_topic = Some("r5.lists".into());
    a.watch_wordlists = false;
    let mut b = a.clone();
    b.wordlists = lists_b.path().to_path_buf();
    let ea = Running::start(a);
    let eb = Running::start(b);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let sources = vec![
        (
            "leak.txt".to_string(),
            "客户名单\n源代码\n".as_bytes().to_vec(),
        ),
        (
            "deals/private.txt".to_string(),
            "私人账户\n".as_bytes().to_vec(),
        ),
    ];
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &brokers);
    let manifest = wordwarden::engine::list_topic::publish(&client, "r5.lists", sources, "ci-bot")
        .await
        .unwrap();
    wait_version(&ea, &manifest.version, Duration::from_secs(20)).await;
    wait_version(&eb, &manifest.version, Duration::from_secs(20)).await;
    assert_eq!(ea.shared.ruleset.load().stats().rules_per_category.len(), 2);

    // a bad set published later is rejected by both, which keep the good one
    let bad = vec![("leak.txt".to_string(), b"re:(\n".to_vec())];
    wordwarden::engine::list_topic::publish(&client, "r5.lists", bad, "ci-bot")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(ea.shared.ruleset.load().version(), manifest.version);
    assert_eq!(eb.shared.ruleset.load().version(), manifest.version);
    ea.stop().await;
    eb.stop().await;
}
