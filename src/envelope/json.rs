//! The `json` input format, read in one pass without building the document.
//!
//! Of a JSON message only two things matter: the string at the configured
//! pointer and the message's id (the first of `id`, `msgid`, `message_id` at
//! the top level). Building the whole document as a `serde_json::Value` (a
//! map, and a `String` for every key and value) to read those two took most
//! of the decode; here serde_json walks the document once, skipping what is
//! off the pointer's path, and the text stays borrowed from the message
//! unless it holds escapes (`cargo bench --bench wecom`: about 3x the
//! decoding rate). Syntax is checked everywhere, with serde_json's own
//! errors: bad syntax and trailing characters refuse a message as before.
//! What lies off the path is checked but not decoded, so a lone surrogate
//! escape or a number out of range there no longer refuses the message
//! (where the text is read a bad escape still does), and nesting there is
//! passed over without recursion, so no depth overflows the stack; along the
//! path serde_json's recursion limit holds.
//!
//! A pointer to an object or an array (a rich-text post, attachments; `""`
//! for the whole message) makes every string in it a field, minus what
//! id-like keys and the sender's and recipients' pointers hold: such
//! messages are read from a parse of the whole document.
//!
//! The sender and recipients ([`Participants`]) matter only for a message
//! with hits, about one in a hundred: they are read then, from a parse of
//! the whole message.
//!
//! Pointer semantics are RFC 6901 as `Value::pointer` reads them: `""` is the
//! whole document, a pointer not starting with `/` finds nothing, `~1` and
//! `~0` stand for `/` and `~`, an array index is decimal without a sign or a
//! leading zero, and where a key repeats the last one counts.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{utf8, DecodeError, Message, Source, TextField};
use crate::audience::{Audience, InternalDomains};

/// The keys that name a message's id, in order of preference.
const ID_KEYS: [&str; 3] = ["id", "msgid", "message_id"];

/// Decodes a message of the `json` format with its text at `pointer`; where
/// that is an object or array, the `participants`' ids in it are not text.
pub(super) fn decode<'a>(
    bytes: &'a [u8],
    pointer: &str,
    participants: Option<&Participants>,
) -> Result<Message<'a>, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let text = utf8(bytes)?;
    let path = match pointer.strip_prefix('/') {
        Some(rest) => Path::Tokens(rest),
        None if pointer.is_empty() => Path::Whole,
        None => Path::Nowhere,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let top = de
        .deserialize_any(TopVisitor { path })
        .and_then(|top| de.end().map(|()| top))
        .map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let found = match top {
        Top::Object(found) => found,
        Top::Null => return Err(DecodeError::Empty),
        Top::Other => return Err(DecodeError::NotJson("not a JSON object".into())),
    };
    let no_text = || DecodeError::NoText {
        pointer: pointer.to_string(),
    };
    let fields = match found.text {
        Some(At::Text(text)) => vec![TextField {
            pointer: Some(Cow::Owned(pointer.to_string())),
            text,
        }],
        Some(At::Strings) => {
            let mut fields = strings_at(text, pointer)?;
            if let Some(p) = participants {
                let under = |ptr: &str, at: &str| {
                    !at.is_empty()
                        && ptr
                            .strip_prefix(at)
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                };
                fields.retain(|f| {
                    let ptr = f.pointer.as_deref().unwrap_or_default();
                    !under(ptr, &p.from) && !under(ptr, &p.to)
                });
            }
            if fields.is_empty() {
                return Err(no_text());
            }
            fields
        }
        None => return Err(no_text()),
    };
    let mut source = Source::default();
    let mut id = None;
    if let Some((key, raw)) = ID_KEYS
        .iter()
        .zip(found.ids)
        .find_map(|(k, v)| v.map(|v| (*k, v)))
    {
        id = Some(id_text(raw));
        source.push_json(key, raw);
    }
    Ok(Message {
        fields,
        source,
        id,
        ..Default::default()
    })
}

