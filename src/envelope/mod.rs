//! Message bytes -> the text fields to scan and the ids to report, or a decode
//! error with a reason (which sends the message to the dead-letter topic).
//!
//! ```
//! use wordwarden::envelope::{decode, InputFormat};
//!
//! let msg = decode(br#"{"text": "hello"}"#, &InputFormat::json("/text")).unwrap();
//! assert_eq!(msg.fields[0].text, "hello");
//! assert_eq!(msg.fields[0].pointer.as_deref(), Some("/text"));
//!
//! let err = decode(b"\xff\xfe", &InputFormat::Text).unwrap_err();
//! assert_eq!(err.reason(), "not_utf8");
//! ```

mod json;
mod wecom;

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::audience::Audience;
pub use json::{Participants, Participation};
pub use wecom::{WecomOptions, TEXTLESS_MSGTYPES};

/// How message bytes are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFormat {
    /// The whole message is UTF-8 text.
    Text,
    /// A JSON object; the text is the string at `pointer`.
    Json {
        /// RFC 6901 pointer of the text (default `/text`).
        pointer: String,
        /// Where the message names its sender and recipients; `None`: its
        /// audience is unknown.
        participants: Option<Participants>,
    },
    /// A WeChat Work (WeCom) chat-archive record; every text-bearing field of
    /// every message type is scanned.
    Wecom(WecomOptions),
}

impl InputFormat {
    /// JSON with the text at `pointer`.
    pub fn json(pointer: &str) -> Self {
        InputFormat::Json {
            pointer: pointer.to_string(),
            participants: None,
        }
    }

    /// JSON with the text at `pointer` and the sender and recipients where
    /// `participants` says.
    ///
    /// ```
    /// use wordwarden::audience::{Audience, InternalDomains};
    /// use wordwarden::envelope::{InputFormat, Participants};
    ///
    /// let format = InputFormat::json_with_participants("/text", Participants {
    ///     from: "/sender/email".into(),
    ///     to: "/to".into(),
    ///     internal_domains: InternalDomains::new(["example.com"]).unwrap(),
    ///     ..Default::default()
    /// });
    /// let msg = br#"{"sender":{"email":"li@example.com"},"to":["buyer@gmail.com"],"text":"hi"}"#;
    /// let found = format.participants().unwrap().read(msg);
    /// assert_eq!(found.audience, Audience::External);
    /// assert_eq!(found.from.as_deref(), Some("li@example.com"));
    /// assert_eq!(found.tolist, ["buyer@gmail.com"]);
    /// ```
    pub fn json_with_participants(pointer: &str, participants: Participants) -> Self {
        InputFormat::Json {
            pointer: pointer.to_string(),
            participants: Some(participants),
        }
    }

    /// Where a `json` message names its sender and recipients, when told.
    pub fn participants(&self) -> Option<&Participants> {
        match self {
            InputFormat::Json {
                participants: Some(p),
                ..
            } => Some(p),
            _ => None,
        }
    }

    /// Who the message `bytes` (decoded, with `source`) went between: a
    /// WeCom record's own ids, or the participants of a `json` message told
    /// where they are (read from `bytes`). Asked only for a message with
    /// hits.
    pub fn participation(&self, bytes: &[u8], source: &Source<'_>) -> Participation {
        match self.participants() {
            Some(p) => p.read(self.document(bytes)),
            None => source.participation(),
        }
    }

    /// The document in a message's `bytes`: for `json` and `wecom`, what
    /// follows the header that Confluent Schema Registry's serializers put
    /// before it (a zero byte, then a 4-byte schema id), if there is one.
    /// JSON never starts with a zero byte, so a document cannot be taken for
    /// a header; what follows a header is judged as any message is (an Avro
    /// or Protobuf body is `not_json`).
    ///
    /// ```
    /// use wordwarden::envelope::InputFormat;
    ///
    /// let framed = b"\0\0\0\0\x2a{\"text\":\"hi\"}";
    /// assert_eq!(InputFormat::json("/text").document(framed), br#"{"text":"hi"}"#);
    /// assert_eq!(InputFormat::Text.document(framed), framed);
    /// ```
    pub fn document<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        match (self, bytes) {
            (InputFormat::Text, _) => bytes,
            (_, [0, _, _, _, _, document @ ..]) => document,
            _ => bytes,
        }
    }

    /// Whether messages of this format name their sender and recipients,
    /// so their [`Audience`] can be known: WeCom records, and `json` told
    /// where.
    pub fn names_people(&self) -> bool {
        matches!(self, InputFormat::Wecom(_))
            || self.participants().is_some_and(Participants::names_people)
    }

    /// WeCom records with default options.
    pub fn wecom() -> Self {
        InputFormat::Wecom(WecomOptions::default())
    }

    /// Parses `text`, `json` or `wecom`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "text" => Ok(InputFormat::Text),
            "json" => Ok(InputFormat::json("/text")),
            "wecom" => Ok(InputFormat::wecom()),
            other => Err(format!(
                "unknown input format {other:?} (text, json, wecom)"
            )),
        }
    }

    /// The format's name.
    pub fn name(&self) -> &'static str {
        match self {
            InputFormat::Text => "text",
            InputFormat::Json { .. } => "json",
            InputFormat::Wecom(_) => "wecom",
        }
    }
}

