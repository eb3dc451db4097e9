//! The engine's configuration: a TOML file (sample in `deploy/wordwarden.toml`),
//! every key overridable by an environment variable `WORDWARDEN_<KEY>` (lists
//! comma-separated), and librdkafka properties passed through from the
//! `[kafka]` table (`WORDWARDEN_KAFKA_SECURITY_PROTOCOL` sets
//! `security.protocol`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audience::InternalDomains;
use crate::envelope::{InputFormat, Participants, WecomOptions};

/// Delivery guarantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Offsets are committed only after the alerts of the message and of every
    /// earlier message of its partition are acknowledged. Redelivery after a
    /// crash may repeat alerts (same `alert_id`).
    #[default]
    AtLeastOnce,
    /// Transactional producer with the input offsets in the transaction: a
    /// `read_committed` reader of the alert topic sees each alert once.
    ExactlyOnce,
}

/// Engine configuration. Every field has a default; see `deploy/wordwarden.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Consumer group id: instances with the same group share the partitions.
    pub group: String,
    /// Input topics; an entry starting with `^` is a regex subscription.
    pub input_topics: Vec<String>,
    /// Where alerts go.
    pub alert_topic: String,
    /// Where undecodable messages go, byte for byte, with a `reason` header.
    pub dlq_topic: String,
    /// Word-list directory.
    pub wordlists: PathBuf,
    /// `text`, `json` or `wecom`.
    pub input_format: String,
    /// JSON pointer of the text for `json` input; an object or array there
    /// (`""`: the whole message) has every string in it scanned.
    pub json_pointer: String,
    /// JSON pointer of the sender's id for `json` input (empty: none).
    pub json_from_pointer: String,
    /// JSON pointer of the recipients' ids (an array, or one string) for
    /// `json` input (empty: none).
    pub json_to_pointer: String,
    /// JSON pointer of when a `json` message was written (milliseconds or
    /// seconds since the epoch, or an RFC 3339 string; empty: its Kafka
    /// timestamp), for lists with dates.
    pub json_time_pointer: String,
    /// The company's domains, which tell colleagues' addresses from
    /// outsiders' in `json` input's sender and recipients.
    pub internal_domains: Vec<String>,
    /// JSON pointer of the WeCom record inside a wrapper (empty: whole message).
    pub record_pointer: String,
    /// Deepest nesting of forwarded WeCom chat records.
    pub max_depth: usize,
    /// Larger messages are dead-lettered with reason `too_large`.
    pub max_message_bytes: usize,
    /// The encoding of messages that are not UTF-8 (`gb18030`, which reads
    /// GBK too, `big5`, …: an archiver or gateway on Chinese Windows);
    /// UTF-8 messages are read as such whatever it says. Empty (the
    /// default): such messages are dead-lettered `not_utf8`, their detail
    /// naming the encoding they read as.
    pub input_encoding: String,
    /// `at-least-once` or `exactly-once`.
    pub delivery: Delivery,
    /// Address of the HTTP server (`/metrics`, `/healthz`, `/readyz`, `/admin`).
    pub metrics_addr: String,
    /// Workers (0: one per core). At-least-once: each is a consumer of the
    /// group that judges its own partitions in place, on its own task.
    pub workers: usize,
    /// Messages consumed but not yet acknowledged, across all workers. It
    /// must cover the consume rate times the alerts' delivery latency (the
    /// acker waits for each alert before it stores later offsets), or the
    /// workers wait on acknowledgements: 100,000 covers 50 ms at 2M
    /// messages/s. An in-flight message holds 72 bytes, plus the records it
    /// produces (an alert, dead letters).
    pub max_in_flight: usize,
    /// Longest time a graceful shutdown may take, from the signal to the
    /// exit: every step (acknowledgements, the final commit, leaving the
    /// group, the flush) ends at this one deadline.
    pub shutdown_timeout_secs: u64,
    /// Characters of context around each hit in an alert's snippet.
    pub context_chars: usize,
    /// Categories (or `prefix/`) whose alerts carry the whole message text.
    pub full_text_categories: Vec<String>,
    /// Most distinct hits in one alert (more set `hits_truncated`).
    pub max_hits: usize,
    /// Show personal data (phone, ID card and bank card numbers, e-mail
    /// addresses) with its middle masked wherever an alert quotes the
    /// message; see [`crate::alert::mask`].
    pub mask_personal_data: bool,
    /// Also look for terms a sender split across short messages (`内`,
    /// `幕`, `消息`; see [`crate::split`]): runs of one sender's messages
    /// of at most `split_fragment_chars` letters and characters in one
    /// conversation, each within `split_gap_secs` of the one before. Needs
    /// input that names its sender (WeCom, or `json` with
    /// `json_from_pointer`).
    pub split_messages: bool,
    /// Longest message, in letters, digits and CJK characters, that a run
    /// of split messages takes.
    pub split_fragment_chars: usize,
    /// Longest pause within a run of split messages, in seconds.
    pub split_gap_secs: u64,
    /// Senders (in one conversation each) whose runs of split messages one
    /// consumer remembers at once: bounds that memory (300-400 bytes
    /// each, measured; those quiet for longer than the gap go first).
    pub split_max_speakers: usize,
    /// Values of lists with a timed `#! bulk:` threshold (`#! bulk: 10
    /// critical within 1h`, [`crate::tally`]) that one consumer holds to
    /// count a sender's values over time: bounds that memory (150-410
    /// bytes each, measured; those out of their time go first).
    pub bulk_tally_max_values: usize,
    /// Alerting messages one consumer remembers, should their senders
    /// withdraw them (a WeCom recall, [`crate::withdrawn`]): a withdrawal
    /// of one alerts. Bounds that memory (the alert without its quotes,
    /// about 1 KB for two hits, by the sizes of its parts; the oldest,
    /// and those over a day old, go first); 0: withdrawals never alert.
    pub withdrawal_max_alerts: usize,
    /// A consumer given a partition first reads back up to this many of its
    /// messages before the first it judges, as far back as split runs and
    /// timed bulk lists look ([`crate::engine`]'s recall), and judges them
    /// into its memory without alerting, so a restart or a rebalance does
    /// not forget a run or a tally half sent. 0: no recall.
    pub recall_max_messages: usize,
    /// Longest a recall reads, in seconds (then the consumer judges on,
    /// remembering what it read); at most a third of librdkafka's
    /// `max.poll.interval.ms`, whatever this says.
    pub recall_timeout_secs: u64,
    /// Exactly-once: messages per transaction at most.
    pub transaction_max_messages: usize,
    /// Exactly-once: longest a transaction stays open, in milliseconds.
    pub transaction_max_ms: u64,
    /// Exactly-once: the producer's `transactional.id` (default
    /// `wordwarden-GROUP-HOST-PORT`, the port of `metrics_addr`, so two
    /// instances on one host differ; must be stable per instance and
    /// unique: a newer producer with the same id stops the older).
    pub transactional_id: Option<String>,
    /// Reload the word lists when files in `wordlists` change.
    pub watch_wordlists: bool,
    /// Reloads build their two folded automata on two threads, taking a
    /// core from the workers for that moment. Off (default): one after the
    /// other, which the reload bench measures as fast (1.6 s at 1M terms)
    /// and lower at the peak (1.94x the steady state against 2.06x).
    pub reload_parallel_compile: bool,
    /// Follow this compacted topic of word lists (see `publish-wordlists`).
    pub wordlists_topic: Option<String>,
    /// Also write reload audit records to this topic.
    pub audit_topic: Option<String>,
    /// Admin bearer tokens: name -> hex SHA-256 of the token. When empty, the
    /// admin endpoints answer only to localhost.
    pub admin_tokens: BTreeMap<String, String>,
    /// Replace user ids (`from`, `tolist`, `user`) in alerts with keyed
    /// HMAC pseudonyms. The key comes from `pseudonym_key_file` or the
    /// environment variable `WORDWARDEN_PSEUDONYM_KEY`; it is never logged.
    pub pseudonymize_ids: bool,
    /// File holding the pseudonymization key (at least 16 bytes).
    pub pseudonym_key_file: Option<PathBuf>,
    /// Seal the alerts' quotes of their messages (every hit's `matched`,
    /// the `snippet`, the `text`) to these age public keys (`age1…`, from
    /// `wordwarden keygen` or `age-keygen`): the alert topic then holds no
    /// message text; `tail --evidence-identity` opens them. Empty: quotes
    /// in the clear.
    pub evidence_recipients: Vec<String>,
    /// librdkafka properties for consumer and producer (TLS, SASL, timeouts).
    pub kafka: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            brokers: "127.0.0.1:9092".into(),
            group: "wordwarden".into(),
            input_topics: vec!["wecom.messages".into()],
            alert_topic: "wordwarden.alerts".into(),
            dlq_topic: "wordwarden.dlq".into(),
            wordlists: PathBuf::from("wordlists"),
            input_format: "wecom".into(),
            json_pointer: "/text".into(),
            json_from_pointer: String::new(),
            json_to_pointer: String::new(),
            json_time_pointer: String::new(),
            internal_domains: Vec::new(),
            record_pointer: String::new(),
            max_depth: 8,
            max_message_bytes: 1 << 20,
            input_encoding: String::new(),
            delivery: Delivery::AtLeastOnce,
            metrics_addr: "127.0.0.1:9464".into(),
            workers: 0,
            max_in_flight: 100_000,
            shutdown_timeout_secs: 30,
            context_chars: 10,
            full_text_categories: Vec::new(),
            max_hits: 100,
            mask_personal_data: true,
            split_messages: true,
            split_fragment_chars: 4,
            split_gap_secs: 60,
            split_max_speakers: 50_000,
            bulk_tally_max_values: 100_000,
            withdrawal_max_alerts: 10_000,
            recall_max_messages: 100_000,
            recall_timeout_secs: 10,
            transaction_max_messages: 5_000,
            transaction_max_ms: 200,
            transactional_id: None,
            watch_wordlists: true,
            reload_parallel_compile: false,
            wordlists_topic: None,
            audit_topic: None,
            admin_tokens: BTreeMap::new(),
            pseudonymize_ids: false,
            pseudonym_key_file: None,
            evidence_recipients: Vec::new(),
            kafka: BTreeMap::new(),
        }
    }
}

/// Configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {cause}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause (in the message, not a `source()`: printed once).
        cause: std::io::Error,
    },
    /// The file or an override is not valid.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

const LIST_KEYS: &[&str] = &[
    "input_topics",
    "full_text_categories",
    "internal_domains",
    "evidence_recipients",
];

/// What an `input_topics` entry reads: one topic by its name, or, with a
/// leading `^`, every topic its regular expression matches.
pub(crate) enum InputTopic<'a> {
    /// One topic.
    Named(&'a str),
    /// A regex subscription.
    Pattern(regex::Regex),
}

impl<'a> InputTopic<'a> {
    /// `entry` read; an error for a pattern the `regex` crate cannot read.
    pub(crate) fn parse(entry: &'a str) -> Result<Self, ConfigError> {
        if !entry.starts_with('^') {
            return Ok(InputTopic::Named(entry));
        }
        regex::Regex::new(entry)
            .map(InputTopic::Pattern)
            .map_err(|e| {
                // the regex crate words it over lines, with a caret under the spot
                let e = e
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                ConfigError::Invalid(format!("input topic pattern {entry:?}: {e}"))
            })
    }

    /// Whether this entry reads `topic`.
    pub(crate) fn reads(&self, topic: &str) -> bool {
        match self {
            InputTopic::Named(name) => *name == topic,
            InputTopic::Pattern(pattern) => pattern.is_match(topic),
        }
    }
}

