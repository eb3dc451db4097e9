//! WeChat Work (WeCom) chat-archive records (会话内容存档): every place where a
//! person writes text, in every message type, and nothing else (ids, hashes,
//! sizes and times are never scanned: a 19-digit msgid can pass a Luhn check).
//!
//! `chatrecord.item[]` and `mixed.item[]` hold their content as a JSON-encoded
//! string; the walker parses it and continues the pointer into the parsed value
//! (`/mixed/item/2/content/content`).

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{escape_token, DecodeError, FieldProblem, Message, Source, TextField};

/// Options for WeCom records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WecomOptions {
    /// Where the record sits inside a wrapper object some ingest tools add
    /// (JSON pointer; empty = the whole message).
    pub record_pointer: String,
    /// Deepest nesting of forwarded records and mixed messages (default 8).
    pub max_depth: usize,
}

impl Default for WecomOptions {
    fn default() -> Self {
        WecomOptions {
            record_pointer: String::new(),
            max_depth: 8,
        }
    }
}

/// Message types that carry no text: no alert, no dead letter, only a count.
pub const TEXTLESS_MSGTYPES: &[&str] = &[
    "image", "voice", "video", "emotion", "revoke", "agree", "disagree", "voiptext", "switch",
];

/// The text-bearing fields of a payload by message type: (payload key, fields).
/// A field path is `/`-separated; `[]` marks an array whose items are walked.
fn layout(msgtype: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match msgtype {
        "text" => ("text", &["content"]),
        "file" => ("file", &["filename"]),
        "link" => ("link", &["title", "description", "link_url"]),
        "weapp" => ("weapp", &["title", "description", "displayname"]),
        "location" => ("location", &["title", "address"]),
        "card" => ("card", &["corpname"]),
        "todo" => ("todo", &["title", "content"]),
        "vote" => ("vote", &["votetitle", "voteitem[]"]),
        "collect" => ("collect", &["title", "room_name", "details[]/ques"]),
        "redpacket" => ("redpacket", &["wish"]),
        "external_redpacket" => ("redpacket", &["wish"]),
        "meeting" => ("meeting", &["topic", "address", "remarks"]),
        "docmsg" => ("doc", &["title", "link_url"]),
        "markdown" => ("info", &["content"]),
        "news" => ("info", &["item[]/title", "item[]/description"]),
        "qydiskfile" => ("info", &["filename"]),
        "calendar" => ("calendar", &["title", "place", "remarks"]),
        "meeting_voice_call" => ("meeting_voice_call", &["demofiledata[]/filename"]),
        "voip_doc_share" => ("voip_doc_share", &["filename"]),
        "sphfeed" => ("sphfeed", &["feed_desc", "sph_name"]),
        "chatrecord" => ("chatrecord", &["title", "item[]"]),
        "mixed" => ("mixed", &["item[]"]),
        _ => return None,
    })
}

