//! The alert feed an analyst reads, and which of its alerts: what `tail`
//! and `report` share.

use wordwarden::alert::Alert;
use wordwarden::audience::Audience;
use wordwarden::lists::Severity;

#[derive(Debug, Clone, clap::Args)]
pub struct FeedArgs {
    /// Kafka bootstrap servers.
    #[arg(long)]
    pub brokers: Option<String>,
    /// The alert topic.
    #[arg(long, default_value = "wordwarden.alerts")]
    pub alert_topic: String,
    /// Only alerts of at least this severity.
    #[arg(long, default_value = "info", value_parser = parse_severity)]
    severity: Severity,
    /// Only alerts with a hit in this category or below it (repeatable).
    #[arg(long)]
    category: Vec<String>,
    /// Only alerts with a hit written to get past a filter (`内*幕*消*息`,
    /// `sh1t`, a phone number in numerals): the hits' `evasions`.
    #[arg(long)]
    evasive: bool,
    /// Only alerts on messages to or from someone outside the company (a
    /// WeCom external contact, an address outside `internal_domains`): the
    /// alerts' `audience`.
    #[arg(long)]
    external: bool,
    /// librdkafka property for TLS/SASL (repeatable): `-X security.protocol=ssl`.
    #[arg(short = 'X', value_parser = super::parse_prop)]
    pub props: Vec<(String, String)>,
}

/// When the judged message was written, in milliseconds: WeCom's
/// `msgtime`, else the input record's Kafka `timestamp`.
pub fn written_ms(a: &Alert) -> Option<u64> {
    ["msgtime", "timestamp"]
        .iter()
        .find_map(|&k| a.source.get(k).and_then(serde_json::Value::as_u64))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

impl FeedArgs {
    /// Whether `a` passes every filter given.
    pub fn admits(&self, a: &Alert) -> bool {
        a.severity >= self.severity
            && (!self.evasive || a.is_evasive())
            && (!self.external || a.audience == Audience::External)
            && (self.category.is_empty()
                || a.hits.iter().any(|h| {
                    self.category.iter().any(|c| {
                        let c = c.trim_end_matches('/');
                        h.category == c
                            || h.category
                                .strip_prefix(c)
                                .is_some_and(|below| below.starts_with('/'))
                    })
                }))
    }
}
