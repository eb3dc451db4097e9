//! At-least-once delivery: a message's offset is stored only after its alert or
//! dead letter, and every earlier message of its partition, is acknowledged by
//! the broker; librdkafka auto-commits what is stored (rust-rdkafka's
//! store-offsets pattern).

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::Producer;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::client_log::{ConsumeErrors, EngineProducer};
use super::clients;
use super::context::EngineContext;
use super::recall::{recall_into, Recaller};
use super::records::{process, CounterCache, Outgoing, Processed, Recent, Workspace};
use super::stop::Stop;
use super::{judge_for, Config, EngineError, Shared};

type Consumer_ = StreamConsumer<EngineContext>;

/// Most messages judged before their batch goes to the acker. Judging a
/// short message costs less than a channel hop or an offset store, so both
/// happen once per batch, not once per message.
const MAX_BATCH: usize = 256;

/// A processed message waiting for its deliveries (72 bytes).
struct Pending {
    /// Index into its batch's [`Batch::topics`].
    topic: u32,
    partition: i32,
    offset: i64,
    processed: Processed,
}

/// Judged messages on their way to the acker, in consumption order.
#[derive(Default)]
struct Batch {
    /// The topics its messages came from, each once: a message holds an
    /// index, not a reference count that the judging core would increment
    /// and the acker's core decrement for every message.
    topics: Vec<Arc<str>>,
    pendings: Vec<Pending>,
    /// The first delivery attempt of each record the messages produce, in
    /// message order.
    deliveries: Vec<Option<rdkafka::producer::DeliveryFuture>>,
}

impl Batch {
    /// `topic`'s index in [`Batch::topics`], added on first use.
    fn topic_index(&mut self, topic: &Arc<str>) -> u32 {
        let i = match self.topics.iter().position(|t| Arc::ptr_eq(t, topic)) {
            Some(i) => i,
            None => {
                self.topics.push(topic.clone());
                self.topics.len() - 1
            }
        };
        // a batch holds at most MAX_BATCH messages, so far fewer topics
        i as u32
    }
}

/// Tells `workspace` how far it judged each partition of `batch`.
fn judged(workspace: &mut Workspace, batch: &Batch) {
    let mut pendings = batch.pendings.iter().peekable();
    while let Some(p) = pendings.next() {
        let same = |q: &&Pending| q.topic == p.topic && q.partition == p.partition;
        // the partition's last message of this run of the batch
        if !pendings.peek().is_some_and(same) {
            let topic = &batch.topics[p.topic as usize];
            workspace.judged(topic, p.partition, p.offset + 1);
        }
    }
}

/// Subscribes to the input topics (a `^` prefix is a regex subscription).
pub(crate) fn subscribe(consumer: &Consumer_, config: &Config) -> Result<(), EngineError> {
    let topics: Vec<&str> = config.input_topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    Ok(())
}

/// Enqueues a record, waiting while the producer's queue is full
/// (backpressure); `None` when it could not even be enqueued.
pub(crate) async fn enqueue(
    producer: &EngineProducer,
    out: &Outgoing,
) -> Option<rdkafka::producer::DeliveryFuture> {
    loop {
        match producer.send_result(out.record()) {
            Ok(f) => return Some(f),
            Err((e, _)) if is_too_large(&e) => {
                // refused locally: report it like a failed delivery so the
                // caller truncates the dead letter
                tracing::warn!(error = %e, topic = %out.topic, "record over the producer's size limit");
                return None;
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err((e, _)) => {
                tracing::warn!(error = %e, topic = %out.topic, "cannot enqueue record");
                return None;
            }
        }
    }
}

/// Waits until `out` is acknowledged, producing it again after failures with
/// a growing pause. Never gives up: offsets must not pass an unwritten alert.
async fn deliver(
    producer: &EngineProducer,
    shared: &Shared,
    out: &Outgoing,
    first: Option<rdkafka::producer::DeliveryFuture>,
) {
    let mut attempt = first;
    let mut backoff = Duration::from_millis(100);
    let mut current: std::borrow::Cow<'_, Outgoing> = std::borrow::Cow::Borrowed(out);
    loop {
        let mut too_large = false;
        let ok = match attempt.take() {
            Some(f) => match f.await {
                Ok(Ok(_)) => true,
                Ok(Err((e, _))) => {
                    too_large = is_too_large(&e);
                    tracing::warn!(error = %e, topic = %out.topic, "delivery failed; retrying");
                    false
                }
                Err(_) => false,
            },
            None => false,
        };
        if ok {
            return;
        }
        if too_large && current.truncated().is_some() {
            // a dead letter larger than the broker takes can never be written
            // whole: write its head with the original size, never drop it
            let t = current.truncated();
            if let Some(t) = t {
                current = std::borrow::Cow::Owned(t);
            }
        }
        shared.metrics.delivery_retries.inc();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
        attempt = enqueue(producer, &current).await;
    }
}

fn is_too_large(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(RDKafkaErrorCode::MessageSizeTooLarge) | Some(RDKafkaErrorCode::MessageBatchTooLarge)
    )
}

