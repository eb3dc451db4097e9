//! Who read what: `tail`, `report`, `explain --at` and `redrive` read
//! alerts and archived messages off the brokers, personal data among them,
//! `review` gives verdicts on alerts, and `audit` reads this trail back
//! (naming whom others looked into).
//! With `--audit-topic` (or `WORDWARDEN_AUDIT_TOPIC`, as the engine's audit
//! topic is set) each first writes one access record there: when, who
//! (`--actor`, else the login name; and the Kafka principal where the
//! client authenticates as one), which command, what it reads, and its
//! arguments (the values of `-X` properties left out: they hold passwords).
//! It reads nothing when the record cannot be written: a trail with gaps is
//! no trail.
//!
//! Kafka's ACLs decide who may read the alert and dead-letter topics at all;
//! this records what those allowed did, beside the engine's reload records.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientConfig, ClientContext};
use serde::Serialize;

/// How long an access record may take to be written before the command
/// gives up, reading nothing.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, clap::Args)]
pub struct AccessArgs {
    /// Write an access record (who read what, when) to this topic before
    /// reading alerts or messages, and read nothing when it cannot be
    /// written. The engine's `audit_topic` is the place for it.
    #[arg(long, env = "WORDWARDEN_AUDIT_TOPIC")]
    audit_topic: Option<String>,
    /// Who is reading, for the access record (default: the login name).
    #[arg(long, env = "WORDWARDEN_ACTOR")]
    actor: Option<String>,
    /// The read opens the alerts' sealed evidence ([`Self::opening_evidence`]).
    #[arg(skip)]
    opens_evidence: bool,
}

/// One read of alerts or messages.
#[derive(Debug, Serialize)]
struct AccessRecord<'a> {
    /// Unix time.
    time: f64,
    kind: &'static str,
    actor: String,
    /// The SASL user the client authenticates as, where it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a str>,
    command: &'a str,
    /// The topic, or `TOPIC/PARTITION/OFFSET` of one message.
    read: &'a str,
    args: Vec<String>,
    /// `opened`: the reader opened the alerts' sealed evidence (their
    /// quotes of the messages) with an identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'static str>,
}

/// Collects the delivery failures of a producer's records.
#[derive(Default)]
pub(super) struct Deliveries {
    /// How many failed, and the first failure's reason.
    failed: Mutex<(usize, Option<String>)>,
    /// `Some`: the client logs nothing, and keeps the reason of its first
    /// error here (for a one-line error of the command's own).
    quiet: Option<Mutex<Option<String>>>,
}

impl Deliveries {
    /// How many deliveries failed, and the first failure's reason.
    pub(super) fn failures(&self) -> (usize, Option<String>) {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Logs nothing, keeping the client's first error.
    fn quiet() -> Self {
        Deliveries {
            quiet: Some(Mutex::new(None)),
            ..Default::default()
        }
    }

    /// The reason of the client's first error, when quiet and there was one.
    fn first_error(&self) -> Option<String> {
        let first = self.quiet.as_ref()?;
        first.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl ClientContext for Deliveries {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, facility: &str, message: &str) {
        if self.quiet.is_none() {
            rdkafka::client::DefaultClientContext.log(level, facility, message);
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        match &self.quiet {
            None => rdkafka::client::DefaultClientContext.error(error, reason),
            Some(first) => {
                let mut first = first.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert_with(|| reason.to_string());
            }
        }
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.0 += 1;
            failed.1.get_or_insert_with(|| e.to_string());
        }
    }
}

/// The command line as the record keeps it: each `-X` property's value
/// left out (`-X sasl.password=…` -> `-X sasl.password=(not recorded)`).
fn recorded_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let hide = |prop: &str| match prop.split_once('=') {
        Some((key, _)) => format!("{key}=(not recorded)"),
        None => prop.to_string(),
    };
    let mut out = Vec::new();
    let mut property_next = false;
    for arg in args {
        out.push(if property_next {
            property_next = false;
            hide(&arg)
        } else if arg == "-X" {
            property_next = true;
            arg
        } else if let Some(prop) = arg.strip_prefix("-X") {
            format!("-X{}", hide(prop))
        } else {
            arg
        });
    }
    out
}

impl AccessArgs {
    /// The audit topic, when one is set.
    pub fn topic(&self) -> Option<&str> {
        self.audit_topic.as_deref()
    }

