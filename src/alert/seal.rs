//! Sealed evidence: the parts of an alert that quote the message, encrypted
//! to the analysts' public keys.
//!
//! An alert quotes its message in three places: every hit's `matched`, the
//! `snippet` and, for `full_text_categories`, the `text`. Everything else
//! (ids, terms, categories, severities, offsets) says what fired, not what
//! was written. With an [`EvidenceSealer`] the quotes leave the alert and go
//! into its `sealed` object, encrypted, so the alert topic, its replicas and
//! its backups hold no message text that the brokers' operators, a stolen
//! disk or a reader of the topic without the key could read; `report`,
//! `audit`, metrics and routing work on the rest as before. Only a holder of
//! one of the recipients' [age](https://age-encryption.org) identities
//! opens them again ([`EvidenceOpener`]: `wordwarden tail
//! --evidence-identity`); the engine holds only the public keys, and the
//! data key of the hour in memory, so it cannot read back what it wrote
//! before.
//!
//! How: a random 256-bit data key, wrapped once to every recipient with
//! age (X25519) and carried in each alert it sealed (`key`, base64 of the
//! age file); each alert's quotes encrypted under it with
//! XChaCha20-Poly1305, a random 192-bit nonce, and the `alert_id` as
//! associated data, so sealed evidence moved to another alert does not
//! open. Wrapping costs an X25519 key agreement per recipient (about 0.1
//! ms), so one data key serves an hour of alerts; sealing one is then a
//! symmetric encryption of a few hundred bytes. Anyone holding an identity
//! can also open a key by hand: `base64 -d | age -d -i key.txt`.
//!
//! ```
//! use wordwarden::alert::seal::{generate_identity, EvidenceOpener, EvidenceSealer};
//! use wordwarden::alert::AlertBuilder;
//! use wordwarden::envelope::TextField;
//! use wordwarden::lists::WordListSet;
//! use wordwarden::ruleset::Ruleset;
//!
//! let lists = WordListSet::from_sources(vec![("leak.txt".into(), "客户名单\n".into())]);
//! let rs = Ruleset::builder().build(&lists).unwrap();
//! let text = "这是全部的客户名单，别外传";
//! let fields = [TextField::plain(text)];
//! let findings = rs.scan_fields(&[text]);
//! let mut alert = AlertBuilder::new()
//!     .build(rs.version(), b"msg-1", Default::default(), &fields, &findings)
//!     .unwrap();
//!
//! let (identity, recipient) = generate_identity();
//! let sealer = EvidenceSealer::new([recipient.as_str()]).unwrap();
//! sealer.seal(&mut alert).unwrap();
//! assert_eq!(alert.hits[0].matched, "");
//! assert_eq!(alert.snippet, "");
//! assert!(!serde_json::to_string(&alert).unwrap().contains("客户名单，别外传"));
//!
//! let mut opener = EvidenceOpener::from_identities(&identity).unwrap();
//! assert!(opener.open(&mut alert).unwrap());
//! assert_eq!(alert.hits[0].matched, "客户名单");
//! assert!(alert.snippet.contains("客户名单，别外传"));
//! assert!(alert.sealed.is_none());
//! ```

use std::collections::HashMap;
use std::io::{Read, Write};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::Alert;

/// The only scheme so far; named in every sealed object so a later one can
/// be told apart.
pub const SCHEME: &str = "age-x25519+xchacha20poly1305";

/// How long one data key serves before a new one is made and wrapped.
const DATA_KEY_LIFETIME: Duration = Duration::from_secs(3600);

