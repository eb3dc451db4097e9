//! Text as a browser shows a link: `%E5%86%85%E5%B9%95` is `内幕`.
//!
//! A link copied from a browser's address bar carries its Chinese words
//! percent-encoded (a search for `内幕消息`, a shared file
//! `…/%E5%AE%A2%E6%88%B7%E5%90%8D%E5%8D%95.xlsx`). The scan reads a field
//! with such runs decoded, as another reading, and maps what it finds back
//! to the escapes it was written with.

use percent_encoding::percent_decode;

/// A text with each run of percent-escapes that spells UTF-8 text beyond
/// ASCII decoded; runs of ASCII alone (`%20`, `%2F`) and runs that are not
/// UTF-8 stay as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PercentDecoded {
    /// The text read so.
    pub text: String,
    /// Each decoded run, in order.
    runs: Vec<DecodedRun>,
}

/// One decoded run: `len` bytes at `read` in the decoded text, written as
/// `3 * len` bytes of escapes at `written`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DecodedRun {
    read: u32,
    len: u32,
    written: u32,
}

impl PercentDecoded {
    /// `text` with its percent-encoded runs decoded, or `None` where it
    /// has none to decode.
    pub fn of(text: &str) -> Option<PercentDecoded> {
        let bytes = text.as_bytes();
        let mut at = memchr::memchr(b'%', bytes)?;
        let mut decoded = PercentDecoded {
            text: String::new(),
            runs: Vec::new(),
        };
        let mut copied = 0;
        while let Some(found) = memchr::memchr(b'%', &bytes[at..]) {
            let start = at + found;
            let mut end = start;
            while is_escape(bytes, end) {
                end += 3;
            }
            at = end.max(start + 1);
            let run: Vec<u8> = percent_decode(&bytes[start..end]).collect();
            if run.is_ascii() {
                continue;
            }
            let Ok(run) = String::from_utf8(run) else {
                continue;
            };
            decoded.text.push_str(&text[copied..start]);
            decoded.runs.push(DecodedRun {
                read: decoded.text.len() as u32,
                len: run.len() as u32,
                written: start as u32,
            });
            decoded.text.push_str(&run);
            copied = end;
        }
        if decoded.runs.is_empty() {
            return None;
        }
        decoded.text.push_str(&text[copied..]);
        Some(decoded)
    }

    /// Each decoded run: where its escapes start in the text as written
    /// (three bytes each of its bytes), and the text it spells.
    pub fn runs(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        self.runs.iter().map(|r| {
            let spelled = self.text.get(r.read as usize..(r.read + r.len) as usize);
            (r.written as usize, spelled.unwrap_or_default())
        })
    }

    /// Where the decoded bytes `start..end` were written, if they touch a
    /// decoded run or end where one starts or start where one ends (else
    /// the text as written has them already; beside a run its escapes'
    /// hex digits would be a letter touching a number or a Latin word:
    /// `%BA13812345678` is `机13812345678`).
    pub fn written(&self, start: u32, end: u32) -> Option<(u32, u32)> {
        self.runs
            .iter()
            .any(|r| start <= r.read + r.len && r.read <= end)
            .then(|| (self.written_at(start), self.written_at(end)))
    }

    /// Where decoded offset `at` was written: three bytes an escaped byte,
    /// one for one between runs.
    fn written_at(&self, at: u32) -> u32 {
        let before = self.runs.partition_point(|r| r.read <= at);
        match before.checked_sub(1).map(|i| self.runs[i]) {
            None => at,
            Some(r) if at < r.read + r.len => r.written + 3 * (at - r.read),
            Some(r) => r.written + 3 * r.len + (at - r.read - r.len),
        }
    }
}

/// Whether `bytes[at..]` starts with an escape, `%` and two hex digits.
fn is_escape(bytes: &[u8], at: usize) -> bool {
    matches!(bytes.get(at..at + 3), Some([b'%', hi, lo]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_beyond_ascii_are_decoded_and_mapped_back() {
        let text = "搜 https://s.example.com/s?wd=%E5%86%85%E5%B9%95%E6%B6%88%E6%81%AF&ie=utf-8 看%E7%9C%8B";
        let d = PercentDecoded::of(text).expect("decoded");
        assert_eq!(
            d.text,
            "搜 https://s.example.com/s?wd=内幕消息&ie=utf-8 看看"
        );
        let term = d.text.find("内幕消息").unwrap() as u32;
        let (s, e) = d.written(term, term + 12).expect("in a run");
        assert_eq!(
            &text[s as usize..e as usize],
            "%E5%86%85%E5%B9%95%E6%B6%88%E6%81%AF"
        );
        // part of a run, and a span across the text between two runs
        let (s, e) = d.written(term + 3, term + 6).unwrap();
        assert_eq!(&text[s as usize..e as usize], "%E5%B9%95");
        let last = d.text.len() as u32;
        let (s, e) = d.written(term, last).unwrap();
        assert_eq!(
            &text[s as usize..e as usize],
            &text[text.find("%E5").unwrap()..]
        );
        // outside every run: the plain text has it
        assert_eq!(d.written(0, 3), None);
        let ie = d.text.find("ie=").unwrap() as u32;
        assert_eq!(d.written(ie, ie + 2), None);
        // right after a run, where its escapes would touch it
        let amp = d.text.find("&ie").unwrap() as u32;
        let (s, e) = d.written(amp, amp + 3).unwrap();
        assert_eq!(&text[s as usize..e as usize], "&ie");
    }

    #[test]
    fn ascii_runs_broken_escapes_and_non_utf8_stay() {
        for text in [
            "a%20b%2Fc",
            "100% sure",
            "50%",
            "%E5%86",       // a character cut short
            "%ZZ%E5",       // not hex, then a lone lead byte
            "%C4%DA%C4%BB", // GBK's 内幕, not UTF-8
            "no escapes",
        ] {
            assert_eq!(PercentDecoded::of(text), None, "{text}");
        }
        // a run with a space in it is one run
        let d = PercentDecoded::of("%E5%86%85%20%E5%B9%95").unwrap();
        assert_eq!(d.text, "内 幕");
        assert_eq!(d.written(0, 7), Some((0, 21)));
        // lower case hex, and escapes right after one another in two runs
        let d = PercentDecoded::of("%e5%86%85x%e5%b9%95").unwrap();
        assert_eq!(d.text, "内x幕");
        assert_eq!(d.written(4, 7), Some((10, 19)));
    }
}
