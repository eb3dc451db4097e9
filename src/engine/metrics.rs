//! Every metric the engine exports, registered in one place so names and
//! labels stay consistent. Label values are bounded: topics, partitions,
//! categories and severities from configuration, reasons and message types
//! from fixed lists; never a term, a user or message text.

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::ruleset::Ruleset;

/// The engine's metrics.
pub struct Metrics {
    registry: Registry,
    /// Messages received from the input topics.
    pub consumed: IntCounterVec,
    /// Messages fully handled, by outcome (`alert`, `clean`, `textless`, `dead_letter`).
    pub processed: IntCounterVec,
    /// Alerts published, by severity and audience (`internal`, `external`,
    /// `unknown`).
    pub alerts: IntCounterVec,
    /// Hits in published alerts, by category and severity.
    pub hits: IntCounterVec,
    /// Hits in published alerts written to get past a filter, by kind of
    /// evasion (a hit may count under several).
    pub evasions: IntCounterVec,
    /// Alerts on messages holding a list's values in bulk (`#! bulk:`), by
    /// the list's category and the audience.
    pub bulk_alerts: IntCounterVec,
    /// Alerts on a sender withdrawing a message that had alerted (also in
    /// `alerts`), by severity and audience.
    pub withdrawn_alerts: IntCounterVec,
    /// Messages copied to the dead-letter topic, by reason.
    pub dead_letters: IntCounterVec,
    /// Decoded records without text, by WeCom message type.
    pub textless: IntCounterVec,
    /// Unknown WeCom message types seen (scanned as generic JSON).
    pub unknown_msgtypes: IntCounter,
    /// Messages that were not UTF-8, read in `input_encoding`.
    pub transcoded: IntCounter,
    /// Broker timestamp of the input message to the alert acknowledged.
    pub latency: Histogram,
    /// Time spent judging one message (decode, fold, match, alert).
    pub scan_seconds: Histogram,
    /// Consumer lag per partition (from librdkafka statistics).
    pub consumer_lag: IntGaugeVec,
    /// Messages consumed and not yet acknowledged.
    pub in_flight: IntGauge,
    /// Messages in the producer's queue.
    pub producer_queue: IntGauge,
    /// Produce attempts retried after a failed delivery.
    pub delivery_retries: IntCounter,
    /// Errors librdkafka returned instead of input messages (a batch it
    /// cannot read, a partition it may not read): the partition stalls there.
    pub consume_errors: IntCounter,
    /// Input positions librdkafka reset to `auto.offset.reset` because it
    /// could not fetch there: messages retention deleted before they were
    /// read were never screened.
    pub offset_resets: IntCounter,
    /// Partitions assigned to this instance.
    pub partitions_assigned: IntGauge,
    /// Senders whose runs of short messages the consumers remember.
    pub split_speakers: IntGauge,
    /// Values of lists with a timed `#! bulk:` threshold that the consumers
    /// hold ([`crate::tally`]).
    pub bulk_tally_values: IntGauge,
    /// Alerting messages the consumers remember, should their senders
    /// withdraw them ([`crate::withdrawn`]).
    pub remembered_alerts: IntGauge,
    /// Recalls of a newly assigned partition's recent messages into a
    /// consumer's memory (`engine/recall.rs`), by outcome (`complete`,
    /// `capped`, `partial`, `failed`).
    pub recalls: IntCounterVec,
    /// Messages holding values of a list counting across conversations
    /// whose sender the consumer saw on another partition of the topic:
    /// input not keyed by sender.
    pub spread_senders: IntCounter,
    /// Messages judged again by recalls.
    pub recalled_messages: IntCounter,
    /// 1 when at least one broker connection is up.
    pub brokers_up: IntGauge,
    /// 1 for the loaded ruleset's version.
    pub ruleset_info: IntGaugeVec,
    /// Rules per category in the loaded ruleset.
    pub ruleset_rules: IntGaugeVec,
    /// Reload attempts by trigger and result.
    pub reloads: IntCounterVec,
    /// Unix time of the last successful ruleset load.
    pub reload_last_success: Gauge,
    /// Exactly-once transactions by result (`committed`, `aborted`).
    pub transactions: IntCounterVec,
    /// Unix time this process started.
    pub start_time: GaugeVec,
}

fn counter(reg: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("static metric {name}: {e}"));
    let _ = reg.register(Box::new(c.clone()));
    c
}

fn gauge(reg: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("static metric {name}: {e}"));
    let _ = reg.register(Box::new(g.clone()));
    g
}