/// Runs until `stop` is requested, then drains and commits, each step
/// ending at the stop's deadline. The instance runs one consumer of the
/// group per worker: each consumes, judges and produces for its own
/// partitions (so per-partition order holds), and its acker stores offsets
/// once the broker has acknowledged. All share one producer.
pub(crate) async fn run(
    config: &Config,
    shared: Arc<Shared>,
    stop: Stop,
) -> Result<(), EngineError> {
    let producer = clients::create_producer(config, None)?;
    let judge = Arc::new(judge_for(config)?);
    let consumers = config.consumer_count();
    tracing::info!(topics = ?config.input_topics, group = %config.group, consumers, "consuming (at-least-once)");
    // a task each, so the consumers run on every core (one task polling them
    // all would judge on one thread)
    let owned = Arc::new(config.clone());
    let tasks: Vec<_> = (0..consumers)
        .map(|id| {
            let (config, shared, stop) = (owned.clone(), shared.clone(), stop.clone());
            let (producer, judge) = (producer.clone(), judge.clone());
            tokio::spawn(
                async move { consume(&config, shared, stop, producer, judge).await }
                    .instrument(tracing::info_span!("consumer", id)),
            )
        })
        .collect();
    let mut results = Vec::with_capacity(consumers);
    let mut finished = Vec::with_capacity(consumers);
    for task in tasks {
        match task.await {
            Ok(Ok(consumer)) => finished.push(consumer),
            Ok(Err(e)) => results.push(Err(e)),
            Err(e) => {
                tracing::error!(error = %e, "a consumer task failed");
                results.push(Err(EngineError::Task(e.to_string())));
            }
        }
    }
    // every consumer has committed before any leaves: a member leaving
    // starts a rebalance in which the others' commits would be refused
    clients::leave_group(finished, &stop).await;
    // the acknowledged records are flushed already: this is for the rest
    let producer_flush = producer.clone();
    let flush_for = stop.remaining(Duration::from_secs(5));
    let _ = stop.blocking(move || producer_flush.flush(flush_for)).await;
    tracing::info!("stopped");
    results.into_iter().collect::<Result<(), _>>()
}