/// Data keys an [`EvidenceOpener`] keeps unwrapped (a day of one engine's
/// hourly keys, many times over).
const OPENED_KEYS_KEPT: usize = 4096;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why evidence could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A recipient is not an age X25519 public key.
    #[error("{0:?} is not an age public key (age1…)")]
    BadRecipient(String),
    /// Sealing needs at least one recipient.
    #[error("no recipients to seal evidence to")]
    NoRecipients,
    /// An identity file could not be read or holds no usable identity.
    #[error("identity {what}: {reason}")]
    BadIdentity {
        /// The file, or `text` for identities given as text.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system's random numbers failed, or age could not wrap
    /// the data key.
    #[error("cannot seal: {0}")]
    Seal(String),
    /// The sealed object is not one this version reads.
    #[error("sealed evidence is malformed: {0}")]
    Malformed(String),
    /// None of the identities is a recipient of this alert's data key.
    #[error("sealed to another key: none of the identities opens it")]
    NotForUs,
    /// The evidence does not decrypt under its key with its alert's id:
    /// altered, or moved from another alert.
    #[error("sealed evidence does not open (altered, or another alert's)")]
    Tampered,
}

/// An alert's quotes of its message, encrypted (the alert's `sealed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedEvidence {
    /// [`SCHEME`].
    pub scheme: String,
    /// The data key, wrapped to the recipients: base64 of an age file.
    pub key: String,
    /// Base64 of the 24-byte nonce.
    pub nonce: String,
    /// Base64 of the encrypted quotes (JSON: `matched`, one a hit, `snippet`,
    /// `text`) and their tag.
    pub data: String,
}

/// What sealing takes out of an alert, in the order of its hits: borrowed
/// from the alert to seal it (`&str`), owned when opened (`String`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize + AsRef<str>",
    deserialize = "S: Deserialize<'de> + Default"
))]
struct Evidence<S> {
    matched: Vec<S>,
    #[serde(default, skip_serializing_if = "is_empty")]
    snippet: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<S>,
}

fn is_empty<S: AsRef<str>>(s: &S) -> bool {
    s.as_ref().is_empty()
}

/// One data key and its wrapped form.
struct DataKey {
    cipher: XChaCha20Poly1305,
    wrapped: String,
    made: Instant,
}

/// Seals alerts' evidence to a set of age recipients. Shared by every
/// thread that builds alerts (one data key at a time for all of them).
pub struct EvidenceSealer {
    recipients: Vec<age::x25519::Recipient>,
    current: Mutex<Option<Arc<DataKey>>>,
    lifetime: Duration,
}

impl std::fmt::Debug for EvidenceSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceSealer")
            .field("recipients", &self.recipients.len())
            .finish_non_exhaustive()
    }
}

impl EvidenceSealer {
    /// A sealer to these age public keys (`age1…`, as `age-keygen` or
    /// `wordwarden keygen` print them); every one of them can open what it
    /// seals.
    pub fn new<'a>(recipients: impl IntoIterator<Item = &'a str>) -> Result<Self, SealError> {
        let recipients = recipients
            .into_iter()
            .map(|r| {
                age::x25519::Recipient::from_str(r.trim())
                    .map_err(|_| SealError::BadRecipient(r.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if recipients.is_empty() {
            return Err(SealError::NoRecipients);
        }
        Ok(EvidenceSealer {
            recipients,
            current: Mutex::new(None),
            lifetime: DATA_KEY_LIFETIME,
        })
    }

    /// How many recipients can open what this seals.
    pub fn recipients(&self) -> usize {
        self.recipients.len()
    }

    /// Moves `alert`'s quotes of its message (every hit's `matched`, the
    /// `snippet`, the `text`) into its `sealed` object, encrypted. On an
    /// error the alert is left as it was; one sealed already is left too.
    pub fn seal(&self, alert: &mut Alert) -> Result<(), SealError> {
        if alert.sealed.is_some() {
            // sealed again, its quotes (gone) would replace the evidence
            return Ok(());
        }
        let key = self.data_key()?;
        let evidence = Evidence {
            matched: alert.hits.iter().map(|h| h.matched.as_str()).collect(),
            snippet: alert.snippet.as_str(),
            text: alert.text.as_deref(),
        };
        let plain = serde_json::to_vec(&evidence).map_err(|e| SealError::Seal(e.to_string()))?;
        let mut nonce = XNonce::default();
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|e| SealError::Seal(format!("random numbers: {e}")))?;
        let data = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: alert.alert_id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Seal("encryption failed".into()))?;
        alert.drop_quotes();
        alert.sealed = Some(SealedEvidence {
            scheme: SCHEME.to_string(),
            key: key.wrapped.clone(),
            nonce: B64.encode(nonce),
            data: B64.encode(data),
        });
        Ok(())
    }

    /// The data key in use, or a new one once it has served its time.
    fn data_key(&self) -> Result<Arc<DataKey>, SealError> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = current
            .as_ref()
            .filter(|k| k.made.elapsed() < self.lifetime)
        {
            return Ok(Arc::clone(key));
        }
        let mut raw = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut raw)
            .map_err(|e| SealError::Seal(format!("random numbers: {e}")))?;
        let wrapped = wrap(&raw, &self.recipients)?;
        let key = Arc::new(DataKey {
            cipher: XChaCha20Poly1305::new(&raw.into()),
            wrapped: B64.encode(wrapped),
            made: Instant::now(),
        });
        raw.zeroize();
        *current = Some(Arc::clone(&key));
        Ok(key)
    }
}

