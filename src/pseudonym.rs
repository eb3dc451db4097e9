//! Pseudonymization of user ids in alerts (PIPL: minimum necessary). A keyed
//! HMAC-SHA256 turns `zhangwei` into a stable `u_…` token: the same user gets
//! the same token in every alert, so analysts can still follow a person, and
//! only whoever holds the key can link a token back to an id. The key is never
//! logged or written to alerts.
//!
//! ```
//! use wordwarden::pseudonym::Pseudonymizer;
//!
//! let p = Pseudonymizer::new(b"a key of at least 16 bytes").unwrap();
//! let a = p.pseudonym("zhangwei");
//! assert!(a.starts_with("u_"));
//! assert_eq!(a, p.pseudonym("zhangwei"));
//! assert_ne!(a, p.pseudonym("lina"));
//! ```

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Source keys that hold user ids in WeCom records.
pub const USER_ID_KEYS: &[&str] = &["from", "tolist", "user"];

/// A keyed pseudonymizer.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(<key hidden>)")
    }
}

/// A key that is too short to be safe.
#[derive(Debug, thiserror::Error)]
#[error("the pseudonymization key must be at least 16 bytes, got {0}")]
pub struct WeakKey(pub usize);

impl Pseudonymizer {
    /// A pseudonymizer with `key` (16 bytes at least).
    pub fn new(key: &[u8]) -> Result<Self, WeakKey> {
        if key.len() < 16 {
            return Err(WeakKey(key.len()));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| WeakKey(key.len()))?;
        Ok(Pseudonymizer { mac })
    }

    /// The pseudonym of one id.
    pub fn pseudonym(&self, id: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("u_{hex}")
    }

    /// Replaces the user ids of an alert's `source` (`from`, `tolist`, `user`).
    pub fn apply(&self, source: &mut Map<String, Value>) {
        for key in USER_ID_KEYS {
            match source.get_mut(*key) {
                Some(Value::String(s)) => *s = self.pseudonym(s),
                Some(Value::Array(items)) => {
                    for item in items {
                        if let Value::String(s) = item {
                            *s = self.pseudonym(s);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_source_are_replaced_and_stable() {
        let p = Pseudonymizer::new(&[7u8; 32]).unwrap();
        let mut src: Map<String, Value> = serde_json::from_str(
            r#"{"from":"zhangwei","tolist":["lina","zhangwei"],"roomid":"r1","msgid":"m"}"#,
        )
        .unwrap();
        p.apply(&mut src);
        assert_eq!(src["from"], src["tolist"][1]);
        assert_ne!(src["from"], "zhangwei");
        assert_eq!(src["roomid"], "r1");
        assert_eq!(src["msgid"], "m");
        let other = Pseudonymizer::new(&[8u8; 32]).unwrap();
        assert_ne!(
            other.pseudonym("zhangwei"),
            p.pseudonym("zhangwei"),
            "depends on the key"
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(Pseudonymizer::new(b"short").is_err());
        assert!(!format!("{:?}", Pseudonymizer::new(&[1u8; 16]).unwrap()).contains('1'));
    }
}
