//! The encodings that list files and messages arrive in.
//!
//! Word lists are UTF-8, and so is chat as WeCom's archive exports it. The
//! lists maintainers bring from elsewhere often are not: a list saved on
//! Chinese Windows, or exported from Excel there as CSV, is GB18030 (GBK's
//! superset, the default code page); Excel's "Unicode text" is UTF-16 with
//! a byte-order mark; lists from Taiwan and Hong Kong may be Big5. So may
//! the messages of an older archiver or a gateway on Chinese Windows.
//! [`decode`] reads such a file for `wordwarden import`,
//! [`legacy_encoding`] names what bytes that are not UTF-8 most likely are,
//! for the `not-utf8` error and a dead letter's reason (`chardetng`, the
//! detector Firefox uses, tells GBK from Big5), and a [`Charset`] reads the
//! messages that are not UTF-8 in the encoding the input is configured
//! with (`input_encoding`).
//!
//! ```
//! use wordwarden::encoding::{decode, legacy_encoding, Charset};
//!
//! // 内幕消息 saved as GBK
//! let gbk = [0xC4, 0xDA, 0xC4, 0xBB, 0xCF, 0xFB, 0xCF, 0xA2];
//! assert_eq!(legacy_encoding(&gbk), Some("gb18030"));
//! let read = decode(&gbk, None).unwrap();
//! assert_eq!((&*read.text, read.encoding), ("内幕消息", "gb18030"));
//! // UTF-8 stays as it is, a byte-order mark dropped
//! let read = decode("\u{FEFF}老鼠仓".as_bytes(), None).unwrap();
//! assert_eq!((&*read.text, read.encoding), ("老鼠仓", "UTF-8"));
//! // a message in GBK, where the input is configured so
//! let gbk_input = Charset::for_label("gbk").unwrap().unwrap();
//! assert_eq!(gbk_input.decode(&gbk).as_deref(), Some("内幕消息"));
//! ```

use std::borrow::Cow;

use encoding_rs::{Encoding, BIG5, GB18030, GBK, UTF_8};

/// Why a file could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeTextError {
    /// The encoding named is none the WHATWG Encoding Standard knows.
    #[error("unknown encoding {0:?} (try gb18030, big5, utf-16le, utf-16be, shift_jis, euc-kr)")]
    UnknownEncoding(String),
    /// The bytes are not text in the encoding named.
    #[error("not {encoding} text (its bytes do not decode as {encoding})")]
    Malformed {
        /// The encoding's name.
        encoding: &'static str,
    },
    /// Neither UTF-8 (nor a byte-order mark) nor Chinese text in GB18030
    /// or Big5.
    #[error("neither UTF-8 nor GB18030 or Big5 text; name its encoding (gb18030, big5, utf-16le, shift_jis, …)")]
    Unrecognised,
    /// An encoding that messages cannot be read in ([`Charset`]).
    #[error(
        "{0} cannot be a message encoding: messages are read as UTF-8 where they are, \
         so only an encoding that writes ASCII as ASCII can be told apart \
         (gb18030, gbk, big5, shift_jis, euc-kr, windows-1252, …)"
    )]
    NotAsciiCompatible(&'static str),
}

/// The encoding of the messages that are not UTF-8, for input from an
/// archiver or gateway that writes a legacy encoding (`input_encoding`:
/// `gb18030`, which reads GBK too, or `big5`, `shift_jis`, …): a message
/// that is UTF-8 is read as such, any other in this encoding. Only
/// encodings that write ASCII as ASCII, so that UTF-8 is told from them;
/// never replaces a byte it cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset(&'static Encoding);

impl Charset {
    /// The encoding a WHATWG label names (`gb18030`, `gbk`, `big5`, …);
    /// `None` for an empty label or UTF-8 (every message is read as UTF-8
    /// first).
    pub fn for_label(label: &str) -> Result<Option<Charset>, DecodeTextError> {
        let label = label.trim();
        if label.is_empty() {
            return Ok(None);
        }
        let encoding = Encoding::for_label_no_replacement(label.as_bytes())
            .ok_or_else(|| DecodeTextError::UnknownEncoding(label.to_string()))?;
        match encoding {
            utf8 if utf8 == UTF_8 => Ok(None),
            ascii if ascii.is_ascii_compatible() => Ok(Some(Charset(ascii))),
            other => Err(DecodeTextError::NotAsciiCompatible(other.name())),
        }
    }

