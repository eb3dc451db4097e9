//! E-mail addresses (`@email`): an address whose domain ends in a
//! top-level domain (IANA's root zone's, or a private network's), as
//! written (`zhang@example.com`, `ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ`) or
//! with its `@` and dots written as words in brackets
//! (`zhang(at)example(dot)com`); not an image's name (`icon@2x.png`), a git
//! or scp remote (`git@github.com:org/repo.git`) or a link's user
//! (`ssh://git@host/…`).

use std::ops::Range;
use std::sync::OnceLock;

use super::{Detection, Detector};
use crate::fold::light_fold;

/// An address as written: a local part, `@` and a domain of dotted
/// labels, in light-folded text (`＠` and `﹫` are `@`).
fn email_regex() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"[a-z0-9][a-z0-9._%+\-]{0,63}@[a-z0-9](?:[a-z0-9\-]{0,62}\.)+[a-z]{2,24}",
        )
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// An e-mail address with its `@` and dots written as words in brackets
/// (`zhang(at)example(dot)com`, `li [at] example.com`, `wang【at】corp.cn`),
/// as people write an address to keep it from harvesters and filters: in
/// light-folded text, where `（` is `(`.
fn worded_email_regex() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"[a-z0-9][a-z0-9._%+\-]{0,63}\s{0,2}[(\[{【]at[)\]}】]\s{0,2}",
            r"[a-z0-9][a-z0-9\-]{0,62}",
            r"(?:(?:\.|\s{0,2}[(\[{【]dot[)\]}】]\s{0,2})[a-z0-9][a-z0-9\-]{0,62})+",
        ))
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// Whether `text` may hold an at-sign written as a word
/// ([`worded_email_regex`]): ASCII `at` before a character that
/// light-folds to a closing bracket, or `】`. Its own search, not a mark of
/// the field survey: a test more a byte there made the survey cost twice
/// what it did (`callgrind`).
pub(super) fn may_have_worded_at(text: &str) -> bool {
    // `at` in any case: a search for `t`, then the bytes around it (40%
    // of a regex search's instructions: benches/README)
    let bytes = text.as_bytes();
    memchr::memchr2_iter(b't', b'T', bytes).any(|i| {
        i > 0
            && (bytes[i - 1] | 0x20) == b'a'
            && text
                .get(i + 1..)
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| ")]}）］｝﹚﹜⁾₎︶︸﹈】".contains(c))
    })
}

/// The words for `@` and `.` in brackets ([`worded_email_regex`]), with
/// the spaces around them.
fn symbol_word_regex() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"\s{0,2}[(\[{【](at|dot)[)\]}】]\s{0,2}")
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// A light-folded address with its words for `@` and `.` as the signs
/// (`zhang(at)example(dot)com` is `zhang@example.com`).
pub(super) fn unworded_email(folded: &str) -> String {
    symbol_word_regex()
        .replace_all(
            folded,
            |c: &regex::Captures| {
                if &c[1] == "at" {
                    "@"
                } else {
                    "."
                }
            },
        )
        .into_owned()
}

/// Top-level domains that name no registry but a company's own network
/// (RFC 6762's `local`, ICANN's reserved `internal`, and the usual private
/// ones): an address there is a colleague's.
const PRIVATE_TLDS: &[&str] = &[
    "local",
    "internal",
    "lan",
    "corp",
    "intranet",
    "home",
    "localdomain",
    "private",
];

/// Whether `domain` (folded) ends in a top-level domain: one of IANA's
/// root zone, or a private network's. A file's extension is none
/// (`icon@2x.png`, a high-resolution image's name).
fn is_mail_domain(domain: &str) -> bool {
    let top = top_label(domain);
    PRIVATE_TLDS.contains(&top) || tld::exist(top)
}

/// The last label of `domain` (`com` of `example.com`).
fn top_label(domain: &str) -> &str {
    domain.rsplit('.').next().unwrap_or(domain)
}

/// Appends every e-mail address in `text` to `out`.
pub(super) fn find_into(text: &str, out: &mut Vec<Detection>) {
    for (span, why_not) in emails(text) {
        if why_not.is_none() {
            out.push(Detection {
                detector: Detector::Email,
                start: span.start,
                end: span.end,
            });
        }
    }
}