impl Config {
    /// Reads a TOML file (or defaults when `path` is `None`), then applies the
    /// `WORDWARDEN_*` variables of `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|cause| ConfigError::Read {
                    path: p.to_path_buf(),
                    cause,
                })?;
                text.parse().map_err(|e: toml::de::Error| {
                    ConfigError::Invalid(format!("{}: {e}", p.display()))
                })?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(key) = name.strip_prefix("WORDWARDEN_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if matches!(
                key.as_str(),
                "log" | "log_format" | "config" | "pseudonym_key"
            ) {
                continue; // read by the binary, not config keys
            }
            if let Some(prop) = key.strip_prefix("kafka_") {
                let kafka = table
                    .entry("kafka")
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(t) = kafka {
                    t.insert(prop.replace('_', "."), toml::Value::String(value));
                }
                continue;
            }
            let parsed = if LIST_KEYS.contains(&key.as_str()) {
                toml::Value::Array(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| toml::Value::String(s.to_string()))
                        .collect(),
                )
            } else {
                // numbers and booleans keep their type, everything else is text
                format!("v = {value}")
                    .parse::<toml::Table>()
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .filter(|v| !matches!(v, toml::Value::Table(_) | toml::Value::Array(_)))
                    .unwrap_or(toml::Value::String(value))
            };
            table.insert(key, parsed);
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    // toml words it over lines ("... expected a string\nin `brokers`\n")
                    let said = e
                        .to_string()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let from = path.map_or("environment".into(), |p| p.display().to_string());
                    ConfigError::Invalid(format!("{said} ({from}, or its WORDWARDEN_* override)"))
                })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that deserialize but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.input_topics.is_empty() {
            return Err(ConfigError::Invalid("input_topics is empty".into()));
        }
        InputFormat::parse(&self.input_format).map_err(ConfigError::Invalid)?;
        self.participants()?;
        self.input_charset()?;
        if self.alert_topic.is_empty() || self.dlq_topic.is_empty() {
            return Err(ConfigError::Invalid(
                "alert_topic and dlq_topic must be set".into(),
            ));
        }
        self.reads_nothing_it_writes()?;
        for (name, hash) in &self.admin_tokens {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError::Invalid(format!(
                    "admin_tokens.{name} must be the hex SHA-256 of the token (`wordwarden hash-token`)"
                )));
            }
        }
        self.pseudonymizer()?;
        self.evidence_sealer()?;
        if self.split_messages && self.split_fragment_chars == 0 {
            return Err(ConfigError::Invalid(
                "split_fragment_chars must be at least 1 (or split_messages = false)".into(),
            ));
        }
        if self.recall_max_messages > 0 && self.recall_timeout_secs == 0 {
            return Err(ConfigError::Invalid(
                "recall_timeout_secs must be at least 1 (or recall_max_messages = 0)".into(),
            ));
        }
        if self.max_in_flight == 0 {
            return Err(ConfigError::Invalid(
                "max_in_flight must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// How long a recall may read: `recall_timeout_secs`, and at most a
    /// third of librdkafka's `max.poll.interval.ms` (a recall holds up its
    /// consumer's polls; past that interval the group counts the consumer
    /// gone).
    pub(crate) fn recall_timeout(&self) -> std::time::Duration {
        let poll_ms = self
            .kafka
            .get("max.poll.interval.ms")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(super::clients::MAX_POLL_INTERVAL_MS);
        std::time::Duration::from_millis((self.recall_timeout_secs * 1000).min(poll_ms / 3))
    }

    /// No input topic, named or matched by a `^` pattern, is one the engine
    /// writes: an alert quotes what it matched, so judged again it alerts
    /// (or is dead-lettered) again, without end. A pattern this check
    /// cannot read is refused rather than trusted. And each kind of record
    /// the engine writes has its own topic.
    fn reads_nothing_it_writes(&self) -> Result<(), ConfigError> {
        let written = [
            ("alert_topic", Some(&self.alert_topic)),
            ("dlq_topic", Some(&self.dlq_topic)),
            ("wordlists_topic", self.wordlists_topic.as_ref()),
            ("audit_topic", self.audit_topic.as_ref()),
        ];
        // nor does it write two kinds of record to one topic: dead letters
        // are whole messages, which the alert topic's readers must not see
        let named: Vec<(&str, &String)> = written
            .iter()
            .filter_map(|&(key, topic)| Some((key, topic?)))
            .collect();
        for (i, (key, topic)) in named.iter().enumerate() {
            if let Some((other, _)) = named[..i].iter().find(|(_, t)| t == topic) {
                return Err(ConfigError::Invalid(format!(
                    "{other} and {key} are both {topic:?}: each kind of record needs its own topic"
                )));
            }
        }
        for input in &self.input_topics {
            let reading = InputTopic::parse(input)?;
            for (key, topic) in written {
                if let Some(topic) = topic.filter(|t| reading.reads(t)) {
                    return Err(ConfigError::Invalid(format!(
                        "input topic {input:?} would read {key} {topic:?}: the engine would judge what it writes"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Where `json` input names its sender and recipients, when configured.
    /// An error for participants of another format, or a bad domain.
    fn participants(&self) -> Result<Option<Participants>, ConfigError> {
        let names = !self.json_from_pointer.is_empty() || !self.json_to_pointer.is_empty();
        let told = names || !self.json_time_pointer.is_empty();
        if !names && !self.internal_domains.is_empty() && self.input_format == "json" {
            return Err(ConfigError::Invalid(
                "internal_domains is set but neither json_from_pointer nor \
                 json_to_pointer says where a message names its people"
                    .into(),
            ));
        }
        if !told {
            return Ok(None);
        }
        if self.input_format != "json" {
            return Err(ConfigError::Invalid(format!(
                "json_from_pointer, json_to_pointer and json_time_pointer are for `json` \
                 input, not {:?}{}",
                self.input_format,
                if self.input_format == "wecom" {
                    " (WeCom records name their people and time themselves)"
                } else {
                    ""
                }
            )));
        }
        for (key, pointer) in [
            ("json_from_pointer", &self.json_from_pointer),
            ("json_to_pointer", &self.json_to_pointer),
            ("json_time_pointer", &self.json_time_pointer),
        ] {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(ConfigError::Invalid(format!(
                    "{key} {pointer:?} is not a JSON pointer (one starts with `/`)"
                )));
            }
        }
        let internal_domains = InternalDomains::new(&self.internal_domains)
            .map_err(|e| ConfigError::Invalid(format!("internal_domains: {e}")))?;
        Ok(Some(Participants {
            from: self.json_from_pointer.clone(),
            to: self.json_to_pointer.clone(),
            internal_domains,
            time: self.json_time_pointer.clone(),
        }))
    }

    /// The input format with its options; an error where they do not fit
    /// together (participants of a format other than `json`, a bad domain).
    pub fn format(&self) -> Result<InputFormat, ConfigError> {
        let participants = self.participants()?;
        Ok(match self.input_format.as_str() {
            "json" => match participants {
                Some(p) => InputFormat::json_with_participants(&self.json_pointer, p),
                None => InputFormat::json(&self.json_pointer),
            },
            "wecom" => InputFormat::Wecom(WecomOptions {
                record_pointer: self.record_pointer.clone(),
                max_depth: self.max_depth,
            }),
            _ => InputFormat::Text,
        })
    }

    /// The encoding `input_encoding` names, if any.
    pub fn input_charset(&self) -> Result<Option<crate::encoding::Charset>, ConfigError> {
        crate::encoding::Charset::for_label(&self.input_encoding)
            .map_err(|e| ConfigError::Invalid(format!("input_encoding: {e}")))
    }

    /// The pseudonymizer, when `pseudonymize_ids` is on: key from
    /// `pseudonym_key_file`, else `WORDWARDEN_PSEUDONYM_KEY`.
    pub fn pseudonymizer(&self) -> Result<Option<crate::pseudonym::Pseudonymizer>, ConfigError> {
        if !self.pseudonymize_ids {
            return Ok(None);
        }
        let key = match &self.pseudonym_key_file {
            Some(p) => std::fs::read(p).map_err(|cause| ConfigError::Read { path: p.clone(), cause })?,
            None => std::env::var("WORDWARDEN_PSEUDONYM_KEY")
                .map(String::into_bytes)
                .map_err(|_| ConfigError::Invalid("pseudonymize_ids is on but no key: set pseudonym_key_file or WORDWARDEN_PSEUDONYM_KEY".into()))?,
        };
        let key: Vec<u8> = key.trim_ascii().to_vec();
        crate::pseudonym::Pseudonymizer::new(&key)
            .map(Some)
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The sealer of alerts' evidence, when `evidence_recipients` names
    /// any.
    pub fn evidence_sealer(
        &self,
    ) -> Result<Option<crate::alert::seal::EvidenceSealer>, ConfigError> {
        if self.evidence_recipients.is_empty() {
            return Ok(None);
        }
        crate::alert::seal::EvidenceSealer::new(self.evidence_recipients.iter().map(String::as_str))
            .map(Some)
            .map_err(|e| ConfigError::Invalid(format!("evidence_recipients: {e}")))
    }

    /// Worker count after resolving 0 to the number of cores.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }

    /// Consumers the instance runs in the group: one per worker at least
    /// once; exactly-once reads through one consumer, whose offsets go in
    /// its producer's transactions.
    pub fn consumer_count(&self) -> usize {
        match self.delivery {
            Delivery::AtLeastOnce => self.worker_count(),
            Delivery::ExactlyOnce => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load(None, vec![]).unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn sample_config_in_deploy_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/wordwarden.toml");
        let c = Config::load(Some(&p), vec![]).unwrap();
        assert_eq!(c.input_format, "wecom");
    }

    #[test]
    fn env_overrides_file_with_types() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "brokers = \"a:1\"\nworkers = 3\n[kafka]\n\"session.timeout.ms\" = \"6000\"\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&p),
            env(&[
                ("WORDWARDEN_BROKERS", "b:2"),
                ("WORDWARDEN_WORKERS", "4"),
                ("WORDWARDEN_INPUT_TOPICS", "x, y"),
                ("WORDWARDEN_DELIVERY", "exactly-once"),
                ("WORDWARDEN_KAFKA_SECURITY_PROTOCOL", "ssl"),
                ("WORDWARDEN_MASK_PERSONAL_DATA", "false"),
                ("OTHER", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(c.brokers, "b:2");
        assert_eq!(c.workers, 4);
        assert_eq!(c.input_topics, vec!["x", "y"]);
        assert_eq!(c.delivery, Delivery::ExactlyOnce);
        assert_eq!(c.kafka["security.protocol"], "ssl");
        assert_eq!(c.kafka["session.timeout.ms"], "6000");
        assert!(!c.mask_personal_data);
        assert!(Config::default().mask_personal_data, "masked by default");
    }

    /// `evidence_recipients` (comma-separated in the environment) reach
    /// the judge, whose alerts are then sealed; a key that is not an age
    /// public key is refused at load, naming the setting.
    #[test]
    fn evidence_recipients_seal_the_judges_alerts() {
        let (_, first) = crate::alert::seal::generate_identity();
        let (_, second) = crate::alert::seal::generate_identity();
        let both = format!("{first}, {second}");
        let c = Config::load(
            None,
            env(&[
                ("WORDWARDEN_EVIDENCE_RECIPIENTS", &both),
                ("WORDWARDEN_INPUT_FORMAT", "text"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.evidence_recipients, [first, second]);
        assert_eq!(
            c.evidence_sealer().expect("keys").map(|s| s.recipients()),
            Some(2)
        );
        let judge = crate::engine::judge_for(&c).expect("a judge");
        let lists =
            crate::lists::WordListSet::from_sources(vec![("l.txt".into(), "客户名单\n".into())]);
        let rs = crate::ruleset::Ruleset::builder()
            .build(&lists)
            .expect("compiles");
        let alert = judge
            .judge(
                &rs,
                &mut rs.scanner(),
                "客户名单".as_bytes(),
                Default::default(),
                "x",
            )
            .alert
            .expect("alerts");
        assert!(alert.sealed.is_some() && alert.hits[0].matched.is_empty());
        assert!(Config::default().evidence_sealer().expect("none").is_none());
        let refused = Config::load(None, env(&[("WORDWARDEN_EVIDENCE_RECIPIENTS", "age1oops")]));
        let said = refused.expect_err("not a key").to_string();
        assert!(
            said.contains("evidence_recipients") && said.contains("age1oops"),
            "{said}"
        );
    }

    /// The split and bulk tally settings reach the judge; input that names
    /// no sender, or `split_messages = false`, gets no runs; a fragment of
    /// no characters is refused.
    #[test]
    fn split_settings_reach_the_judge() {
        let load = |pairs: &[(&str, &str)]| Config::load(None, env(pairs));
        let memory = |pairs: &[(&str, &str)]| {
            let config = load(pairs).expect("valid");
            crate::engine::judge_for(&config).expect("a judge").memory()
        };
        let wecom = ("WORDWARDEN_INPUT_FORMAT", "wecom");
        let m = memory(&[
            wecom,
            ("WORDWARDEN_SPLIT_GAP_SECS", "30"),
            ("WORDWARDEN_SPLIT_FRAGMENT_CHARS", "2"),
            ("WORDWARDEN_SPLIT_MAX_SPEAKERS", "500"),
            ("WORDWARDEN_BULK_TALLY_MAX_VALUES", "700"),
            ("WORDWARDEN_WITHDRAWAL_MAX_ALERTS", "40"),
        ]);
        let o = m.runs().expect("on by default").options();
        assert_eq!(
            (o.gap_ms, o.fragment_chars, o.max_speakers),
            (30_000, 2, 500)
        );
        assert_eq!(m.tally().max_values(), 700);
        assert_eq!(memory(&[wecom]).tally().max_values(), 100_000);
        assert_eq!(m.alerted().capacity(), 40);
        assert_eq!(memory(&[wecom]).alerted().capacity(), 10_000);
        assert!(memory(&[wecom, ("WORDWARDEN_SPLIT_MESSAGES", "false")])
            .runs()
            .is_none());
        assert!(memory(&[("WORDWARDEN_INPUT_FORMAT", "text")])
            .runs()
            .is_none());
        let e = load(&[wecom, ("WORDWARDEN_SPLIT_FRAGMENT_CHARS", "0")])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("split_fragment_chars"), "{e}");
    }

    /// `input_encoding` reaches the judge: a GBK record alerts where it is
    /// named and is rejected naming it where not; encodings that cannot
    /// be told from UTF-8 are refused.
    #[test]
    fn input_encoding_reaches_the_judge() {
        let lists =
            crate::lists::WordListSet::from_sources(vec![("leak.txt".into(), "内幕消息\n".into())]);
        let rs = crate::ruleset::Ruleset::builder()
            .build(&lists)
            .expect("lists");
        let record = r#"{"msgid":"m1","from":"li","tolist":["wang"],"msgtype":"text","text":{"content":"有内幕消息"}}"#;
        let gbk = encoding_rs::GBK.encode(record).0.into_owned();
        let judged = |pairs: &[(&str, &str)]| {
            let config = Config::load(None, env(pairs)).expect("valid");
            let judge = crate::engine::judge_for(&config).expect("a judge");
            judge.judge(&rs, &mut rs.scanner(), &gbk, serde_json::Map::new(), "x")
        };
        let read = judged(&[("WORDWARDEN_INPUT_ENCODING", "gb18030")]);
        assert_eq!(read.alert.expect("alerts").hits[0].matched, "内幕消息");
        let rejected = judged(&[]).rejected.expect("not UTF-8");
        assert!(
            rejected
                .to_string()
                .contains("input_encoding = \"gb18030\""),
            "{rejected}"
        );
        for (label, says) in [
            ("utf-16le", "cannot be a message encoding"),
            ("klingon", "unknown encoding"),
        ] {
            let e = Config::load(None, env(&[("WORDWARDEN_INPUT_ENCODING", label)]))
                .expect_err("refused")
                .to_string();
            assert!(e.contains("input_encoding") && e.contains(says), "{e}");
        }
        let utf8 = Config::load(None, env(&[("WORDWARDEN_INPUT_ENCODING", "utf-8")]));
        assert_eq!(utf8.expect("valid").input_charset().expect("valid"), None);
    }

    /// A recall reads for `recall_timeout_secs`, never past a third of
    /// the poll interval the group allows; a recall of no time is refused
    /// unless recalls are off.
    #[test]
    fn a_recall_ends_well_within_the_poll_interval() {
        let load = |pairs: &[(&str, &str)]| Config::load(None, env(pairs));
        let timeout = |pairs: &[(&str, &str)]| load(pairs).expect("valid").recall_timeout();
        assert_eq!(timeout(&[]), Duration::from_secs(10));
        assert_eq!(
            timeout(&[("WORDWARDEN_KAFKA_MAX_POLL_INTERVAL_MS", "10000")]),
            Duration::from_millis(3_333)
        );
        assert_eq!(
            timeout(&[
                ("WORDWARDEN_KAFKA_MAX_POLL_INTERVAL_MS", "600000"),
                ("WORDWARDEN_RECALL_TIMEOUT_SECS", "60"),
            ]),
            Duration::from_secs(60)
        );
        let e = load(&[("WORDWARDEN_RECALL_TIMEOUT_SECS", "0")])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("recall_timeout_secs"), "{e}");
        load(&[
            ("WORDWARDEN_RECALL_TIMEOUT_SECS", "0"),
            ("WORDWARDEN_RECALL_MAX_MESSAGES", "0"),
        ])
        .expect("recalls off");
    }

    #[test]
    fn no_input_topic_is_one_the_engine_writes() {
        let load = |pairs: &[(&str, &str)]| Config::load(None, env(pairs));
        let refused = |pairs: &[(&str, &str)], says: &str| {
            let e = load(pairs).expect_err("refused").to_string();
            assert!(e.contains(says) && !e.contains('\n'), "{e}");
        };
        refused(
            &[("WORDWARDEN_INPUT_TOPICS", "chat,wordwarden.alerts")],
            r#"input topic "wordwarden.alerts" would read alert_topic "wordwarden.alerts""#,
        );
        // a pattern that would also subscribe to the alert topic
        refused(
            &[
                ("WORDWARDEN_INPUT_TOPICS", r"^wecom\..*"),
                ("WORDWARDEN_ALERT_TOPIC", "wecom.alerts"),
            ],
            "would read alert_topic \"wecom.alerts\"",
        );
        refused(
            &[
                ("WORDWARDEN_INPUT_TOPICS", "^chat.*"),
                ("WORDWARDEN_AUDIT_TOPIC", "chat-audit"),
            ],
            "would read audit_topic",
        );
        refused(
            &[("WORDWARDEN_INPUT_TOPICS", "^chat(")],
            "input topic pattern \"^chat(\"",
        );
        // and no two kinds of record share a topic
        refused(
            &[("WORDWARDEN_DLQ_TOPIC", "wordwarden.alerts")],
            "alert_topic and dlq_topic are both \"wordwarden.alerts\"",
        );
        refused(
            &[("WORDWARDEN_AUDIT_TOPIC", "wordwarden.dlq")],
            "dlq_topic and audit_topic are both",
        );
        // patterns that keep clear of them
        let c = load(&[
            ("WORDWARDEN_INPUT_TOPICS", r"^wecom\.messages\..*"),
            ("WORDWARDEN_ALERT_TOPIC", "wecom.alerts"),
            ("WORDWARDEN_DLQ_TOPIC", "wecom.dlq"),
        ])
        .expect("valid");
        assert_eq!(c.input_topics, [r"^wecom\.messages\..*"]);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_one_line_naming_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "brokers = 5\n").unwrap();
        let e = Config::load(Some(&p), vec![]).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("`brokers`") && e.contains("c.toml"), "{e}");
        let e = Config::load(None, env(&[("WORDWARDEN_MAX_IN_FLIGHT", "many")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`max_in_flight`") && e.contains("environment"),
            "{e}"
        );
    }

    #[test]
    fn json_participants_are_configured_together() {
        let c = Config::load(
            None,
            env(&[
                ("WORDWARDEN_INPUT_FORMAT", "json"),
                ("WORDWARDEN_JSON_FROM_POINTER", "/sender/email"),
                ("WORDWARDEN_JSON_TO_POINTER", "/to"),
                ("WORDWARDEN_INTERNAL_DOMAINS", "example.com, @Example.CN"),
            ]),
        )
        .unwrap();
        let format = c.format().unwrap();
        let p = format.participants().expect("participants");
        assert_eq!((p.from.as_str(), p.to.as_str()), ("/sender/email", "/to"));
        assert!(p.internal_domains.is_internal("li@mail.example.cn"));
        assert!(!p.internal_domains.is_internal("li@gmail.com"));
        assert!(format.names_people());
        let untold = Config {
            input_format: "json".into(),
            ..Config::default()
        };
        assert!(!untold.format().unwrap().names_people());
        // a message's time alone: read, and no one is named
        let timed = Config {
            input_format: "json".into(),
            json_time_pointer: "/sent_at".into(),
            ..Config::default()
        };
        let format = timed.format().unwrap();
        assert_eq!(
            format.participants().map(|p| p.time.as_str()),
            Some("/sent_at")
        );
        assert!(!format.names_people());
        for (pairs, says) in [
            (
                vec![("WORDWARDEN_JSON_FROM_POINTER", "/from")],
                "for `json` input, not \"wecom\" (WeCom records",
            ),
            (
                vec![
                    ("WORDWARDEN_INPUT_FORMAT", "json"),
                    ("WORDWARDEN_JSON_TO_POINTER", "to"),
                ],
                "json_to_pointer \"to\" is not a JSON pointer",
            ),
            (
                vec![("WORDWARDEN_JSON_TIME_POINTER", "/time")],
                "json_time_pointer are for `json` input, not \"wecom\" (WeCom records name their people and time",
            ),
            (
                vec![
                    ("WORDWARDEN_INPUT_FORMAT", "json"),
                    ("WORDWARDEN_JSON_TIME_POINTER", "time"),
                ],
                "json_time_pointer \"time\" is not a JSON pointer",
            ),
            (
                vec![
                    ("WORDWARDEN_INPUT_FORMAT", "json"),
                    ("WORDWARDEN_JSON_TO_POINTER", "/to"),
                    ("WORDWARDEN_INTERNAL_DOMAINS", "example.com,*.corp"),
                ],
                "internal_domains: \"*.corp\" is not a domain",
            ),
            (
                vec![
                    ("WORDWARDEN_INPUT_FORMAT", "json"),
                    ("WORDWARDEN_INTERNAL_DOMAINS", "example.com"),
                ],
                "neither json_from_pointer nor json_to_pointer",
            ),
        ] {
            let e = Config::load(None, env(&pairs)).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = Config::load(None, env(&[("WORDWARDEN_NO_SUCH_KEY", "1")])).unwrap_err();
        assert!(e.to_string().contains("no_such_key"), "{e}");
        let e = Config::load(None, env(&[("WORDWARDEN_INPUT_FORMAT", "xml")])).unwrap_err();
        assert!(e.to_string().contains("xml"), "{e}");
        let e =
            Config::load(None, env(&[("WORDWARDEN_ALERT_TOPIC", "wecom.messages")])).unwrap_err();
        assert!(e.to_string().contains("would read alert_topic"), "{e}");
    }
}
