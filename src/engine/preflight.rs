//! Checks a deployment before it runs (`wordwarden check`): the word lists
//! compile, librdkafka accepts every client's settings, the HTTP address
//! resolves and, with brokers to reach, every topic the engine reads or
//! writes exists and the group's position is known.
//!
//! Nothing is consumed, produced, committed or joined, and no transactional
//! producer is started: starting one with the `transactional.id` of a
//! running instance would fence that instance.
//!
//! ```no_run
//! use std::time::Duration;
//! use wordwarden::engine::{preflight, Config};
//!
//! let config = Config::load(Some("deploy/wordwarden.toml".as_ref()), std::env::vars())?;
//! let report = preflight::check(&config, Some(Duration::from_secs(10)));
//! for c in &report.checks {
//!     println!("{:?} {}: {}", c.outcome, c.name, c.detail);
//! }
//! assert!(report.passed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::metadata::MetadataTopic;
use rdkafka::producer::BaseProducer;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use super::client_log::FirstErrorContext;
use super::config::InputTopic;
use super::{clients, Config, Delivery};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// As the engine needs it.
    Ok,
    /// The engine runs, but probably not as meant.
    Warn,
    /// The engine would not start, or would screen nothing.
    Fail,
}

/// One check: what was checked, how it came out, what was found. Details
/// name settings, never their values (a `[kafka]` table holds passwords).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked: `config`, `wordlists`, `audience`, `clients`,
    /// `http`, `brokers`, `input`, `alerts`, `dead letters`, `list topic`,
    /// `audit`, `group`, `scale`.
    pub name: &'static str,
    /// How it came out.
    pub outcome: Outcome,
    /// What was found, for a person to read.
    pub detail: String,
}

/// Every check of one run, in the order they ran.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// No check failed (warnings pass).
    pub fn passed(&self) -> bool {
        self.count(Outcome::Fail) == 0
    }

    /// How many checks came out as `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.checks.iter().filter(|c| c.outcome == outcome).count()
    }

    /// The first check called `name`.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    fn push(&mut self, name: &'static str, outcome: Outcome, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            outcome,
            detail: detail.into(),
        });
    }
}

/// Runs every check of `config`; with `brokers_within`, also those that ask
/// the brokers, each request waiting at most that long.
pub fn check(config: &Config, brokers_within: Option<Duration>) -> Report {
    let mut report = Report::default();
    report.push("config", Outcome::Ok, summary(config));
    wordlists(config, &mut report);
    let clients_ok = clients(config, &mut report);
    http(config, &mut report);
    if let Some(timeout) = brokers_within.filter(|_| clients_ok) {
        brokers(config, timeout, &mut report);
    }
    report
}

fn summary(config: &Config) -> String {
    let delivery = match config.delivery {
        Delivery::AtLeastOnce => "at-least-once",
        Delivery::ExactlyOnce => "exactly-once",
    };
    let sealed = match config.evidence_recipients.len() {
        0 => String::new(),
        1 => ", alerts' quotes of messages sealed to 1 age recipient".into(),
        n => format!(", alerts' quotes of messages sealed to {n} age recipients"),
    };
    // validated before the checks: a bad name never reaches here
    let encoding = match config.input_charset() {
        Ok(Some(charset)) => format!(", UTF-8 or {}", charset.name()),
        _ => String::new(),
    };
    format!(
        "brokers {}, group {}, input {} ({}{encoding}), {delivery}{sealed}",
        config.brokers,
        config.group,
        config.input_topics.join(", "),
        config.input_format
    )
}

/// The lists compile as the engine compiles them at start; and the lists'
/// audiences fit the input format.
fn wordlists(config: &Config, report: &mut Report) {
    let started = Instant::now();
    let dir = config.wordlists.display();
    let ruleset = match super::start_ruleset(config, &super::builder_for(config)) {
        Ok(rs) => rs,
        Err(e) => {
            // every error with its file:line, as `wordwarden lint` shows them
            let mut detail = format!("{dir}: {e}");
            for d in e.diagnostics().iter().skip(1).take(9) {
                detail.push_str(&format!("; {d}"));
            }
            report.push("wordlists", Outcome::Fail, detail);
            return;
        }
    };
    let stats = ruleset.stats();
    let mut detail = format!(
        "{dir}: {} rules in {} categories, version {}, compiled in {:.2} s",
        ruleset.rules().len(),
        stats.rules_per_category.len(),
        ruleset.version(),
        started.elapsed().as_secs_f64()
    );
    if let Some(topic) = &config.wordlists_topic {
        detail.push_str(&format!(" (at start; then the lists published to {topic})"));
    }
    report.push("wordlists", Outcome::Ok, detail);
    if let Some((outcome, detail)) = people_detail(&ruleset) {
        report.push("people", outcome, detail);
    }
    if let Some((outcome, detail)) = dates_detail(&ruleset, jiff::Timestamp::now()) {
        report.push("dates", outcome, detail);
    }
    // (the configuration was validated, so the format is good)
    let Ok(format) = config.format() else {
        return;
    };
    let doubt = super::domains_doubt(&format)
        .or_else(|| super::scope_doubt(&ruleset, !format.names_people()));
    if let Some(doubt) = doubt {
        let detail = format!("`{}` input: {doubt}", config.input_format);
        report.push("audience", Outcome::Warn, detail);
    }
    if let Some(doubt) = super::timed_bulk_doubt(&ruleset, !format.names_people()) {
        let detail = format!("`{}` input: {doubt}", config.input_format);
        report.push("bulk over time", Outcome::Warn, detail);
    }
    if let Some((outcome, detail)) = recall_detail(config, &ruleset) {
        report.push("recall", outcome, detail);
    }
    // (on input that names no sender, the warning above says more)
    if let Some(lists) = across_conversations(&ruleset).filter(|_| format.names_people()) {
        let detail = format!(
            "{lists} count a sender's values across conversations: each consumer counts what \
             its partitions hold, so the input topic must be keyed by sender (a consumer given \
             one sender on two partitions says so: wordwarden_across_conversations_spread_total)"
        );
        report.push("keying", Outcome::Ok, detail);
    }
}