/// One text field of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextField<'a> {
    /// JSON pointer of the field (`None` for plain text input).
    pub pointer: Option<Cow<'static, str>>,
    /// The field's text.
    pub text: Cow<'a, str>,
}

impl<'a> TextField<'a> {
    /// A plain-text field without pointer.
    pub fn plain(text: &'a str) -> Self {
        TextField {
            pointer: None,
            text: Cow::Borrowed(text),
        }
    }
}

/// The field's text, so a message's fields can be scanned as they are
/// ([`Scanner::scan`](crate::ruleset::Scanner::scan)).
impl AsRef<str> for TextField<'_> {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// A part of a record that could not be read, while the rest could.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// JSON pointer of the unreadable place.
    pub pointer: String,
    /// What is wrong.
    pub reason: String,
}

/// A decoded message.
#[derive(Debug, Clone, Default)]
pub struct Message<'a> {
    /// Text fields to scan, in record order.
    pub fields: Vec<TextField<'a>>,
    /// Ids and metadata that alerts carry in `source`.
    pub source: Source<'a>,
    /// A stable id of the message when it has one (WeCom `msgid`), borrowed
    /// from the record where it can be.
    pub id: Option<Cow<'a, str>>,
    /// WeCom message type, when known.
    pub msgtype: Option<Cow<'static, str>>,
    /// Unreadable parts (the rest was scanned).
    pub problems: Vec<FieldProblem>,
    /// The id of the message this one withdraws: a WeCom `revoke`
    /// record's `pre_msgid` (the sender took that message back).
    pub withdraws: Option<String>,
}

#[cfg(test)]
impl Message<'_> {
    /// The fields as `(pointer, text)`, for tests.
    pub(crate) fn field_pairs(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|f| {
                (
                    f.pointer.as_deref().unwrap_or_default().to_string(),
                    f.text.to_string(),
                )
            })
            .collect()
    }
}

/// Ids and metadata of a message that an alert carries in its `source`.
///
/// Most messages never alert: a WeCom text record keeps its ids as the
/// record's own JSON until [`Source::into_map`] (building the map for every
/// message took a third of the WeCom decode path).
///
/// ```
/// use wordwarden::envelope::{decode, InputFormat};
///
/// let rec = br#"{"msgid":"m1","msgtype":"text","from":"li","tolist":["wang"],"text":{"content":"hi"}}"#;
/// let msg = decode(rec, &InputFormat::wecom()).unwrap();
/// let source = msg.source.into_map();
/// assert_eq!(source["from"], "li");
/// assert_eq!(source["tolist"][0], "wang");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Source<'a> {
    map: Map<String, Value>,
    /// Entries not made values yet, made by [`Source::into_map`].
    pending: Vec<(&'static str, Pending<'a>)>,
}

#[derive(Debug, Clone)]
enum Pending<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A value as the record's JSON text.
    Json(&'a serde_json::value::RawValue),
}

