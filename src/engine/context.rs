//! The consumer's librdkafka context: rebalance handling, statistics (lag,
//! broker state) and client errors, reported through [`Shared`].

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;

use super::Shared;

pub(crate) struct EngineContext {
    pub shared: Arc<Shared>,
    /// Partitions this consumer holds; the instance's count is the sum over
    /// its consumers.
    pub assigned: std::sync::atomic::AtomicI64,
    /// Whether this consumer has had an assignment yet (counted once in
    /// [`Shared::members_joined`]).
    pub joined: std::sync::atomic::AtomicBool,
    /// Whether this consumer last saw a broker up; the instance is up while
    /// any of its consumers is (one consumer's view must not overwrite the
    /// others').
    pub broker_up: std::sync::atomic::AtomicBool,
    /// At-least-once: commit the stored offsets before partitions go away.
    pub commit_on_revoke: bool,
    /// Client errors, logged at most once per 10 s a kind.
    pub errors: super::client_log::ErrorLog,
}

impl ClientContext for EngineContext {
    fn stats(&self, stats: Statistics) {
        let m = &self.shared.metrics;
        for (topic, t) in &stats.topics {
            for (pid, p) in &t.partitions {
                if *pid < 0 || !p.desired {
                    continue;
                }
                if p.consumer_lag >= 0 {
                    m.consumer_lag
                        .with_label_values(&[topic.as_str(), &pid.to_string()])
                        .set(p.consumer_lag);
                }
            }
        }
        let up = stats
            .brokers
            .values()
            .any(|b| b.state == "UP" && b.nodeid >= 0);
        self.set_broker_up(up);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.set_broker_up(false);
        }
        self.errors.report(&error, reason);
    }
}

impl EngineContext {
    /// Records this consumer's view of the brokers and derives the
    /// instance's: up while at least one of its consumers sees a broker up.
    fn set_broker_up(&self, up: bool) {
        let was = self.broker_up.swap(up, Ordering::Relaxed);
        let consumers_up = match (was, up) {
            (false, true) => self.shared.consumers_up.fetch_add(1, Ordering::Relaxed) + 1,
            (true, false) => self.shared.consumers_up.fetch_sub(1, Ordering::Relaxed) - 1,
            _ => self.shared.consumers_up.load(Ordering::Relaxed),
        };
        let instance_up = consumers_up > 0;
        self.shared.brokers_up.store(instance_up, Ordering::Relaxed);
        self.shared.metrics.brokers_up.set(i64::from(instance_up));
    }
}

impl ConsumerContext for EngineContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            tracing::info!(partitions = tpl.count(), "partitions revoked");
            if self.commit_on_revoke {
                match consumer.commit_consumer_state(CommitMode::Sync) {
                    Ok(()) => {}
                    // nothing stored since the last commit
                    Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
                    Err(e) => tracing::warn!(error = %e, "commit on revoke failed"),
                }
            }
            for elem in tpl.elements() {
                self.shared
                    .metrics
                    .consumer_lag
                    .remove_label_values(&[elem.topic(), &elem.partition().to_string()])
                    .ok();
            }
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mine = consumer.assignment().map(|a| a.count()).unwrap_or(0) as i64;
        let before = self.assigned.swap(mine, Ordering::Relaxed);
        let total = self
            .shared
            .assigned
            .fetch_add(mine - before, Ordering::Relaxed)
            + mine
            - before;
        self.shared.metrics.partitions_assigned.set(total);
        if (before > 0) != (mine > 0) {
            let d = if mine > 0 { 1 } else { -1 };
            self.shared.members_assigned.fetch_add(d, Ordering::Relaxed);
        }
        match rebalance {
            Rebalance::Assign(tpl) => {
                if !self.joined.swap(true, Ordering::Relaxed) {
                    self.shared.members_joined.fetch_add(1, Ordering::Relaxed);
                }
                tracing::info!(partitions = tpl.count(), "partitions assigned")
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
            Rebalance::Revoke(_) => {}
        }
    }
}