/// The lists counting a sender's values across conversations, by name.
fn across_conversations(ruleset: &crate::ruleset::Ruleset) -> Option<String> {
    let lists: Vec<&str> = (ruleset.stats().bulk.iter())
        .filter(|(_, b)| b.across_conversations)
        .map(|(category, _)| category.as_str())
        .collect();
    (!lists.is_empty()).then(|| lists.join(", "))
}

/// What a consumer given a partition reads back into its memory, where it
/// remembers anything: a warning where recalls are off.
fn recall_detail(config: &Config, ruleset: &crate::ruleset::Ruleset) -> Option<(Outcome, String)> {
    let judge = super::judge_for(config).ok()?;
    // a consumer remembers only senders its input names
    if !judge.format().names_people() {
        return None;
    }
    let reach = judge.memory().reach_ms(ruleset);
    if reach == 0 {
        return None;
    }
    let minutes = |ms: i64| (ms + 59_999) / 60_000;
    if config.recall_max_messages == 0 {
        return Some((
            Outcome::Warn,
            format!(
                "off (recall_max_messages = 0): split runs and bulk tallies reaching {} min back \
                 start afresh at every start, restart and rebalance",
                minutes(reach)
            ),
        ));
    }
    Some((
        Outcome::Ok,
        format!(
            "a consumer given a partition first reads back its messages written in the {} min \
             before its first (as far as split runs and `within` lists reach, and 10 min for \
             the clocks), at most {} a partition, for at most {:.1} s",
            minutes(reach + super::recall::CLOCK_MARGIN_MS),
            config.recall_max_messages,
            config.recall_timeout().as_secs_f64()
        ),
    ))
}

/// The people groups and the lists scoped to them, where the lists have
/// any: a warning where a scoped list's group is empty (it watches only
/// messages that name no one).
fn people_detail(ruleset: &crate::ruleset::Ruleset) -> Option<(Outcome, String)> {
    let groups = &ruleset.stats().people_groups;
    if groups.is_empty() {
        return None;
    }
    let sizes: Vec<String> = groups.iter().map(|(g, n)| format!("{g} {n}")).collect();
    let scoped: Vec<(&str, &crate::people::PeopleScope)> = list_scopes(ruleset)
        .filter(|(_, s)| !s.people.is_any())
        .map(|(c, s)| (c, &s.people))
        .collect();
    let empty: std::collections::BTreeSet<&str> = (scoped.iter())
        .flat_map(|(_, scope)| scope.group_names())
        .filter(|g| groups.get(*g) == Some(&0))
        .collect();
    let lists: Vec<String> = (scoped.iter()).map(|(c, s)| format!("{c} ({s})")).collect();
    let mut detail = format!(
        "groups (ids): {}; lists scoped to them: {}",
        sizes.join(", "),
        if lists.is_empty() {
            "none".to_string()
        } else {
            lists.join(", ")
        }
    );
    if empty.is_empty() {
        return Some((Outcome::Ok, detail));
    }
    detail.push_str(&format!(
        "; empty, so their lists watch only messages that name no one: {}",
        empty.into_iter().collect::<Vec<_>>().join(", ")
    ));
    Some((Outcome::Warn, detail))
}

/// Each list's category and scope, once a list: its rules share one scope
/// and come one file after another.
fn list_scopes(
    ruleset: &crate::ruleset::Ruleset,
) -> impl Iterator<Item = (&str, &crate::ruleset::Scope)> {
    let mut last = None;
    ruleset.rules().iter().filter_map(move |r| {
        let scope = std::sync::Arc::as_ptr(&r.scope);
        let first = last != Some(scope);
        last = Some(scope);
        first.then(|| (&*r.category, &*r.scope))
    })
}