impl<'a> Source<'a> {
    /// Room for `n` entries not made values yet.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Source {
            map: Map::new(),
            pending: Vec::with_capacity(n),
        }
    }

    /// A string entry, made a value when the map is built.
    pub(crate) fn push_str(&mut self, key: &'static str, value: Cow<'a, str>) {
        self.pending.push((key, Pending::Str(value)));
    }

    /// An entry as the record's JSON text, parsed when the map is built.
    pub(crate) fn push_json(&mut self, key: &'static str, value: &'a serde_json::value::RawValue) {
        self.pending.push((key, Pending::Json(value)));
    }

    /// Who the message went between, from its sender (`from`) and
    /// recipients (`tolist`); [`Audience::Unknown`] when the record names
    /// neither.
    ///
    /// ```
    /// use wordwarden::audience::Audience;
    /// use wordwarden::envelope::{decode, InputFormat};
    ///
    /// let rec = br#"{"msgtype":"text","from":"li","tolist":["wmAbCdEfGhIjKlMnOpQrStUv"],"text":{"content":"hi"}}"#;
    /// let msg = decode(rec, &InputFormat::wecom()).unwrap();
    /// assert_eq!(msg.source.audience(), Audience::External);
    /// ```
    pub fn audience(&self) -> Audience {
        // the sender's and the recipients' audiences join by `Audience`'s
        // order: an external contact anywhere makes the message external
        let mut audience = Audience::Unknown;
        for key in AUDIENCE_KEYS {
            if let Some(v) = self.map.get(key) {
                audience = audience.max(value_audience(v));
            }
        }
        for (key, pending) in &self.pending {
            if AUDIENCE_KEYS.contains(key) {
                audience = audience.max(match pending {
                    Pending::Str(s) => Audience::of_ids([s.as_ref()]),
                    Pending::Json(raw) => raw_audience(raw.get()),
                });
            }
        }
        audience
    }

    /// The sender (`from`) and recipients (`tolist`) the record names, and
    /// the [`audience`](Source::audience) they make.
    ///
    /// ```
    /// use wordwarden::envelope::{decode, InputFormat};
    ///
    /// let rec = br#"{"msgtype":"text","from":"li","tolist":["wang","zhao"],"text":{"content":"hi"}}"#;
    /// let people = decode(rec, &InputFormat::wecom()).unwrap().source.participation();
    /// assert_eq!(people.from.as_deref(), Some("li"));
    /// assert_eq!(people.tolist, ["wang", "zhao"]);
    /// ```
    pub fn participation(&self) -> Participation {
        let ids = |key: &str| -> Vec<String> {
            let parsed;
            let value = match self.map.get(key) {
                Some(v) => v,
                None => match self.pending.iter().find(|(k, _)| *k == key) {
                    Some((_, Pending::Str(s))) => return vec![s.to_string()],
                    Some((_, Pending::Json(raw))) => match serde_json::from_str(raw.get()) {
                        Ok(v) => {
                            parsed = v;
                            &parsed
                        }
                        Err(_) => return Vec::new(),
                    },
                    None => return Vec::new(),
                },
            };
            match value {
                Value::String(id) => vec![id.clone()],
                Value::Array(ids) => ids
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let first = |key| ids(key).into_iter().find(|id| !id.is_empty());
        Participation {
            audience: self.audience(),
            from: first("from"),
            tolist: ids("tolist"),
            room: first("roomid"),
            written_ms: self.msgtime(),
        }
    }

    /// The sender in this conversation (the group chat, else the
    /// recipients), for runs of short messages ([`crate::split`]), read
    /// from the ids as they are (no values built); `None` when the record
    /// names no sender.
    ///
    /// ```
    /// use wordwarden::envelope::{decode, InputFormat};
    /// use wordwarden::split::Speaker;
    ///
    /// let rec = br#"{"msgtype":"text","from":"li","tolist":["zhao","wang"],"roomid":"","text":{"content":"hi"}}"#;
    /// let msg = decode(rec, &InputFormat::wecom()).unwrap();
    /// assert_eq!(msg.source.speaker(), Some(Speaker::new("li", ["wang", "zhao"])));
    /// ```
    pub fn speaker(&self) -> Option<crate::split::Speaker> {
        let from = self.text_of("from")?;
        let room = self.text_of("roomid");
        let to = self.texts_of("tolist");
        crate::split::Speaker::of(&from, room.as_deref(), to.iter().map(|t| &**t))
    }

    /// The string at `key`, borrowed where it has no escapes.
    fn text_of(&self, key: &str) -> Option<Cow<'_, str>> {
        if let Some(v) = self.map.get(key) {
            return v.as_str().map(Cow::Borrowed);
        }
        match &self.pending.iter().find(|(k, _)| *k == key)?.1 {
            Pending::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Pending::Json(raw) => json_str(raw.get()),
        }
    }

    /// The strings at `key` (an array of them, or one).
    fn texts_of(&self, key: &str) -> Vec<Cow<'_, str>> {
        if let Some(v) = self.map.get(key) {
            return match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(Cow::Borrowed))
                    .collect(),
                Value::String(s) => vec![Cow::Borrowed(s.as_str())],
                _ => Vec::new(),
            };
        }
        match self.pending.iter().find(|(k, _)| *k == key).map(|(_, p)| p) {
            Some(Pending::Str(s)) => vec![Cow::Borrowed(s.as_ref())],
            Some(Pending::Json(raw)) => {
                let raw = raw.get();
                if let Some(items) = plain_ids(raw) {
                    return items;
                }
                match serde_json::from_str::<Vec<String>>(raw) {
                    Ok(items) => items.into_iter().map(Cow::Owned).collect(),
                    Err(_) => json_str(raw).into_iter().collect(),
                }
            }
            None => Vec::new(),
        }
    }

    /// When the record says its message was written (WeCom's `msgtime`,
    /// milliseconds since the epoch).
    pub fn msgtime(&self) -> Option<i64> {
        match self.map.get("msgtime") {
            Some(v) => v.as_i64(),
            None => match self.pending.iter().find(|(k, _)| *k == "msgtime")? {
                (_, Pending::Str(_)) => None,
                (_, Pending::Json(raw)) => raw.get().parse().ok(),
            },
        }
    }

    /// The entries as a JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        let mut map = self.map;
        for (key, pending) in self.pending {
            let value = match pending {
                Pending::Str(s) => Value::from(s.into_owned()),
                // a complete JSON value, as the record's parse found it
                Pending::Json(raw) => match serde_json::from_str(raw.get()) {
                    Ok(v) => v,
                    Err(_) => continue,
                },
            };
            map.insert(key.to_string(), value);
        }
        map
    }
}

