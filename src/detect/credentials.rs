//! Credentials pasted into chat: private keys, cloud access keys, API
//! tokens and app secrets, JSON Web Tokens, passwords written into URLs or
//! after their keyword (`密码：Qwe@1234`), and chat bots' webhooks with
//! their keys.
//!
//! A secret in an archived chat is a leak wherever it went: the archive
//! keeps it for years, readable by everyone who reads the archive. Each
//! shape is anchored on what marks it (`-----BEGIN … PRIVATE KEY-----`,
//! `AKIA`, `ghp_`, `eyJ`, `://`), found with one small `aho-corasick`
//! automaton that skips text without any of them, and then checked as far
//! as the shape allows: the exact length and alphabet, a GitHub or npm
//! token's CRC-32, a JWT's header decoded to JSON with an `alg`, a URL's
//! password that is not a placeholder (`<password>`, `${DB_PASS}`, `***`).
//! The text is read as written: secrets are case-sensitive ASCII, and a
//! folded copy would match keys that are none.

use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;

use super::{Detection, Detector};

/// The detectors this module implements ([`Detector::finds_credentials`]).
pub(super) fn detectors() -> &'static [Detector] {
    static KINDS: OnceLock<Vec<Detector>> = OnceLock::new();
    KINDS.get_or_init(|| {
        Detector::ALL
            .into_iter()
            .filter(|d| d.finds_credentials())
            .collect()
    })
}

/// What each anchor starts, in the automaton's pattern order.
const ANCHORS: [(&str, Detector); 37] = [
    ("-----BEGIN ", Detector::PrivateKey),
    // AWS (long-term, temporary, and two rarer kinds), Alibaba Cloud,
    // Tencent Cloud, Google Cloud API keys
    ("AKIA", Detector::AccessKey),
    ("ASIA", Detector::AccessKey),
    ("ABIA", Detector::AccessKey),
    ("ACCA", Detector::AccessKey),
    ("LTAI", Detector::AccessKey),
    ("AKID", Detector::AccessKey),
    ("AIza", Detector::AccessKey),
    ("ghp_", Detector::ApiToken),
    ("gho_", Detector::ApiToken),
    ("ghu_", Detector::ApiToken),
    ("ghs_", Detector::ApiToken),
    ("ghr_", Detector::ApiToken),
    ("github_pat_", Detector::ApiToken),
    ("npm_", Detector::ApiToken),
    ("glpat-", Detector::ApiToken),
    ("xoxa-", Detector::ApiToken),
    ("xoxb-", Detector::ApiToken),
    ("xoxe-", Detector::ApiToken),
    ("xoxp-", Detector::ApiToken),
    ("sk-", Detector::ApiToken),
    // a WeCom app's secret (the session archive's own among them), as
    // its access-token URL carries it
    ("corpsecret=", Detector::ApiToken),
    // group bots: anyone holding the key posts into the group as the bot
    ("/cgi-bin/webhook/send?key=", Detector::Webhook),
    ("/robot/send?access_token=", Detector::Webhook),
    ("/open-apis/bot/v2/hook/", Detector::Webhook),
    ("hooks.slack.com/services/", Detector::Webhook),
    ("eyJ", Detector::Jwt),
    ("://", Detector::UrlPassword),
    // a password's keyword, in the cases people write it
    ("密码", Detector::Password),
    ("口令", Detector::Password),
    ("password", Detector::Password),
    ("Password", Detector::Password),
    ("PASSWORD", Detector::Password),
    ("passwd", Detector::Password),
    ("PASSWD", Detector::Password),
    ("pwd", Detector::Password),
    ("PWD", Detector::Password),
];

fn anchors() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        // leftmost-first: its searches may use the SIMD prefilter (Teddy),
        // which skips a message without anchors in a few nanoseconds
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(ANCHORS.iter().map(|(a, _)| a))
            .unwrap_or_else(|e| unreachable!("static anchors: {e}"))
    })
}

/// What checking one anchor gives: the credential's span, or why not.
type Checked = Result<Range<usize>, Miss>;

/// Why an anchor starts no credential.
enum Miss {
    /// Not the shape at all (`sk-` in `risk-free`, a URL without a
    /// password): nothing worth explaining.
    NotOne,
    /// Nearly one (a token whose checksum fails, a placeholder password):
    /// the candidate's span and why it is none, for `explain`.
    Because(Range<usize>, String),
}

