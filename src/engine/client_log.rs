//! librdkafka's error callbacks, logged at most once per [`EVERY`] for each
//! kind of error. While the brokers are down every client reports each
//! reconnect attempt: logged as they came, an outage wrote about 26 lines a
//! second (two consumers and the producer), for as long as it lasted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;

/// How often one kind of error is logged; repeats in between are counted
/// and the count goes with the next line.
pub(crate) const EVERY: Duration = Duration::from_secs(10);

/// Kinds of error remembered at most: past it the memory starts afresh (a
/// client reports a handful of kinds, so this only guards against surprises).
const MAX_KINDS: usize = 64;

/// When each kind of client error was last logged, and how often it came
/// since.
#[derive(Default)]
pub(crate) struct ErrorLog {
    seen: Mutex<HashMap<String, Seen>>,
}

struct Seen {
    logged: Instant,
    repeats: u64,
}

impl ErrorLog {
    /// Logs `error` unless its kind was logged less than [`EVERY`] ago.
    pub fn report(&self, error: &KafkaError, reason: &str) {
        if let Some(repeats) = self.due(&error.to_string(), Instant::now()) {
            tracing::warn!(
                error = %error,
                reason,
                repeats,
                "kafka client error (repeats within 10 s are counted, not logged)"
            );
        }
    }

    /// Whether `kind`, seen `now`, is to be logged; if so, how many times it
    /// came since it was last logged.
    fn due(&self, kind: &str, now: Instant) -> Option<u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = seen.get_mut(kind) {
            if now.saturating_duration_since(s.logged) < EVERY {
                s.repeats += 1;
                return None;
            }
            let repeats = std::mem::take(&mut s.repeats);
            s.logged = now;
            return Some(repeats);
        }
        if seen.len() >= MAX_KINDS {
            seen.clear();
        }
        seen.insert(
            kind.to_string(),
            Seen {
                logged: now,
                repeats: 0,
            },
        );
        Some(0)
    }
}

/// Errors a consumer returned instead of messages: each counted in
/// `wordwarden_consume_errors_total`, and logged through an [`ErrorLog`] as
/// one kind, so at most once per [`EVERY`] with the repeats in between (the
/// same error comes back at every poll until its cause is gone; its reason
/// also comes through the client's error callback).
#[derive(Default)]
pub(crate) struct ConsumeErrors {
    log: ErrorLog,
}

impl ConsumeErrors {
    pub fn record(&self, metrics: &super::metrics::Metrics, error: &KafkaError) {
        metrics.consume_errors.inc();
        if let Some(repeats) = self.log.due("consume", Instant::now()) {
            tracing::warn!(
                error = %error,
                repeats,
                "consume error (repeats within 10 s are counted, not logged)"
            );
        }
    }
}

/// The client context of the engine's producers: their errors go through an
/// [`ErrorLog`].
#[derive(Default)]
pub(crate) struct ProducerContext {
    errors: ErrorLog,
}

impl ClientContext for ProducerContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors.report(&error, reason);
    }
}

/// The engine's alert, dead-letter and audit producer.
pub(crate) type EngineProducer = FutureProducer<ProducerContext>;

/// The context of a command's short-lived clients (publishing a list set,
/// `wordwarden check`, the readers of `tail`, `report` and `redrive`): each
/// error logged (unless [`Self::quiet`]), and the first one's reason kept,
/// so that the command's own error says why the brokers could not be
/// reached (`certificate verify failed`) instead of only that an operation
/// timed out. The end of a partition is no error: a reader that reads to
/// the end asks for those events (`enable.partition.eof`). Clones share
/// what they keep (a client owns its context; the caller may keep a clone).
///
/// ```no_run
/// use rdkafka::consumer::{BaseConsumer, Consumer as _};
/// use rdkafka::ClientConfig;
/// use wordwarden::engine::FirstErrorContext;
///
/// let consumer: BaseConsumer<FirstErrorContext> = ClientConfig::new()
///     .set("bootstrap.servers", "127.0.0.1:9092")
///     .create_with_context(FirstErrorContext::default())?;
/// if let Err(e) = consumer.fetch_metadata(None, std::time::Duration::from_secs(5)) {
///     // `e` says only that the request timed out; the reason says why
///     let reason = FirstErrorContext::polled(&consumer);
///     eprintln!("{e} ({})", reason.as_deref().unwrap_or("no reason given"));
/// }
/// # Ok::<(), rdkafka::error::KafkaError>(())
/// ```
#[derive(Clone)]
pub struct FirstErrorContext {
    first: std::sync::Arc<Mutex<Option<String>>>,
    /// Whether each error is logged as well (not where the caller reports
    /// the reason itself, as `wordwarden check` does).
    log: bool,
}