    /// Its name (`gb18030`, `Big5`, `Shift_JIS`, …).
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// `bytes` read in this encoding, if they read without error.
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        self.0
            .decode_without_bom_handling_and_without_replacement(bytes)
    }
}

/// A file's text and the encoding it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The text, without a byte-order mark.
    pub text: Cow<'a, str>,
    /// The encoding's name (`UTF-8`, `gb18030`, `UTF-16LE`, `Big5`, …).
    pub encoding: &'static str,
}

/// Reads `bytes` as text in `encoding` (a WHATWG label: `gb18030`, `gbk`,
/// `big5`, `utf-16le`, `shift_jis`, …; a byte-order mark wins over it), or
/// with `None` as UTF-8 when they are, else in the encoding
/// [`legacy_encoding`] finds. Never replaces a byte it cannot read: a
/// list read wrongly would match the wrong words.
pub fn decode<'a>(bytes: &'a [u8], encoding: Option<&str>) -> Result<Decoded<'a>, DecodeTextError> {
    let named = match encoding {
        Some(label) => Some(
            Encoding::for_label(label.trim().as_bytes())
                .ok_or_else(|| DecodeTextError::UnknownEncoding(label.to_string()))?,
        ),
        None => None,
    };
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((bom, len)) => (bom, &bytes[len..]),
        None => match named {
            Some(named) => (named, bytes),
            None if std::str::from_utf8(bytes).is_ok() => (UTF_8, bytes),
            // the guess has read them already
            None => {
                let (encoding, text) = guess(bytes).ok_or(DecodeTextError::Unrecognised)?;
                return Ok(Decoded {
                    text,
                    encoding: encoding.name(),
                });
            }
        },
    };
    let text = encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .ok_or(DecodeTextError::Malformed {
            encoding: encoding.name(),
        })?;
    Ok(Decoded {
        text,
        encoding: encoding.name(),
    })
}

/// What a file that is not UTF-8 most likely is: the encoding its
/// byte-order mark names (UTF-16) when the rest reads in it, else the
/// legacy encoding of Chinese text its bytes read as (`gb18030`, for GBK
/// too, or `Big5`, as `chardetng` tells them apart: no byte it cannot
/// decode, no control characters), else nothing (a binary file, or an
/// encoding to be named). A file of a term or two may be told wrongly.
pub fn legacy_encoding(bytes: &[u8]) -> Option<&'static str> {
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    if let Some((bom, len)) = Encoding::for_bom(bytes) {
        return as_text(bom, &bytes[len..]).map(|_| bom.name());
    }
    guess(bytes).map(|(encoding, _)| encoding.name())
}

/// Why a file of list text (a list, people group or `.cases` file) whose
/// bytes are not UTF-8 (`error`) cannot be read, and what to do about it.
pub(crate) fn not_utf8(bytes: &[u8], error: std::str::Utf8Error) -> String {
    match legacy_encoding(bytes) {
        Some(name) => format!(
            "file is not UTF-8 ({error}); it reads as {name} text: convert it \
             (`iconv -f {name} -t UTF-8 FILE`; a list or people group: \
             `wordwarden import` reads {name})"
        ),
        None => format!("file is not UTF-8 ({error}); is it a binary file?"),
    }
}