/// Checks every anchor of an `enabled` kind in `text`, in order, a
/// credential found covering the anchors inside it (`ghp_` in a URL's
/// password is the password's).
fn check_each(text: &str, enabled: &[Detector], mut each: impl FnMut(Detector, Checked)) {
    let bytes = text.as_bytes();
    let mut covered_to = 0;
    for m in anchors().find_iter(bytes) {
        if m.start() < covered_to {
            continue;
        }
        let detector = ANCHORS[m.pattern().as_usize()].1;
        if !enabled.contains(&detector) {
            continue;
        }
        let checked = match detector {
            Detector::PrivateKey => private_key(bytes, m.start()),
            Detector::AccessKey => access_key(bytes, m.start(), m.end()),
            Detector::ApiToken => api_token(bytes, m.start(), m.end()),
            Detector::Jwt => jwt(bytes, m.start()),
            Detector::UrlPassword => url_password(bytes, m.start()),
            Detector::Webhook => webhook(bytes, m.start(), m.end()),
            Detector::Password => password(bytes, m.start(), m.end()),
            _ => Err(Miss::NotOne),
        };
        if let Ok(span) = &checked {
            covered_to = span.end;
        }
        each(detector, checked);
    }
}

/// Appends every credential of an `enabled` kind in `text` to `out`.
pub(super) fn find_into(text: &str, enabled: &[Detector], out: &mut Vec<Detection>) {
    check_each(text, enabled, |detector, checked| {
        if let Ok(span) = checked {
            out.push(Detection {
                detector,
                start: span.start,
                end: span.end,
            });
        }
    });
}

/// The near misses in `text`: what nearly is a credential, with the
/// detector it nearly is and why it is none.
pub(super) fn near_misses(text: &str) -> Vec<(Range<usize>, Detector, String)> {
    let mut out = Vec::new();
    check_each(text, detectors(), |detector, checked| {
        if let Err(Miss::Because(span, why)) = checked {
            out.push((span, detector, why));
        }
    });
    out
}

/// The bytes of `d` (one of this module's detections in `text`) that are
/// the secret itself, for masking: a key's body after its header, a
/// token's middle (its kind's prefix and last four characters stay, to
/// tell two apart), a URL's password.
pub(crate) fn secret_part(text: &str, d: &Detection) -> Range<usize> {
    let bytes = text.as_bytes();
    let keep_ends = |head: usize| {
        let start = (d.start + head).min(d.end);
        start..d.end.saturating_sub(4).max(start)
    };
    match d.detector {
        Detector::PrivateKey => {
            // the body: up to the footer (or the next key's header), or,
            // pasted without one, the rest of the text; looking no further
            // than the next dashes keeps a text of headers linear
            let rest = &bytes[d.end..];
            let body_end = find(rest, b"-----").map_or(bytes.len(), |i| d.end + i);
            d.end..body_end
        }
        Detector::AccessKey => keep_ends(4),
        Detector::ApiToken => {
            let token = &bytes[d.start..d.end];
            let head = ANCHORS
                .iter()
                .filter(|(a, k)| *k == Detector::ApiToken && token.starts_with(a.as_bytes()))
                .map(|(a, _)| a.len())
                .max()
                .unwrap_or(0);
            keep_ends(head)
        }
        // the header (the algorithm) stays
        Detector::Jwt => keep_ends(
            bytes[d.start..d.end]
                .iter()
                .position(|&b| b == b'.')
                .map_or(0, |i| i + 1),
        ),
        Detector::UrlPassword => find(&bytes[d.start..d.end], b"://")
            .and_then(|sep| url_parts(bytes, d.start + sep))
            .map_or(d.start..d.end, |p| p.password),
        // the keyword stays, the whole password goes
        Detector::Password => ANCHORS
            .iter()
            .filter(|(a, k)| *k == Detector::Password && bytes[d.start..].starts_with(a.as_bytes()))
            .find_map(|(a, _)| password_at(bytes, d.start + a.len(), d.end))
            .unwrap_or(d.start..d.end),
        // the URL up to its key stays
        Detector::Webhook => keep_ends(
            ANCHORS
                .iter()
                .filter(|(_, k)| *k == Detector::Webhook)
                .find_map(|(a, _)| {
                    find(&bytes[d.start..d.end], a.as_bytes()).map(|at| at + a.len())
                })
                .unwrap_or(0),
        ),
        _ => d.start..d.end,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Whether the byte before `at` leaves `at` the start of a word.
fn starts_word(bytes: &[u8], at: usize, also: &[u8]) -> bool {
    at == 0 || {
        let b = bytes[at - 1];
        !is_word_byte(b) && !also.contains(&b)
    }
}

/// How many bytes from `from` satisfy `ok`, counting to `cap` at most: no
/// credential is longer than its kind's cap, and a run cut there is none.
/// The cap keeps a text of anchors linear (`AIza-AIza-…`, `pwd=pwd=…`:
/// every anchor's run would otherwise go on to the text's end).
fn run_len(bytes: &[u8], from: usize, cap: usize, ok: impl Fn(u8) -> bool) -> usize {
    bytes[from..]
        .iter()
        .take(cap)
        .take_while(|&&b| ok(b))
        .count()
}

/// `-----BEGIN RSA PRIVATE KEY-----`, `… OPENSSH PRIVATE KEY-----`,
/// `… PRIVATE KEY-----`, `… PGP PRIVATE KEY BLOCK-----`: the header line.
fn private_key(bytes: &[u8], start: usize) -> Checked {
    let label_from = start + "-----BEGIN ".len();
    let label_len = run_len(bytes, label_from, 49, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '
    });
    let label = &bytes[label_from..label_from + label_len];
    let end = label_from + label_len;
    let private = label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK");
    match private && label_len <= 48 && bytes[end..].starts_with(b"-----") {
        true => Ok(start..end + 5),
        // a public key or a certificate, meant to be shared
        false => Err(Miss::NotOne),
    }
}

/// A cloud access key id or API key: its prefix, then exactly its
/// kind's length of its kind's alphabet, a word of its own.
fn access_key(bytes: &[u8], start: usize, anchor_end: usize) -> Checked {
    if !starts_word(bytes, start, b"") {
        return Err(Miss::NotOne);
    }
    let prefix = &bytes[start..anchor_end];
    let base32 = |b: u8| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b);
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    let (kind, len, ok): (&str, Range<usize>, &dyn Fn(u8) -> bool) = match prefix {
        // AWS: 16 more of base32's alphabet
        b"AKIA" | b"ASIA" | b"ABIA" | b"ACCA" => {
            ("an AWS key id: 16 of A-Z and 2-7", 16..17, &base32)
        }
        // Alibaba Cloud: 12 (older keys) to 20 letters and digits
        b"LTAI" => (
            "an Alibaba Cloud AccessKey id: 12 to 20 letters and digits",
            12..21,
            &alnum,
        ),
        // Tencent Cloud SecretId
        b"AKID" => (
            "a Tencent Cloud SecretId: 32 letters and digits",
            32..33,
            &alnum,
        ),
        // Google Cloud API key
        b"AIza" => (
            "a Google Cloud API key: 35 letters, digits, - and _",
            35..36,
            &|b: u8| alnum(b) || b == b'-' || b == b'_',
        ),
        _ => return Err(Miss::NotOne),
    };
    let n = run_len(bytes, anchor_end, 40, ok);
    let end = anchor_end + n;
    // the key ends its word: no longer run of its alphabet or of letters
    let ends_word = bytes.get(end).is_none_or(|&b| !is_word_byte(b) && !ok(b));
    let key = &bytes[start..end];
    // AWS's documentation's keys end in EXAMPLE; a key must hold a digit
    // or a capital past its prefix (`AKIDxxxx…` in a template is none)
    let example = key.ends_with(b"EXAMPLE");
    let random = key[4..]
        .iter()
        .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    let why = match () {
        // a word that starts with the prefix (`ASIAN`, `AKIAS`)
        _ if n < 8 || (!ends_word && !len.contains(&n)) => return Err(Miss::NotOne),
        _ if !len.contains(&n) => format!("{n} characters after the prefix, not {kind}"),
        _ if !ends_word => format!("runs on into a longer word; {kind}"),
        _ if example => "AWS's documentation's example key (…EXAMPLE)".to_string(),
        _ if !random => "no digit or capital letter after the prefix: a template's".to_string(),
        _ => return Ok(start..end),
    };
    Err(Miss::Because(start..end, why))
}