/// The lists with dates (`#! from:`, `#! until:`), where there are any: a
/// warning where one's window closed before `now` (it fires on nothing
/// written since: retire it).
fn dates_detail(
    ruleset: &crate::ruleset::Ruleset,
    now: jiff::Timestamp,
) -> Option<(Outcome, String)> {
    let dated: Vec<(&str, crate::lists::Window)> = list_scopes(ruleset)
        .filter(|(_, s)| !s.window.is_always())
        .map(|(c, s)| (c, s.window))
        .collect();
    if dated.is_empty() {
        return None;
    }
    let each: Vec<String> = (dated.iter()).map(|(c, w)| format!("{c} ({w})")).collect();
    let mut detail = format!("lists with dates: {}", each.join(", "));
    let closed: Vec<&str> = (dated.iter())
        .filter(|(_, w)| w.until.is_some_and(|until| until <= now))
        .map(|(c, _)| *c)
        .collect();
    if closed.is_empty() {
        return Some((Outcome::Ok, detail));
    }
    detail.push_str(&format!(
        "; closed, so they fire only on messages written before: {}",
        closed.join(", ")
    ));
    Some((Outcome::Warn, detail))
}

/// librdkafka accepts the settings of every client the engine makes (it
/// reads certificate and key files when a client is created, not when it
/// connects). False when one is refused.
fn clients(config: &Config, report: &mut Report) -> bool {
    let exactly_once = config.delivery == Delivery::ExactlyOnce;
    let transactional_id = exactly_once.then(|| clients::transactional_id(config));
    // (a client connects as it is made: its errors are not this check's)
    let quiet = FirstErrorContext::quiet;
    let refusals: Vec<String> = [
        (
            "consumer",
            clients::consumer(config, exactly_once)
                .create_with_context::<_, BaseConsumer<_>>(quiet())
                .err(),
        ),
        (
            "producer",
            clients::producer(config, transactional_id.as_deref())
                .create_with_context::<_, BaseProducer<_>>(quiet())
                .err(),
        ),
        // the list follower, the admin client and the command-line readers
        (
            "side clients",
            clients::plain(config)
                .create_with_context::<_, BaseProducer<_>>(quiet())
                .err(),
        ),
    ]
    .into_iter()
    .filter_map(|(client, e)| Some(format!("{client}: {}", refusal(&e?))))
    .collect();
    let build = clients::librdkafka_build();
    if !refusals.is_empty() {
        let detail = format!("{}; this build: {build}", refusals.join("; "));
        report.push("clients", Outcome::Fail, detail);
        return false;
    }
    let mut detail =
        "librdkafka accepts the settings of the consumers, the producer and the side clients"
            .to_string();
    if !config.kafka.is_empty() {
        let names: Vec<&str> = config.kafka.keys().map(String::as_str).collect();
        detail.push_str(&format!(" ([kafka]: {})", names.join(", ")));
    }
    if let Some(id) = &transactional_id {
        detail.push_str(&format!(", transactional.id {id}"));
    }
    detail.push_str(&format!("; {build}"));
    // the default id tells instances on one host apart by their HTTP port
    let shared_id = transactional_id.is_some()
        && config.transactional_id.is_none()
        && clients::instance_port(&config.metrics_addr).is_none();
    if shared_id {
        detail.push_str(
            "; the default transactional.id names no HTTP port (metrics_addr is empty or port \
             0): two instances on one host would share it and the newer would stop the older; \
             set transactional_id per instance",
        );
    }
    let outcome = if shared_id {
        Outcome::Warn
    } else {
        Outcome::Ok
    };
    report.push("clients", outcome, detail);
    true
}

/// Why librdkafka refused a client, without the value of the setting (it
/// may be a password).
fn refusal(e: &KafkaError) -> String {
    match e {
        KafkaError::ClientConfig(_, description, key, _value) => format!("{key}: {description}"),
        KafkaError::ClientCreation(reason) => reason.clone(),
        other => other.to_string(),
    }
}

/// The HTTP address resolves (an empty one turns the server off).
fn http(config: &Config, report: &mut Report) {
    let addr = &config.metrics_addr;
    if addr.is_empty() {
        report.push(
            "http",
            Outcome::Warn,
            "metrics_addr is empty: no /metrics, /healthz, /readyz or /admin",
        );
        return;
    }
    match addr.to_socket_addrs() {
        Ok(_) => report.push(
            "http",
            Outcome::Ok,
            format!("/metrics, /healthz, /readyz and /admin on {addr}"),
        ),
        Err(e) => report.push("http", Outcome::Fail, format!("metrics_addr {addr:?}: {e}")),
    }
}