/// Where a `json` message names its sender and recipients, and which of
/// their addresses are the company's: what tells a conversation among
/// colleagues from one with someone outside (see [`crate::audience`]); and
/// where it says when it was written (for lists with dates). Read only for
/// a message with hits ([`Participants::read`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Participants {
    /// RFC 6901 pointer of the sender's id, a string (empty: none).
    pub from: String,
    /// RFC 6901 pointer of the recipients' ids, an array of strings or one
    /// string (empty: none).
    pub to: String,
    /// The company's domains.
    pub internal_domains: InternalDomains,
    /// RFC 6901 pointer of when the message was written (empty: none): a
    /// number of milliseconds since the epoch (of seconds, below
    /// 100,000,000,000), or an RFC 3339 string.
    pub time: String,
}

/// The sender and recipients a `json` message names, and the audience they
/// make ([`Participants::read`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Participation {
    /// Who the message went between.
    pub audience: Audience,
    /// The sender's id.
    pub from: Option<String>,
    /// The recipients' ids.
    pub tolist: Vec<String>,
    /// The group chat's id (WeCom's `roomid`), where the message was sent
    /// into one.
    pub room: Option<String>,
    /// When the message says it was written, in milliseconds since the
    /// epoch (`json` input told where: [`Participants::time`]).
    pub written_ms: Option<i64>,
}

impl Participation {
    /// Which of `ruleset`'s people groups the sender and the recipients
    /// belong to, for its lists with `#! people:` ([`crate::people`]). A
    /// group chat counts among the recipients: a group may list rooms
    /// (`wrOgQh…`) beside people.
    pub fn conversation(&self, ruleset: &crate::ruleset::Ruleset) -> crate::people::Conversation {
        ruleset.conversation(
            self.audience,
            self.from.as_deref(),
            (self.tolist.iter().chain(&self.room)).map(String::as_str),
        )
    }

    /// The sender in this conversation (its group chat, else its
    /// recipients), for runs of short messages ([`crate::split`]); `None`
    /// when the message names no sender.
    pub fn speaker(&self) -> Option<crate::split::Speaker> {
        crate::split::Speaker::of(
            self.from.as_deref()?,
            self.room.as_deref(),
            self.tolist.iter().map(String::as_str),
        )
    }

    /// The conversation, the same from either side: the group chat, else
    /// everyone in it (sorted, joined with `,`); empty when the message
    /// names no one. What an archive's producer should key records by, so
    /// that each conversation's messages stay in one partition, in order,
    /// and a term split across messages is seen by one consumer.
    ///
    /// ```
    /// use wordwarden::envelope::{decode, InputFormat};
    ///
    /// let key = |rec: &[u8]| decode(rec, &InputFormat::wecom()).unwrap().source.participation().conversation_key();
    /// let there = br#"{"msgtype":"text","from":"li","tolist":["wang"],"roomid":"","text":{"content":"hi"}}"#;
    /// let back = br#"{"msgtype":"text","from":"wang","tolist":["li"],"text":{"content":"hi"}}"#;
    /// assert_eq!(key(there), "li,wang");
    /// assert_eq!(key(back), "li,wang");
    /// let room = br#"{"msgtype":"text","from":"li","tolist":["wang"],"roomid":"wr1","text":{"content":"hi"}}"#;
    /// assert_eq!(key(room), "wr1");
    /// ```
    pub fn conversation_key(&self) -> String {
        if let Some(room) = self.room.as_deref().filter(|r| !r.is_empty()) {
            return room.to_string();
        }
        let mut sides: Vec<&str> = self.tolist.iter().map(String::as_str).collect();
        sides.extend(self.from.as_deref());
        sides.sort_unstable();
        sides.join(",")
    }

    /// The ids as an alert's `source` carries them: `from` a string,
    /// `tolist` an array (as in WeCom records, so pseudonymizing and `tail`
    /// treat both formats alike).
    pub fn into_source(self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        if let Some(from) = self.from {
            map.insert("from".into(), from.into());
        }
        if !self.tolist.is_empty() {
            map.insert("tolist".into(), self.tolist.into());
        }
        map
    }
}