/// GitHub (classic with its CRC-32, fine-grained), npm (with its CRC-32),
/// GitLab, Slack and OpenAI tokens, and WeCom's `corpsecret=`.
fn api_token(bytes: &[u8], start: usize, anchor_end: usize) -> Checked {
    if !starts_word(bytes, start, b"_-") {
        return Err(Miss::NotOne);
    }
    let prefix = &bytes[start..anchor_end];
    let base62 = |b: u8| b.is_ascii_alphanumeric();
    let token_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let n = run_len(bytes, anchor_end, 257, token_byte);
    let end = anchor_end + n;
    let body = &bytes[anchor_end..end];
    let ok = match prefix {
        // 30 random characters and 6 of their CRC-32 in base 62
        b"ghp_" | b"gho_" | b"ghu_" | b"ghs_" | b"ghr_" | b"npm_" => {
            let shaped = n == 36 && body.iter().all(|&b| base62(b));
            if shaped && !crc32_matches(body) {
                let why = "its last six characters are not the CRC-32 of the thirty before \
                           them: a mistyped or invented token";
                return Err(Miss::Because(start..end, why.to_string()));
            }
            shaped
        }
        // 22 characters, `_`, 59 characters
        b"github_pat_" => {
            n == 82 && body[22] == b'_' && body[..22].iter().chain(&body[23..]).all(|&b| base62(b))
        }
        b"glpat-" => (20..=128).contains(&n),
        // WeCom's secrets are 43 characters; `corpsecret=SECRET` is its
        // documentation's
        b"corpsecret=" => (30..=64).contains(&n),
        // `xoxb-` then two or more numeric ids of 10 to 13 digits
        b"xoxa-" | b"xoxb-" | b"xoxe-" | b"xoxp-" => {
            let ids = body
                .split(|&b| b == b'-')
                .take_while(|part| (10..=13).contains(&part.len()))
                .take_while(|part| part.iter().all(u8::is_ascii_digit))
                .count();
            ids >= 2
        }
        // OpenAI's keys carry `T3BlbkFJ` ("OpenAI" in base64)
        b"sk-" => (40..=256).contains(&n) && find(body, b"T3BlbkFJ").is_some(),
        _ => false,
    };
    match ok {
        true => Ok(start..end),
        false => Err(Miss::NotOne),
    }
}