/// The common case, a plain text record, parsed with borrowed strings (no
/// copy of the text when it has no escapes). `None` sends the record down the
/// general path.
pub(super) fn decode_text_fast(json: &str) -> Option<Message<'_>> {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        content: Option<Cow<'a, str>>,
    }
    type Raw<'a> = Option<&'a RawValue>;
    #[derive(serde::Deserialize)]
    struct Record<'a> {
        #[serde(borrow)]
        msgid: Option<Cow<'a, str>>,
        #[serde(borrow)]
        action: Option<Cow<'a, str>>,
        #[serde(borrow)]
        msgtype: Option<Cow<'a, str>>,
        #[serde(borrow)]
        from: Raw<'a>,
        #[serde(borrow)]
        tolist: Raw<'a>,
        #[serde(borrow)]
        roomid: Raw<'a>,
        #[serde(borrow)]
        msgtime: Raw<'a>,
        #[serde(borrow)]
        text: Option<Body<'a>>,
    }
    let r: Record<'_> = serde_json::from_str(json).ok()?;
    if r.msgtype.as_deref() != Some("text") {
        return None;
    }
    let content = r.text?.content?;
    // the ids stay borrowed from the record until an alert needs them
    let mut source = Source::with_capacity(7);
    if let Some(m) = &r.msgid {
        source.push_str("msgid", m.clone());
    }
    if let Some(a) = r.action {
        source.push_str("action", a);
    }
    source.push_str("msgtype", Cow::Borrowed("text"));
    for (key, raw) in [
        ("from", r.from),
        ("tolist", r.tolist),
        ("roomid", r.roomid),
        ("msgtime", r.msgtime),
    ] {
        if let Some(raw) = raw {
            source.push_json(key, raw);
        }
    }
    let fields = if content.is_empty() {
        Vec::new()
    } else {
        vec![TextField {
            pointer: Some(Cow::Borrowed("/text/content")),
            text: content,
        }]
    };
    Some(Message {
        fields,
        source,
        id: r.msgid,
        msgtype: Some(Cow::Borrowed("text")),
        problems: Vec::new(),
        withdraws: None,
    })
}

struct Walker<'o> {
    opts: &'o WecomOptions,
    fields: Vec<TextField<'static>>,
    problems: Vec<FieldProblem>,
    found: usize,
}

/// Where a record without a `msgtype` holds an archive item still
/// encrypted: its own `encrypt_chat_msg`, or that of the first item of a
/// whole `GetChatData` answer (`chatdata`).
fn encrypted_at(obj: &Map<String, Value>) -> Option<&'static str> {
    if obj.contains_key("encrypt_chat_msg") {
        return Some("/encrypt_chat_msg");
    }
    obj.get("chatdata")?
        .as_array()?
        .first()?
        .get("encrypt_chat_msg")
        .map(|_| "/chatdata/0/encrypt_chat_msg")
}

pub(super) fn decode_record(
    value: &Value,
    opts: &WecomOptions,
) -> Result<Message<'static>, DecodeError> {
    let record = if opts.record_pointer.is_empty() {
        value
    } else {
        value
            .pointer(&opts.record_pointer)
            .ok_or_else(|| DecodeError::NoText {
                pointer: opts.record_pointer.clone(),
            })?
    };
    let Some(obj) = record.as_object() else {
        return Err(DecodeError::NotJson(format!(
            "record at {:?} is not an object",
            opts.record_pointer
        )));
    };
    let mut source = Map::new();
    for key in [
        "msgid", "action", "msgtype", "from", "tolist", "roomid", "msgtime",
    ] {
        // a null id is no id (as on the fast path)
        if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
            source.insert(key.to_string(), v.clone());
        }
    }
    let id = obj.get("msgid").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let action = obj.get("action").and_then(Value::as_str).unwrap_or("send");
    let msgtype = match obj.get("msgtype").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None if action == "switch" => "switch".to_string(),
        None => {
            let base = &opts.record_pointer;
            return Err(match encrypted_at(obj) {
                Some(at) => DecodeError::Encrypted {
                    pointer: format!("{base}{at}"),
                },
                None => DecodeError::NoText {
                    pointer: format!("{base}/msgtype"),
                },
            });
        }
    };
    let mut w = Walker {
        opts,
        fields: Vec::new(),
        problems: Vec::new(),
        found: 0,
    };
    if !TEXTLESS_MSGTYPES.contains(&msgtype.as_str()) {
        let base = opts.record_pointer.clone();
        if msgtype == "vote" && obj.get("vote").is_none() {
            // votes also come flattened: top-level `votetitle` / `voteitem`
            w.walk_layout(record, &base, &["votetitle", "voteitem[]"], 0)?;
        } else {
            w.walk_payload(obj, &msgtype, &base, 0)?;
        }
        if w.found == 0 && w.problems.is_empty() {
            let key = layout(&msgtype).map_or(msgtype.as_str(), |l| l.0);
            return Err(DecodeError::NoText {
                pointer: format!("{base}/{}", escape_token(key)),
            });
        }
    }
    let withdraws = match msgtype.as_str() {
        "revoke" => record
            .pointer("/revoke/pre_msgid")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(String::from),
        _ => None,
    };
    Ok(Message {
        fields: w.fields,
        source: source.into(),
        id: id.map(Cow::Owned),
        msgtype: Some(Cow::Owned(msgtype)),
        problems: w.problems,
        withdraws,
    })
}