/// The legacy Chinese encoding `bytes` (not UTF-8, no byte-order mark)
/// read as best, GB18030 or Big5, and their text in it, if they read as
/// text in it.
fn guess(bytes: &[u8]) -> Option<(&'static Encoding, Cow<'_, str>)> {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let chinese = |guessed: &'static Encoding| match guessed {
        // GB18030 reads all GBK does, and more
        gbk if gbk == GBK || gbk == GB18030 => Some(GB18030),
        big5 if big5 == BIG5 => Some(BIG5),
        _ => None,
    };
    // a term or two may look Japanese or Korean to the detector: then the
    // likelier of the two Chinese ones, as a site in China would be read
    let guessed = chinese(detector.guess(None, false))
        .or_else(|| chinese(detector.guess(Some(b"cn"), false)))?;
    as_text(guessed, bytes).map(|text| (guessed, text))
}

/// `bytes` decoded in `encoding`, if they decode without error to text
/// without control characters but line ends, tabs and form feeds.
fn as_text<'a>(encoding: &'static Encoding, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .filter(|text| {
            !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{C}'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    /// `saved` is named `name` and reads back as `list`.
    fn reads_back(saved: &[u8], name: &str, list: &str) {
        assert!(std::str::from_utf8(saved).is_err());
        assert_eq!(legacy_encoding(saved), Some(name));
        let read = decode(saved, None).unwrap();
        assert_eq!((read.text.as_ref(), read.encoding), (list, name));
    }

    #[test]
    fn gbk_lists_are_named_and_read() {
        let list = "#! severity: high\n内幕消息\r\n老鼠仓\n稳赚不赔\n";
        let gbk = encoded(GB18030, list);
        reads_back(&gbk, "gb18030", list);
        // named: `gbk` is GB18030's label too
        assert_eq!(decode(&gbk, Some("GBK")).unwrap().text, list);
    }

    #[test]
    fn the_bundled_lists_saved_as_gb18030_read_back_as_they_were() {
        for list in [
            include_str!("../wordlists/finance/insider.txt"),
            include_str!("../wordlists/secrets/trade-secrets.txt"),
            include_str!("../wordlists/conduct/harassment.txt"),
        ] {
            reads_back(&encoded(GB18030, list), "gb18030", list);
        }
    }

    #[test]
    fn utf8_is_read_as_it_is() {
        let list = "内幕消息\n";
        assert_eq!(legacy_encoding(list.as_bytes()), None);
        assert_eq!(legacy_encoding("\u{FEFF}内幕消息".as_bytes()), None);
        let read = decode(list.as_bytes(), None).unwrap();
        assert!(matches!(read.text, Cow::Borrowed(_)));
        assert_eq!(read.encoding, "UTF-8");
    }

    #[test]
    fn a_byte_order_mark_names_the_encoding() {
        // Excel's "Unicode text": UTF-16LE after its mark
        let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
        for unit in "內幕消息\n".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        reads_back(&utf16, "UTF-16LE", "內幕消息\n");
        // the mark wins over a name given
        assert_eq!(
            decode(&utf16, Some("gb18030")).unwrap().encoding,
            "UTF-16LE"
        );
    }

    #[test]
    fn big5_lists_are_told_from_gbk() {
        let list = "內幕消息\n老鼠倉\n";
        let big5 = encoded(encoding_rs::BIG5, list);
        // GB18030 reads the same bytes, as other characters
        assert!(GB18030
            .decode_without_bom_handling_and_without_replacement(&big5)
            .is_some());
        reads_back(&big5, "Big5", list);
        assert_eq!(decode(&big5, Some("big5")).unwrap().text, list);
    }

    #[test]
    fn what_is_not_text_is_refused() {
        // an invalid lead byte, and a control character GB18030 would read
        for bytes in [&[0xC4, 0xDA, 0xFF][..], &[0xC4, 0xDA, 0x01, 0x80][..]] {
            assert_eq!(legacy_encoding(bytes), None, "{bytes:?}");
            assert_eq!(decode(bytes, None), Err(DecodeTextError::Unrecognised));
        }
        assert_eq!(
            decode(&[0xC4, 0xDA, 0xFF], Some("gb18030")),
            Err(DecodeTextError::Malformed {
                encoding: "gb18030"
            })
        );
        assert!(matches!(
            decode(b"abc", Some("klingon")),
            Err(DecodeTextError::UnknownEncoding(_))
        ));
    }
}