/// The last six characters are the CRC-32 of the thirty before them,
/// in base 62 (`0-9A-Za-z`), as GitHub's and npm's tokens carry it.
fn crc32_matches(body: &[u8]) -> bool {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let (random, check) = body.split_at(30);
    let mut written: u64 = 0;
    for &b in check {
        let Some(digit) = ALPHABET.iter().position(|&a| a == b) else {
            return false;
        };
        written = written * 62 + digit as u64;
    }
    written == u64::from(crc32fast::hash(random))
}

/// `header.payload.signature`, each base64url, the header a JSON object
/// naming its `alg`, and a signature (an unsigned token grants nothing).
fn jwt(bytes: &[u8], start: usize) -> Checked {
    let b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let header_len = run_len(bytes, start, 1025, b64url);
    let payload_from = start + header_len + 1;
    let shaped = starts_word(bytes, start, b"_-.")
        && header_len <= 1024
        && bytes.get(payload_from - 1) == Some(&b'.')
        && bytes[payload_from..].starts_with(b"eyJ");
    if !shaped {
        return Err(Miss::NotOne);
    }
    let signature_from = payload_from + run_len(bytes, payload_from, 1 << 16, b64url) + 1;
    if bytes.get(signature_from - 1) != Some(&b'.') {
        return Err(Miss::NotOne);
    }
    let signature_len = run_len(bytes, signature_from, 1 << 16, b64url);
    let end = signature_from + signature_len;
    if bytes.get(end) == Some(&b'.') {
        // five parts: an encrypted token (JWE), its key not in it
        return Err(Miss::NotOne);
    }
    let miss = |why: &str| Err(Miss::Because(start..end, why.to_string()));
    if signature_len < 16 {
        return miss("no signature: an unsigned token (`alg: none`) grants nothing");
    }
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&bytes[start..start + header_len])
        .ok()
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok());
    match header.as_ref().and_then(|h| h.get("alg")?.as_str()) {
        Some(_) => Ok(start..end),
        None => miss("its header does not decode to JSON naming its `alg`"),
    }
}

/// A group bot's webhook: the URL from its start, up to the end of its key
/// of its kind's shape (WeCom and Feishu/Lark: a UUID; DingTalk: 64 hex
/// digits; Slack: `T…/B…/` and 24 letters and digits).
fn webhook(bytes: &[u8], start: usize, anchor_end: usize) -> Checked {
    let url_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-');
    let url_start = start
        - bytes[..start]
            .iter()
            .rev()
            .take(64)
            .take_while(|&&b| url_byte(b))
            .count();
    let key_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/');
    let n = run_len(bytes, anchor_end, 128, key_byte);
    let key = &bytes[anchor_end..anchor_end + n];
    let hex = |part: &[u8]| part.iter().all(u8::is_ascii_hexdigit);
    let uuid = |k: &[u8]| {
        let parts: Vec<&[u8]> = k.split(|&b| b == b'-').collect();
        parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| hex(p))
    };
    let anchor = &bytes[start..anchor_end];
    let ok = match anchor {
        b"/robot/send?access_token=" => n == 64 && hex(key),
        b"hooks.slack.com/services/" => {
            let parts: Vec<&[u8]> = key.split(|&b| b == b'/').collect();
            let id = |p: &[u8], first: u8| {
                p.first() == Some(&first)
                    && (9..=13).contains(&p.len())
                    && p.iter()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            };
            parts.len() == 3
                && id(parts[0], b'T')
                && id(parts[1], b'B')
                && parts[2].len() == 24
                && parts[2].iter().all(u8::is_ascii_alphanumeric)
        }
        _ => uuid(key),
    };
    match ok {
        true => Ok(url_start..anchor_end + n),
        false if n >= 8 => Err(Miss::Because(
            url_start..anchor_end + n,
            "the key is not of its kind's shape (a UUID; DingTalk: 64 hex digits; \
             Slack: T…/B…/ and 24 letters and digits)"
                .to_string(),
        )),
        false => Err(Miss::NotOne),
    }
}

/// A URL's parts around its password.
struct UrlParts {
    /// From the scheme's first character to the host's last.
    whole: Range<usize>,
    password: Range<usize>,
}

