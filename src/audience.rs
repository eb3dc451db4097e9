//! Who a message went between: people of the company only, or someone
//! outside it. A client list in a sales team's chat is work; the same list
//! sent to a customer's WeChat is a leak. Lists say which messages they watch
//! with `#! audience: external` ([`AudienceScope`]), and every alert says
//! which kind of conversation its message was in.
//!
//! WeCom's archive names people of the company by their `userid` and everyone
//! else by an `external_userid`: external contacts' start with `wo` or `wm`,
//! bots' with `wb` ([`is_external_id`]). Plain text and JSON input carry no
//! such ids: their audience is [`Audience::Unknown`], and a list scoped to
//! external conversations still watches them (a missed leak costs more than
//! an alert too many).
//!
//! ```
//! use wordwarden::audience::{Audience, AudienceScope};
//!
//! let a = Audience::of_ids(["zhangwei", "wmAbCdEfGhIjKlMnOpQrStUvWxYz012345"]);
//! assert_eq!(a, Audience::External);
//! assert_eq!(Audience::of_ids(["zhangwei", "lina"]), Audience::Internal);
//! assert!(!AudienceScope::External.admits(Audience::Internal));
//! assert!(AudienceScope::External.admits(Audience::Unknown));
//! ```

use serde::{Deserialize, Serialize};

/// Who a message went between, as far as its record says. Ordered
/// `Unknown < Internal < External`: what one part of the ids says is
/// outweighed by an external contact anywhere else.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// The record names no sender or recipient (plain text, JSON input).
    #[default]
    Unknown,
    /// Only people of the company (and bots).
    Internal,
    /// At least one sender or recipient outside the company.
    External,
}

impl Audience {
    /// Every value, for metric labels.
    pub const ALL: [Audience; 3] = [Audience::Unknown, Audience::Internal, Audience::External];

    /// `unknown`, `internal` or `external`.
    pub fn name(self) -> &'static str {
        match self {
            Audience::Unknown => "unknown",
            Audience::Internal => "internal",
            Audience::External => "external",
        }
    }

    /// Whether the record named no one (what alerts leave out).
    pub fn is_unknown(&self) -> bool {
        *self == Audience::Unknown
    }

    /// The audience of a message between these ids (sender and recipients):
    /// external if one is an external contact, internal if there is any id
    /// at all, unknown otherwise.
    pub fn of_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Audience {
        let mut audience = Audience::Unknown;
        for id in ids {
            if is_external_id(id) {
                return Audience::External;
            }
            if !id.is_empty() {
                audience = Audience::Internal;
            }
        }
        audience
    }
}

impl std::str::FromStr for Audience {
    type Err = String;

    /// `unknown`, `internal` or `external`.
    fn from_str(s: &str) -> Result<Self, String> {
        Audience::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown audience {s:?} (unknown, internal, external)"))
    }
}

/// Which messages a list watches (`#! audience:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AudienceScope {
    /// Every message (the default).
    #[default]
    Any,
    /// Messages with someone outside the company, and messages whose
    /// audience is unknown.
    External,
}

impl AudienceScope {
    /// Whether a list with this scope watches a message with `audience`.
    pub fn admits(self, audience: Audience) -> bool {
        match self {
            AudienceScope::Any => true,
            AudienceScope::External => audience != Audience::Internal,
        }
    }

    /// `any` or `external`, as the directive writes it.
    pub fn name(self) -> &'static str {
        match self {
            AudienceScope::Any => "any",
            AudienceScope::External => "external",
        }
    }
}

/// Shorter `wo…`/`wm…` ids are taken for people of the company (`wong`,
/// `woody.li`): WeCom's external ids are 32 characters long, a company picks
/// its own `userid`s.
const EXTERNAL_ID_MIN_LEN: usize = 20;

/// Whether a WeCom id is an external contact's `external_userid`: `wo` or
/// `wm`, then letters, digits, `_` or `-`, 20 characters or more in all.
/// Bots (`wb…`) are not outside people.
///
/// ```
/// use wordwarden::audience::is_external_id;
///
/// assert!(is_external_id("wmAbCdEfGhIjKlMnOpQrStUvWxYz012345"));
/// assert!(is_external_id("wo7_KpDgAASQlyv0WBr7zp5bzaQ3kIuQ"));
/// assert!(!is_external_id("wbjc7bDwAAJVylUKpSA3Z5U11tDO4AAA")); // a bot
/// assert!(!is_external_id("wongwei")); // a colleague
/// ```
pub fn is_external_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() >= EXTERNAL_ID_MIN_LEN
        && b[0] == b'w'
        && (b[1] == b'o' || b[1] == b'm')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_told_from_colleagues_and_bots() {
        for id in [
            "wmAbc123AbCdEfGhIjKlMnOpQ",
            "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA",
            "wm1cKySwAAg9qJcBjjyWF8FArK4k5wHw",
        ] {
            assert!(is_external_id(id), "{id}");
        }
        for id in [
            "",
            "w",
            "wo",
            "wongwei",
            "woody.li.shanghai.office",
            "wbjc7bDwAAJVylUKpSA3Z5U11tDO4AAA",
            "zhangwei",
            "WmAbc123AbCdEfGhIjKlMnOpQ",
            "wm张伟AbCdEfGhIjKlMnOpQrStUvWx",
        ] {
            assert!(!is_external_id(id), "{id}");
        }
    }

    #[test]
    fn one_external_party_makes_the_conversation_external() {
        let ext = "wmAbc123AbCdEfGhIjKlMnOpQ";
        assert_eq!(Audience::of_ids([]), Audience::Unknown);
        assert_eq!(Audience::of_ids([""]), Audience::Unknown);
        assert_eq!(Audience::of_ids(["lina"]), Audience::Internal);
        assert_eq!(Audience::of_ids(["lina", ext, "wang"]), Audience::External);
        assert_eq!(Audience::of_ids([ext]), Audience::External);
        assert_eq!(
            Audience::Internal.max(Audience::External),
            Audience::External
        );
        assert_eq!(
            Audience::Unknown.max(Audience::Internal),
            Audience::Internal
        );
    }

    #[test]
    fn a_scope_to_external_conversations_still_watches_unknown_ones() {
        for a in Audience::ALL {
            assert!(AudienceScope::Any.admits(a));
        }
        assert!(AudienceScope::External.admits(Audience::External));
        assert!(AudienceScope::External.admits(Audience::Unknown));
        assert!(!AudienceScope::External.admits(Audience::Internal));
    }
}