impl Default for FirstErrorContext {
    fn default() -> Self {
        FirstErrorContext {
            first: Default::default(),
            log: true,
        }
    }
}

impl ClientContext for FirstErrorContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, facility: &str, message: &str) {
        if self.log {
            rdkafka::client::DefaultClientContext.log(level, facility, message);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        use rdkafka::types::RDKafkaErrorCode;
        if matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        ) {
            return;
        }
        if self.log {
            tracing::warn!(%error, reason, "kafka client error");
        }
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert_with(|| reason.to_string());
    }
}

impl rdkafka::consumer::ConsumerContext for FirstErrorContext {}

impl rdkafka::producer::ProducerContext for FirstErrorContext {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: ()) {}
}

/// How long a failed command waits for librdkafka to hand over the
/// reason of its first error (its events are served by a poll).
const REASON_WAIT: Duration = Duration::from_millis(500);

impl FirstErrorContext {
    /// Keeps the first reason, logging nothing (neither the client's errors
    /// nor librdkafka's own log lines).
    pub fn quiet() -> Self {
        FirstErrorContext {
            log: false,
            ..Default::default()
        }
    }

    /// The first client error's reason, if one came.
    pub fn first(&self) -> Option<String> {
        self.first.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The first client error's reason of `consumer`, after serving its
    /// events for up to half a second if none came yet: librdkafka hands
    /// them to the consumer's next poll. (A message that poll takes is
    /// dropped: ask only once the consumer has failed.)
    pub fn polled(consumer: &BaseConsumer<FirstErrorContext>) -> Option<String> {
        let context = consumer.context();
        let started = Instant::now();
        while context.first().is_none() && started.elapsed() < REASON_WAIT {
            let _ = consumer.poll(Duration::from_millis(100));
        }
        context.first()
    }

    /// ` (librdkafka: reason)` for [`Self::polled`]'s reason, or nothing:
    /// what a failed command appends to its own error.
    pub fn because(consumer: &BaseConsumer<FirstErrorContext>) -> String {
        Self::polled(consumer)
            .map(|reason| format!(" (librdkafka: {reason})"))
            .unwrap_or_default()
    }

    /// `error`, with the first client error's reason when there was one.
    /// librdkafka hands error events to the client's polling thread, which
    /// may not have served them yet when an operation fails: this waits up
    /// to half a second for one.
    pub async fn explain(&self, error: KafkaError) -> super::EngineError {
        let started = Instant::now();
        while self.first().is_none() && started.elapsed() < REASON_WAIT {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        match self.first() {
            Some(reason) => super::EngineError::KafkaBecause { error, reason },
            None => super::EngineError::Kafka(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_error_is_logged_once_per_period_with_its_count() {
        let log = ErrorLog::default();
        let t0 = Instant::now();
        assert_eq!(log.due("down", t0), Some(0));
        for i in 1..=25 {
            assert_eq!(log.due("down", t0 + Duration::from_millis(100 * i)), None);
        }
        // another kind is logged at once
        assert_eq!(log.due("refused", t0 + Duration::from_secs(1)), Some(0));
        assert_eq!(log.due("down", t0 + EVERY), Some(25));
        assert_eq!(log.due("down", t0 + EVERY + Duration::from_secs(1)), None);
        assert_eq!(log.due("down", t0 + EVERY * 2), Some(1));
    }

    #[test]
    fn the_memory_of_kinds_stays_bounded() {
        let log = ErrorLog::default();
        let t0 = Instant::now();
        for i in 0..1000 {
            assert_eq!(log.due(&format!("kind {i}"), t0), Some(0));
        }
        assert!(log.seen.lock().unwrap().len() <= MAX_KINDS);
    }
}