/// The record's keys naming the sender and the recipients.
const AUDIENCE_KEYS: [&str; 2] = ["from", "tolist"];

/// The audience of ids held as a JSON string or an array of strings.
fn value_audience(v: &Value) -> Audience {
    match v {
        Value::String(id) => Audience::of_ids([id.as_str()]),
        Value::Array(ids) => Audience::of_ids(ids.iter().filter_map(Value::as_str)),
        _ => Audience::Unknown,
    }
}

/// The audience of ids as the record's JSON text, without building values
/// (a group's `tolist` can name hundreds of members): ids need no escapes,
/// so the strings are what lies between the quotes. Text with an escape is
/// parsed.
fn raw_audience(raw: &str) -> Audience {
    let bytes = raw.as_bytes();
    if memchr::memchr(b'\\', bytes).is_some() {
        return serde_json::from_str::<Value>(raw)
            .map_or(Audience::Unknown, |v| value_audience(&v));
    }
    // (`"` is ASCII: its places are character boundaries)
    let mut quotes = memchr::memchr_iter(b'"', bytes);
    Audience::of_ids(std::iter::from_fn(|| {
        Some(&raw[quotes.next()? + 1..quotes.next()?])
    }))
}

impl From<Map<String, Value>> for Source<'_> {
    fn from(map: Map<String, Value>) -> Self {
        Source {
            map,
            pending: Vec::new(),
        }
    }
}

/// Why a message could not be decoded. [`DecodeError::reason`] is the short
/// code used in dead-letter headers and metric labels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Empty or null payload.
    #[error("empty message")]
    Empty,
    /// Over the configured maximum size.
    #[error("message of {size} bytes is over the maximum of {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The maximum.
        max: usize,
    },
    /// Not valid UTF-8 (nor text in the input's configured encoding,
    /// [`to_utf8`]).
    #[error("{}", not_utf8_message(*.valid_up_to, *.reads_as, *.not_in))]
    NotUtf8 {
        /// Bytes that were valid.
        valid_up_to: usize,
        /// The legacy encoding the message reads as, if any
        /// ([`crate::encoding::legacy_encoding`]): what `input_encoding`
        /// would name to read it.
        reads_as: Option<&'static str>,
        /// The input's configured encoding, which does not read it either.
        not_in: Option<&'static str>,
    },
    /// Not valid JSON, or not an object.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// No text where the format expects it.
    #[error("no text at {pointer}")]
    NoText {
        /// The pointer that held no string.
        pointer: String,
    },
    /// A WeCom session-archive item as `GetChatData` returns it, still
    /// encrypted (`encrypt_random_key`, `encrypt_chat_msg`), or a whole
    /// `GetChatData` answer (`chatdata`): the archiver must decrypt each
    /// item before sending it on.
    #[error(
        "a WeCom session-archive item still encrypted (encrypt_chat_msg at {pointer}): \
         decrypt each item (the Finance SDK's DecryptData) before it is sent to wordwarden"
    )]
    Encrypted {
        /// Where the ciphertext is.
        pointer: String,
    },
    /// Nested deeper than the configured limit.
    #[error("nested deeper than {max} levels at {pointer}")]
    TooDeep {
        /// Where the limit was passed.
        pointer: String,
        /// The limit.
        max: usize,
    },
}