/// The brokers answer; every topic the engine reads or writes exists; and
/// how far behind the group starts.
fn brokers(config: &Config, timeout: Duration, report: &mut Report) {
    // the input consumer's settings (those of `clients`), committing nothing
    let created = clients::consumer(config, false)
        .set("enable.auto.commit", "false")
        .create_with_context::<_, BaseConsumer<FirstErrorContext>>(FirstErrorContext::quiet());
    let Ok(consumer) = created else {
        return; // refused: `clients` said why
    };
    let started = Instant::now();
    let metadata = match consumer.fetch_metadata(None, timeout) {
        Ok(m) => m,
        Err(e) => {
            let because = FirstErrorContext::because(&consumer);
            let detail = format!("{}: {e}{because}", config.brokers);
            report.push("brokers", Outcome::Fail, detail);
            return;
        }
    };
    report.push(
        "brokers",
        Outcome::Ok,
        format!(
            "{} answered in {} ms",
            counted(metadata.brokers().len(), "broker"),
            started.elapsed().as_millis()
        ),
    );
    let topics: BTreeMap<&str, &MetadataTopic> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| (t.name(), t))
        .collect();
    const MISSING: &str = "no such topic (or this principal may not describe it)";

    // the input partitions, for the group's position
    let mut inputs: Vec<(&str, i32)> = Vec::new();
    for wanted in &config.input_topics {
        // (a pattern the configuration could not read was refused with it)
        let Ok(input) = InputTopic::parse(wanted) else {
            continue;
        };
        match input {
            InputTopic::Pattern(pattern) => {
                let matched: Vec<&MetadataTopic> = topics
                    .values()
                    .filter(|t| pattern.is_match(t.name()))
                    .copied()
                    .collect();
                if matched.is_empty() {
                    report.push(
                        "input",
                        Outcome::Fail,
                        format!(
                            "{wanted}: matches no topic: the engine would wait, screening nothing"
                        ),
                    );
                    continue;
                }
                let partitions: usize = matched.iter().map(|t| t.partitions().len()).sum();
                let names: Vec<&str> = matched.iter().take(5).map(|t| t.name()).collect();
                let more = if matched.len() > names.len() {
                    ", …"
                } else {
                    ""
                };
                report.push(
                    "input",
                    Outcome::Ok,
                    format!(
                        "{wanted}: {}, {} ({}{more})",
                        counted(matched.len(), "topic"),
                        counted(partitions, "partition"),
                        names.join(", ")
                    ),
                );
                for t in matched {
                    inputs.extend(t.partitions().iter().map(|p| (t.name(), p.id())));
                }
            }
            InputTopic::Named(name) => match topics.get(name) {
                Some(t) => {
                    report.push(
                        "input",
                        Outcome::Ok,
                        format!("{wanted}: {}", counted(t.partitions().len(), "partition")),
                    );
                    inputs.extend(t.partitions().iter().map(|p| (t.name(), p.id())));
                }
                None => report.push(
                    "input",
                    Outcome::Fail,
                    format!("{wanted}: {MISSING}: the engine would wait, screening nothing"),
                ),
            },
        }
    }
    let written = [
        (
            "alerts",
            Some(&config.alert_topic),
            Outcome::Fail,
            "alerts could not be written, and no offset would pass an alerting message",
        ),
        (
            "dead letters",
            Some(&config.dlq_topic),
            Outcome::Fail,
            "dead letters could not be written, and no offset would pass an undecodable message",
        ),
        (
            "list topic",
            config.wordlists_topic.as_ref(),
            Outcome::Warn,
            "`wordwarden publish-wordlists` creates it; until then the instance runs on its own lists",
        ),
        (
            "audit",
            config.audit_topic.as_ref(),
            Outcome::Fail,
            "reload audit records could not be written there",
        ),
    ];
    for (name, topic, missing, consequence) in written {
        let Some(topic) = topic else { continue };
        match topics.get(topic.as_str()) {
            Some(t) => report.push(
                name,
                Outcome::Ok,
                format!("{topic}: {}", counted(t.partitions().len(), "partition")),
            ),
            None => report.push(name, missing, format!("{topic}: {MISSING}: {consequence}")),
        }
    }
    if !inputs.is_empty() {
        position(config, &consumer, &inputs, timeout, report);
    }
    // a partition is read by one member of the group at a time
    let consumers = config.consumer_count();
    if !inputs.is_empty() && inputs.len() < consumers {
        report.push(
            "scale",
            Outcome::Warn,
            format!(
                "{} for this instance's {consumers} consumers: {} would idle, and \
                 more instances would add nothing (add partitions to scale out)",
                counted(inputs.len(), "input partition"),
                consumers - inputs.len()
            ),
        );
    }
}

