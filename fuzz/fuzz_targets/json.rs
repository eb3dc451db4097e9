//! The `json` reader takes any bytes without panicking or overflowing the
//! stack, at a string's pointer, an object's and the whole message's, with
//! and without participants (and a message's time), and as read in a
//! configured legacy encoding (`input_encoding`): UTF-8 kept as it is,
//! anything else read into UTF-8 or refused `not_utf8`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wordwarden::audience::InternalDomains;
use wordwarden::encoding::Charset;
use wordwarden::envelope::{decode, to_utf8, InputFormat, Participants};

fuzz_target!(|data: &[u8]| {
    for label in ["gb18030", "big5"] {
        let charset = Charset::for_label(label).expect("known");
        match to_utf8(data, charset) {
            Ok(read) => {
                let text = std::str::from_utf8(&read).expect("read as UTF-8");
                if std::str::from_utf8(data).is_ok() {
                    assert_eq!(text.as_bytes(), data, "UTF-8 kept as it is");
                }
                let _ = decode(&read, &InputFormat::json("/text"));
            }
            Err(e) => assert_eq!(e.reason(), "not_utf8"),
        }
    }
    let participants = Participants {
        from: "/from".into(),
        to: "/to".into(),
        internal_domains: InternalDomains::new(["example.com"]).expect("a domain"),
        time: "/time".into(),
    };
    for pointer in ["/text", "/a", ""] {
        let plain = InputFormat::json(pointer);
        let told = InputFormat::json_with_participants(pointer, participants.clone());
        for format in [plain, told] {
            if let Ok(m) = decode(data, &format) {
                assert!(!m.fields.is_empty());
            }
            if let Some(p) = format.participants() {
                let _ = p.read(data);
            }
        }
    }
});
