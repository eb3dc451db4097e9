//! The `json` reader takes any bytes without panicking or overflowing the
//! stack, at a string's pointer, an object's and the whole message's, with
//! and without participants (and a message's time).
#![no_main]
use libfuzzer_sys::fuzz_target;
use wordwarden::audience::InternalDomains;
use wordwarden::envelope::{decode, InputFormat, Participants};

fuzz_target!(|data: &[u8]| {
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