/// The group's committed offsets on the input partitions, and how many
/// messages it has yet to read (counted until `timeout` runs out: a request
/// a partition).
fn position(
    config: &Config,
    consumer: &BaseConsumer<FirstErrorContext>,
    inputs: &[(&str, i32)],
    timeout: Duration,
    report: &mut Report,
) {
    let group = &config.group;
    let mut tpl = TopicPartitionList::new();
    for &(topic, partition) in inputs {
        tpl.add_partition(topic, partition);
    }
    let committed = match consumer.committed_offsets(tpl, timeout) {
        Ok(c) => c,
        Err(e) => {
            let because = FirstErrorContext::because(consumer);
            let detail = format!("{group}: committed offsets unknown: {e}{because}");
            report.push("group", Outcome::Fail, detail);
            return;
        }
    };
    let started = Instant::now();
    let (mut with_commits, mut to_read, mut measured) = (0usize, 0i64, 0usize);
    // committed below the log's start (retention deleted what the group had
    // not read: never screened), or past its end: either way librdkafka
    // resets the position to `auto.offset.reset`
    let (mut deleted, mut deleted_on, mut past_end_on) = (0i64, 0usize, 0usize);
    for e in committed.elements() {
        let at = match e.offset() {
            Offset::Offset(n) => Some(n),
            _ => None,
        };
        with_commits += usize::from(at.is_some());
        if started.elapsed() >= timeout {
            continue;
        }
        if let Ok((low, high)) = consumer.fetch_watermarks(e.topic(), e.partition(), timeout) {
            to_read += (high - at.unwrap_or(low).max(low)).max(0);
            measured += 1;
            match at {
                Some(n) if n < low => {
                    deleted += low - n;
                    deleted_on += 1;
                }
                Some(n) if n > high => past_end_on += 1,
                _ => {}
            }
        }
    }
    let total = inputs.len();
    let reading = match measured {
        0 => String::new(),
        n if n == total => format!(", {to_read} messages to read"),
        n => format!(", {to_read} messages to read on {n} of them"),
    };
    let reset = config
        .kafka
        .get("auto.offset.reset")
        .map_or("earliest", String::as_str);
    let detail = if with_commits == 0 {
        format!(
            "{group}: no offsets committed on its {}: starts at auto.offset.reset ({reset}){reading}",
            counted(total, "input partition")
        )
    } else {
        format!("{group}: offsets committed on {with_commits} of {total} input partitions{reading}")
    };
    let mut lost = Vec::new();
    if deleted_on > 0 {
        lost.push(format!(
            "{deleted} messages on {} were deleted by retention before the group read them \
             (never screened)",
            counted(deleted_on, "partition")
        ));
    }
    if past_end_on > 0 {
        lost.push(format!(
            "the committed offset is past the end on {} (was the topic recreated?)",
            counted(past_end_on, "partition")
        ));
    }
    if lost.is_empty() {
        report.push("group", Outcome::Ok, detail);
    } else {
        let detail = format!(
            "{detail}; {}: such a partition starts at auto.offset.reset ({reset})",
            lost.join("; ")
        );
        report.push("group", Outcome::Warn, detail);
    }
}