/// `scheme://user:password@host` at the `://` at `sep`.
fn url_parts(bytes: &[u8], sep: usize) -> Option<UrlParts> {
    let scheme_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-');
    let scheme_len = bytes[..sep]
        .iter()
        .rev()
        .take(33)
        .take_while(|&&b| scheme_byte(b))
        .count();
    let scheme_start = sep - scheme_len;
    if !(2..=32).contains(&scheme_len) || !bytes[scheme_start].is_ascii_alphabetic() {
        return None;
    }
    let userinfo_from = sep + 3;
    let userinfo_len = run_len(bytes, userinfo_from, 1024, |b| {
        !b.is_ascii_whitespace() && !matches!(b, b'/' | b'?' | b'#' | b'@')
    });
    let at = userinfo_from + userinfo_len;
    if bytes.get(at) != Some(&b'@') {
        return None;
    }
    let colon = userinfo_from + bytes[userinfo_from..at].iter().position(|&b| b == b':')?;
    let password = colon + 1..at;
    let host_len = run_len(bytes, at + 1, 256, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
    });
    (host_len > 0).then(|| UrlParts {
        whole: scheme_start..at + 1 + host_len,
        password,
    })
}

fn url_password(bytes: &[u8], sep: usize) -> Checked {
    let Some(parts) = url_parts(bytes, sep) else {
        return Err(Miss::NotOne);
    };
    match is_placeholder(&bytes[parts.password]) {
        true => Err(Miss::Because(
            parts.whole,
            "its password is a placeholder (empty, `***`, `${VAR}`, `<password>`, `password`)"
                .to_string(),
        )),
        false => Ok(parts.whole),
    }
}

/// Between a password's keyword and the password: `：`, `:`, `=`, `是`,
/// `为`, quotes and spaces (`密码：`, `"password": "`, `pwd=`, `密码是 `).
fn is_password_separator(c: char) -> bool {
    matches!(
        c,
        ':' | '：' | '=' | '是' | '为' | '"' | '\'' | '“' | '”' | ' ' | '\t' | '\u{3000}'
    )
}

/// The span of the password after a keyword that ends at `keyword_end`,
/// up to `limit`: after one to six separator characters, a run of ASCII
/// graphic characters but quotes, `,`, `;` and `&`, its sentence's
/// punctuation left out (`密码是Abc123。` ends before `。`, `… Abc123.`
/// before the `.`).
fn password_at(bytes: &[u8], keyword_end: usize, limit: usize) -> Option<Range<usize>> {
    // six separators take 18 bytes at most: reading no further keeps a
    // text full of keywords linear
    let window = &bytes[keyword_end..limit.min(keyword_end + 18)];
    let text = match std::str::from_utf8(window) {
        Ok(text) => text,
        Err(cut) => std::str::from_utf8(&window[..cut.valid_up_to()]).ok()?,
    };
    let mut separators = 0;
    let mut from = keyword_end;
    for c in text.chars() {
        if !is_password_separator(c) || separators == 6 {
            break;
        }
        separators += 1;
        from += c.len_utf8();
    }
    if separators == 0 {
        return None;
    }
    let run = run_len(bytes, from, 65, |b| {
        b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b',' | b';' | b'&')
    });
    if run == 65 {
        // longer than any password: a hash, a key, a blob
        return None;
    }
    let trailing = bytes[from..from + run]
        .iter()
        .rev()
        .take_while(|b| matches!(b, b'.' | b'!' | b'?' | b')' | b':'))
        .count();
    Some(from..from + run - trailing.min(run))
}

/// A password written after its keyword (`密码：Qwe@1234`,
/// `db_password=s3cr3t!`, `"pwd": "8812"`, `银行卡密码 204861`): four to 64
/// characters holding a digit or a symbol (`password: required` is a
/// sentence), not a placeholder, a path or a link.
fn password(bytes: &[u8], start: usize, anchor_end: usize) -> Checked {
    // a keyword inside a longer word (`passwords`, `pwdx`) is followed by
    // a letter, which is no separator; `db_password` is a keyword
    let Some(span) = password_at(bytes, anchor_end, bytes.len()) else {
        return Err(Miss::NotOne);
    };
    let word = &bytes[span.clone()];
    let n = word.len();
    let shaped = (4..=64).contains(&n)
        && word.iter().any(|b| !b.is_ascii_alphabetic())
        && !word.starts_with(b"/")
        && !word.starts_with(b"~")
        && !word.starts_with(b"http");
    if !shaped {
        return Err(Miss::NotOne);
    }
    if is_placeholder(word) {
        return Err(Miss::Because(
            start..span.end,
            "the password is a placeholder (`***`, `${VAR}`, `<password>`)".to_string(),
        ));
    }
    if is_meeting_passcode(bytes, start) {
        return Err(Miss::Because(
            start..span.end,
            "a meeting's passcode (会议密码, or after a meeting's number): an invitation \
             shares it, no credential"
                .to_string(),
        ));
    }
    Ok(start..span.end)
}

/// How far before a password's keyword a meeting's number or app marks it
/// a meeting's passcode, in bytes (about 20 Chinese characters: an
/// invitation's `#腾讯会议：123-456-789` line and the next).
const MEETING_WINDOW_BYTES: usize = 64;