    /// Who is acting: `--actor`, else the login name.
    pub fn actor(&self) -> String {
        self.actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| "unknown".into())
    }

    /// These arguments for a read that opens the alerts' sealed evidence:
    /// its record says so (`"evidence": "opened"`).
    pub fn opening_evidence(&self) -> AccessArgs {
        AccessArgs {
            opens_evidence: true,
            ..self.clone()
        }
    }

    /// Writes the access record of `command` reading `read` (a topic, or one
    /// message's place), when an audit topic is set; an error when it
    /// cannot be written, and the command must then read nothing.
    pub fn record(
        &self,
        brokers: &str,
        props: &[(String, String)],
        command: &str,
        read: &str,
    ) -> anyhow::Result<()> {
        let Some(topic) = &self.audit_topic else {
            return Ok(());
        };
        let actor = self.actor();
        let record = AccessRecord {
            time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            kind: "access",
            actor,
            principal: props
                .iter()
                .find(|(k, _)| k == "sasl.username")
                .map(|(_, v)| v.as_str()),
            command,
            read,
            args: recorded_args(std::env::args().skip(1)),
            evidence: self.opens_evidence.then_some("opened"),
        };
        let json = serde_json::to_string(&record)?;
        write_quietly(brokers, props, topic, &[("access", json)], WRITE_TIMEOUT).map_err(|cause| {
            anyhow::anyhow!(
                "nothing read: the access record could not be written to the audit topic \
                 {topic} ({cause})"
            )
        })
    }
}

/// Writes `records` (each a key and a payload) to `topic` and waits up to
/// `timeout` for the brokers to take every one (`-X message.timeout.ms`
/// overrides it), with a producer that logs nothing: what went wrong comes
/// back as one line, with librdkafka's first reason. The access record's
/// write, and `review`'s.
pub(super) fn write_quietly(
    brokers: &str,
    props: &[(String, String)],
    topic: &str,
    records: &[(&str, String)],
    timeout: Duration,
) -> Result<(), String> {
    // (not idempotent: a principal allowed to write the topic is enough on
    // any Kafka, where an idempotent producer needed `IdempotentWrite` on
    // the cluster before 3.0; a record sent twice by a retry is the same
    // record, and librdkafka's default acknowledgement is every in-sync replica's)
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", brokers)
        .set("message.timeout.ms", timeout.as_millis().to_string());
    for (k, v) in props {
        cfg.set(k, v);
    }
    let producer: BaseProducer<Deliveries> = cfg
        .create_with_context(Deliveries::quiet())
        .map_err(|e| e.to_string())?;
    let because = |why: String| match producer.context().first_error() {
        Some(first) => format!("{why}; {first}"),
        None => why,
    };
    for (key, payload) in records {
        producer
            .send(BaseRecord::<str, str>::to(topic).key(key).payload(payload))
            .map_err(|(e, _)| because(e.to_string()))?;
    }
    producer
        .flush(timeout + Duration::from_secs(1))
        .map_err(|e| because(e.to_string()))?;
    match producer.context().failures() {
        (_, None) => Ok(()),
        (failed, Some(why)) => Err(because(format!("{failed} of {}: {why}", records.len()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_values_are_never_recorded() {
        let args = [
            "tail",
            "--brokers",
            "b:9093",
            "-X",
            "sasl.password=hunter2",
            "-Xssl.key.password=s3cret",
            "--sender",
            "li",
        ]
        .map(String::from);
        assert_eq!(
            recorded_args(args),
            [
                "tail",
                "--brokers",
                "b:9093",
                "-X",
                "sasl.password=(not recorded)",
                "-Xssl.key.password=(not recorded)",
                "--sender",
                "li",
            ]
        );
    }
}