fn histogram(reg: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
        .unwrap_or_else(|e| unreachable!("static metric {name}: {e}"));
    let _ = reg.register(Box::new(h.clone()));
    h
}

impl Metrics {
    /// Registers every metric (and the process collector on Linux).
    pub fn new() -> Metrics {
        let reg = Registry::new_custom(Some("wordwarden".into()), None)
            .unwrap_or_else(|e| unreachable!("registry: {e}"));
        #[cfg(target_os = "linux")]
        {
            let _ = prometheus::default_registry();
            let pc = prometheus::process_collector::ProcessCollector::for_self();
            let _ = reg.register(Box::new(pc));
        }
        let plain_counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).unwrap_or_else(|e| unreachable!("{e}"));
            let _ = reg.register(Box::new(c.clone()));
            c
        };
        let single = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).unwrap_or_else(|e| unreachable!("{e}"));
            let _ = reg.register(Box::new(g.clone()));
            g
        };
        let m = Metrics {
            consumed: counter(&reg, "messages_consumed_total", "Messages received from the input topics.", &["topic"]),
            processed: counter(&reg, "messages_processed_total", "Messages fully handled (alerts and dead letters acknowledged), by outcome.", &["topic", "outcome"]),
            alerts: counter(&reg, "alerts_total", "Alerts published, by severity and by who the message went between (internal, external, unknown).", &["severity", "audience"]),
            hits: counter(&reg, "hits_total", "Hits in published alerts, by category and severity.", &["category", "severity"]),
            evasions: counter(&reg, "evasions_total", "Hits in published alerts written unlike their rule (separators, traditional, pinyin, ...), by kind of evasion.", &["kind"]),
            bulk_alerts: counter(&reg, "bulk_alerts_total", "Alerts on messages holding a list's values in bulk (its `#! bulk:` threshold reached: a customer roster, not a number shared), by the list's category and by who the message went between.", &["category", "audience"]),
            withdrawn_alerts: counter(&reg, "withdrawn_alerts_total", "Alerts on a sender withdrawing (WeCom recall) a message that had alerted, also counted in alerts_total, by the alert's severity and by who the message went between.", &["severity", "audience"]),
            dead_letters: counter(&reg, "dead_letters_total", "Messages copied to the dead-letter topic, by reason.", &["reason"]),
            textless: counter(&reg, "textless_messages_total", "Decoded records without text (pictures, voice, recalls), by message type.", &["msgtype"]),
            unknown_msgtypes: plain_counter("unknown_msgtypes_total", "Records of an unknown WeCom message type, scanned as generic JSON."),
            transcoded: plain_counter("messages_transcoded_total", "Messages that were not UTF-8, read in the configured input_encoding (GB18030, Big5, ...): its producer writes a legacy encoding."),
            latency: histogram(
                &reg,
                "processing_latency_seconds",
                "From the input message's broker timestamp to its alert or dead letter acknowledged.",
                vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
            ),
            scan_seconds: histogram(
                &reg,
                "scan_duration_seconds",
                &format!(
                    "Time to judge one message: decode, fold, match and build the alert (one message in {} is timed).",
                    super::records::SCAN_TIMING_EVERY
                ),
                vec![0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1],
            ),
            consumer_lag: gauge(&reg, "consumer_lag_messages", "Messages between the committed offset and the end of the partition.", &["topic", "partition"]),
            in_flight: single("in_flight_messages", "Messages consumed and not yet acknowledged."),
            producer_queue: single("producer_queue_messages", "Messages waiting in the producer's queue."),
            delivery_retries: plain_counter("delivery_retries_total", "Alert or dead-letter writes retried after a failed delivery."),
            consume_errors: plain_counter("consume_errors_total", "Errors librdkafka returned instead of input messages (its reason is logged)."),
            offset_resets: plain_counter("offset_resets_total", "Input positions reset to auto.offset.reset because they could not be fetched (deleted by retention before they were read, or past the end)."),
            partitions_assigned: single("partitions_assigned", "Input partitions assigned to this instance."),
            split_speakers: single("split_speakers", "Senders (in one conversation each) whose runs of short messages this instance's consumers remember, for terms split across messages (at most split_max_speakers a consumer)."),
            remembered_alerts: single("remembered_alerts", "Alerting messages this instance's consumers remember, so that a WeCom recall (revoke) of one raises an alert (at most withdrawal_max_alerts a consumer, none over a day old)."),
            bulk_tally_values: single("bulk_tally_values", "Values of lists with a timed bulk threshold (`#! bulk: N severity within T`) that this instance's consumers hold, to count a sender's values over time (at most bulk_tally_max_values a consumer)."),
            recalls: counter(&reg, "recalls_total", "Recalls of a newly assigned partition's recent messages into a consumer's memory of split runs and timed bulk tallies, by outcome (complete; capped: recall_max_messages held it back from messages still within reach; partial: cut short by recall_timeout_secs or a stop; failed).", &["outcome"]),
            spread_senders: plain_counter("across_conversations_spread_total", "Messages holding values of a list counting across conversations (`#! bulk: ... across conversations`) whose sender the consumer saw on another partition of the topic before: the input is not keyed by sender, so such lists count only the values on each consumer's own partitions."),
            recalled_messages: plain_counter("recalled_messages_total", "Messages judged again by recalls to rebuild what a consumer remembers of a partition given to it (nothing is alerted for them)."),
            brokers_up: single("brokers_up", "1 while at least one broker connection is up."),
            ruleset_info: gauge(&reg, "ruleset_info", "1 for the version of the loaded word lists.", &["version"]),
            ruleset_rules: gauge(&reg, "ruleset_rules", "Rules per category in the loaded word lists.", &["category"]),
            reloads: counter(&reg, "reloads_total", "Word-list reload attempts, by trigger and result.", &["trigger", "result"]),
            reload_last_success: {
                let g = Gauge::new("reload_last_success_timestamp_seconds", "Unix time of the last successful word-list load.")
                    .unwrap_or_else(|e| unreachable!("{e}"));
                let _ = reg.register(Box::new(g.clone()));
                g
            },
            transactions: counter(&reg, "transactions_total", "Exactly-once transactions, by result.", &["result"]),
            start_time: {
                let g = GaugeVec::new(Opts::new("start_time_seconds", "Unix time this engine started."), &["version"])
                    .unwrap_or_else(|e| unreachable!("{e}"));
                let _ = reg.register(Box::new(g.clone()));
                g
            },
            registry: reg,
        };
        m.start_time
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(unix_now());
        // every kind from 0, so a rate over the first ones caught is right
        for kind in crate::evasion::Evasion::ALL {
            m.evasions.with_label_values(&[kind.name()]).inc_by(0);
        }
        for outcome in ["complete", "partial", "failed"] {
            m.recalls.with_label_values(&[outcome]).inc_by(0);
        }
        // the few withdrawals from 0 too: the first one shows in a rate
        for severity in crate::lists::Severity::ALL {
            for audience in crate::audience::Audience::ALL {
                m.withdrawn_alerts
                    .with_label_values(&[severity.as_str(), audience.name()])
                    .inc_by(0);
            }
        }
        m
    }

    /// Records a newly loaded ruleset.
    pub fn set_ruleset(&self, ruleset: &Ruleset) {
        self.ruleset_info.reset();
        self.ruleset_info
            .with_label_values(&[ruleset.version()])
            .set(1);
        self.ruleset_rules.reset();
        for (cat, n) in &ruleset.stats().rules_per_category {
            self.ruleset_rules
                .with_label_values(&[cat.as_str()])
                .set(*n as i64);
        }
        // every list in bulk from 0 for every audience, so a rate over the
        // first roster is right (as for the evasions)
        for category in ruleset.stats().bulk.keys() {
            for audience in crate::audience::Audience::ALL {
                self.bulk_alerts
                    .with_label_values(&[category.as_str(), audience.name()])
                    .inc_by(0);
            }
        }
        self.reload_last_success.set(unix_now());
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// WeCom message types used as label values; anything else is `other`.
pub fn msgtype_label(msgtype: Option<&str>) -> &'static str {
    const KNOWN: &[&str] = &[
        "text",
        "image",
        "revoke",
        "agree",
        "disagree",
        "voice",
        "video",
        "card",
        "location",
        "emotion",
        "file",
        "link",
        "weapp",
        "chatrecord",
        "todo",
        "vote",
        "collect",
        "redpacket",
        "meeting",
        "docmsg",
        "markdown",
        "news",
        "calendar",
        "mixed",
        "meeting_voice_call",
        "voip_doc_share",
        "external_redpacket",
        "sphfeed",
        "voiptext",
        "qydiskfile",
        "switch",
    ];
    match msgtype {
        None => "none",
        Some(t) => KNOWN.iter().find(|k| **k == t).copied().unwrap_or("other"),
    }
}