impl DecodeError {
    /// A short, bounded code (`not_utf8`, `not_json`, `no_text`, `too_large`,
    /// `too_deep`, `empty`, `encrypted`) for headers and metric labels.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::NotUtf8 { .. } => "not_utf8",
            DecodeError::NotJson(_) => "not_json",
            DecodeError::NoText { .. } => "no_text",
            DecodeError::TooDeep { .. } => "too_deep",
            DecodeError::Encrypted { .. } => "encrypted",
        }
    }
}

/// Decodes one message.
pub fn decode<'a>(bytes: &'a [u8], format: &InputFormat) -> Result<Message<'a>, DecodeError> {
    let bytes = format.document(bytes);
    match format {
        InputFormat::Text => {
            let text = utf8(bytes)?;
            Ok(Message {
                fields: vec![TextField::plain(text)],
                ..Default::default()
            })
        }
        InputFormat::Json {
            pointer,
            participants,
        } => json::decode(bytes, pointer, participants.as_ref()),
        InputFormat::Wecom(opts) => {
            if opts.record_pointer.is_empty() {
                let text = utf8(bytes)?;
                if let Some(m) = wecom::decode_text_fast(text) {
                    return Ok(m);
                }
            }
            let value = parse_json(bytes)?;
            wecom::decode_record(&value, opts)
        }
    }
}

/// The bytes as text. `simdutf8` checks a chat message several times faster
/// than the standard library (its check was 6% of the engine's time); only an
/// invalid message is checked again, for the position of the first bad byte
/// and the encoding it reads as.
fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| {
        std::str::from_utf8(bytes).map_err(|e| DecodeError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
            reads_as: crate::encoding::legacy_encoding(bytes),
            not_in: None,
        })
    })
}

/// A message's bytes as UTF-8 for [`decode`]: as they are where they are
/// UTF-8 or the input has no other encoding, else read in `charset` (the
/// input's `input_encoding`, for an archiver that writes GB18030 or Big5).
/// A message that reads in neither is [`DecodeError::NotUtf8`].
///
/// ```
/// use wordwarden::encoding::Charset;
/// use wordwarden::envelope::{decode, to_utf8, InputFormat};
///
/// let gbk = Charset::for_label("gbk").unwrap();
/// // {"text":"内幕消息"} as GBK
/// let mut record = br#"{"text":""#.to_vec();
/// record.extend([0xC4, 0xDA, 0xC4, 0xBB, 0xCF, 0xFB, 0xCF, 0xA2]);
/// record.extend(br#""}"#);
/// let format = InputFormat::json("/text");
/// assert_eq!(decode(&record, &format).unwrap_err().reason(), "not_utf8");
/// let utf8 = to_utf8(&record, gbk).unwrap();
/// assert_eq!(decode(&utf8, &format).unwrap().fields[0].text, "内幕消息");
/// ```
pub fn to_utf8(
    bytes: &[u8],
    charset: Option<crate::encoding::Charset>,
) -> Result<Cow<'_, [u8]>, DecodeError> {
    Ok(match read_in(bytes, charset)? {
        Some(text) => Cow::Owned(text.into_bytes()),
        None => Cow::Borrowed(bytes),
    })
}

/// A whole message (or a line of a corpus) as text, as [`decode`] reads
/// `text` input after [`to_utf8`]: UTF-8, else in `charset`.
///
/// ```
/// use wordwarden::encoding::Charset;
/// use wordwarden::envelope::text_of;
///
/// let gbk = [0xC4, 0xDA, 0xC4, 0xBB]; // 内幕
/// assert_eq!(text_of(&gbk, Charset::for_label("gbk").unwrap()).unwrap(), "内幕");
/// let err = text_of(&gbk, None).unwrap_err();
/// assert!(err.to_string().contains("reads as gb18030"), "{err}");
/// ```
pub fn text_of(
    bytes: &[u8],
    charset: Option<crate::encoding::Charset>,
) -> Result<Cow<'_, str>, DecodeError> {
    match read_in(bytes, charset)? {
        Some(text) => Ok(Cow::Owned(text)),
        None => utf8(bytes).map(Cow::Borrowed),
    }
}

/// `bytes` read in `charset` where they are not UTF-8 (`None`: as they
/// are, unchecked where no charset is given: [`decode`] checks them).
fn read_in(
    bytes: &[u8],
    charset: Option<crate::encoding::Charset>,
) -> Result<Option<String>, DecodeError> {
    let Some(charset) = charset else {
        return Ok(None);
    };
    if simdutf8::basic::from_utf8(bytes).is_ok() {
        return Ok(None);
    }
    match charset.decode(bytes) {
        Some(text) => Ok(Some(text.into_owned())),
        None => Err(DecodeError::NotUtf8 {
            valid_up_to: std::str::from_utf8(bytes)
                .err()
                .map_or(bytes.len(), |e| e.valid_up_to()),
            reads_as: crate::encoding::legacy_encoding(bytes),
            not_in: Some(charset.name()),
        }),
    }
}

