//! Hot reload of word lists: every trigger (file change, SIGHUP, `POST
//! /admin/reload`, the word-list topic) ends in [`Reloader::apply`], which
//! compiles off the hot path and swaps the ruleset atomically, or keeps the
//! last good one and records why. Each attempt writes one audit record.
//!
//! Every message is judged by exactly one version: a worker loads the current
//! `Arc<Ruleset>` once per message, so a swap never splits a message, never
//! stalls the message path (the swap is a pointer store), and the old ruleset
//! is freed when its last message is done.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::FutureRecord;
use serde::Serialize;

use super::client_log::EngineProducer;
use super::metrics::unix_now;
use super::Shared;
use crate::lists::{self, Diagnostic, WordListSet};
use crate::ruleset::Ruleset;

/// Terms (as hashes) per category, and ids (as hashes) per people group,
/// to report what a reload added and removed.
#[derive(Default)]
pub(crate) struct TermIndex {
    terms: HashesBy,
    people: HashesBy,
}

/// Hashes of strings, by the name of what holds them.
type HashesBy = BTreeMap<String, HashSet<u64>>;

fn hash_of(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

pub(crate) fn term_index(rs: &Ruleset) -> TermIndex {
    let mut index = TermIndex::default();
    for r in rs.rules() {
        (index.terms.entry(r.category.to_string()).or_default()).insert(hash_of(&r.term));
    }
    for (group, id) in rs.people_members() {
        (index.people.entry(group.to_string()).or_default()).insert(hash_of(id));
    }
    index
}

/// How many of each name's hashes are in `new` and not in `old`.
fn added(old: &HashesBy, new: &HashesBy) -> BTreeMap<String, usize> {
    new.iter()
        .map(|(name, hashes)| {
            let before = old.get(name);
            let n = (hashes.iter())
                .filter(|h| !before.is_some_and(|b| b.contains(h)))
                .count();
            (name.clone(), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// One audit record per reload attempt (PIPL: who changed what, when).
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// Unix time.
    pub time: f64,
    /// `file`, `signal`, `http`, `topic`.
    pub trigger: String,
    /// Who: the admin token's name, the publisher, `filesystem`, `SIGHUP`.
    pub actor: String,
    /// Version before.
    pub previous_version: String,
    /// Version offered.
    pub new_version: String,
    /// Terms added per category.
    pub added: BTreeMap<String, usize>,
    /// Terms removed per category.
    pub removed: BTreeMap<String, usize>,
    /// Ids added per people group (`*.people`): who a list now watches.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub people_added: BTreeMap<String, usize>,
    /// Ids removed per people group.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub people_removed: BTreeMap<String, usize>,
    /// `loaded`, `unchanged` or `rejected`.
    pub result: String,
    /// Why it was rejected (diagnostics with file:line).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Serializes reloads and applies them.
pub struct Reloader {
    shared: Arc<Shared>,
    dir: PathBuf,
    audit_topic: Option<(EngineProducer, String)>,
    lock: tokio::sync::Mutex<TermIndex>,
}

impl Reloader {
    /// A reloader for `dir`; audit records also go to `audit_topic` when set.
    pub(crate) fn new(
        shared: Arc<Shared>,
        dir: &Path,
        audit_topic: Option<(EngineProducer, String)>,
    ) -> Reloader {
        let index = term_index(&shared.ruleset.load());
        Reloader {
            shared,
            dir: dir.to_path_buf(),
            audit_topic,
            lock: tokio::sync::Mutex::new(index),
        }
    }

    /// Reads the list directory (until two reads agree, so a file being
    /// written is never loaded half-way) and applies it.
    pub async fn reload_dir(&self, trigger: &str, actor: &str) -> AuditRecord {
        let dir = self.dir.clone();
        let read = tokio::task::spawn_blocking(move || stable_read(&dir)).await;
        match read {
            Ok(Ok(lists)) => self.apply(lists, trigger, actor).await,
            Ok(Err(e)) => {
                self.reject(trigger, actor, String::new(), vec![e], Vec::new())
                    .await
            }
            Err(e) => {
                self.reject(
                    trigger,
                    actor,
                    String::new(),
                    vec![e.to_string()],
                    Vec::new(),
                )
                .await
            }
        }
    }

    /// Compiles `lists` off the hot path and swaps it in, or keeps the last
    /// good ruleset when it does not compile.
    pub async fn apply(&self, lists: WordListSet, trigger: &str, actor: &str) -> AuditRecord {
        let mut index = self.lock.lock().await;
        let previous = self.shared.ruleset.load().version().to_string();
        let new_version = lists.version().to_string();
        if new_version == previous {
            let rec = self.record(
                trigger,
                actor,
                &previous,
                &new_version,
                "unchanged",
                Vec::new(),
            );
            self.shared
                .metrics
                .reloads
                .with_label_values(&[trigger, "unchanged"])
                .inc();
            self.audit(&rec).await;
            return rec;
        }
        let builder = self.shared.reload_builder.clone();
        let built = tokio::task::spawn_blocking(move || {
            super::compile(&builder, lists).map(|rs| {
                let idx = term_index(&rs);
                (rs, idx)
            })
        })
        .await;
        match built {
            Ok(Ok((ruleset, new_index))) => {
                let mut rec = self.record(
                    trigger,
                    actor,
                    &previous,
                    &new_version,
                    "loaded",
                    Vec::new(),
                );
                rec.added = added(&index.terms, &new_index.terms);
                rec.removed = added(&new_index.terms, &index.terms);
                rec.people_added = added(&index.people, &new_index.people);
                rec.people_removed = added(&new_index.people, &index.people);
                let old = self.shared.ruleset.swap(Arc::new(ruleset));
                retire(old);
                self.shared.record_loaded();
                *index = new_index;
                self.shared
                    .metrics
                    .reloads
                    .with_label_values(&[trigger, "success"])
                    .inc();
                tracing::info!(previous = %previous, version = %new_version, trigger, "word lists reloaded");
                self.audit(&rec).await;
                rec
            }
            Ok(Err(e)) => {
                let diags = e.diagnostics().to_vec();
                let mut errors: Vec<String> = diags.iter().map(ToString::to_string).collect();
                if errors.is_empty() {
                    errors.push(e.to_string());
                }
                drop(index);
                self.reject(trigger, actor, new_version, errors, diags)
                    .await
            }
            Err(e) => {
                drop(index);
                self.reject(trigger, actor, new_version, vec![e.to_string()], Vec::new())
                    .await
            }
        }
    }

    async fn reject(
        &self,
        trigger: &str,
        actor: &str,
        new_version: String,
        errors: Vec<String>,
        diags: Vec<Diagnostic>,
    ) -> AuditRecord {
        let previous = self.shared.ruleset.load().version().to_string();
        for e in &errors {
            tracing::error!(error = %e, trigger, "word lists rejected; keeping version {previous}");
        }
        {
            let mut status = self.shared.status.lock().unwrap_or_else(|p| p.into_inner());
            status.last_error = Some(format!(
                "{} error(s); first: {}",
                errors.len(),
                errors.first().cloned().unwrap_or_default()
            ));
            status.last_error_diagnostics = diags;
        }
        self.shared
            .metrics
            .reloads
            .with_label_values(&[trigger, "failure"])
            .inc();
        let rec = self.record(trigger, actor, &previous, &new_version, "rejected", errors);
        self.audit(&rec).await;
        rec
    }

    fn record(
        &self,
        trigger: &str,
        actor: &str,
        previous: &str,
        new: &str,
        result: &str,
        errors: Vec<String>,
    ) -> AuditRecord {
        AuditRecord {
            time: unix_now(),
            trigger: trigger.to_string(),
            actor: actor.to_string(),
            previous_version: previous.to_string(),
            new_version: new.to_string(),
            added: BTreeMap::new(),
            removed: BTreeMap::new(),
            people_added: BTreeMap::new(),
            people_removed: BTreeMap::new(),
            result: result.to_string(),
            errors,
        }
    }

    async fn audit(&self, rec: &AuditRecord) {
        let json = serde_json::to_string(rec).unwrap_or_default();
        tracing::info!(target: "wordwarden::audit", record = %json, "audit");
        if let Some((producer, topic)) = &self.audit_topic {
            let r = FutureRecord::to(topic).key("reload").payload(&json);
            if let Err((e, _)) = producer.send(r, Duration::from_secs(10)).await {
                tracing::warn!(error = %e, "audit record not written to the audit topic");
            }
        }
    }
}

/// Frees a replaced ruleset on a blocking thread once no worker holds it:
/// freeing a large automaton takes long enough (about 0.2 s at 1M terms) that
/// a worker dropping the last reference would stall its partitions.
fn retire(old: Arc<Ruleset>) {
    tokio::task::spawn_blocking(move || {
        let start = std::time::Instant::now();
        while Arc::strong_count(&old) > 1 && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(old);
        super::release_freed_memory();
    });
}

/// Reads the directory until two consecutive reads give the same version.
fn stable_read(dir: &Path) -> Result<WordListSet, String> {
    let mut last = WordListSet::load_dir(dir).map_err(|e| e.to_string())?;
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        let again = WordListSet::load_dir(dir).map_err(|e| e.to_string())?;
        if again.version() == last.version() {
            return Ok(again);
        }
        last = again;
    }
    Err("word lists kept changing for a second; not loaded".into())
}

/// How long the word-list directory must stay quiet before a reload: an
/// editor's save or a `git pull` is a burst of events.
const QUIET: Duration = Duration::from_millis(300);

/// Whether a file-system event below `dir` can change the word lists.
/// Opening or reading a file cannot, and every reload reads them all:
/// counting reads made each reload start the next, five reloads (and audit
/// records) a second forever. Closing a file written to can (the one access
/// that counts), and so can events the kernel dropped (a rescan: its queue
/// overflowed). Paths the list reader skips (hidden ones, such as the `.git`
/// directory of a list checkout, and editors' temporaries) do not count:
/// a `git pull` there cost an "unchanged" reload and audit record.
fn changes_lists(dir: &Path, event: &notify::Event) -> bool {
    use notify::event::{AccessKind, AccessMode};
    if event.need_rescan() {
        return true;
    }
    if let notify::EventKind::Access(access) = event.kind {
        if access != AccessKind::Close(AccessMode::Write) {
            return false;
        }
    }
    event.paths.iter().any(|path| match path.strip_prefix(dir) {
        // not below the directory as watched: count it rather than miss it
        Err(_) => true,
        Ok(rel) => !lists::is_hidden_or_temporary(&lists::relative_name(rel)),
    })
}

/// Watches `dir` and reloads once it has been quiet for [`QUIET`] after a
/// change. The returned watcher must be kept alive.
pub(crate) fn watch(reloader: Arc<Reloader>, dir: &Path) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher as _;
    // capacity 1: a full channel already holds a pending reload, and that one
    // reads the latest files
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let root = dir.to_path_buf();
    let handler = move |res: notify::Result<notify::Event>| match res {
        Ok(event) if changes_lists(&root, &event) => {
            let _ = tx.try_send(());
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "word-list watcher error"),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the word-list directory");
            return None;
        }
    };
    if let Err(e) = watcher.watch(dir, notify::RecursiveMode::Recursive) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the word-list directory");
        return None;
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // wait out the burst
            loop {
                tokio::time::sleep(QUIET).await;
                if rx.try_recv().is_err() {
                    break;
                }
            }
            reloader.reload_dir("file", "filesystem").await;
        }
    });
    Some(watcher)
}

