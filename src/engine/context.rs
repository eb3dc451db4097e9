//! The consumer's librdkafka context: rebalance handling, statistics (lag,
//! broker state), client errors and position resets, reported through
//! [`Shared`].

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;

use super::Shared;

pub(crate) struct EngineContext {
    pub shared: Arc<Shared>,
    /// How many partitions this consumer holds; the instance's count is the
    /// sum over its consumers.
    pub assigned: std::sync::atomic::AtomicI64,
    /// Which, kept from the rebalance events themselves.
    pub partitions: std::sync::Mutex<std::collections::HashSet<(String, i32)>>,
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
    /// Partitions assigned, for the consumer's loop to recall
    /// ([`super::recall`]).
    pub newly_assigned: super::recall::Assigned,
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

    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        // a position librdkafka could not fetch from (retention deleted what
        // the group had not read yet; an offset past the end) is reset to
        // `auto.offset.reset`, and only its log says so, at warning
        if facility == "OFFSET"
            && (level as i32) <= RDKafkaLogLevel::Warning as i32
            && message.contains("offset reset")
        {
            self.shared.metrics.offset_resets.inc();
        }
        rdkafka::client::DefaultClientContext.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.set_broker_up(false);
        }
        self.errors.report(&error, reason);
    }
}

impl EngineContext {
    /// The partitions held after `rebalance`: an assignment adds its
    /// partitions (eagerly all of them, after a revoke of all; incrementally
    /// the new ones), a revoke takes its own away, an error unassigns
    /// everything (eagerly; incrementally a later revoke would say what).
    /// Asking librdkafka instead (`assignment()`) is a request to its group
    /// thread that, made from the revoke a consumer's drop serves, was
    /// caught waiting forever (`faults`, mock cluster).
    fn count_partitions(&self, rebalance: &Rebalance<'_>) -> i64 {
        let mut held = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
        match rebalance {
            Rebalance::Assign(tpl) => {
                for e in tpl.elements() {
                    held.insert((e.topic().to_string(), e.partition()));
                }
            }
            Rebalance::Revoke(tpl) => {
                for e in tpl.elements() {
                    held.remove(&(e.topic().to_string(), e.partition()));
                }
            }
            Rebalance::Error(_) => held.clear(),
        }
        held.len() as i64
    }

    /// Records this consumer's view of the brokers and derives the
    /// instance's: up while at least one of its consumers sees a broker up.
    fn set_broker_up(&self, up: bool) {
        let mut consumers_up = self
            .shared
            .consumers_up
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let was = self.broker_up.swap(up, Ordering::Relaxed);
        *consumers_up += i64::from(up) - i64::from(was);
        let instance_up = *consumers_up > 0;
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

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mine = self.count_partitions(rebalance);
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
                self.newly_assigned.add(tpl);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Arc<Shared> {
        let config = super::super::Config {
            wordlists: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wordlists"),
            ..Default::default()
        };
        Shared::new(&config).expect("bundled lists compile")
    }

    fn consumer_of(shared: &Arc<Shared>) -> EngineContext {
        EngineContext {
            shared: shared.clone(),
            assigned: Default::default(),
            partitions: Default::default(),
            joined: Default::default(),
            broker_up: Default::default(),
            commit_on_revoke: true,
            errors: Default::default(),
            newly_assigned: Default::default(),
        }
    }

    fn instance_up(shared: &Shared) -> (bool, i64) {
        (
            shared.brokers_up.load(Ordering::Relaxed),
            shared.metrics.brokers_up.get(),
        )
    }

    /// The partitions held follow the rebalance events, eager or
    /// incremental, without asking librdkafka.
    #[test]
    fn partitions_held_follow_the_rebalance_events() {
        use rdkafka::TopicPartitionList;
        let shared = shared();
        let c = consumer_of(&shared);
        let list = |ps: &[i32]| {
            let mut tpl = TopicPartitionList::new();
            for &p in ps {
                tpl.add_partition("in", p);
            }
            tpl
        };
        let (all, one, two) = (list(&[0, 1, 2]), list(&[1]), list(&[3, 4]));
        assert_eq!(c.count_partitions(&Rebalance::Assign(&all)), 3);
        // incrementally: one goes, two come
        assert_eq!(c.count_partitions(&Rebalance::Revoke(&one)), 2);
        assert_eq!(c.count_partitions(&Rebalance::Assign(&two)), 4);
        // the same partition assigned again is held once
        assert_eq!(c.count_partitions(&Rebalance::Assign(&two)), 4);
        // eagerly: all go, then the new assignment
        let held = list(&[0, 2, 3, 4]);
        assert_eq!(c.count_partitions(&Rebalance::Revoke(&held)), 0);
        assert_eq!(c.count_partitions(&Rebalance::Assign(&one)), 1);
        let e = rdkafka::error::KafkaError::Rebalance(RDKafkaErrorCode::Fail);
        assert_eq!(c.count_partitions(&Rebalance::Error(e)), 0);
    }

    /// The instance is up while any of its consumers sees a broker up.
    #[test]
    fn instance_is_up_while_any_consumer_sees_a_broker() {
        let shared = shared();
        let (a, b) = (consumer_of(&shared), consumer_of(&shared));
        a.set_broker_up(true);
        b.set_broker_up(true);
        a.set_broker_up(false);
        assert_eq!(instance_up(&shared), (true, 1), "b still sees one");
        a.set_broker_up(false);
        assert_eq!(instance_up(&shared), (true, 1), "a repeated report");
        b.set_broker_up(false);
        assert_eq!(instance_up(&shared), (false, 0));
        a.set_broker_up(true);
        assert_eq!(instance_up(&shared), (true, 1));
    }
}