/// Whether the password's keyword at `start` is a meeting's passcode: the
/// keyword right after 会议, 入会 or 参会 (`会议密码：2468`), or a meeting's
/// number or app shortly before it (`#腾讯会议：123-456-789 密码：2468`,
/// `Meeting ID: 812 3456 7890 Password: 551234`). Every invitation of
/// Tencent Meeting, DingTalk, Feishu and Zoom carries one: alerting on
/// them buries the credentials. A meeting room's computer (`会议室电脑密码`)
/// is no meeting.
fn is_meeting_passcode(bytes: &[u8], start: usize) -> bool {
    let before = &bytes[..start];
    let window = &before[before.len().saturating_sub(MEETING_WINDOW_BYTES)..];
    let right_after = |m: &&str| {
        (before.len().checked_sub(m.len()))
            .is_some_and(|at| before[at..].eq_ignore_ascii_case(m.as_bytes()))
    };
    ["会议", "入会", "参会", "meeting "].iter().any(right_after)
        || super::keyword_in(
            window,
            &[
                "会议号",
                "会议ID",
                "会议 ID",
                "腾讯会议",
                "钉钉会议",
                "飞书会议",
                "meeting id",
                "zoom",
            ],
        )
        .is_some()
}

/// Passwords that documentation and templates write: none, one character
/// repeated (`***`, `xxxx`), a variable (`${DB_PASS}`, `%s`, `<password>`,
/// `{{password}}`), or the word itself.
fn is_placeholder(password: &[u8]) -> bool {
    const WORDS: [&str; 7] = [
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "your_password",
        "yourpassword",
    ];
    let Some(&first) = password.first() else {
        return true;
    };
    password.iter().all(|&b| b == first)
        || matches!(first, b'$' | b'%' | b'<' | b'{' | b'[')
        || WORDS
            .iter()
            .any(|w| password.eq_ignore_ascii_case(w.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::super::find;
    use super::*;
    use proptest::prelude::*;

    fn found(text: &str) -> Vec<(Detector, &str)> {
        super::super::found_by(text, detectors())
    }

    // tokens made with Python's zlib.crc32 and a base-62 encoder
    // (`0-9A-Za-z`), outside this code
    const GITHUB: &str = "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";
    const GITHUB_OAUTH: &str = "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";
    const NPM: &str = "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";
    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    #[test]
    fn a_private_key_is_found_by_its_header() {
        let text = "服务器的钥匙 -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
        assert_eq!(
            found(text),
            [(Detector::PrivateKey, "-----BEGIN OPENSSH PRIVATE KEY-----")]
        );
        for header in [
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        ] {
            assert_eq!(found(header), [(Detector::PrivateKey, header)]);
        }
        // public keys and certificates are meant to be shared
        for header in [
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN RSA PRIVATE KEY",
        ] {
            assert_eq!(found(header), [], "{header}");
        }
    }

    #[test]
    fn cloud_keys_have_their_kinds_length_and_alphabet() {
        for key in [
            "AKIAZ7VRSQ5TLEXAMPLF",
            "ASIAY34FZKBOKMUTVV7A",
            "LTAI5tHk2pQm8RxVb3NcWd7e",
            "LTAI4Fd8Kq2mZ1xQ",
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3Q9rT7sV",
            "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
        ] {
            let text = format!("key={key}，别外传");
            assert_eq!(found(&text), [(Detector::AccessKey, key)], "{key}");
        }
        for text in [
            // AWS's documentation's example
            "AKIAIOSFODNN7EXAMPLE",
            // one too long, one too short, 1 and 8 are not base32
            "AKIAZ7VRSQ5TLEXAMPLFX",
            "AKIAZ7VRSQ5TLEXAMP",
            "AKIAZ7VRSQ5TLEXAMP18",
            // inside a longer word
            "XAKIAZ7VRSQ5TLEXAMPLF",
            // a template's
            "AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn github_and_npm_tokens_carry_their_checksum() {
        for token in [GITHUB, GITHUB_OAUTH, NPM] {
            let text = format!("token 是 {token} 用完删");
            assert_eq!(found(&text), [(Detector::ApiToken, token)]);
        }
        // one character changed: the checksum no longer holds
        let typo = GITHUB.replace("Ky9", "Ky8");
        assert_eq!(found(&typo), []);
        // GitHub's documentation's example has no valid checksum
        assert_eq!(found("gho_16C7e42F292c6912E7710c838347Ae178B4a"), []);
    }

    #[test]
    fn other_tokens_have_their_shape() {
        let fine_grained = format!(
            "github_pat_{}_{}",
            "A".repeat(11) + "1a2B3c4D5e6",
            "x9".repeat(29) + "Z"
        );
        let slack = "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
        let openai = "sk-proj-Ab3dEf6hIj9kLmN0pQrStUvWxT3BlbkFJaB1cD2eF3gH4iJ5kL6mN7oP8";
        let gitlab = "glpat-xYz12AbC34dEf56GhI78";
        for token in [fine_grained.as_str(), slack, openai, gitlab] {
            assert_eq!(found(&format!("({token})")), [(Detector::ApiToken, token)]);
        }
        for text in [
            "xoxb-12345-abc",
            "sk-this-is-not-an-openai-key-just-a-long-slug-of-text",
            "risk-free glpat-short",
            "task_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",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn bot_webhooks_and_app_secrets_are_found_with_their_keys() {
        for url in [
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-2c5b8e7d1a40",
            "https://oapi.dingtalk.com/robot/send?access_token=5f2b9c0d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c",
            "https://open.feishu.cn/open-apis/bot/v2/hook/2c9d4e6f-1a3b-4c5d-8e7f-9a0b1c2d3e4f",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/AbCdEfGhIjKlMnOpQrStUvWx",
        ] {
            let text = format!("机器人地址：{url}，别乱发");
            assert_eq!(found(&text), [(Detector::Webhook, url)], "{url}");
        }
        let secret = "corpsecret=Xk3vN8qP2rT5wY7zA1bC4dE6fG9hJ0kL2mN5pQ8rS3t";
        let text = format!(
            "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1a2b3c4d5e6f7a8b&{secret}"
        );
        assert_eq!(found(&text), [(Detector::ApiToken, secret)]);
        for text in [
            // WeCom's documentation's
            "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ID&corpsecret=SECRET",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn a_password_after_its_keyword_is_found() {
        for (text, found_as) in [
            ("服务器密码：Qwe@1234，别外传", "密码：Qwe@1234"),
            ("账号 admin 密码 P@ssw0rd.", "密码 P@ssw0rd"),
            ("银行卡密码是204861", "密码是204861"),
            ("wifi 口令为 guest2024", "口令为 guest2024"),
            ("DB_PASSWORD=s3cr3t!x", "PASSWORD=s3cr3t!x"),
            (
                r#"{"user": "svc", "password": "Zq8#vT2x"}"#,
                r#"password": "Zq8#vT2x"#,
            ),
            ("pwd=8812abc&user=a", "pwd=8812abc"),
        ] {
            assert_eq!(found(text), [(Detector::Password, found_as)], "{text}");
        }
        for text in [
            "密码是多少？",
            "忘记密码了",
            "密码学和密码锁",
            "password: required",
            "password reset link: https://example.com/reset?t=1",
            "Passwords must have 8 characters",
            "pwd: /home/alice",
            "密码：******",
            "DB_PASSWORD=${SECRET}",
            "密码 6 位",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    /// Every meeting invitation carries its passcode: a meeting's is none,
    /// a meeting room computer's is one.
    #[test]
    fn a_meetings_passcode_is_no_password() {
        for text in [
            "#腾讯会议：123-456-789\n会议密码：2468",
            "腾讯会议 会议号 123 456 789 密码 2468",
            "钉钉会议 入会密码 8848",
            "Meeting ID: 812 3456 7890\nPassword: 551234",
            "Join Zoom Meeting https://zoom.us/j/81234567890 Password: 551234",
            "明早九点开会，参会密码 7788",
        ] {
            assert_eq!(found(text), [], "{text}");
            let why: Vec<String> = super::near_misses(text).into_iter().map(|m| m.2).collect();
            assert!(why.iter().any(|w| w.contains("meeting")), "{text}: {why:?}");
        }
        for (text, found_as) in [
            ("会议室电脑密码：Qwe@1234", "密码：Qwe@1234"),
            // a meeting's number long before: another line's business
            (
                "上午的腾讯会议 123-456-789 开完了，下午要把测试环境的服务器配好，登录密码：Zx9#kL2q",
                "密码：Zx9#kL2q",
            ),
        ] {
            assert_eq!(found(text), [(Detector::Password, found_as)], "{text}");
        }
    }

    #[test]
    fn a_jwt_needs_a_json_header_and_a_signature() {
        assert_eq!(
            found(&format!("Authorization: Bearer {JWT}")),
            [(Detector::Jwt, JWT)]
        );
        // no signature: `alg: none`, grants nothing
        let unsigned = &JWT[..JWT.rfind('.').unwrap_or(0) + 1];
        assert_eq!(found(unsigned), []);
        // a header that is not JSON
        assert_eq!(
            found("eyJub3QganNvbg.eyJhIjoxfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y"),
            []
        );
    }

    #[test]
    fn a_password_in_a_url_is_found_unless_a_placeholder() {
        for url in [
            "mysql://root:Passw0rd!@10.0.3.15:3306",
            "redis://:s3cr3t@cache.internal",
            "mongodb+srv://svc:Zq8%2Fx@cluster0.example.net",
        ] {
            let text = format!("连这个 {url}/prod，别外传");
            assert_eq!(found(&text), [(Detector::UrlPassword, url)], "{url}");
        }
        for text in [
            "https://example.com/path",
            "https://user@example.com",
            "postgres://app:${DB_PASSWORD}@db:5432",
            "postgres://app:<password>@db",
            "postgres://app:******@db",
            "postgres://app:password@db",
            "ftp://user:@host",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn the_secret_part_leaves_what_tells_the_kind() {
        let cases = [
            ("AKIAZ7VRSQ5TLEXAMPLF", "Z7VRSQ5TLEXA"),
            (GITHUB, "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3g"),
            ("mysql://root:Passw0rd!@db", "Passw0rd!"),
            (
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-2c5b8e7d1a40",
                "693a91f6-7b2c-4e1d-9f3a-2c5b8e7d",
            ),
            (
                "corpsecret=Xk3vN8qP2rT5wY7zA1bC4dE6fG9hJ0kL2mN5pQ8rS3t",
                "Xk3vN8qP2rT5wY7zA1bC4dE6fG9hJ0kL2mN5pQ8",
            ),
            ("密码：Qwe@1234。", "Qwe@1234"),
        ];
        for (text, secret) in cases {
            let d = find(text, detectors())[0];
            assert_eq!(&text[secret_part(text, &d)], secret);
        }
        let d = find(JWT, detectors())[0];
        let secret = &JWT[secret_part(JWT, &d)];
        assert!(secret.starts_with("eyJzdWIi") && JWT.ends_with(&format!("{secret}sw5c")));
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----";
        let d = find(key, detectors())[0];
        assert_eq!(&key[secret_part(key, &d)], "\nMIIEow\nIBAAK\n");
        let no_footer = "-----BEGIN PRIVATE KEY-----MIIEow";
        let d = find(no_footer, detectors())[0];
        assert_eq!(&no_footer[secret_part(no_footer, &d)], "MIIEow");
    }

    #[test]
    fn near_misses_say_why_they_are_none() {
        let typo = GITHUB.replace("Ky9", "Ky8");
        let unsigned = &JWT[..JWT.rfind('.').unwrap_or(0) + 1];
        let text = format!(
            "{typo} AKIAIOSFODNN7EXAMPLE {unsigned} redis://:***@cache {GITHUB} risk-free ASIAN"
        );
        let found = near_misses(&text);
        let misses: Vec<(&str, Detector, &str)> = found
            .iter()
            .map(|(span, d, why)| (&text[span.clone()], *d, why.split(':').next().unwrap_or("")))
            .collect();
        assert_eq!(
            misses,
            [
                (typo.as_str(), Detector::ApiToken, "its last six characters are not the CRC-32 of the thirty before them"),
                ("AKIAIOSFODNN7EXAMPLE", Detector::AccessKey, "AWS's documentation's example key (…EXAMPLE)"),
                (unsigned, Detector::Jwt, "no signature"),
                ("redis://:***@cache", Detector::UrlPassword, "its password is a placeholder (empty, `***`, `${VAR}`, `<password>`, `password`)"),
            ]
        );
    }

    /// Texts made of anchors find nothing, and each anchor's reading stops
    /// at its kind's cap, not at the text's end (which made such a text of
    /// a megabyte cost minutes).
    #[test]
    fn texts_full_of_anchors_find_nothing() {
        for unit in [
            "AIza-",
            "pwd=",
            "密码：",
            "eyJ",
            "://",
            "-----BEGIN ",
            "ghp_",
        ] {
            // (a run of 65 at the end: `pwd=pwd=` ending the text would
            // be a password of its own)
            let text = unit.repeat(40_000) + &"a".repeat(65);
            assert_eq!(found(&text), [], "{unit}");
        }
    }

    /// Key headers back to back: each one found, each with no body to mask,
    /// found without reading on to the text's end for a footer.
    #[test]
    fn a_text_of_key_headers_has_no_bodies() {
        let text = "-----BEGIN RSA PRIVATE KEY-----".repeat(20_000);
        let found = find(&text, detectors());
        assert_eq!(found.len(), 20_000);
        assert!(found.iter().all(|d| secret_part(&text, d).is_empty()));
    }

    #[test]
    fn only_enabled_kinds_are_looked_for() {
        let text = format!("{GITHUB} AKIAZ7VRSQ5TLEXAMPLF");
        let only_keys = find(&text, &[Detector::AccessKey]);
        assert_eq!(only_keys.len(), 1);
        assert_eq!(only_keys[0].detector, Detector::AccessKey);
    }

    proptest! {
        /// Any text, anchors spliced in: no panic, and every detection a
        /// range of whole characters whose secret lies inside the text.
        #[test]
        fn any_text_gives_ranges_of_whole_characters(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "-----BEGIN ", "PRIVATE KEY", "-----", "AKIA", "LTAI", "AIza", "ghp_",
                    "github_pat_", "xoxb-", "1234567890", "sk-", "T3BlbkFJ", "eyJ", ".",
                    "://", ":", "@", "A", "z", "7", "_", "-", "内幕", " ", "\n", "é",
                    GITHUB, JWT,
                ]),
                0..16,
            ),
        ) {
            let text = pieces.concat();
            for d in find(&text, detectors()) {
                prop_assert!(text.get(d.start..d.end).is_some());
                let secret = secret_part(&text, &d);
                prop_assert!(secret.start <= secret.end && text.get(secret).is_some());
            }
        }
    }
}