/// Reloads on every SIGHUP.
pub(crate) fn on_sighup(reloader: Arc<Reloader>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            reloader.reload_dir("signal", "SIGHUP").await;
        }
    });
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, ModifyKind, RenameMode};
    use notify::{Event, EventKind};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(path.into())
    }

    #[test]
    fn reading_the_lists_is_no_change() {
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
        ] {
            assert!(!super::changes_lists(
                Path::new("/lists"),
                &event(kind, "/lists/leak.txt")
            ));
        }
    }

    #[test]
    fn writes_creations_and_renames_of_lists_are_changes() {
        for kind in [
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Remove(notify::event::RemoveKind::File),
            // an editor that saves in place closes the file it wrote
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ] {
            assert!(
                super::changes_lists(Path::new("/lists"), &event(kind, "/lists/leak.txt")),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn dropped_events_are_a_change() {
        let rescan = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(super::changes_lists(Path::new("/lists"), &rescan));
    }

    #[test]
    fn editor_temporaries_are_not_lists() {
        let modify = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        for path in [
            "/lists/.leak.txt.swp",
            "/lists/leak.txt~",
            "/lists/#leak.txt#",
            "/lists/finance/.#insider.txt",
        ] {
            assert!(
                !super::changes_lists(Path::new("/lists"), &event(modify, path)),
                "{path}"
            );
        }
    }

    #[test]
    fn hidden_directories_of_a_list_checkout_are_not_lists() {
        let modify = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        let create = EventKind::Create(CreateKind::File);
        for path in [
            "/lists/.git/objects/ab/cdef",
            "/lists/.git/index.lock",
            "/lists/finance/.cache/x.txt",
        ] {
            for kind in [modify, create] {
                assert!(
                    !super::changes_lists(Path::new("/lists"), &event(kind, path)),
                    "{path}"
                );
            }
        }
        // what the reader does read counts, as do directories and the root
        for path in [
            "/lists/finance/insider.txt",
            "/lists/finance",
            "/lists",
            "/lists/a~b/x.txt",
        ] {
            assert!(
                super::changes_lists(Path::new("/lists"), &event(modify, path)),
                "{path}"
            );
        }
        // a hidden directory above the watched one is not below it
        assert!(super::changes_lists(
            Path::new("/srv/.config/lists"),
            &event(modify, "/srv/.config/lists/leak.txt")
        ));
    }

    /// The watcher ignores exactly the paths the list reader skips (apart
    /// from the `.txt` ending: directories and their removal count).
    #[test]
    fn the_watcher_and_the_reader_skip_the_same_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            "a.txt",
            ".b.txt",
            "c.txt~",
            "#d.txt#",
            "sub/e.txt",
            ".git/f.txt",
            "sub/.x/g.txt",
            "h#/i.txt",
            "j~/k.txt",
        ];
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "词\n").unwrap();
        }
        let read: Vec<String> = crate::lists::read_sources(root)
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let modify = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        for f in files {
            let counted =
                super::changes_lists(root, &event(modify, root.join(f).to_str().unwrap()));
            assert_eq!(counted, read.contains(&f.to_string()), "{f}");
        }
        assert_eq!(read, ["a.txt", "j~/k.txt", "sub/e.txt"]);
    }
}