/// [`DecodeError::NotUtf8`]'s message: where, and what would read it.
fn not_utf8_message(
    valid_up_to: usize,
    reads_as: Option<&'static str>,
    not_in: Option<&'static str>,
) -> String {
    let what = match not_in {
        Some(configured) => format!("neither UTF-8 nor {configured}"),
        None => "not valid UTF-8".to_string(),
    };
    let readable = |name: &str| matches!(crate::encoding::Charset::for_label(name), Ok(Some(_)));
    match reads_as.filter(|&r| Some(r) != not_in) {
        Some(encoding) if readable(encoding) => format!(
            "{what} (first bad byte at offset {valid_up_to}); it reads as {encoding} text: \
             input_encoding = \"{encoding}\" (--input-encoding) reads such messages"
        ),
        // UTF-16 cannot be told from UTF-8 message by message
        Some(encoding) => format!(
            "{what} (first bad byte at offset {valid_up_to}); it reads as {encoding} text: \
             have its producer write UTF-8"
        ),
        None => format!("{what} (first bad byte at offset {valid_up_to})"),
    }
}

/// UTF-8 check first (so the reason is exact), then JSON; serde_json's
/// recursion limit turns absurd nesting into an error, never a stack overflow.
fn parse_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let text = utf8(bytes)?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Err(DecodeError::Empty),
        _ => Err(DecodeError::NotJson("not a JSON object".into())),
    }
}

/// Keys whose values never hold human text: ids, times, sizes, hashes.
pub(crate) fn never_text_key(key: &str) -> bool {
    matches!(
        key,
        "sdkfileid" | "md5sum" | "filesize" | "fileext" | "play_length" | "size"
    ) || key.ends_with("id")
        || key.ends_with("time")
}