/// Every address's shape in `text` that is a word of its own, its span in
/// `text` and, where it is no address, why.
pub(super) fn emails(text: &str) -> Vec<(Range<usize>, Option<String>)> {
    let lf = light_fold(text);
    let folded = lf.text();
    // the local part must not continue a longer word
    let continues_word = |at: usize| {
        (folded[..at].chars().next_back())
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    };
    let mut out = Vec::new();
    for m in email_regex().find_iter(folded) {
        if continues_word(m.start()) {
            continue;
        }
        let domain = m.as_str().rsplit('@').next().unwrap_or_default();
        let mut after = folded[m.end()..].chars();
        let why_not = if folded[..m.start()].ends_with("://") {
            Some("a link's user (`ssh://git@host/…`), not an e-mail address".to_string())
        } else if !is_mail_domain(domain) {
            Some(format!(
                "an e-mail address's shape, but `.{}` is no top-level domain (a file's \
                 name, `icon@2x.png`)",
                top_label(domain)
            ))
        } else if after.next() == Some(':')
            && (after.next()).is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '~'))
        {
            Some("`user@host:path`, a git or scp remote, not an e-mail address".to_string())
        } else {
            None
        };
        out.push((lf.original_range(m.range()), why_not));
    }
    // the signs written as words: an address where the signs make one
    for m in worded_email_regex().find_iter(folded) {
        if continues_word(m.start()) {
            continue;
        }
        // its `at` as [`may_have_worded_at`] sees it, so that the gate
        // never skips what this finds (`ａｔ` folds to `at` too)
        let span = lf.original_range(m.range());
        if !may_have_worded_at(&text[span.clone()]) {
            continue;
        }
        let address = unworded_email(m.as_str());
        let whole = email_regex()
            .find(&address)
            .is_some_and(|e| e.range() == (0..address.len()));
        let domain = address.rsplit('@').next().unwrap_or_default();
        let why_not = (!whole || !is_mail_domain(domain)).then(|| {
            format!(
                "`@` or `.` written as words, but `{address}` is no e-mail address (no \
                 top-level domain)"
            )
        });
        out.push((span, why_not));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{near_misses, value};
    use super::*;
    use crate::fold::Survey;

    fn dets(text: &str) -> Vec<(Detector, &str)> {
        super::super::found_by(text, &Detector::ALL)
    }

    #[test]
    fn at_signs_are_every_character_that_folds_to_one() {
        let mut found = Vec::new();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let mut holds_at = false;
            crate::fold::light_fold_char(c, |f| holds_at |= f == '@');
            if holds_at {
                found.push(c);
            }
        }
        // a text with none of them holds no e-mail address: the survey
        // looks for these
        assert_eq!(found, ['@', '﹫', '＠']);
        for at in found {
            let text = format!("li{at}example.com");
            assert!(Survey::with_detectors(&text).may_have_at_sign(), "{text}");
        }
        assert!(!Survey::with_detectors("li.example.com，ａ").may_have_at_sign());
        // and `at` before every character that folds to a closing bracket
        // (the at-sign as a word, `li(at)example.com`)
        let mut closing = vec!['】'];
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let mut folded = String::new();
            crate::fold::light_fold_char(c, |f| folded.push(f));
            if matches!(folded.as_str(), ")" | "]" | "}") {
                closing.push(c);
            }
        }
        for c in closing {
            for at in ["at", "AT"] {
                let text = format!("li({at}{c}example.com");
                assert!(may_have_worded_at(&text), "{text}");
            }
        }
        assert!(!may_have_worded_at("look at this (and this), 内幕"));
        assert_eq!(
            dets("mail me: li.wei﹫example.com"),
            vec![(Detector::Email, "li.wei﹫example.com")]
        );
    }

    #[test]
    fn emails() {
        assert_eq!(
            dets("发到 zhang.san@example.com 吧"),
            vec![(Detector::Email, "zhang.san@example.com")]
        );
        assert_eq!(
            dets("邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            vec![(Detector::Email, "ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ")]
        );
        assert_eq!(dets("no at sign here"), vec![]);
    }

    /// An address with its `@` and dots written as words in brackets is the
    /// address they make: found, and valued as written with the signs.
    #[test]
    fn addresses_with_their_signs_as_words_are_found() {
        for (text, address) in [
            ("邮箱 zhang(at)example(dot)com", "zhang(at)example(dot)com"),
            ("发到 li [at] example.com 吧", "li [at] example.com"),
            ("wang【at】corp.cn", "wang【at】corp.cn"),
            ("ZHANG（AT）EXAMPLE.COM", "ZHANG（AT）EXAMPLE.COM"),
            (
                "chen{at}mail(dot)company(dot)com(dot)cn",
                "chen{at}mail(dot)company(dot)com(dot)cn",
            ),
        ] {
            assert_eq!(dets(text), vec![(Detector::Email, address)], "{text}");
        }
        assert_eq!(
            value(Detector::Email, "ZHANG（AT）EXAMPLE(DOT)COM"),
            "zhang@example.com"
        );
        for text in [
            // no top-level domain, or no domain at all
            "icon(at)2x.png",
            "look (at) this",
            "zhang(at)example",
            // `at` in a word of its own brackets
            "请看 (chat) example.com",
        ] {
            assert_eq!(dets(text), vec![], "{text}");
        }
        let why: Vec<String> = near_misses("icon(at)2x.png")
            .into_iter()
            .map(|m| m.3)
            .collect();
        assert!(why.iter().any(|w| w.contains("words")), "{why:?}");
    }

    /// An address's domain ends in a top-level domain, or a private
    /// network's; an image's name, a git remote and a link's user are none.
    #[test]
    fn file_names_and_remotes_are_no_emails() {
        for (text, address) in [
            ("发到 li@mail.company.cn", "li@mail.company.cn"),
            ("admin@hr.corp.internal 是人事的", "admin@hr.corp.internal"),
            ("wang@intranet.local", "wang@intranet.local"),
            ("发给 zhang@example.zip", "zhang@example.zip"),
            // a colon and what is no path after it
            ("zhang@example.com: 请查收", "zhang@example.com"),
            ("zhang@example.com:10点前回复", "zhang@example.com"),
        ] {
            assert_eq!(dets(text), vec![(Detector::Email, address)], "{text}");
        }
        for text in [
            "icon@2x.png 替换一下",
            "切图 logo@3x.jpg 和 banner@2x.webp",
            "bg@1.5x.gif",
            "git clone git@github.com:org/repo.git",
            "scp deploy@build.example.com:/tmp/a.tar .",
            "git@gitlab.example.com:~/repo",
            "ssh://git@github.com/org/repo.git",
        ] {
            assert_eq!(dets(text), vec![], "{text}");
            let why: Vec<_> = near_misses(text).into_iter().map(|m| m.3).collect();
            assert!(
                why.iter().any(|w| w.contains("top-level")
                    || w.contains("remote")
                    || w.contains("link's user")),
                "{text}: {why:?}"
            );
        }
    }
}