/// `raw` as an age file to `recipients`.
fn wrap(raw: &[u8], recipients: &[age::x25519::Recipient]) -> Result<Vec<u8>, SealError> {
    let failed = |e: &dyn std::fmt::Display| SealError::Seal(format!("wrapping the key: {e}"));
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| failed(&e))?;
    let mut out = Vec::with_capacity(256);
    let mut writer = encryptor.wrap_output(&mut out).map_err(|e| failed(&e))?;
    writer.write_all(raw).map_err(|e| failed(&e))?;
    writer.finish().map_err(|e| failed(&e))?;
    Ok(out)
}

/// Opens sealed evidence with age identities (`AGE-SECRET-KEY-1…`),
/// keeping the data keys it unwrapped so each is unwrapped once.
pub struct EvidenceOpener {
    identities: Vec<Box<dyn age::Identity + Send + Sync>>,
    keys: HashMap<String, Option<XChaCha20Poly1305>>,
}

impl std::fmt::Debug for EvidenceOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceOpener")
            .field("identities", &self.identities.len())
            .finish_non_exhaustive()
    }
}

impl EvidenceOpener {
    /// The identities in these age identity files (comments and blank lines
    /// allowed, as `age-keygen` writes them).
    pub fn from_files<P: AsRef<std::path::Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Self, SealError> {
        let mut identities = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let what = path.display().to_string();
            let file =
                age::IdentityFile::from_file(what.clone()).map_err(|e| SealError::BadIdentity {
                    what: what.clone(),
                    reason: e.to_string(),
                })?;
            identities.extend(Self::identities_of(file, &what)?);
        }
        Self::with(identities)
    }

    /// The identities in `text`, an identity file's contents.
    pub fn from_identities(text: &str) -> Result<Self, SealError> {
        let what = "text";
        let file = age::IdentityFile::from_buffer(text.as_bytes()).map_err(|e| {
            SealError::BadIdentity {
                what: what.into(),
                reason: e.to_string(),
            }
        })?;
        Self::with(Self::identities_of(file, what)?)
    }

    fn identities_of(
        file: age::IdentityFile<age::NoCallbacks>,
        what: &str,
    ) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, SealError> {
        let found = file.into_identities().map_err(|e| SealError::BadIdentity {
            what: what.into(),
            reason: e.to_string(),
        })?;
        if found.is_empty() {
            return Err(SealError::BadIdentity {
                what: what.into(),
                reason: "no identity in it (AGE-SECRET-KEY-1…)".into(),
            });
        }
        Ok(found)
    }

    fn with(identities: Vec<Box<dyn age::Identity + Send + Sync>>) -> Result<Self, SealError> {
        if identities.is_empty() {
            return Err(SealError::BadIdentity {
                what: "none given".into(),
                reason: "no identity".into(),
            });
        }
        Ok(EvidenceOpener {
            identities,
            keys: HashMap::new(),
        })
    }

    /// Puts `alert`'s sealed evidence back in place (`matched`, `snippet`,
    /// `text`) and drops `sealed`: `Ok(true)`; `Ok(false)` for an alert that
    /// was not sealed. On an error the alert is left as it was.
    pub fn open(&mut self, alert: &mut Alert) -> Result<bool, SealError> {
        let Some(sealed) = &alert.sealed else {
            return Ok(false);
        };
        if sealed.scheme != SCHEME {
            return Err(SealError::Malformed(format!(
                "scheme {:?} (this version reads {SCHEME:?})",
                sealed.scheme
            )));
        }
        let nonce = B64
            .decode(&sealed.nonce)
            .ok()
            .filter(|n| n.len() == 24)
            .ok_or_else(|| SealError::Malformed("nonce".into()))?;
        let data = B64
            .decode(&sealed.data)
            .map_err(|_| SealError::Malformed("data".into()))?;
        let cipher = self.key(&sealed.key)?;
        let plain = cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &data,
                    aad: alert.alert_id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Tampered)?;
        let evidence: Evidence<String> =
            serde_json::from_slice(&plain).map_err(|e| SealError::Malformed(e.to_string()))?;
        if evidence.matched.len() != alert.hits.len() {
            return Err(SealError::Malformed(format!(
                "{} quotes for {} hits",
                evidence.matched.len(),
                alert.hits.len()
            )));
        }
        for (h, m) in alert.hits.iter_mut().zip(evidence.matched) {
            h.matched = m;
        }
        alert.snippet = evidence.snippet;
        alert.text = evidence.text;
        alert.sealed = None;
        Ok(true)
    }

    /// The data key `wrapped` (base64 of an age file), unwrapped once and
    /// kept; a key none of the identities opens is remembered as such.
    fn key(&mut self, wrapped: &str) -> Result<&XChaCha20Poly1305, SealError> {
        if !self.keys.contains_key(wrapped) {
            if self.keys.len() >= OPENED_KEYS_KEPT {
                self.keys.clear();
            }
            let bytes = B64
                .decode(wrapped)
                .map_err(|_| SealError::Malformed("key".into()))?;
            let opened = self.unwrap_key(&bytes)?;
            self.keys.insert(wrapped.to_string(), opened);
        }
        match self.keys.get(wrapped) {
            Some(Some(cipher)) => Ok(cipher),
            _ => Err(SealError::NotForUs),
        }
    }

    fn unwrap_key(&self, age_file: &[u8]) -> Result<Option<XChaCha20Poly1305>, SealError> {
        let decryptor = age::Decryptor::new_buffered(age_file)
            .map_err(|e| SealError::Malformed(format!("key: {e}")))?;
        let mut reader = match decryptor.decrypt(self.identities.iter().map(|i| {
            let identity: &dyn age::Identity = i.as_ref();
            identity
        })) {
            Ok(reader) => reader,
            Err(age::DecryptError::NoMatchingKeys) => return Ok(None),
            Err(e) => return Err(SealError::Malformed(format!("key: {e}"))),
        };
        let mut raw = Vec::with_capacity(32);
        reader
            .read_to_end(&mut raw)
            .map_err(|e| SealError::Malformed(format!("key: {e}")))?;
        if raw.len() != 32 {
            return Err(SealError::Malformed("key: not 32 bytes".into()));
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&raw)
            .map_err(|_| SealError::Malformed("key: not 32 bytes".into()))?;
        raw.zeroize();
        Ok(Some(cipher))
    }
}