impl Participants {
    /// Reads the sender and the recipients of `bytes`, a `json` message,
    /// and judges them by [`Participants::internal_domains`]. Parses the
    /// whole message, so it is asked only of messages with hits. Where the
    /// message does not hold a string there (or is not JSON), no one is
    /// named: an audience of no one is unknown.
    pub fn read(&self, bytes: &[u8]) -> Participation {
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return Participation::default();
        };
        let at = |pointer: &str| {
            (!pointer.is_empty())
                .then(|| doc.pointer(pointer))
                .flatten()
        };
        let from = at(&self.from)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        let tolist = match at(&self.to) {
            Some(serde_json::Value::String(id)) => vec![id.clone()],
            Some(serde_json::Value::Array(ids)) => ids
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        let audience = self
            .internal_domains
            .audience_of(from.iter().chain(&tolist).map(String::as_str));
        Participation {
            audience,
            from,
            tolist,
            room: None,
            written_ms: at(&self.time).and_then(time_ms),
        }
    }

    /// Whether the messages name their sender or recipients (not only
    /// their time).
    pub fn names_people(&self) -> bool {
        !self.from.is_empty() || !self.to.is_empty()
    }
}

/// Seconds since the epoch are below this; milliseconds above (it is
/// 1973-03-03 in milliseconds, 5138 in seconds).
const MILLIS_FROM: i64 = 100_000_000_000;

/// A message's time as JSON gives it: a number of milliseconds or seconds
/// since the epoch (as a number or a string of digits), or an RFC 3339
/// string.
fn time_ms(v: &serde_json::Value) -> Option<i64> {
    let number = match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return s
                    .parse::<jiff::Timestamp>()
                    .ok()
                    .map(|t| t.as_millisecond())
            }
        },
        _ => None,
    }?;
    // (`unsigned_abs`: `i64::MIN` has no `abs`)
    Some(if number.unsigned_abs() < MILLIS_FROM.unsigned_abs() {
        number.saturating_mul(1000)
    } else {
        number
    })
}

/// Nesting below the pointer's object or array that is read.
const MAX_STRINGS_DEPTH: usize = 32;

/// Every string under the object or array at `pointer` of the
/// document `text`, as fields with their pointers, passing over what
/// id-like keys hold (see [`super::each_text_value`]). Parses the document:
/// only messages whose pointer names an object or array come here.
fn strings_at(text: &str, pointer: &str) -> Result<Vec<TextField<'static>>, DecodeError> {
    // (the one-pass read has checked the syntax: what fails here is nesting
    // past serde_json's limit, or a value off the path it cannot hold)
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            DecodeError::TooDeep {
                pointer: pointer.to_string(),
                max: 128,
            }
        } else {
            DecodeError::NotJson(e.to_string())
        }
    })?;
    let Some(at) = doc.pointer(pointer) else {
        return Ok(Vec::new());
    };
    let mut fields = Vec::new();
    super::each_text_value(at, pointer, 0, MAX_STRINGS_DEPTH, &mut |value, ptr| {
        if let Some(text) = value.as_str().filter(|t| !t.is_empty()) {
            fields.push(TextField {
                pointer: Some(Cow::Owned(ptr.to_string())),
                text: Cow::Owned(text.to_string()),
            });
        }
    })?;
    Ok(fields)
}

/// An id as text: a string's content, any other value as compact JSON (as
/// `Value::to_string` writes it: numbers re-formatted, no spaces).
fn id_text<'a>(raw: &'a RawValue) -> Cow<'a, str> {
    if let Ok(s) = serde_json::from_str::<BorrowedStr<'a>>(raw.get()) {
        return s.0;
    }
    match serde_json::from_str::<serde_json::Value>(raw.get()) {
        Ok(v) => Cow::Owned(v.to_string()),
        // the record's parse accepted it as a complete value
        Err(_) => Cow::Borrowed(raw.get()),
    }
}

/// What the walk looks for below the current value.
#[derive(Clone, Copy)]
enum Path<'p> {
    /// The current value itself must be the string.
    Whole,
    /// The rest of the pointer after a `/`: a token, then maybe `/` and more.
    Tokens(&'p str),
    /// Nothing can match (a pointer without a leading `/`).
    Nowhere,
}

