//! Exactly-once delivery: messages are read in batches; each batch's alerts,
//! dead letters and input offsets go in one Kafka transaction. A
//! `read_committed` reader of the alert topic sees each alert once, across
//! crashes and restarts. On an aborted transaction the consumer rewinds to the
//! batch's first offsets and the batch is judged again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::producer::Producer;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tracing::Instrument;

use super::at_least_once::{enqueue, subscribe};
use super::client_log::{ConsumeErrors, EngineProducer};
use super::clients;
use super::context::EngineContext;
use super::recall::{recall_into, Recaller};
use super::records::process;
use super::stop::Stop;
use super::{judge_for, Config, EngineError, Shared};

/// Runs until `stop` is requested, committing the open transaction first.
pub(crate) async fn run(
    config: &Config,
    shared: Arc<Shared>,
    mut stop: Stop,
) -> Result<(), EngineError> {
    let consumer = clients::engine_consumer(config, shared.clone(), true)?;
    let txn_id = clients::transactional_id(config);
    let producer = clients::create_producer(config, Some(&txn_id))?;
    {
        // waits for the transaction coordinator, up to 30 s with the brokers
        // down: a stop meanwhile ends the engine at once (nothing consumed)
        let p = producer.clone();
        let init =
            tokio::task::spawn_blocking(move || p.init_transactions(Duration::from_secs(30)));
        tokio::select! {
            ready = init => ready.map_err(|_| KafkaError::Canceled)??,
            _ = stop.requested() => {
                tracing::info!("stopped before the transactional producer was ready");
                return Ok(());
            }
        }
    }
    subscribe(&consumer, config)?;
    tracing::info!(topics = ?config.input_topics, group = %config.group, transactional_id = %txn_id, "consuming (exactly-once)");
    let judge = Arc::new(judge_for(config)?);
    let mut workspace = super::records::Workspace::new(&judge);
    let recaller = Recaller::new(config).filter(|_| workspace.remembers());
    let mut counters = super::records::CounterCache::default();
    let max_batch = config.transaction_max_messages.max(1);
    let max_wait = Duration::from_millis(config.transaction_max_ms.max(1));

    let consume_errors = ConsumeErrors::default();
    'outer: loop {
        // 1. gather a batch
        let mut batch: Vec<OwnedMessage> = Vec::new();
        let first = tokio::select! {
            biased;
            _ = stop.requested() => break 'outer,
            m = consumer.recv() => m,
        };
        match first {
            Ok(m) => batch.push(m.detach()),
            Err(e) => {
                consume_errors.record(&shared.metrics, &e);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        }
        let deadline = Instant::now() + max_wait;
        while batch.len() < max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match tokio::time::timeout(left, consumer.recv()).await {
                Ok(Ok(m)) => batch.push(m.detach()),
                Ok(Err(e)) => {
                    consume_errors.record(&shared.metrics, &e);
                    break;
                }
                Err(_) => break,
            }
        }
        for m in &batch {
            shared
                .metrics
                .consumed
                .with_label_values(&[m.topic()])
                .inc();
        }
        shared.metrics.in_flight.add(batch.len() as i64);

        // what the memory would hold of partitions new to this consumer
        if let Some(recaller) = &recaller {
            let ruleset = shared.ruleset.load_full();
            let assigned = &consumer.context().newly_assigned;
            // one budget for the batch's recalls: nothing is polled between
            let deadline = Instant::now() + recaller.timeout;
            for m in &batch {
                if let Some(span) = workspace.recall_due(&judge, assigned, m) {
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
        }

        // 2. judge and produce inside one transaction with the offsets
        let span = tracing::debug_span!("transaction", messages = batch.len());
        let outcome = transact(
            &producer,
            &consumer,
            &judge,
            &shared,
            &mut workspace,
            &batch,
            config,
        )
        .instrument(span)
        .await;
        if recaller.is_some() {
            // judged either way: an aborted batch is read again from its
            // start, which the memory knows as messages read again
            for (i, m) in batch.iter().enumerate() {
                let next = batch.get(i + 1);
                if !next.is_some_and(|n| n.topic() == m.topic() && n.partition() == m.partition()) {
                    workspace.judged(m.topic(), m.partition(), m.offset() + 1);
                }
            }
        }
        workspace.show_memory(&shared.metrics);
        shared.metrics.in_flight.sub(batch.len() as i64);
        match outcome {
            Ok(processed) => {
                shared
                    .metrics
                    .transactions
                    .with_label_values(&["committed"])
                    .inc();
                for (m, p) in batch.iter().zip(processed) {
                    p.count(&shared, m.topic(), &mut counters);
                }
                counters.flush(&shared);
            }
            Err(e) => {
                shared
                    .metrics
                    .transactions
                    .with_label_values(&["aborted"])
                    .inc();
                tracing::warn!(error = %e, "transaction failed; rewinding the batch");
                let p = producer.clone();
                let abort = tokio::task::spawn_blocking(move || {
                    p.abort_transaction(Duration::from_secs(30))
                })
                .await;
                if let Ok(Err(abort_error)) = abort {
                    if is_fatal(&abort_error) {
                        if is_fenced(&e) || is_fenced(&abort_error) {
                            return Err(EngineError::Fenced {
                                transactional_id: txn_id,
                            });
                        }
                        return Err(abort_error.into());
                    }
                }
                rewind(&consumer, &batch);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    tracing::info!("stopped");
    clients::leave_group(vec![consumer], &stop).await;
    Ok(())
}

fn is_fatal(e: &KafkaError) -> bool {
    matches!(e, KafkaError::Transaction(t) if t.is_fatal())
}

/// Whether a newer producer with this one's `transactional.id` took over
/// (librdkafka's own code for it, or the broker's two).
fn is_fenced(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::Fenced
                | RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::InvalidProducerEpoch
        )
    )
}

async fn transact(
    producer: &EngineProducer,
    consumer: &StreamConsumer<EngineContext>,
    judge: &crate::judge::Judge,
    shared: &Shared,
    workspace: &mut super::records::Workspace,
    batch: &[OwnedMessage],
    config: &Config,
) -> Result<Vec<super::records::Processed>, KafkaError> {
    producer.begin_transaction()?;
    let mut processed = Vec::with_capacity(batch.len());
    let mut next_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
    // one ruleset version for the whole transaction
    let ruleset = shared.ruleset.load_full();
    for m in batch {
        let p = process(
            judge,
            shared,
            &ruleset,
            workspace,
            m,
            &config.alert_topic,
            &config.dlq_topic,
        );
        for out in p.outgoing() {
            if enqueue(producer, out).await.is_none() {
                // over the producer's limit: a dead letter goes in cut, never dropped
                let cut = out.truncated();
                match cut {
                    Some(t) if enqueue(producer, &t).await.is_some() => {}
                    _ => return Err(KafkaError::Canceled),
                }
            }
        }
        next_offsets.insert((m.topic().to_string(), m.partition()), m.offset() + 1);
        processed.push(p);
    }
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in &next_offsets {
        tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    let metadata = consumer.group_metadata().ok_or(KafkaError::Canceled)?;
    let p = producer.clone();
    tokio::task::spawn_blocking(move || {
        // librdkafka's contract: retry a retriable error with the same call
        // (a commit may have reached the coordinator); abort only when told to
        retry_retriable(|| {
            p.send_offsets_to_transaction(&tpl, &metadata, Duration::from_secs(30))
        })?;
        retry_retriable(|| p.commit_transaction(Duration::from_secs(60)))
    })
    .await
    .map_err(|_| KafkaError::Canceled)??;
    Ok(processed)
}

fn retry_retriable(mut call: impl FnMut() -> Result<(), KafkaError>) -> Result<(), KafkaError> {
    let mut attempts = 0;
    loop {
        match call() {
            Err(KafkaError::Transaction(e))
                if e.is_retriable() && !e.txn_requires_abort() && attempts < 20 =>
            {
                attempts += 1;
                tracing::warn!(error = %e, attempts, "retriable transaction error; retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Seeks every partition of the batch back to its first message in the batch.
fn rewind(consumer: &StreamConsumer<EngineContext>, batch: &[OwnedMessage]) {
    let mut firsts: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for m in batch {
        firsts
            .entry((m.topic().to_string(), m.partition()))
            .or_insert(m.offset());
    }
    for ((topic, partition), offset) in firsts {
        if let Err(e) = consumer.seek(
            &topic,
            partition,
            Offset::Offset(offset),
            Duration::from_secs(5),
        ) {
            tracing::warn!(error = %e, partition, "seek after abort failed");
        }
    }
}