/// Calls `take` with every string under `value` and its pointer,
/// in document order, passing over the values of [`never_text_key`]s; an
/// error past `max_depth` levels below `depth`.
pub(crate) fn each_text_value(
    value: &Value,
    ptr: &str,
    depth: usize,
    max_depth: usize,
    take: &mut impl FnMut(&Value, &str),
) -> Result<(), DecodeError> {
    if depth > max_depth {
        return Err(DecodeError::TooDeep {
            pointer: ptr.to_string(),
            max: max_depth,
        });
    }
    match value {
        Value::String(_) => take(value, ptr),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                each_text_value(v, &format!("{ptr}/{i}"), depth + 1, max_depth, take)?;
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                if !never_text_key(k) {
                    let below = format!("{ptr}/{}", escape_token(k));
                    each_text_value(v, &below, depth + 1, max_depth, take)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Escapes one RFC 6901 reference token.
pub(crate) fn escape_token(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// The ids of a JSON array of strings without escapes (`["li","wang"]`,
/// as records hold them), read without a parser; `None` for any other
/// JSON, which the parser reads.
fn plain_ids(raw: &str) -> Option<Vec<Cow<'_, str>>> {
    let inner = raw.strip_prefix('[')?.strip_suffix(']')?.trim();
    if inner.contains('\\') {
        return None;
    }
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner
        .split(',')
        .map(|item| {
            let id = item.trim().strip_prefix('"')?.strip_suffix('"')?;
            (!id.contains('"')).then_some(Cow::Borrowed(id))
        })
        .collect()
}

/// A JSON string's value, borrowed where it has no escapes; `None` for
/// other JSON.
fn json_str(raw: &str) -> Option<Cow<'_, str>> {
    // an id without escapes, as ids are: no parser started for it
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        if !inner.contains(['\\', '"']) {
            return Some(Cow::Borrowed(inner));
        }
    }
    // escapes: the parser makes the string
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids read without a parser are what the parser reads; anything
    /// else goes to the parser.
    #[test]
    fn plain_ids_read_as_json_does() {
        for raw in [
            r#"["li","wang"]"#,
            r#"[ "li" , "wang" ]"#,
            "[]",
            r#"["a,b"]"#,
        ] {
            let parsed: Vec<String> = serde_json::from_str(raw).expect("JSON");
            match plain_ids(raw) {
                Some(ids) => assert_eq!(ids, parsed, "{raw}"),
                None => assert_eq!(parsed, ["a,b"], "{raw}"),
            }
        }
        for other in [r#"["l\"i"]"#, r#"["li",1]"#, r#"{"a":1}"#, r#""li""#] {
            assert_eq!(plain_ids(other), None, "{other}");
        }
        assert_eq!(json_str(r#""li""#).as_deref(), Some("li"));
        assert_eq!(json_str(r#""l\u0069""#).as_deref(), Some("li"));
        assert_eq!(json_str("12"), None);
    }

    #[test]
    fn text_format() {
        let m = decode("你好".as_bytes(), &InputFormat::Text).unwrap();
        assert_eq!(m.fields[0].text, "你好");
        assert!(m.fields[0].pointer.is_none());
        assert_eq!(
            decode(b"ok\xff", &InputFormat::Text).unwrap_err(),
            DecodeError::NotUtf8 {
                valid_up_to: 2,
                reads_as: None,
                not_in: None
            }
        );
    }

    /// A message in GBK or Big5 is dead-lettered with the encoding it
    /// reads as named, and read where the input is configured with it;
    /// UTF-8 stays as it is either way.
    #[test]
    fn messages_in_a_legacy_encoding_are_named_or_read() {
        let gbk = crate::encoding::Charset::for_label("gbk").unwrap();
        let big5 = crate::encoding::Charset::for_label("big5").unwrap();
        let record = |encoding: &'static encoding_rs::Encoding, text: &str| {
            let json = format!(
                r#"{{"msgid":"m1","from":"li","msgtype":"text","text":{{"content":"{text}"}}}}"#
            );
            encoding.encode(&json).0.into_owned()
        };
        let wecom = InputFormat::wecom();
        let gbk_record = record(encoding_rs::GBK, "我有内幕消息，明天涨停");
        let err = decode(&gbk_record, &wecom).unwrap_err();
        assert_eq!(err.reason(), "not_utf8");
        assert!(
            err.to_string()
                .contains("it reads as gb18030 text: input_encoding = \"gb18030\""),
            "{err}"
        );
        let read = to_utf8(&gbk_record, gbk).unwrap();
        assert!(matches!(read, Cow::Owned(_)));
        let msg = decode(&read, &wecom).unwrap();
        assert_eq!(msg.fields[0].text, "我有内幕消息，明天涨停");
        assert_eq!(msg.id.as_deref(), Some("m1"));
        // UTF-8 is never read as GBK, whatever is configured
        let utf8 = record(encoding_rs::UTF_8, "内幕消息");
        assert!(matches!(to_utf8(&utf8, gbk).unwrap(), Cow::Borrowed(_)));
        assert!(matches!(
            to_utf8(&gbk_record, None).unwrap(),
            Cow::Borrowed(_)
        ));
        // Big5 input read as Big5
        let big5_record = record(encoding_rs::BIG5, "內幕消息，明天漲停，別外傳");
        let read = to_utf8(&big5_record, big5).unwrap();
        assert!(String::from_utf8_lossy(&read).contains("內幕消息，明天漲停"));
        let not = to_utf8(&[b'a', 0x81, 0xFF], gbk).unwrap_err();
        assert_eq!(
            not,
            DecodeError::NotUtf8 {
                valid_up_to: 1,
                reads_as: None,
                not_in: Some("GBK")
            }
        );
        assert_eq!(
            not.to_string(),
            "neither UTF-8 nor GBK (first bad byte at offset 1)"
        );
        // UTF-16 is named, not offered: it cannot be told from UTF-8
        let utf16: Vec<u8> = [0xFF, 0xFE, 0x85, 0x51, 0x55, 0x5E].to_vec(); // 内幕
        let err = decode(&utf16, &InputFormat::Text).unwrap_err().to_string();
        assert!(
            err.ends_with("it reads as UTF-16LE text: have its producer write UTF-8"),
            "{err}"
        );
    }

    /// Messages written by Confluent Schema Registry's JSON serializers
    /// (a zero byte and a 4-byte schema id before the document) read as
    /// the document alone, ids and participants too; plain text keeps
    /// every byte.
    #[test]
    fn schema_registry_headers_are_skipped() {
        let header = [0u8, 0, 0, 0, 42];
        let framed = |doc: &str| [&header[..], doc.as_bytes()].concat();
        let json = InputFormat::json_with_participants(
            "/text",
            Participants {
                from: "/from".into(),
                to: "/to".into(),
                internal_domains: crate::audience::InternalDomains::new(["example.com"]).unwrap(),
                ..Default::default()
            },
        );
        let doc = r#"{"id":"m1","text":"内幕消息","from":"a@example.com","to":["b@outside.cn"]}"#;
        let bytes = framed(doc);
        let m = decode(&bytes, &json).unwrap();
        assert_eq!(m.fields[0].text, "内幕消息");
        assert_eq!(m.source.into_map()["id"], "m1");
        let m = decode(&bytes, &json).unwrap();
        let people = json.participation(&bytes, &m.source);
        assert_eq!(people.audience, Audience::External);
        assert_eq!(people.tolist, ["b@outside.cn"]);

        let record = r#"{"msgid":"w1","action":"send","from":"zhangsan","tolist":["lisi"],"msgtime":1,"msgtype":"text","text":{"content":"内幕消息"}}"#;
        let bytes = framed(record);
        let m = decode(&bytes, &InputFormat::wecom()).unwrap();
        assert_eq!(m.fields[0].text, "内幕消息");

        // an Avro body behind the header is no JSON
        let avro = [&header[..], b"\x02\x0cabc"].concat();
        assert_eq!(decode(&avro, &json).unwrap_err().reason(), "not_json");
        // text is taken as it is: the header's bytes stay in it
        let bytes = framed("hi");
        let m = decode(&bytes, &InputFormat::Text).unwrap();
        assert_eq!(m.fields[0].text.len(), 7);
    }

    #[test]
    fn json_format_errors_have_reasons() {
        let f = InputFormat::json("/text");
        assert_eq!(decode(b"", &f).unwrap_err().reason(), "empty");
        assert_eq!(decode(b"null", &f).unwrap_err().reason(), "empty");
        assert_eq!(decode(b"{", &f).unwrap_err().reason(), "not_json");
        assert_eq!(decode(b"[1]", &f).unwrap_err().reason(), "not_json");
        assert_eq!(
            decode(br#"{"text": 5}"#, &f).unwrap_err().reason(),
            "no_text"
        );
        assert_eq!(decode(b"\xc3\x28", &f).unwrap_err().reason(), "not_utf8");
        let deep = "[".repeat(100_000);
        assert_eq!(
            decode(deep.as_bytes(), &f).unwrap_err().reason(),
            "not_json"
        );
    }

    #[test]
    fn json_custom_pointer_and_id() {
        let f = InputFormat::json("/body/content");
        let m = decode(br#"{"id": 7, "body": {"content": "hi"}}"#, &f).unwrap();
        assert_eq!(m.fields[0].text, "hi");
        assert_eq!(m.id.as_deref(), Some("7"));
    }

    /// Both ways a WeCom record is read (the fast path for text records,
    /// the general one for the rest) tell the same audience, escapes and all.
    #[test]
    fn audience_from_sender_and_recipients() {
        let ext = "wmAbc123AbCdEfGhIjKlMnOpQ";
        let cases = [
            (
                format!(r#""from":"li","tolist":["wang","{ext}"]"#),
                Audience::External,
            ),
            (
                format!(r#""from":"{ext}","tolist":["wang"]"#),
                Audience::External,
            ),
            (
                r#""from":"li","tolist":["wang","zhao"]"#.to_string(),
                Audience::Internal,
            ),
            (r#""from":"li""#.to_string(), Audience::Internal),
            (r#""tolist":[]"#.to_string(), Audience::Unknown),
            (String::new(), Audience::Unknown),
            (r#""from":7,"tolist":null"#.to_string(), Audience::Unknown),
            (
                r#""from":"li","tolist":["wm\u0041bc123AbCdEfGhIjKlMnOpQ"]"#.to_string(),
                Audience::External,
            ),
            (
                r#""from":"li","tolist":["a\"wmAbc123AbCdEfGhIjKlMnOpQ"]"#.to_string(),
                Audience::Internal,
            ),
        ];
        for (ids, want) in cases {
            let sep = if ids.is_empty() { "" } else { "," };
            for (msgtype, body) in [
                ("text", r#""text":{"content":"hi"}"#),
                ("link", r#""link":{"title":"hi"}"#),
            ] {
                let rec = format!(r#"{{"msgtype":"{msgtype}"{sep}{ids},{body}}}"#);
                let m = decode(rec.as_bytes(), &InputFormat::wecom()).unwrap();
                assert_eq!(m.source.audience(), want, "{rec}");
            }
        }
        let plain = decode("hi".as_bytes(), &InputFormat::Text).unwrap();
        assert_eq!(plain.source.audience(), Audience::Unknown);
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
        assert_eq!(escape_token("plain"), "plain");
    }
}
