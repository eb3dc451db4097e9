//! The engine's stop signal and the deadline that bounds stopping.
//!
//! Every step of a shutdown (waiting for acknowledgements, the final commit,
//! leaving the group, flushing the producer) waits at most until one
//! deadline, `shutdown_timeout_secs` after the signal, instead of each its
//! own timeout: with the brokers unreachable those add up (a sync commit
//! alone waits out the group session) and a SIGTERM took 18 s against a
//! 5 s setting. What is not done by then is not committed, so it is read
//! again after the restart (at-least-once) or its transaction aborts.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Sends the stop signal (once) and starts the shutdown clock.
pub(crate) struct StopSender {
    tx: watch::Sender<Option<Instant>>,
    timeout: Duration,
}

/// A receiver of the stop signal: cheap to clone, one per task.
#[derive(Clone)]
pub(crate) struct Stop {
    rx: watch::Receiver<Option<Instant>>,
    timeout: Duration,
}

/// A stop signal pair whose shutdown may take `timeout` from the signal on.
pub(crate) fn channel(timeout: Duration) -> (StopSender, Stop) {
    let (tx, rx) = watch::channel(None);
    (StopSender { tx, timeout }, Stop { rx, timeout })
}

impl StopSender {
    /// Tells every [`Stop`] to stop, by `timeout` from now.
    pub(crate) fn stop(&self) {
        let deadline = Instant::now() + self.timeout;
        self.tx.send_if_modified(|d| {
            let first = d.is_none();
            if first {
                *d = Some(deadline);
            }
            first
        });
    }
}

impl Stop {
    /// Resolves once stopping was requested (at once if it already was).
    /// Cancel safe: usable as a `select!` branch in a loop.
    pub(crate) async fn requested(&mut self) {
        // an error means the sender is gone without a signal: the engine is
        // being torn down, which is a stop too
        let _ = self.rx.wait_for(Option::is_some).await;
    }

    /// Whether stopping was requested (for blocking loops that cannot await
    /// [`Stop::requested`]).
    pub(crate) fn is_requested(&self) -> bool {
        self.rx.borrow().is_some()
    }

    /// When stopping must be done: the deadline once requested, else the
    /// whole budget from now.
    pub(crate) fn deadline(&self) -> Instant {
        (*self.rx.borrow()).unwrap_or_else(|| Instant::now() + self.timeout)
    }

    /// Time left before [`deadline`](Self::deadline), `cap` at most.
    pub(crate) fn remaining(&self, cap: Duration) -> Duration {
        self.deadline()
            .saturating_duration_since(Instant::now())
            .min(cap)
    }

    /// Runs `step` until it finishes or the deadline passes (`None`).
    pub(crate) async fn bounded<T>(&self, step: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::time::timeout_at(self.deadline(), step).await.ok()
    }

    /// Runs the blocking `call` (a librdkafka call waiting on the brokers)
    /// off the async workers, until it returns or the deadline passes
    /// (`None`: it runs on, abandoned). `Some(Err(_))`: it panicked.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce() -> T + Send + 'static,
    ) -> Option<Result<T, tokio::task::JoinError>> {
        self.bounded(tokio::task::spawn_blocking(call)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_deadline_is_set_once_by_the_first_signal() {
        let (tx, mut stop) = channel(Duration::from_secs(5));
        assert!(stop.remaining(Duration::MAX) > Duration::from_millis(4900));
        tx.stop();
        stop.requested().await;
        let deadline = stop.deadline();
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.stop(); // a second signal does not push the deadline back
        assert_eq!(stop.deadline(), deadline);
        let left = stop.remaining(Duration::MAX);
        assert!(left <= Duration::from_millis(4950), "{left:?}");
        assert_eq!(
            stop.remaining(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }

    #[tokio::test]
    async fn a_step_is_cut_at_the_deadline() {
        let (tx, stop) = channel(Duration::from_millis(200));
        tx.stop();
        assert_eq!(stop.bounded(async { 7 }).await, Some(7));
        let started = std::time::Instant::now();
        let slow = stop
            .bounded(tokio::time::sleep(Duration::from_secs(60)))
            .await;
        assert_eq!(slow, None);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(stop.remaining(Duration::MAX), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_dropped_sender_stops_the_waiters() {
        let (tx, mut stop) = channel(Duration::from_secs(5));
        drop(tx);
        stop.requested().await; // returns, instead of waiting forever
    }
}