/// One consumer of the group: judges what it consumes in place (no copy of
/// the message, no hand-off), in batches of what librdkafka already holds;
/// its acker awaits each batch's deliveries and stores the offsets. Returns
/// the consumer, committed but still in the group, for `run` to close.
async fn consume(
    config: &Config,
    shared: Arc<Shared>,
    mut stop: Stop,
    producer: EngineProducer,
    judge: Arc<crate::judge::Judge>,
) -> Result<Arc<Consumer_>, EngineError> {
    let consumer = clients::engine_consumer(config, shared.clone(), false)?;
    subscribe(&consumer, config)?;
    // capacity in batches, so at most `max_in_flight` messages wait across
    // the instance (backpressure: the loop waits here when acks lag)
    let capacity = (config.max_in_flight / config.worker_count() / MAX_BATCH).max(1);
    let (ack_tx, ack_rx) = mpsc::channel::<Batch>(capacity);
    let acker = tokio::spawn(
        acknowledge(ack_rx, shared.clone(), producer.clone(), consumer.clone())
            .instrument(tracing::Span::current()),
    );

    let mut workspace = Workspace::new(&judge);
    let recaller = Recaller::new(config).filter(|_| workspace.remembers());
    let mut topics = Topics::default();
    let consume_errors = ConsumeErrors::default();
    // one stream for the whole loop: `recv()` registers and unregisters a
    // waker slot (two locks) for every message
    let mut messages = consumer.stream();
    loop {
        let first = tokio::select! {
            biased;
            _ = stop.requested() => break,
            // the stream never ends (rdkafka's streams do not terminate)
            received = messages.next() => match received {
                Some(r) => r,
                None => break,
            },
        };
        let mut batch = Batch::default();
        let mut error = None;
        let mut next = Some(first);
        // one ruleset per batch: every message is judged by exactly one
        // version, and the shared reference count is touched once a batch
        let ruleset = shared.ruleset.load_full();
        while let Some(received) = next.take() {
            let msg = match received {
                Ok(m) => m,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            if let Some(recaller) = &recaller {
                let assigned = &consumer.context().newly_assigned;
                if let Some(span) = workspace.recall_due(&judge, assigned, &msg) {
                    // the next message's poll comes before any other recall
                    let deadline = std::time::Instant::now() + recaller.timeout;
                    recall_into(
                        &mut workspace,
                        recaller,
                        &judge,
                        &ruleset,
                        span,
                        deadline,
                        &shared,
                        &stop,
                    )
                    .await;
                }
            }
            let topic = topics.get(&shared, msg.topic());
            topic.consumed.inc();
            let topic = batch.topic_index(&topic.name);
            let processed = process(
                &judge,
                &shared,
                &ruleset,
                &mut workspace,
                &msg,
                &config.alert_topic,
                &config.dlq_topic,
            );
            for out in processed.outgoing() {
                batch.deliveries.push(enqueue(&producer, out).await);
            }
            batch.pendings.push(Pending {
                topic,
                partition: msg.partition(),
                offset: msg.offset(),
                processed,
            });
            drop(msg);
            // take what librdkafka already holds, without waiting for more
            if batch.pendings.len() < MAX_BATCH {
                next = messages.next().now_or_never().flatten();
            }
        }
        topics.flush();
        if recaller.is_some() {
            judged(&mut workspace, &batch);
        }
        workspace.show_memory(&shared.metrics);
        if !batch.pendings.is_empty() {
            shared.metrics.in_flight.add(batch.pendings.len() as i64);
            tokio::select! {
                biased;
                sent = ack_tx.send(batch) => if sent.is_err() { break },
                _ = stop.requested() => break,
            }
        }
        shared
            .metrics
            .producer_queue
            .set(i64::from(producer.in_flight_count()));
        if let Some(e) = error {
            consume_errors.record(&shared.metrics, &e);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    drop(messages);
    tracing::info!("shutting down: finishing in-flight messages");
    drop(ack_tx);
    if stop.bounded(acker).await.is_none() {
        tracing::warn!("shutdown timeout: unfinished messages will be redelivered");
    }
    // a synchronous commit waits on the coordinator: off the async workers,
    // and not past the deadline (with the coordinator gone it waits out the
    // group session)
    let committing = consumer.clone();
    let commit = stop
        .blocking(move || committing.commit_consumer_state(CommitMode::Sync))
        .await;
    match commit {
        Some(Ok(Ok(())))
        | Some(Ok(Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)))) => {}
        Some(Ok(Err(e))) => tracing::warn!(error = %e, "final commit failed"),
        Some(Err(e)) => tracing::warn!(error = %e, "final commit did not finish"),
        None => tracing::warn!("final commit did not finish before the shutdown timeout"),
    }
    Ok(consumer)
}

/// Awaits each batch's deliveries in order, then stores each partition's
/// highest acknowledged offset of the batch.
async fn acknowledge(
    mut batches: mpsc::Receiver<Batch>,
    shared: Arc<Shared>,
    producer: EngineProducer,
    consumer: Arc<Consumer_>,
) {
    let mut counters = CounterCache::default();
    // (topic index, partition, highest offset) of the batch
    let mut done: Vec<(u32, i32, i64)> = Vec::new();
    while let Some(batch) = batches.recv().await {
        let mut deliveries = batch.deliveries.into_iter();
        for p in &batch.pendings {
            for out in p.processed.outgoing() {
                // (always there: one attempt was pushed per record)
                let first = deliveries.next().flatten();
                deliver(&producer, &shared, out, first).await;
            }
            // indices come from `Batch::topic_index` on this batch
            let topic = &batch.topics[p.topic as usize];
            p.processed.count(&shared, topic, &mut counters);
            match done
                .iter_mut()
                .find(|(t, part, _)| *part == p.partition && *t == p.topic)
            {
                Some(entry) => entry.2 = p.offset,
                None => done.push((p.topic, p.partition, p.offset)),
            }
        }
        for (topic, partition, offset) in done.drain(..) {
            let topic = &batch.topics[topic as usize];
            if let Err(e) = consumer.store_offset(topic, partition, offset) {
                // the partition was revoked meanwhile: its new owner redoes it
                tracing::debug!(error = %e, partition, "offset not stored");
            }
        }
        counters.flush(&shared);
        shared.metrics.in_flight.sub(batch.pendings.len() as i64);
    }
}

/// Per input topic, resolved once: one shared name (pending messages do not
/// each own a copy) and the consumed-messages counter, counted locally until
/// [`Topics::flush`] (once per batch).
#[derive(Default)]
struct Topics(Recent<Topic>);

struct Topic {
    name: Arc<str>,
    consumed: prometheus::local::LocalIntCounter,
}

impl Topics {
    fn get(&mut self, shared: &Shared, topic: &str) -> &Topic {
        self.0.get_or_insert_with(topic, || Topic {
            name: Arc::from(topic),
            consumed: shared.metrics.consumed.with_label_values(&[topic]).local(),
        })
    }

    fn flush(&mut self) {
        self.0.values_mut().for_each(|t| t.consumed.flush());
    }
}

#[cfg(test)]
mod tests {
    /// What `max_in_flight` costs a message, as its documentation says (the
    /// records a message produces are boxed apart).
    #[test]
    fn an_in_flight_message_takes_72_bytes() {
        assert_eq!(std::mem::size_of::<super::Pending>(), 72);
    }
}
