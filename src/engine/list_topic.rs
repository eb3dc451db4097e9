//! Word lists over a compacted Kafka topic, so every instance of a consumer
//! group converges on the same version without shared disks.
//!
//! `publish` writes one record per file (key `file:<path>`) and then a
//! manifest (key `manifest`): the version and each file's SHA-256. The topic
//! has one partition, so followers see the files before their manifest;
//! compaction keeps the latest record per key. A follower reads the topic from
//! the beginning and applies every complete manifest through the [`Reloader`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::client_log::FirstErrorContext;
use super::reload::Reloader;
use super::stop::Stop;
use super::EngineError;
use crate::lists::WordListSet;

/// Key of the manifest record.
pub const MANIFEST_KEY: &str = "manifest";

/// What a published list set holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The set's version (same hash as a directory load).
    pub version: String,
    /// Files and their SHA-256.
    pub files: Vec<ManifestFile>,
    /// Unix time of publication.
    pub published_at: f64,
    /// Who published (for the audit trail).
    pub publisher: String,
}

/// One file of a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    /// Relative path.
    pub path: String,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Publishes `sources` (already linted) to `topic`, creating it compacted.
pub async fn publish(
    client: &ClientConfig,
    topic: &str,
    sources: Vec<(String, Vec<u8>)>,
    publisher: &str,
) -> Result<Manifest, EngineError> {
    let set = WordListSet::from_sources(sources.clone());
    // (the producer's polling thread serves librdkafka's error events, so
    // its context learns why the brokers cannot be reached)
    let context = FirstErrorContext::default();
    let producer: FutureProducer<FirstErrorContext> = client
        .clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.max.bytes", "67108864")
        .set("compression.type", "lz4")
        .create_with_context(context.clone())?;
    if let Err(e) = ensure_topic(client, &producer, topic).await {
        return Err(match e {
            EngineError::Kafka(e) => context.explain(e).await,
            other => other,
        });
    }
    let mut files = Vec::with_capacity(sources.len());
    for (path, bytes) in &sources {
        let key = format!("file:{path}");
        let sent = producer
            .send(
                FutureRecord::to(topic)
                    .key(&key)
                    .payload(bytes.as_slice())
                    .partition(0),
                Duration::from_secs(30),
            )
            .await;
        if let Err((e, _)) = sent {
            return Err(context.explain(e).await);
        }
        files.push(ManifestFile {
            path: path.clone(),
            sha256: sha256_hex(bytes),
        });
    }
    let manifest = Manifest {
        version: set.version().to_string(),
        files,
        published_at: super::metrics::unix_now(),
        publisher: publisher.to_string(),
    };
    let json = serde_json::to_vec(&manifest).unwrap_or_default();
    let sent = producer
        .send(
            FutureRecord::to(topic)
                .key(MANIFEST_KEY)
                .payload(&json)
                .partition(0),
            Duration::from_secs(30),
        )
        .await;
    if let Err((e, _)) = sent {
        return Err(context.explain(e).await);
    }
    Ok(manifest)
}

/// Creates the topic compacted with one partition unless it exists (asked
/// through `producer`'s connection). Brokers that cannot be reached are an
/// error at once.
async fn ensure_topic(
    client: &ClientConfig,
    producer: &FutureProducer<FirstErrorContext>,
    topic: &str,
) -> Result<(), EngineError> {
    let metadata = producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let exists = metadata
        .topics()
        .iter()
        .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
    if exists {
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> = client.create()?;
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1))
        .set("cleanup.policy", "compact")
        .set("max.message.bytes", "67108864");
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for r in admin.create_topics([&new], &opts).await? {
        if let Err((t, e)) = r {
            if e != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                tracing::error!(topic = %t, error = %e, "cannot create the word-list topic");
                return Err(EngineError::Kafka(rdkafka::error::KafkaError::AdminOp(e)));
            }
        }
    }
    Ok(())
}

/// Follows `topic` until `stop`, applying each complete manifest.
pub(crate) fn follow(
    client: ClientConfig,
    topic: String,
    reloader: Arc<Reloader>,
    mut stop: Stop,
) -> Result<tokio::task::JoinHandle<()>, EngineError> {
    let consumer: StreamConsumer = client
        .clone()
        .set(
            "group.id",
            format!("wordwarden-lists-{}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.message.max.bytes", "67108864")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    tracing::info!(topic = %topic, "following the word-list topic");
    Ok(tokio::spawn(async move {
        let mut files: HashMap<String, Vec<u8>> = HashMap::new();
        loop {
            let m = tokio::select! {
                biased;
                _ = stop.requested() => break,
                m = consumer.recv() => m,
            };
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "word-list topic");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let key = m
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default();
            if let Some(path) = key.strip_prefix("file:") {
                match m.payload() {
                    Some(p) => files.insert(path.to_string(), p.to_vec()),
                    None => files.remove(path),
                };
                continue;
            }
            if key != MANIFEST_KEY {
                continue;
            }
            let Some(manifest) = m
                .payload()
                .and_then(|p| serde_json::from_slice::<Manifest>(p).ok())
            else {
                tracing::warn!("unreadable word-list manifest ignored");
                continue;
            };
            let mut sources = Vec::with_capacity(manifest.files.len());
            let mut complete = true;
            for f in &manifest.files {
                match files.get(&f.path) {
                    Some(bytes) if sha256_hex(bytes) == f.sha256 => {
                        sources.push((f.path.clone(), bytes.clone()))
                    }
                    _ => complete = false,
                }
            }
            if !complete {
                tracing::warn!(version = %manifest.version, "word-list manifest without all its files; waiting for the next");
                continue;
            }
            let set = WordListSet::from_sources(sources);
            reloader.apply(set, "topic", &manifest.publisher).await;
        }
    }))
}