/// A new age identity: its identity file's text (as `age-keygen` writes
/// it: when it was made, its public key, the secret key) and its public key
/// (`age1…`), the recipient to seal to.
pub fn generate_identity() -> (String, String) {
    use age::secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let file = format!(
        "# created by wordwarden keygen\n# public key: {recipient}\n{}\n",
        identity.to_string().expose_secret()
    );
    (file, recipient)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertBuilder;
    use crate::envelope::TextField;
    use crate::lists::WordListSet;
    use crate::ruleset::Ruleset;

    fn alert(text: &str, full_text: bool) -> Alert {
        let lists =
            WordListSet::from_sources(vec![("leak.txt".into(), "客户名单\n内幕消息\n".into())]);
        let rs = Ruleset::builder().build(&lists).expect("compiles");
        let fields = [TextField::plain(text)];
        let findings = rs.scan_fields(&[text]);
        let builder = match full_text {
            true => AlertBuilder::new().full_text_for(vec!["leak".into()]),
            false => AlertBuilder::new(),
        };
        builder
            .build(
                rs.version(),
                text.as_bytes(),
                Default::default(),
                &fields,
                &findings,
            )
            .expect("alerts")
    }

    fn pair() -> (String, String) {
        generate_identity()
    }

    #[test]
    fn sealing_takes_every_quote_out_and_opening_puts_it_back() {
        let text = "客户名单在这，还有内*幕*消*息，手机13812345678";
        let original = alert(text, true);
        assert!(original.text.is_some());
        let (id, to) = pair();
        let sealer = EvidenceSealer::new([to.as_str()]).expect("recipient");
        let mut sealed = original.clone();
        sealer.seal(&mut sealed).expect("seals");
        let once = sealed.clone();
        sealer.seal(&mut sealed).expect("sealed already");
        assert_eq!(sealed, once, "a second seal leaves the first");
        let json = serde_json::to_string(&sealed).expect("json");
        for quoted in [
            "客户名单在这",
            "内*幕*消*息",
            "138****5678",
            "\"matched\"",
            "\"snippet\"",
        ] {
            assert!(!json.contains(quoted), "{quoted} left in {json}");
        }
        // what fired stays readable
        assert!(json.contains("\"term\":\"内幕消息\""), "{json}");
        let back: Alert = serde_json::from_str(&json).expect("reads back");
        let mut opened = back.clone();
        let mut opener = EvidenceOpener::from_identities(&id).expect("identity");
        assert!(opener.open(&mut opened).expect("opens"));
        assert_eq!(opened, original);
        // an alert that was never sealed is left alone
        let mut plain = original.clone();
        assert!(!opener.open(&mut plain).expect("nothing to open"));
        assert_eq!(plain, original);
    }

    #[test]
    fn any_of_several_recipients_opens_and_a_stranger_does_not() {
        let (first, to_first) = pair();
        let (second, to_second) = pair();
        let (stranger, _) = pair();
        let sealer = EvidenceSealer::new([to_first.as_str(), to_second.as_str()]).expect("ok");
        assert_eq!(sealer.recipients(), 2);
        let mut a = alert("客户名单", false);
        sealer.seal(&mut a).expect("seals");
        for id in [&first, &second] {
            let mut copy = a.clone();
            let mut opener = EvidenceOpener::from_identities(id).expect("identity");
            assert!(opener.open(&mut copy).expect("opens"));
            assert_eq!(copy.hits[0].matched, "客户名单");
        }
        let mut copy = a.clone();
        let mut opener = EvidenceOpener::from_identities(&stranger).expect("identity");
        assert!(matches!(opener.open(&mut copy), Err(SealError::NotForUs)));
        assert_eq!(copy, a, "left as it was");
        // an opener with both its own and a stranger's identity opens it
        let both = format!("{stranger}{second}");
        let mut opener = EvidenceOpener::from_identities(&both).expect("identities");
        assert!(opener.open(&mut copy).expect("opens"));
    }

    #[test]
    fn evidence_moved_to_another_alert_or_altered_does_not_open() {
        let (id, to) = pair();
        let sealer = EvidenceSealer::new([to.as_str()]).expect("ok");
        let mut a = alert("客户名单", false);
        let mut b = alert("内幕消息", false);
        sealer.seal(&mut a).expect("seals");
        sealer.seal(&mut b).expect("seals");
        assert_eq!(
            a.sealed.as_ref().map(|s| &s.key),
            b.sealed.as_ref().map(|s| &s.key),
            "one data key serves both"
        );
        assert_ne!(
            a.sealed.as_ref().map(|s| &s.nonce),
            b.sealed.as_ref().map(|s| &s.nonce)
        );
        let mut opener = EvidenceOpener::from_identities(&id).expect("identity");
        let mut moved = b.clone();
        moved.sealed = a.sealed.clone();
        assert!(matches!(opener.open(&mut moved), Err(SealError::Tampered)));
        let mut altered = a.clone();
        if let Some(s) = altered.sealed.as_mut() {
            let mut data = B64.decode(&s.data).expect("base64");
            data[0] ^= 1;
            s.data = B64.encode(data);
        }
        assert!(matches!(
            opener.open(&mut altered),
            Err(SealError::Tampered)
        ));
        let mut garbled = a.clone();
        if let Some(s) = garbled.sealed.as_mut() {
            s.nonce = "not base64!".into();
        }
        assert!(matches!(
            opener.open(&mut garbled),
            Err(SealError::Malformed(_))
        ));
        let mut other = a.clone();
        if let Some(s) = other.sealed.as_mut() {
            s.scheme = "rot13".into();
        }
        assert!(matches!(
            opener.open(&mut other),
            Err(SealError::Malformed(_))
        ));
        assert!(opener.open(&mut a).expect("the original opens"));
    }

    #[test]
    fn a_new_data_key_once_the_old_has_served_its_time() {
        let (id, to) = pair();
        let mut sealer = EvidenceSealer::new([to.as_str()]).expect("ok");
        sealer.lifetime = Duration::ZERO;
        let mut a = alert("客户名单", false);
        let mut b = alert("客户名单", false);
        sealer.seal(&mut a).expect("seals");
        sealer.seal(&mut b).expect("seals");
        assert_ne!(
            a.sealed.as_ref().map(|s| &s.key),
            b.sealed.as_ref().map(|s| &s.key)
        );
        let mut opener = EvidenceOpener::from_identities(&id).expect("identity");
        assert!(opener.open(&mut a).expect("opens"));
        assert!(opener.open(&mut b).expect("opens"));
        assert_eq!(opener.keys.len(), 2);
    }

    #[test]
    fn bad_keys_are_refused_with_what_is_wrong() {
        let (id, to) = pair();
        assert!(matches!(
            EvidenceSealer::new(["age1notakey"]),
            Err(SealError::BadRecipient(r)) if r == "age1notakey"
        ));
        // a secret key given where the public one belongs
        let secret = id.lines().last().expect("key line").to_string();
        assert!(matches!(
            EvidenceSealer::new([secret.as_str()]),
            Err(SealError::BadRecipient(_))
        ));
        assert!(matches!(
            EvidenceSealer::new(std::iter::empty::<&str>()),
            Err(SealError::NoRecipients)
        ));
        assert!(matches!(
            EvidenceOpener::from_identities(&format!("{to}\n")),
            Err(SealError::BadIdentity { .. })
        ));
        assert!(matches!(
            EvidenceOpener::from_identities("# nothing here\n"),
            Err(SealError::BadIdentity { .. })
        ));
        let missing = EvidenceOpener::from_files(["/nonexistent/key.txt"]);
        assert!(
            matches!(&missing, Err(SealError::BadIdentity { what, .. }) if what.contains("/nonexistent/key.txt")),
            "{missing:?}"
        );
    }

    #[test]
    fn identity_files_are_read_as_age_keygen_writes_them() {
        let (id, to) = pair();
        assert!(id.contains(&format!("# public key: {to}")));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.txt");
        std::fs::write(&path, &id).expect("write");
        let sealer = EvidenceSealer::new([to.as_str()]).expect("ok");
        let mut a = alert("客户名单", false);
        sealer.seal(&mut a).expect("seals");
        let mut opener = EvidenceOpener::from_files([&path]).expect("file");
        assert!(opener.open(&mut a).expect("opens"));
    }
}