impl Walker<'_> {
    fn too_deep(&self, pointer: &str, depth: usize) -> Result<(), DecodeError> {
        if depth > self.opts.max_depth {
            Err(DecodeError::TooDeep {
                pointer: pointer.to_string(),
                max: self.opts.max_depth,
            })
        } else {
            Ok(())
        }
    }

    /// Walks the payload of `msgtype` inside `container` (a record, or the parsed
    /// content of an item, which is the payload itself when `inline`).
    fn walk_payload(
        &mut self,
        container: &Map<String, Value>,
        msgtype: &str,
        base: &str,
        depth: usize,
    ) -> Result<(), DecodeError> {
        self.too_deep(base, depth)?;
        match layout(msgtype) {
            Some((key, paths)) => {
                if let Some(payload) = container.get(key) {
                    let ptr = format!("{base}/{}", escape_token(key));
                    self.walk_layout(payload, &ptr, paths, depth)?;
                }
            }
            None => {
                if TEXTLESS_MSGTYPES.contains(&msgtype) {
                    return Ok(());
                }
                // unknown type: every string under its payload, minus id-like keys
                if let Some(payload) = container.get(msgtype) {
                    let ptr = format!("{base}/{}", escape_token(msgtype));
                    self.walk_any(payload, &ptr, depth)?;
                }
            }
        }
        Ok(())
    }

    fn walk_layout(
        &mut self,
        payload: &Value,
        ptr: &str,
        paths: &[&str],
        depth: usize,
    ) -> Result<(), DecodeError> {
        for path in paths {
            self.walk_path(payload, ptr, path, depth)?;
        }
        Ok(())
    }

    fn walk_path(
        &mut self,
        value: &Value,
        ptr: &str,
        path: &str,
        depth: usize,
    ) -> Result<(), DecodeError> {
        let (head, rest) = match path.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let (key, is_array) = match head.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (head, false),
        };
        let Some(child) = value.get(key) else {
            return Ok(());
        };
        let child_ptr = format!("{ptr}/{}", escape_token(key));
        if is_array {
            let Some(items) = child.as_array() else {
                return Ok(());
            };
            for (i, item) in items.iter().enumerate() {
                let item_ptr = format!("{child_ptr}/{i}");
                match rest {
                    Some(r) => self.walk_path(item, &item_ptr, r, depth)?,
                    None => self.walk_item_or_string(item, &item_ptr, depth)?,
                }
            }
            return Ok(());
        }
        match rest {
            Some(r) => self.walk_path(child, &child_ptr, r, depth),
            None => {
                self.take_string(child, &child_ptr);
                Ok(())
            }
        }
    }

    fn take_string(&mut self, value: &Value, ptr: &str) {
        let text = match value {
            Value::String(s) => s.clone(),
            // some pipelines re-emit values as numbers; text fields stay text
            Value::Number(n) => n.to_string(),
            _ => return,
        };
        self.found += 1;
        if !text.is_empty() {
            self.fields.push(TextField {
                pointer: Some(Cow::Owned(ptr.to_string())),
                text: Cow::Owned(text),
            });
        }
    }

    /// An array element: a plain string (`voteitem`), or a chat-record / mixed
    /// item `{type, content}` whose content is JSON in a string.
    fn walk_item_or_string(
        &mut self,
        item: &Value,
        ptr: &str,
        depth: usize,
    ) -> Result<(), DecodeError> {
        let Some(obj) = item.as_object() else {
            self.take_string(item, ptr);
            return Ok(());
        };
        let item_type = obj
            .get("type")
            .and_then(Value::as_str)
            .map(normalize_item_type)
            .unwrap_or_default();
        let Some(content) = obj.get("content") else {
            return Ok(());
        };
        let content_ptr = format!("{ptr}/content");
        self.too_deep(&content_ptr, depth + 1)?;
        let parsed: Cow<'_, Value> = match content {
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(v) => Cow::Owned(v),
                Err(e) => {
                    self.problems.push(FieldProblem {
                        pointer: content_ptr,
                        reason: format!("content is not JSON: {e}"),
                    });
                    return Ok(());
                }
            },
            other => Cow::Borrowed(other),
        };
        let Some(payload) = parsed.as_object() else {
            self.problems.push(FieldProblem {
                pointer: content_ptr,
                reason: "content is not a JSON object".into(),
            });
            return Ok(());
        };
        if TEXTLESS_MSGTYPES.contains(&item_type.as_str()) {
            return Ok(());
        }
        match layout(&item_type) {
            // the parsed content *is* the payload of the item's type
            Some((_, paths)) => self.walk_layout(&parsed, &content_ptr, paths, depth + 1),
            None => self.walk_any(&Value::Object(payload.clone()), &content_ptr, depth + 1),
        }
    }

    /// Every string under an unknown type's payload, minus what id-like
    /// keys hold.
    fn walk_any(&mut self, value: &Value, ptr: &str, depth: usize) -> Result<(), DecodeError> {
        let max = self.opts.max_depth;
        super::each_text_value(value, ptr, depth, max, &mut |v, p| self.take_string(v, p))
    }
}

