//! Folding never panics, spans lie on char boundaries, and folding folded
//! text changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let folded = wordwarden::fold::fold(text);
    for c in folded.chars() {
        assert!(text.is_char_boundary(c.start) && text.is_char_boundary(c.end));
    }
    let once = folded.as_string();
    assert_eq!(wordwarden::fold::fold_term(&once), once);
    let lf = wordwarden::fold::light_fold(text);
    let r = lf.original_range(0..lf.text().len());
    assert!(r.end <= text.len());
});