impl<'p> Path<'p> {
    /// The next token (unescaped; none when the path ends here or leads
    /// nowhere) and the path below it.
    fn split(self) -> (Option<Cow<'p, str>>, Path<'p>) {
        let Path::Tokens(rest) = self else {
            return (None, Path::Nowhere);
        };
        let (token, below) = match rest.split_once('/') {
            Some((token, below)) => (token, Path::Tokens(below)),
            None => (rest, Path::Whole),
        };
        let token = if token.contains('~') {
            Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
        } else {
            Cow::Borrowed(token)
        };
        (Some(token), below)
    }
}

/// The top-level value.
enum Top<'de> {
    Object(Found<'de>),
    Null,
    Other,
}

/// What lies at the pointer.
enum At<'de> {
    /// A string: the message's one text field.
    Text(Cow<'de, str>),
    /// An object or an array: every string inside is a field.
    Strings,
}

/// What the top-level object gave.
struct Found<'de> {
    /// What lies at the pointer, if it is a string, an object or an array.
    text: Option<At<'de>>,
    /// The last value of each of [`ID_KEYS`].
    ids: [Option<&'de RawValue>; 3],
}

struct TopVisitor<'p> {
    path: Path<'p>,
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (token, below) = self.path.split();
        let token = token.as_deref();
        let mut found = Found {
            // `""`: the whole document, whose strings are all read
            text: matches!(self.path, Path::Whole).then_some(At::Strings),
            ids: [None; 3],
        };
        while let Some(key) = map.next_key_seed(KeyOf { token })? {
            match (key.on_path, key.id) {
                (false, None) => {
                    map.next_value::<IgnoredAny>()?;
                }
                (true, None) => {
                    found.text = map.next_value_seed(Descend { path: below })?;
                }
                (on_path, Some(i)) => {
                    let raw: &'de RawValue = map.next_value()?;
                    found.ids[i] = Some(raw);
                    if on_path {
                        // the pointer leads through an id key: walk the id
                        let mut de = serde_json::Deserializer::from_str(raw.get());
                        found.text = Descend { path: below }
                            .deserialize(&mut de)
                            .map_err(serde::de::Error::custom)?;
                    }
                }
            }
        }
        Ok(Top::Object(found))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Top::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Top::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Top::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Top::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Top::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Top::Other)
    }
}

/// A key: whether it is the pointer's next token, and which of [`ID_KEYS`]
/// it is.
struct Key {
    on_path: bool,
    id: Option<usize>,
}

/// Reads a key and compares it, without keeping it.
struct KeyOf<'t> {
    token: Option<&'t str>,
}

impl<'de> DeserializeSeed<'de> for KeyOf<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Key, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyOf<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        Ok(Key {
            on_path: self.token == Some(key),
            id: ID_KEYS.iter().position(|k| *k == key),
        })
    }
}

/// Walks one value along `path`: the string found there, if any. Every part
/// of the value is read (and so checked) whether on the path or not.
struct Descend<'p> {
    path: Path<'p>,
}