/// `1 partition`, `4 partitions`.
fn counted(n: usize, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::consumer::CommitMode;
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::{BaseRecord, Producer as _};
    use rdkafka::ClientConfig;
    use std::path::Path;

    fn lists(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("list written");
        }
        dir
    }

    fn config(brokers: &str, lists: &Path) -> Config {
        Config {
            brokers: brokers.into(),
            group: "watchers".into(),
            input_topics: vec!["chat".into()],
            alert_topic: "alerts".into(),
            dlq_topic: "dlq".into(),
            wordlists: lists.to_path_buf(),
            input_format: "text".into(),
            // one consumer, whatever the machine's cores
            workers: 1,
            ..Config::default()
        }
    }

    /// [`config`] for no broker, with these `[kafka]` settings.
    fn offline_with(lists: &Path, kafka: &[(&str, &str)]) -> Config {
        let mut config = config("127.0.0.1:9", lists);
        for (k, v) in kafka {
            config.kafka.insert((*k).into(), (*v).into());
        }
        config
    }

    fn outcomes(report: &Report) -> Vec<(&'static str, Outcome)> {
        report.checks.iter().map(|c| (c.name, c.outcome)).collect()
    }

    const WITHIN: Option<Duration> = Some(Duration::from_secs(10));

    /// Asserts that `report`'s check `name` came out as `outcome` and says
    /// `says`.
    fn expect(report: &Report, name: &str, outcome: Outcome, says: &str) {
        let check = report
            .get(name)
            .unwrap_or_else(|| panic!("no {name} check: {report:#?}"));
        assert_eq!(check.outcome, outcome, "{check:?}");
        assert!(
            check.detail.contains(says),
            "{says:?} in {:?}",
            check.detail
        );
    }

    /// The configuration's line says where alerts' evidence is sealed.
    #[test]
    fn the_config_line_says_whether_evidence_is_sealed() {
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let mut config = offline_with(dir.path(), &[]);
        let line = |c: &Config| check(c, None).get("config").map(|c| c.detail.clone());
        assert!(!line(&config).unwrap_or_default().contains("sealed"));
        let (_, recipient) = crate::alert::seal::generate_identity();
        config.evidence_recipients = vec![recipient];
        expect(
            &check(&config, None),
            "config",
            Outcome::Ok,
            "at-least-once, alerts' quotes of messages sealed to 1 age recipient",
        );
    }

    /// The configuration's line names the input's encoding where it has one.
    #[test]
    fn the_config_line_names_the_input_encoding() {
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let mut config = offline_with(dir.path(), &[]);
        config.input_encoding = "gbk".into();
        expect(
            &check(&config, None),
            "config",
            Outcome::Ok,
            "input chat (text, UTF-8 or GBK)",
        );
    }

    #[test]
    fn a_ready_deployment_passes_and_says_where_its_group_stands() {
        let mock = MockCluster::new(1).expect("mock cluster");
        mock.create_topic("chat.sales", 2, 1).expect("topic");
        mock.create_topic("chat.hr", 1, 1).expect("topic");
        mock.create_topic("alerts", 1, 1).expect("topic");
        mock.create_topic("dlq", 1, 1).expect("topic");
        let brokers = mock.bootstrap_servers();
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .expect("producer");
        for (partition, n) in [(0, 5), (1, 3)] {
            for _ in 0..n {
                producer
                    .send(
                        BaseRecord::<(), str>::to("chat.sales")
                            .payload("x")
                            .partition(partition),
                    )
                    .expect("queued");
            }
        }
        producer.flush(Duration::from_secs(10)).expect("flushed");
        // the group has read two messages of one partition
        let member: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("group.id", "watchers")
            .create()
            .expect("consumer");
        let mut done = TopicPartitionList::new();
        done.add_partition_offset("chat.sales", 0, Offset::Offset(2))
            .expect("offset");
        member.commit(&done, CommitMode::Sync).expect("committed");

        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let mut config = config(&brokers, dir.path());
        config.input_topics = vec![r"^chat\..*".into()];
        let report = check(&config, WITHIN);
        assert!(report.passed(), "{report:#?}");
        assert_eq!(report.count(Outcome::Warn), 0, "{report:#?}");
        assert_eq!(
            outcomes(&report).iter().map(|c| c.0).collect::<Vec<_>>(),
            [
                "config",
                "wordlists",
                "clients",
                "http",
                "brokers",
                "input",
                "alerts",
                "dead letters",
                "group"
            ]
        );
        let input = &report.get("input").expect("input checked").detail;
        assert!(input.contains("2 topics, 3 partitions"), "{input}");
        let alerts = &report.get("alerts").expect("alerts checked").detail;
        assert_eq!(alerts, "alerts: 1 partition");
        let group = &report.get("group").expect("group checked").detail;
        // 5 - 2 on the committed partition, 3 and 0 from the start elsewhere
        assert_eq!(
            group,
            "watchers: offsets committed on 1 of 3 input partitions, 6 messages to read"
        );
        assert!(report
            .get("wordlists")
            .expect("lists")
            .detail
            .contains("1 rules in 1 categories"));

        // a position librdkafka cannot fetch from is a warning (retention
        // gaps are found the same way; no broker here deletes records)
        let mut lost = TopicPartitionList::new();
        lost.add_partition_offset("chat.sales", 1, Offset::Offset(1000))
            .expect("offset");
        member.commit(&lost, CommitMode::Sync).expect("committed");
        let report = check(&config, WITHIN);
        assert!(report.passed(), "{report:#?}");
        let group = report.get("group").expect("group checked");
        assert_eq!(group.outcome, Outcome::Warn, "{group:?}");
        assert!(
            group.detail.ends_with(
                "the committed offset is past the end on 1 partition (was the topic \
                     recreated?): such a partition starts at auto.offset.reset (earliest)"
            ),
            "{group:?}"
        );
    }

    #[test]
    fn missing_topics_fail_by_name_and_say_what_would_follow() {
        let mock = MockCluster::new(1).expect("mock cluster");
        mock.create_topic("chat", 1, 1).expect("topic");
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let mut config = config(&mock.bootstrap_servers(), dir.path());
        config.input_topics.push("^nothing-like-this-.*".into());
        config.wordlists_topic = Some("lists".into());
        config.audit_topic = Some("audit".into());
        let report = check(&config, WITHIN);
        assert!(!report.passed());
        assert_eq!(
            outcomes(&report)[4..],
            [
                ("brokers", Outcome::Ok),
                ("input", Outcome::Ok),
                ("input", Outcome::Fail),
                ("alerts", Outcome::Fail),
                ("dead letters", Outcome::Fail),
                ("list topic", Outcome::Warn),
                ("audit", Outcome::Fail),
                ("group", Outcome::Ok),
            ],
            "{report:#?}"
        );
        expect(&report, "alerts", Outcome::Fail, "alerts: no such topic");
        expect(
            &report,
            "group",
            Outcome::Ok,
            "no offsets committed on its 1 input partition: \
             starts at auto.offset.reset (earliest), 0 messages to read",
        );
    }

    #[test]
    fn fewer_partitions_than_consumers_warn_that_scaling_out_adds_nothing() {
        let mock = MockCluster::new(1).expect("mock cluster");
        for topic in ["chat", "alerts", "dlq"] {
            mock.create_topic(topic, 1, 1).expect("topic");
        }
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let mut config = config(&mock.bootstrap_servers(), dir.path());
        config.workers = 2;
        let report = check(&config, WITHIN);
        assert!(report.passed(), "{report:#?}");
        expect(
            &report,
            "scale",
            Outcome::Warn,
            "1 input partition for this instance's 2 consumers: 1 would idle",
        );
        // exactly-once reads through one consumer
        config.delivery = Delivery::ExactlyOnce;
        assert!(check(&config, WITHIN).get("scale").is_none());
    }

    /// Exactly-once's default `transactional.id` tells instances on one
    /// host apart by their HTTP port: without one, `check` warns.
    #[test]
    fn exactly_once_without_a_port_for_its_default_id_warns() {
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let mut config = config("127.0.0.1:9", dir.path());
        config.delivery = Delivery::ExactlyOnce;
        config.metrics_addr = "127.0.0.1:9464".into();
        let report = check(&config, None);
        expect(
            &report,
            "clients",
            Outcome::Ok,
            "transactional.id wordwarden-watchers-",
        );
        expect(&report, "clients", Outcome::Ok, "-9464;");
        for addr in ["", "127.0.0.1:0"] {
            config.metrics_addr = addr.into();
            let report = check(&config, None);
            expect(
                &report,
                "clients",
                Outcome::Warn,
                "two instances on one host would share it",
            );
        }
        config.transactional_id = Some("wordwarden-prod-1".into());
        let report = check(&config, None);
        expect(
            &report,
            "clients",
            Outcome::Ok,
            "transactional.id wordwarden-prod-1;",
        );
        // at-least-once has none
        config.delivery = Delivery::AtLeastOnce;
        let report = check(&config, None);
        expect(&report, "clients", Outcome::Ok, "librdkafka accepts");
    }

    #[test]
    fn unreachable_brokers_fail_with_librdkafka_s_reason_and_nothing_more_is_asked() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let config = config(&format!("127.0.0.1:{port}"), dir.path());
        let report = check(&config, Some(Duration::from_secs(2)));
        expect(&report, "brokers", Outcome::Fail, "Connection refused");
        assert!(report.get("input").is_none(), "{report:#?}");
    }

    #[test]
    fn refused_client_settings_are_named_without_their_values() {
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let mut config = config("127.0.0.1:9", dir.path());
        config
            .kafka
            .insert("sasl.pasword".into(), "hunter2-secret".into());
        let report = check(&config, WITHIN);
        expect(&report, "clients", Outcome::Fail, "sasl.pasword");
        assert!(!format!("{report:?}").contains("hunter2"), "{report:#?}");
        // nothing is asked of brokers the clients could not be made for
        assert!(report.get("brokers").is_none(), "{report:#?}");

        // certificates are read when a client is made
        config.kafka.clear();
        config
            .kafka
            .insert("security.protocol".into(), "ssl".into());
        config
            .kafka
            .insert("ssl.ca.location".into(), "/nonexistent/ca.pem".into());
        let report = check(&config, None);
        expect(&report, "clients", Outcome::Fail, "ssl.ca.location");
    }

    /// Kerberos needs librdkafka built against Cyrus SASL (the `kerberos`
    /// feature); the default build refuses it, and `check` says so with
    /// what the build offers. (`scripts/test.sh` runs this in both builds.)
    #[test]
    fn kerberos_is_accepted_only_by_the_build_with_it() {
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let keytab = dir.path().join("wordwarden.keytab");
        std::fs::write(&keytab, b"").expect("keytab");
        let config = offline_with(
            dir.path(),
            &[
                ("security.protocol", "sasl_plaintext"),
                ("sasl.mechanism", "GSSAPI"),
                ("sasl.kerberos.service.name", "kafka"),
                ("sasl.kerberos.principal", "wordwarden@EXAMPLE.COM"),
                ("sasl.kerberos.keytab", keytab.to_str().expect("utf-8 path")),
            ],
        );
        let report = check(&config, None);
        if cfg!(feature = "kerberos") {
            expect(&report, "clients", Outcome::Ok, "sasl.kerberos.principal");
        } else {
            expect(
                &report,
                "clients",
                Outcome::Fail,
                "No provider for SASL mechanism GSSAPI",
            );
        }
    }

    /// OAuth with the token fetched by librdkafka itself
    /// (`sasl.oauthbearer.method=oidc`) needs librdkafka built with libcurl
    /// (`libcurl4-openssl-dev`); without it, each OIDC setting is refused.
    #[test]
    fn oauth_token_fetching_is_built_in() {
        let dir = lists(&[("a.txt", "内幕消息\n")]);
        let config = offline_with(
            dir.path(),
            &[
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanism", "OAUTHBEARER"),
                ("sasl.oauthbearer.method", "oidc"),
                ("sasl.oauthbearer.client.id", "wordwarden"),
                ("sasl.oauthbearer.client.secret", "s3cret"),
                (
                    "sasl.oauthbearer.token.endpoint.url",
                    "https://127.0.0.1:9/oauth2/token",
                ),
            ],
        );
        let report = check(&config, None);
        expect(&report, "clients", Outcome::Ok, "sasl.oauthbearer.method");
    }

    #[test]
    fn lists_with_errors_fail_with_file_and_line() {
        let dir = lists(&[("a.txt", "内幕消息\n#! severity: extreme\n")]);
        let report = check(&config("127.0.0.1:9", dir.path()), None);
        expect(&report, "wordlists", Outcome::Fail, "a.txt:2");

        let gone = dir.path().join("nowhere");
        let report = check(&config("127.0.0.1:9", &gone), None);
        assert_eq!(
            report.get("wordlists").map(|c| c.outcome),
            Some(Outcome::Fail)
        );
    }

    #[test]
    fn lists_for_outside_conversations_on_input_that_names_no_one_warn() {
        let dir = lists(&[("a.txt", "#! audience: external\n客户名单\n")]);
        let report = check(&config("127.0.0.1:9", dir.path()), None);
        assert!(report.passed(), "{report:#?}");
        expect(
            &report,
            "audience",
            Outcome::Warn,
            "`text` input: some lists watch only conversations with someone outside",
        );
    }

    /// A list counting a sender's values over time, on input that names no
    /// sender, is a warning; on WeCom records, nothing to say.
    #[test]
    fn lists_counting_over_time_on_input_that_names_no_sender_warn() {
        let dir = lists(&[(
            "pii.txt",
            "#! severity: high\n#! bulk: 10 critical within 1h\n@cn_mobile\n",
        )]);
        let report = check(&config("127.0.0.1:9", dir.path()), None);
        assert!(report.passed(), "{report:#?}");
        expect(
            &report,
            "bulk over time",
            Outcome::Warn,
            "`text` input: pii (`#! bulk: 10 critical within 1h`) count a sender's values over \
             time, but this input format names no sender",
        );
        let mut wecom = config("127.0.0.1:9", dir.path());
        wecom.input_format = "wecom".into();
        let report = check(&wecom, None);
        assert!(report.get("bulk over time").is_none());
        // what a consumer given a partition reads back for it
        expect(
            &report,
            "recall",
            Outcome::Ok,
            "reads back its messages written in the 70 min before its first",
        );
        wecom.recall_max_messages = 0;
        expect(
            &check(&wecom, None),
            "recall",
            Outcome::Warn,
            "off (recall_max_messages = 0): split runs and bulk tallies reaching 60 min back",
        );
        // no list counting across conversations: nothing about keying
        assert!(report.get("keying").is_none());
    }

    /// A list counting across conversations needs input keyed by sender:
    /// `check` says so where the input names its senders.
    #[test]
    fn lists_counting_across_conversations_ask_for_input_keyed_by_sender() {
        let dir = lists(&[(
            "pii.txt",
            "#! severity: high\n#! bulk: 10 critical within 1d across conversations\n@cn_mobile\n",
        )]);
        let mut wecom = config("127.0.0.1:9", dir.path());
        wecom.input_format = "wecom".into();
        expect(
            &check(&wecom, None),
            "keying",
            Outcome::Ok,
            "pii count a sender's values across conversations: each consumer counts what its \
             partitions hold, so the input topic must be keyed by sender",
        );
        let report = check(&config("127.0.0.1:9", dir.path()), None);
        assert!(report.get("keying").is_none(), "{report:#?}");
        expect(&report, "bulk over time", Outcome::Warn, "names no sender");
    }

    /// The people groups and the lists scoped to them are named; an empty
    /// group a list is scoped to is a warning, not a failure.
    #[test]
    fn people_groups_and_their_lists_are_named() {
        let dir = lists(&[
            ("ibd.people", "zhangwei\nqian\n"),
            ("research.people", "# to be filled\n"),
            (
                "barrier.txt",
                "#! people: between ibd research\n停牌\n下调评级\n",
            ),
            ("any.txt", "内幕消息\n"),
        ]);
        let report = check(&config("127.0.0.1:9", dir.path()), None);
        assert!(report.passed(), "{report:#?}");
        expect(
            &report,
            "people",
            Outcome::Warn,
            "groups (ids): ibd 2, research 0; lists scoped to them: barrier (between ibd \
             research); empty, so their lists watch only messages that name no one: research",
        );
        let dir = lists(&[("any.txt", "内幕消息\n")]);
        let report = check(&config("127.0.0.1:9", dir.path()), None);
        assert!(report.get("people").is_none(), "{report:#?}");
        assert!(report.get("dates").is_none(), "{report:#?}");
    }

    /// Lists with dates are named with their windows; one whose window has
    /// closed is a warning.
    #[test]
    fn lists_with_dates_are_named_and_closed_ones_warned_of() {
        let dir = lists(&[
            (
                "deals.txt",
                "#! from: 2026-11-01\n#! until: 2099-01-01\n青松计划\n",
            ),
            ("old.txt", "#! until: 2020-01-01\n旧项目\n"),
        ]);
        let report = check(&config("127.0.0.1:9", dir.path()), None);
        assert!(report.passed(), "{report:#?}");
        expect(
            &report,
            "dates",
            Outcome::Warn,
            "lists with dates: deals (from 2026-11-01T00:00:00Z until 2099-01-01T00:00:00Z), \
             old (until 2020-01-01T00:00:00Z); closed, so they fire only on messages written \
             before: old",
        );
    }
}
