//! The WeCom walker takes any bytes without panicking or overflowing the
//! stack, and a decoded record's people and time are read without one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wordwarden::envelope::{decode, InputFormat};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = decode(data, &InputFormat::wecom()) {
        for f in &m.fields {
            assert!(f.pointer.as_deref().is_some_and(|p| p.starts_with('/')));
        }
        // who and when, as a message with hits is asked them
        let _ = (m.source.participation(), m.source.msgtime());
    }
});