impl<'de> DeserializeSeed<'de> for Descend<'_> {
    type Value = Option<At<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Descend<'_> {
    type Value = Option<At<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(matches!(self.path, Path::Whole).then_some(At::Text(Cow::Borrowed(s))))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        // a string with escapes: serde_json hands over its unescaped copy
        Ok(matches!(self.path, Path::Whole).then(|| At::Text(Cow::Owned(s.to_string()))))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (token, below) = self.path.split();
        if token.is_none() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(matches!(self.path, Path::Whole).then_some(At::Strings));
        }
        let token = token.as_deref();
        let mut text = None;
        while let Some(key) = map.next_key_seed(KeyOf { token })? {
            // (ids are looked for at the top level only)
            if key.on_path {
                // a repeated key: the last one counts, as in a parsed map
                text = map.next_value_seed(Descend { path: below })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(text)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if matches!(self.path, Path::Whole) {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Some(At::Strings));
        }
        let (token, below) = self.path.split();
        let index = token.as_deref().and_then(array_index);
        let mut text = None;
        let mut i = 0usize;
        loop {
            if Some(i) == index {
                match seq.next_element_seed(Descend { path: below })? {
                    Some(found) => text = found,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(text)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An array index token as `Value::pointer` reads one.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// A string borrowed from the text where it has no escapes.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BorrowedStr<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(s)))
            }

            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(s.to_string())))
            }
        }
        de.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::escape_token;
    use proptest::prelude::*;
    use serde_json::Value;

    /// The strings under `v`, minus what id-like keys hold, with pointers.
    fn strings_under(v: &Value, ptr: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::String(s) if !s.is_empty() => out.push((ptr.to_string(), s.clone())),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    strings_under(item, &format!("{ptr}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    if !crate::envelope::never_text_key(k) {
                        strings_under(item, &format!("{ptr}/{}", escape_token(k)), out);
                    }
                }
            }
            _ => {}
        }
    }

    type Fields = Vec<(String, String)>;

    /// The format read from the whole document as a `Value`: the reference
    /// the one-pass reader must agree with.
    fn by_value(bytes: &[u8], pointer: &str) -> Result<(Fields, Option<String>, Value), String> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if !value.is_object() {
            return Err(if value.is_null() {
                "empty".into()
            } else {
                "not an object".into()
            });
        }
        let text = match value.pointer(pointer) {
            Some(Value::String(s)) => vec![(pointer.to_string(), s.clone())],
            Some(v @ (Value::Object(_) | Value::Array(_))) => {
                let mut out = Vec::new();
                strings_under(v, pointer, &mut out);
                if out.is_empty() {
                    return Err("no text".into());
                }
                out
            }
            _ => return Err("no text".into()),
        };
        let mut source = serde_json::Map::new();
        let mut id = None;
        for key in ID_KEYS {
            if let Some(v) = value.get(key) {
                id = Some(v.as_str().map_or_else(|| v.to_string(), str::to_string));
                source.insert(key.to_string(), v.clone());
                break;
            }
        }
        Ok((text, id, Value::Object(source)))
    }

    #[test]
    fn participants_are_read_where_the_pointers_lead() {
        let p = Participants {
            from: "/from/email".into(),
            to: "/to".into(),
            internal_domains: InternalDomains::new(["example.com"]).unwrap(),
            ..Default::default()
        };
        let read = |msg: &str| p.read(msg.as_bytes());
        let found = read(
            r#"{"from":{"email":"li@example.com"},"to":["wang@example.com",3,null,"x\u0040gmail.com"]}"#,
        );
        assert_eq!(found.from.as_deref(), Some("li@example.com"));
        // (escapes are read, what is not a string is passed over)
        assert_eq!(found.tolist, ["wang@example.com", "x@gmail.com"]);
        assert_eq!(found.audience, Audience::External);
        let found = read(r#"{"from":{"email":"li@example.com"},"to":"wang@example.com"}"#);
        assert_eq!(found.tolist, ["wang@example.com"]);
        assert_eq!(found.audience, Audience::Internal);
        for nobody in [
            r#"{"from":{"email":5},"to":{"a":"b@gmail.com"}}"#,
            r#"{"text":"hi"}"#,
            r#"{"from":"li@example.com"}"#,
            "not json",
            "[1,2]",
        ] {
            assert_eq!(read(nobody), Participation::default(), "{nobody}");
        }
        let source = read(r#"{"from":{"email":"li@example.com"},"to":[]}"#).into_source();
        assert_eq!(
            Value::Object(source),
            serde_json::json!({"from": "li@example.com"})
        );
        // empty pointers name no one
        let none = Participants::default();
        assert_eq!(none.read(br#"{"from":"a@b.c"}"#), Participation::default());
    }

    fn by_pass(bytes: &[u8], pointer: &str) -> Result<(Fields, Option<String>, Value), String> {
        match decode(bytes, pointer) {
            Ok(m) => Ok((
                m.field_pairs(),
                m.id.map(Cow::into_owned),
                Value::Object(m.source.into_map()),
            )),
            Err(DecodeError::Empty) => Err("empty".into()),
            Err(DecodeError::NoText { .. }) => Err("no text".into()),
            Err(DecodeError::NotJson(e)) if e == "not a JSON object" => Err("not an object".into()),
            Err(DecodeError::NotJson(e)) => Err(e),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The reader with no participants (shadows the glob import).
    fn decode<'a>(bytes: &'a [u8], pointer: &str) -> Result<Message<'a>, DecodeError> {
        super::decode(bytes, pointer, None)
    }

    /// Rich-text exports (a Feishu post, Slack attachments) hold their text
    /// in nested arrays and objects: a pointer to one reads every string in
    /// it, minus what id-like keys hold; `""` reads the whole message.
    #[test]
    fn an_object_or_array_at_the_pointer_has_every_string_read() {
        let msg = r#"{"id":"m1","content":{"title":"周报","post":[[{"tag":"text","text":"内幕消息"},{"tag":"at","user_id":"ou_1"}]],"create_time":"1732"},"files":[]}"#;
        let fields = |pointer: &str| -> Result<Vec<(String, String)>, &'static str> {
            decode(msg.as_bytes(), pointer)
                .map(|m| m.field_pairs())
                .map_err(|e| e.reason())
        };
        let pair = |p: &str, t: &str| (p.to_string(), t.to_string());
        let content = vec![
            pair("/content/post/0/0/tag", "text"),
            pair("/content/post/0/0/text", "内幕消息"),
            pair("/content/post/0/1/tag", "at"),
            pair("/content/title", "周报"),
        ];
        assert_eq!(fields("/content"), Ok(content.clone()));
        assert_eq!(
            fields("/content/post/0/0/text"),
            Ok(vec![content[1].clone()])
        );
        assert_eq!(fields(""), Ok(content));
        assert_eq!(fields("/files"), Err("no_text"));
        let m = decode(msg.as_bytes(), "/content").unwrap();
        assert_eq!(m.id.as_deref(), Some("m1"));
        // the sender's and recipients' ids are not text to scan
        let msg = br#"{"from":"li@example.com","to":["a@b.cn"],"toll":"x","body":"hi"}"#;
        let p = Participants {
            from: "/from".into(),
            to: "/to".into(),
            internal_domains: InternalDomains::default(),
            ..Default::default()
        };
        let m = super::decode(msg, "", Some(&p)).unwrap();
        let read: Vec<&str> = m.fields.iter().map(|f| f.text.as_ref()).collect();
        assert_eq!(read, ["hi", "x"]);
    }

    /// A message's time, where the pointer leads: milliseconds or seconds
    /// since the epoch, as numbers or strings of digits, or RFC 3339;
    /// anything else is no time.
    #[test]
    fn a_messages_time_in_each_way_it_is_written() {
        let p = Participants {
            time: "/at".into(),
            ..Default::default()
        };
        let ms = 1_794_700_800_000i64; // 2026-11-15T00:00:00Z
        for at in [
            serde_json::json!(ms),
            serde_json::json!(ms / 1000),
            serde_json::json!((ms / 1000).to_string()),
            serde_json::json!("2026-11-15T08:00:00+08:00"),
            serde_json::json!(1_794_700_800.0),
        ] {
            let msg = serde_json::json!({"at": at, "text": "hi"}).to_string();
            assert_eq!(p.read(msg.as_bytes()).written_ms, Some(ms), "{at}");
        }
        for at in [
            serde_json::json!("yesterday"),
            serde_json::json!(null),
            serde_json::json!([1]),
        ] {
            let msg = serde_json::json!({"at": at, "text": "hi"}).to_string();
            assert_eq!(p.read(msg.as_bytes()).written_ms, None, "{at}");
        }
        // the extremes are times long ago or far ahead, not a panic
        for (at, wanted) in [
            ("-9223372036854775808", i64::MIN),
            ("-1e300", i64::MIN),
            ("1e300", i64::MAX),
            ("-5", -5000),
        ] {
            let msg = format!(r#"{{"at": {at}, "text": "hi"}}"#);
            assert_eq!(p.read(msg.as_bytes()).written_ms, Some(wanted), "{at}");
        }
        assert!(!p.names_people());
    }

    #[test]
    fn reads_the_text_and_id_borrowed() {
        let msg = br#"{"id":"m-1","user":{"name":"li"},"text":"hello \u4f60","body":{"content":"plain"}}"#;
        let m = decode(msg, "/body/content").unwrap();
        assert_eq!(m.fields[0].text, "plain");
        assert!(
            matches!(m.fields[0].text, Cow::Borrowed(_)),
            "no copy without escapes"
        );
        assert!(matches!(m.id, Some(Cow::Borrowed("m-1"))));
        // escapes are unescaped into a copy
        let m = decode(msg, "/text").unwrap();
        assert_eq!(m.fields[0].text, "hello 你");
    }

    #[test]
    fn agrees_with_the_parsed_document_on_the_edges() {
        let docs: &[&str] = &[
            r#"{"text":"a","text":"b"}"#,
            r#"{"text":{"x":"a"},"text":5}"#,
            r#"{"a":[["x","y"],{"b":"z"}],"id":[1, 2.50, 1e3]}"#,
            r#"{"a/b":{"c~d":"s"},"msgid":7,"message_id":"late"}"#,
            r#"{"id":{"k":"v","text":"inner"}}"#,
            r#"{"message_id":"m","msgid":null}"#,
            r#"{"":{"":"empty keys"}}"#,
            r#"{"a":{"b":"x","b":"y"},"text":{"x":"a","x":5}}"#,
            r#"{"a":["x","y"],"text":["z"]}"#,
            r#"{"~1":"tilde one","/":"slash","~":"tilde"}"#,
            r#"{"text":"x"} trailing"#,
            r#"{"text":"x","bad":[1,}"#,
            r#"[{"text":"x"}]"#,
            r#""text""#,
            "null",
            "5",
        ];
        let pointers = [
            "",
            "/",
            "/text",
            "/text/x",
            "text",
            "/a/0/1",
            "/a/1/b",
            "/a/01",
            "/a/+1",
            "/a/a",
            "/a~1b/c~0d",
            "/id/text",
            "/id/k",
            "/id/1",
            "//",
            "/a/b",
            "/a/1",
            "/text/0",
            "/text/00",
            "/~01",
            "/~1",
            "/~0",
        ];
        for doc in docs {
            for p in pointers {
                assert_eq!(
                    by_pass(doc.as_bytes(), p),
                    by_value(doc.as_bytes(), p),
                    "{doc} at {p:?}"
                );
            }
        }
    }

    #[test]
    fn deep_nesting_is_read_without_recursion_off_the_path() {
        // skipped values are passed over without recursing, so no depth
        // overflows the stack; along the pointer serde_json's limit holds
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let doc = format!(r#"{{"a":{deep},"text":"ok"}}"#);
        assert_eq!(
            decode(doc.as_bytes(), "/text").unwrap().fields[0].text,
            "ok"
        );
        // an array at the pointer has its strings read from the parsed
        // document: this one is too deep to parse
        let doc = format!(r#"{{"text":{deep}}}"#);
        assert_eq!(
            decode(doc.as_bytes(), "/text").unwrap_err().reason(),
            "too_deep"
        );
        let path = format!("/a{}", "/0".repeat(200));
        let doc = format!(r#"{{"a":{deep}}}"#);
        assert_eq!(
            decode(doc.as_bytes(), &path).unwrap_err().reason(),
            "not_json"
        );
        let open = format!(r#"{{"text":"x","a":{}"#, "[".repeat(100_000));
        assert_eq!(
            decode(open.as_bytes(), "/text").unwrap_err().reason(),
            "not_json"
        );
    }

    #[test]
    fn strings_off_the_path_are_checked_but_not_decoded() {
        // a lone surrogate escape is refused where the text is read, and no
        // reason to refuse the message where it is not (the parsed document
        // refused both)
        let doc = br#"{"note":"\ud800","text":"ok"}"#;
        assert_eq!(decode(doc, "/text").unwrap().fields[0].text, "ok");
        let doc = br#"{"text":"\ud800"}"#;
        assert_eq!(decode(doc, "/text").unwrap_err().reason(), "not_json");
        // bad syntax anywhere is refused
        let doc = br#"{"note":"\x","text":"ok"}"#;
        assert_eq!(decode(doc, "/text").unwrap_err().reason(), "not_json");
    }

    /// A JSON document as text, objects written by hand so keys may repeat.
    #[derive(Debug, Clone)]
    enum Node {
        Leaf(Value),
        Array(Vec<Node>),
        Object(Vec<(String, Node)>),
    }

    impl Node {
        fn write(&self, out: &mut String) {
            match self {
                Node::Leaf(v) => out.push_str(&v.to_string()),
                Node::Array(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        item.write(out);
                    }
                    out.push(']');
                }
                Node::Object(entries) => {
                    out.push('{');
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&Value::from(k.as_str()).to_string());
                        out.push(':');
                        v.write(out);
                    }
                    out.push('}');
                }
            }
        }
    }

    impl Node {
        /// The pointer of every value in the tree, through repeated keys too.
        fn paths(&self, at: String, out: &mut Vec<String>) {
            match self {
                Node::Leaf(_) => {}
                Node::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        item.paths(format!("{at}/{i}"), out);
                    }
                }
                Node::Object(entries) => {
                    for (k, v) in entries {
                        v.paths(format!("{at}/{}", escape_token(k)), out);
                    }
                }
            }
            out.push(at);
        }
    }

    fn key() -> impl Strategy<Value = String> {
        // few distinct keys, so that keys repeat and pointers find them
        prop_oneof![
            4 => Just("text".to_string()),
            4 => Just("a".to_string()),
            1 => Just("id".to_string()),
            1 => Just("msgid".to_string()),
            1 => Just("message_id".to_string()),
            1 => Just("a/b".to_string()),
            1 => Just("0".to_string()),
            1 => "[a-c~/]{0,2}",
        ]
    }

    fn node() -> impl Strategy<Value = Node> {
        let leaf = prop_oneof![
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::from),
            1 => (-1000i64..1000).prop_map(Value::from),
            1 => (-10.0f64..10.0).prop_map(Value::from),
            4 => "[a-c~/\"\\\\内幕]{0,4}".prop_map(Value::from),
        ]
        .prop_map(Node::Leaf);
        leaf.prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Node::Array),
                proptest::collection::vec((key(), inner), 0..5).prop_map(Node::Object),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// On any document and pointer, the one-pass reader finds what the
        /// parsed document's `pointer` and keys give (repeated keys, array
        /// indexes, escaped tokens, ids of every kind).
        #[test]
        fn one_pass_equals_the_parsed_document(
            top in proptest::collection::vec((key(), node()), 0..6),
            pick in any::<proptest::sample::Index>(),
            made_up in any::<bool>(),
            tokens in proptest::collection::vec(
                prop_oneof![
                    4 => Just("text"), 4 => Just("a"), 1 => Just("id"), 1 => Just("msgid"),
                    1 => Just("0"), 1 => Just("1"), 1 => Just("01"), 1 => Just("+1"),
                    1 => Just("a~1b"), 1 => Just(""),
                ],
                0..4,
            ),
        ) {
            let top = Node::Object(top);
            let mut doc = String::new();
            top.write(&mut doc);
            // a place in the document, or a pointer made up of likely tokens
            let mut paths = Vec::new();
            top.paths(String::new(), &mut paths);
            let pointer = if made_up {
                tokens.iter().map(|t| format!("/{t}")).collect()
            } else {
                paths[pick.index(paths.len())].clone()
            };
            prop_assert_eq!(
                by_pass(doc.as_bytes(), &pointer),
                by_value(doc.as_bytes(), &pointer),
                "{} at {:?}",
                doc,
                pointer
            );
        }
    }
}