/// `ChatRecordText` -> `text`, `ChatRecordMixed` -> `mixed`, `chatrecord` stays.
fn normalize_item_type(t: &str) -> String {
    let lower = t.to_ascii_lowercase();
    match lower.strip_prefix("chatrecord") {
        Some("") | None => lower,
        Some(rest) => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, InputFormat};
    use super::*;

    fn fields(json: &str) -> Vec<(String, String)> {
        decode(json.as_bytes(), &InputFormat::wecom())
            .unwrap()
            .field_pairs()
    }

    fn f(p: &str, t: &str) -> (String, String) {
        (p.to_string(), t.to_string())
    }

    const ENV: &str = r#""msgid":"CAQQluDa4QUY0On2rYSAgAMgzPrShAE=","action":"send","from":"XuJinSheng","tolist":["icefog"],"roomid":"","msgtime":1547087894783"#;

    fn rec(body: &str) -> String {
        format!("{{{ENV},{body}}}")
    }

    #[test]
    fn text_and_source() {
        let j = rec(r#""msgtype":"text","text":{"content":"内幕消息"}"#);
        let m = decode(j.as_bytes(), &InputFormat::wecom()).unwrap();
        assert_eq!(m.fields[0].pointer.as_deref(), Some("/text/content"));
        assert_eq!(m.id.as_deref(), Some("CAQQluDa4QUY0On2rYSAgAMgzPrShAE="));
        let source = m.source.into_map();
        assert_eq!(source["from"], "XuJinSheng");
        assert_eq!(source["msgtime"], 1547087894783u64);
    }

    #[test]
    fn every_simple_type() {
        let cases: &[(&str, Vec<(String, String)>)] = &[
            (
                r#""msgtype":"file","file":{"md5sum":"18e93fc2ea884df23b3d2d3b8667b9f0","filename":"2024客户名单.xlsx","fileext":"xlsx","filesize":18,"sdkfileid":"abc"}"#,
                vec![f("/file/filename", "2024客户名单.xlsx")],
            ),
            (
                r#""msgtype":"link","link":{"title":"T","description":"D","link_url":"http://x","image_url":"http://img"}"#,
                vec![
                    f("/link/title", "T"),
                    f("/link/description", "D"),
                    f("/link/link_url", "http://x"),
                ],
            ),
            (
                r#""msgtype":"weapp","weapp":{"title":"T","description":"D","username":"gh_1@app","displayname":"N"}"#,
                vec![
                    f("/weapp/title", "T"),
                    f("/weapp/description", "D"),
                    f("/weapp/displayname", "N"),
                ],
            ),
            (
                r#""msgtype":"location","location":{"longitude":113.3,"latitude":23.1,"address":"A","title":"T","zoom":15}"#,
                vec![f("/location/title", "T"), f("/location/address", "A")],
            ),
            (
                r#""msgtype":"card","card":{"corpname":"C","userid":"u1"}"#,
                vec![f("/card/corpname", "C")],
            ),
            (
                r#""msgtype":"todo","todo":{"title":"T","content":"C"}"#,
                vec![f("/todo/title", "T"), f("/todo/content", "C")],
            ),
            (
                r#""msgtype":"vote","votetitle":"VT","voteitem":["a","b"],"votetype":101,"voteid":"v""#,
                vec![
                    f("/votetitle", "VT"),
                    f("/voteitem/0", "a"),
                    f("/voteitem/1", "b"),
                ],
            ),
            (
                r#""msgtype":"vote","vote":{"votetitle":"VT","voteitem":["a"],"votetype":101}"#,
                vec![f("/vote/votetitle", "VT"), f("/vote/voteitem/0", "a")],
            ),
            (
                r#""msgtype":"collect","collect":{"room_name":"R","creator":"c","create_time":"2020","title":"T","details":[{"id":1,"ques":"Q1","type":"Text"},{"id":2,"ques":"Q2","type":"Number"}]}"#,
                vec![
                    f("/collect/title", "T"),
                    f("/collect/room_name", "R"),
                    f("/collect/details/0/ques", "Q1"),
                    f("/collect/details/1/ques", "Q2"),
                ],
            ),
            (
                r#""msgtype":"redpacket","redpacket":{"type":1,"wish":"W","totalcnt":1,"totalamount":3000}"#,
                vec![f("/redpacket/wish", "W")],
            ),
            (
                r#""msgtype":"external_redpacket","redpacket":{"type":1,"wish":"W","totalcnt":1}"#,
                vec![f("/redpacket/wish", "W")],
            ),
            (
                r#""msgtype":"meeting","meeting":{"topic":"T","starttime":1,"endtime":2,"address":"A","remarks":"R","meetingtype":102,"meetingid":1}"#,
                vec![
                    f("/meeting/topic", "T"),
                    f("/meeting/address", "A"),
                    f("/meeting/remarks", "R"),
                ],
            ),
            (
                r#""msgtype":"docmsg","doc":{"title":"T","doc_creator":"c","link_url":"U"}"#,
                vec![f("/doc/title", "T"), f("/doc/link_url", "U")],
            ),
            (
                r#""msgtype":"markdown","info":{"content":"M"}"#,
                vec![f("/info/content", "M")],
            ),
            (
                r#""msgtype":"news","info":{"item":[{"title":"T","description":"D","url":"u","picurl":"p"}]}"#,
                vec![
                    f("/info/item/0/title", "T"),
                    f("/info/item/0/description", "D"),
                ],
            ),
            (
                r#""msgtype":"qydiskfile","info":{"filename":"F"}"#,
                vec![f("/info/filename", "F")],
            ),
            (
                r#""msgtype":"calendar","calendar":{"title":"T","creatorname":"c","attendeename":["a"],"starttime":1,"endtime":2,"place":"P","remarks":"R"}"#,
                vec![
                    f("/calendar/title", "T"),
                    f("/calendar/place", "P"),
                    f("/calendar/remarks", "R"),
                ],
            ),
            (
                r#""msgtype":"meeting_voice_call","voiceid":"v","meeting_voice_call":{"endtime":1,"sdkfileid":"s","demofiledata":[{"filename":"F","demooperator":"d","starttime":1,"endtime":2}]}"#,
                vec![f("/meeting_voice_call/demofiledata/0/filename", "F")],
            ),
            (
                r#""msgtype":"voip_doc_share","voipid":"v","voip_doc_share":{"filename":"F","md5sum":"m","filesize":1,"sdkfileid":"s"}"#,
                vec![f("/voip_doc_share/filename", "F")],
            ),
            (
                r#""msgtype":"sphfeed","sphfeed":{"feed_type":4,"sph_name":"N","feed_desc":"D"}"#,
                vec![f("/sphfeed/feed_desc", "D"), f("/sphfeed/sph_name", "N")],
            ),
        ];
        for (body, want) in cases {
            assert_eq!(&fields(&rec(body)), want, "{body}");
        }
    }

    #[test]
    fn textless_types_give_nothing_and_no_error() {
        for body in [
            r#""msgtype":"image","image":{"md5sum":"50de8e5ae8ffe4f1df7a93841f71993a","filesize":70961,"sdkfileid":"x"}"#,
            r#""msgtype":"voice","voice":{"md5sum":"m","voice_size":1,"play_length":10,"sdkfileid":"x"}"#,
            r#""msgtype":"revoke","revoke":{"pre_msgid":"14822339130656386894_1603875464"}"#,
            r#""msgtype":"emotion","emotion":{"type":1,"width":100}"#,
            r#""msgtype":"agree","agree":{"userid":"u","agree_time":1}"#,
        ] {
            assert!(fields(&rec(body)).is_empty(), "{body}");
        }
        let revoke =
            rec(r#""msgtype":"revoke","revoke":{"pre_msgid":"14822339130656386894_1603875464"}"#);
        let m = decode(revoke.as_bytes(), &InputFormat::wecom()).unwrap();
        assert_eq!(
            m.withdraws.as_deref(),
            Some("14822339130656386894_1603875464")
        );
        let text = rec(r#""msgtype":"text","text":{"content":"hi"},"revoke":{"pre_msgid":"x"}"#);
        assert_eq!(
            decode(text.as_bytes(), &InputFormat::wecom())
                .unwrap()
                .withdraws,
            None
        );
        let switch = r#"{"msgid":"125289002219525886280","action":"switch","time":1554119421840,"user":"XuJinSheng"}"#;
        let m = decode(switch.as_bytes(), &InputFormat::wecom()).unwrap();
        assert!(m.fields.is_empty());
        assert_eq!(m.msgtype.as_deref(), Some("switch"));
    }

    #[test]
    fn mixed_items_and_nested_chatrecords() {
        let body = r#""msgtype":"mixed","mixed":{"item":[{"type":"text","content":"{\"content\":\"你好\"}"},{"type":"image","content":"{\"md5sum\":\"m\",\"sdkfileid\":\"s\"}"},{"type":"text","content":"{\"content\":\"名单\"}"}]}"#;
        assert_eq!(
            fields(&rec(body)),
            vec![
                f("/mixed/item/0/content/content", "你好"),
                f("/mixed/item/2/content/content", "名单")
            ]
        );
        let inner = r#"{\"title\":\"inner\",\"item\":[{\"type\":\"ChatRecordText\",\"msgtime\":1,\"content\":\"{\\\"content\\\":\\\"深层\\\"}\"}]}"#;
        let body = format!(
            r#""msgtype":"chatrecord","chatrecord":{{"title":"群聊","item":[{{"type":"ChatRecordText","msgtime":1,"content":"{{\"content\":\"a\"}}"}},{{"type":"ChatRecordFile","content":"{{\"filename\":\"f.xlsx\",\"md5sum\":\"m\"}}"}},{{"type":"chatrecord","content":"{inner}"}}]}}"#
        );
        assert_eq!(
            fields(&rec(&body)),
            vec![
                f("/chatrecord/title", "群聊"),
                f("/chatrecord/item/0/content/content", "a"),
                f("/chatrecord/item/1/content/filename", "f.xlsx"),
                f("/chatrecord/item/2/content/title", "inner"),
                f("/chatrecord/item/2/content/item/0/content/content", "深层"),
            ]
        );
    }

    #[test]
    fn partly_unreadable_mixed_keeps_the_rest() {
        let body = r#""msgtype":"mixed","mixed":{"item":[{"type":"text","content":"not json"},{"type":"text","content":"{\"content\":\"ok\"}"}]}"#;
        let j = rec(body);
        let m = decode(j.as_bytes(), &InputFormat::wecom()).unwrap();
        assert_eq!(m.fields.len(), 1);
        assert_eq!(m.problems[0].pointer, "/mixed/item/0/content");
    }

    #[test]
    fn text_type_without_text_is_rejected() {
        let e = decode(
            rec(r#""msgtype":"text","text":{}"#).as_bytes(),
            &InputFormat::wecom(),
        )
        .unwrap_err();
        assert_eq!(e.reason(), "no_text");
        let e = decode(rec(r#""msgtype":"file""#).as_bytes(), &InputFormat::wecom()).unwrap_err();
        assert_eq!(
            e,
            DecodeError::NoText {
                pointer: "/file".into()
            }
        );
    }

    /// What `GetChatData` returns, before the archiver decrypts it, says
    /// so instead of `no_text`.
    #[test]
    fn items_still_encrypted_say_so() {
        let item = r#"{"seq":12,"msgid":"10000_1605777015","publickey_ver":1,"encrypt_random_key":"ZmFrZQ==","encrypt_chat_msg":"Y2lwaGVy"}"#;
        let e = decode(item.as_bytes(), &InputFormat::wecom()).unwrap_err();
        assert_eq!(e.reason(), "encrypted");
        assert_eq!(
            e,
            DecodeError::Encrypted {
                pointer: "/encrypt_chat_msg".into()
            }
        );
        assert!(e.to_string().contains("DecryptData"), "{e}");
        let answer = format!(r#"{{"errcode":0,"errmsg":"ok","chatdata":[{item}]}}"#);
        let e = decode(answer.as_bytes(), &InputFormat::wecom()).unwrap_err();
        assert_eq!(
            e,
            DecodeError::Encrypted {
                pointer: "/chatdata/0/encrypt_chat_msg".into()
            }
        );
        // a record that names no type and holds no ciphertext has no text
        let e = decode(br#"{"msgid":"m","from":"a"}"#, &InputFormat::wecom()).unwrap_err();
        assert_eq!(e.reason(), "no_text");
    }

    #[test]
    fn unknown_type_scans_strings_except_ids() {
        let body = r#""msgtype":"hologram","hologram":{"caption":"秘密","sdkfileid":"s","md5sum":"m","userid":"u","sendtime":"1","nested":{"note":"n"}}"#;
        assert_eq!(
            fields(&rec(body)),
            vec![
                f("/hologram/caption", "秘密"),
                f("/hologram/nested/note", "n")
            ]
        );
    }

    #[test]
    fn too_deep_is_rejected() {
        // a chat record forwarded 10 times
        let mut content = r#"{"content":"x"}"#.to_string();
        let mut ty = "text";
        for _ in 0..10 {
            let item =
                serde_json::json!({"title": "t", "item": [{"type": ty, "content": content}]});
            content = item.to_string();
            ty = "chatrecord";
        }
        let rec = serde_json::json!({"msgid": "1", "action": "send", "msgtype": "chatrecord",
            "chatrecord": serde_json::from_str::<Value>(&content).unwrap()});
        let e = decode(rec.to_string().as_bytes(), &InputFormat::wecom()).unwrap_err();
        assert_eq!(e.reason(), "too_deep");
    }

    #[test]
    fn wrapper_pointer_and_string_numbers() {
        let opts = WecomOptions {
            record_pointer: "/record".into(),
            ..Default::default()
        };
        let j = r#"{"ingest":"x","record":{"msgid":"1","action":"send","msgtime":"1547087894783","msgtype":"text","text":{"content":"hi"}}}"#;
        let m = decode(j.as_bytes(), &InputFormat::Wecom(opts)).unwrap();
        assert_eq!(m.fields[0].pointer.as_deref(), Some("/record/text/content"));
        assert_eq!(m.source.into_map()["msgtime"], "1547087894783");
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z内幕{}\\\"]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(12, 256, 6, |inner| {
            let keys = prop_oneof![
                Just("item".to_string()),
                Just("content".to_string()),
                Just("type".to_string()),
                Just("title".to_string()),
                "[a-z]{1,6}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((keys, inner.clone()), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
                // JSON in a string, as chat-record items carry it
                inner.prop_map(|v| Value::from(v.to_string())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn no_json_value_panics_the_walker(payload in arb_json(), t in proptest::sample::select(vec![
            "text", "mixed", "chatrecord", "vote", "news", "collect", "hologram", "image", "file",
        ])) {
            let rec = serde_json::json!({"msgid": "1", "action": "send", "msgtype": t, t: payload});
            let _ = decode(rec.to_string().as_bytes(), &InputFormat::wecom());
            let wrapped = serde_json::json!({"record": rec});
            let opts = WecomOptions { record_pointer: "/record".into(), max_depth: 4 };
            let _ = decode(wrapped.to_string().as_bytes(), &InputFormat::Wecom(opts));
        }

        /// Escapes included (quotes, backslashes, control characters): the
        /// fast path keeps ids borrowed and parses them only for alerts.
        #[test]
        fn fast_path_equals_general_path(
            content in "\\PC{0,40}",
            from in "\\PC{0,8}",
            msgid in "[a-z\"\\\\\n\u{7}内]{0,8}",
            to in proptest::collection::vec("\\PC{0,4}", 0..3),
        ) {
            let rec = serde_json::json!({"msgid": msgid, "action": "send", "from": from, "tolist": to,
                "roomid": "", "msgtime": 1547087894783u64, "msgtype": "text", "text": {"content": content}});
            let json = rec.to_string();
            let fast = decode_text_fast(&json).expect("fast path takes text records");
            let general = decode_record(&rec, &WecomOptions::default()).unwrap();
            proptest::prop_assert_eq!(fast.fields, general.fields);
            proptest::prop_assert_eq!(fast.source.into_map(), general.source.into_map());
            proptest::prop_assert_eq!(fast.id, general.id);
        }
    }

    #[test]
    fn null_ids_are_left_out_on_both_paths() {
        let rec = serde_json::json!({"msgid": "m1", "action": "send", "from": "li", "tolist": null,
            "roomid": null, "msgtime": 1, "msgtype": "text", "text": {"content": "hi"}});
        let json = rec.to_string();
        let fast = decode_text_fast(&json)
            .expect("fast path")
            .source
            .into_map();
        let general = decode_record(&rec, &WecomOptions::default())
            .unwrap()
            .source
            .into_map();
        assert_eq!(fast, general);
        assert!(!fast.contains_key("roomid") && !fast.contains_key("tolist"));
    }

    #[test]
    fn ten_thousand_levels_of_nesting_do_not_overflow() {
        let deep = format!("{}{}", "{\"a\":".repeat(10_000), "1");
        let rec = format!("{{\"msgid\":\"1\",\"msgtype\":\"hologram\",\"hologram\":{deep}}}");
        assert!(decode(rec.as_bytes(), &InputFormat::wecom()).is_err());
    }
}
