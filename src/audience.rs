//! Who a message went between: people of the company only, or someone
//! outside it. A client list in a sales team's chat is work; the same list
//! sent to a customer's WeChat is a leak. Lists say which messages they watch
//! with `#! audience: external` ([`AudienceScope`]), and every alert says
//! which kind of conversation its message was in.
//!
//! WeCom's archive names people of the company by their `userid` and everyone
//! else by an `external_userid`: external contacts' start with `wo` or `wm`,
//! bots' with `wb` ([`is_external_id`]). Other chat systems name people by
//! address: `json` input told where its sender and recipients are
//! ([`Participants`](crate::envelope::Participants)) judges them by the
//! company's domains ([`InternalDomains`]). Plain text, and JSON input not
//! told, carry no ids: their audience is [`Audience::Unknown`], and a list
//! scoped to external conversations still watches them (a missed leak costs
//! more than an alert too many).
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
    /// The record names no sender or recipient (plain text, JSON input
    /// without participants).
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
        Audience::joining(ids, is_external_id)
    }

    /// External if `is_external` says so of one of the ids (empty ones
    /// passed over), internal if there is any id at all, unknown otherwise.
    fn joining<'a>(
        ids: impl IntoIterator<Item = &'a str>,
        is_external: impl Fn(&str) -> bool,
    ) -> Audience {
        let mut audience = Audience::Unknown;
        for id in ids.into_iter().filter(|id| !id.is_empty()) {
            if is_external(id) {
                return Audience::External;
            }
            audience = Audience::Internal;
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

/// The company's own domains, to tell colleagues from outsiders where people
/// are named by address (`li.na@example.com`): an address at one of these
/// domains or below one (`sh.example.com`) is a colleague's, an address at
/// any other domain an outsider's, and an id without a domain (`U024BE7LH`,
/// `lina`) an account of the chat system itself, so a colleague's.
///
/// ```
/// use wordwarden::audience::{Audience, InternalDomains};
///
/// let ours = InternalDomains::new(["example.com", "example.cn"]).unwrap();
/// assert!(ours.is_internal("li.na@Example.COM"));
/// assert!(ours.is_internal("wang@sh.example.cn"));
/// assert!(!ours.is_internal("buyer@gmail.com"));
/// assert!(!ours.is_internal("spy@notexample.com"));
/// assert!(ours.is_internal("lina"));
/// assert_eq!(ours.audience_of(["li.na@example.com", "buyer@gmail.com"]), Audience::External);
/// assert_eq!(ours.audience_of(["li.na@example.com", "lina"]), Audience::Internal);
/// assert!(InternalDomains::new(["not a domain"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternalDomains {
    /// Lowercase, without a leading `@` or `.` or a trailing `.`.
    domains: Vec<String>,
}

/// A configured internal domain that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{domain:?} is not a domain (letters, digits, `-` and `.`, as `example.com`)")]
pub struct InvalidDomain {
    /// The domain as configured.
    pub domain: String,
}

impl InternalDomains {
    /// The company's domains; `@example.com` and `example.com.` are read as
    /// `example.com`, case does not matter.
    pub fn new<S: AsRef<str>>(
        domains: impl IntoIterator<Item = S>,
    ) -> Result<InternalDomains, InvalidDomain> {
        let mut out = Vec::new();
        for d in domains {
            let written = d.as_ref();
            let domain = normal_domain(written.trim().trim_start_matches(['@', '.']));
            let valid = !domain.is_empty()
                && domain
                    .split('.')
                    .all(|label| !label.is_empty() && label.chars().all(is_domain_char));
            if !valid {
                return Err(InvalidDomain {
                    domain: written.to_string(),
                });
            }
            out.push(domain);
        }
        Ok(InternalDomains { domains: out })
    }

    /// Whether no domain is the company's (then every address is an
    /// outsider's).
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// Whether `id` is a colleague's: an address at one of the domains or
    /// below one, or an id without a domain.
    pub fn is_internal(&self, id: &str) -> bool {
        let Some((_, domain)) = id.rsplit_once('@') else {
            return true;
        };
        let domain = normal_domain(domain.trim());
        self.domains.iter().any(|d| {
            domain == *d
                || domain
                    .strip_suffix(d.as_str())
                    .is_some_and(|above| above.ends_with('.'))
        })
    }

    /// The audience of a message between these ids, as [`Audience::of_ids`]
    /// joins them: external if one is an outsider, internal if there is any
    /// id at all, unknown otherwise.
    pub fn audience_of<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Audience {
        Audience::joining(ids.into_iter().map(str::trim), |id| !self.is_internal(id))
    }
}

/// Letters of any script (internationalized domains), digits and `-`.
fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-'
}

fn normal_domain(domain: &str) -> String {
    domain.trim_end_matches('.').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_colleagues_by_their_domain() {
        let ours = InternalDomains::new(["Example.com", "@corp.example.cn", "示例.公司."]).unwrap();
        for id in [
            "li.na@example.com",
            "LI.NA@EXAMPLE.COM",
            "wang@mail.example.com",
            "wang@corp.example.cn",
            "wang@x.corp.example.cn",
            "zhang@示例.公司",
            "ops@example.com.",
            "lina",
            "U024BE7LH",
        ] {
            assert!(ours.is_internal(id), "{id}");
        }
        for id in [
            "buyer@gmail.com",
            "spy@notexample.com",
            "spy@example.com.evil.org",
            "x@example.cn",
            "x@other.example.cn",
            "odd@",
            "a@b@gmail.com",
        ] {
            assert!(!ours.is_internal(id), "{id}");
        }
        assert_eq!(ours.audience_of([]), Audience::Unknown);
        assert_eq!(ours.audience_of(["", "  "]), Audience::Unknown);
        assert_eq!(ours.audience_of(["lina"]), Audience::Internal);
        assert_eq!(
            ours.audience_of(["lina", "buyer@gmail.com", "wang@example.com"]),
            Audience::External
        );
        // no domain of the company's: every address is an outsider's
        let none = InternalDomains::default();
        assert!(none.is_empty());
        assert_eq!(none.audience_of(["li.na@example.com"]), Audience::External);
        assert_eq!(none.audience_of(["lina"]), Audience::Internal);
    }

    #[test]
    fn a_domain_must_be_one() {
        for bad in [
            "",
            "@",
            ".",
            "example..com",
            "exa mple.com",
            "li@example.com",
            "*.example.com",
        ] {
            assert_eq!(
                InternalDomains::new([bad]),
                Err(InvalidDomain {
                    domain: bad.to_string()
                }),
                "{bad}"
            );
        }
    }

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
