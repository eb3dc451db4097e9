//! Lint: everything wrong or suspicious in a word-list set, with `file:line`.
//!
//! Errors (block deployment): bad directives, bad regexes, unknown detectors,
//! terms empty after folding, non-UTF-8 files, an empty set. Warnings: terms
//! that are duplicates after folding, single-character terms that will flood,
//! allow phrases that suppress nothing, terms shadowed by a shorter term of
//! the same category, terms an allow phrase suppresses everywhere, terms in
//! `#! match: exact` files written with characters only folding would match,
//! regexes of folded lists that can match no folded text (`(?-i:API)`),
//! lists whose `#! until:` has passed, and, given a corpus, terms that
//! fire on too many messages (with the words they fire inside most, the
//! candidates for an allow phrase). A set with errors is checked further as if
//! the entries in error were not written, so one run shows every mistake.
//!
//! ```
//! use wordwarden::lint::lint;
//! use wordwarden::lists::{Level, WordListSet};
//! use wordwarden::ruleset::RulesetBuilder;
//!
//! let lists = WordListSet::from_sources(vec![("a.txt".into(), "re:(unclosed\n!无关短语\n".into())]);
//! let diags = lint(&lists, &RulesetBuilder::new());
//! assert_eq!(diags[0].code, "bad-regex");
//! assert_eq!(diags[0].level, Level::Error);
//! assert_eq!(diags[0].line, 1);
//! ```

use crate::fold::{fold_char, FoldEntry};
use crate::lists::{Diagnostic, EntryKind, Level, MatchMode, WordListSet};
use crate::ruleset::{RuleKind, Ruleset, RulesetBuilder, RulesetError};

/// Lints a set: parse and compile diagnostics plus checks that need the
/// compiled ruleset. Sorted by file and line.
pub fn lint(lists: &WordListSet, builder: &RulesetBuilder) -> Vec<Diagnostic> {
    lint_with_corpus(lists, builder, None)
}

/// Like [`lint`], and with a corpus: warns about terms that fire on more than
/// `max_percent` percent of its messages.
pub fn lint_with_corpus(
    lists: &WordListSet,
    builder: &RulesetBuilder,
    corpus: Option<(&[String], f64)>,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    match builder.build(lists) {
        Err(RulesetError::Invalid(diags)) => {
            // the rest checked as if the entries in error were not written:
            // one run shows every mistake, not the errors and then the rest
            let rest = lists.without(&diags);
            out.extend(diags);
            match builder.build(&rest) {
                Ok(ruleset) => checks(&ruleset, &rest, corpus, &mut out),
                // an error of the whole set (too many groups, no lists): the
                // parse warnings still
                Err(_) => out.extend(rest.diagnostics().iter().cloned()),
            }
        }
        Err(other) => out.push(Diagnostic {
            file: ".".into(),
            line: 0,
            level: Level::Error,
            code: "compile",
            message: other.to_string(),
        }),
        Ok(ruleset) => checks(&ruleset, lists, corpus, &mut out),
    }
    out.sort_by(|a, b| (&a.file, a.line, a.code).cmp(&(&b.file, b.line, b.code)));
    out.dedup();
    out
}

/// The checks that need the compiled ruleset: its own warnings, expired
/// lists, exact files' terms only folding would match, shadowed and
/// suppressed terms, noisy terms on a corpus, allow phrases that suppress
/// nothing.
fn checks(
    ruleset: &Ruleset,
    lists: &WordListSet,
    corpus: Option<(&[String], f64)>,
    out: &mut Vec<Diagnostic>,
) {
    out.extend(ruleset.warnings().iter().cloned());
    let mut scanner = ruleset.scanner();
    let warn = |file: &str, line: usize, code: &'static str, message: String| Diagnostic {
        file: file.to_string(),
        line,
        level: Level::Warning,
        code,
        message,
    };
    let now = jiff::Timestamp::now();
    for file in lists.files() {
        if let Some(until) = file.window.until.filter(|until| *until <= now) {
            out.push(warn(
                &file.path,
                0,
                "list-expired",
                format!(
                    "`#! until: {until}` has passed: the list fires only on messages written \
                 before it, or whose time is unknown"
                ),
            ));
        }
        for entry in &file.entries {
            let EntryKind::Term = entry.kind else {
                continue;
            };
            let term = entry.text();
            if file.match_mode == MatchMode::Exact {
                if let Some(c) = term.chars().find(|c| needs_folding(*c)) {
                    out.push(warn(&file.path, entry.line, "exact-needs-fold", format!(
                        "{term:?} contains {c:?}, which only folding would match; this file has `#! match: exact`"
                    )));
                }
                continue;
            }
            let is_self = |h: &crate::ruleset::Hit<'_>| {
                h.rule().file.as_ref() == file.path && h.rule().line == entry.line
            };
            let raw = scanner.scan_without_allows(&[term]);
            let self_hit = raw.hits.iter().any(is_self);
            for h in &raw.hits {
                if !is_self(h)
                    && h.category() == file.category
                    && h.rule().kind == RuleKind::Term
                    && h.term() != term
                    && (h.end - h.start) < term.len()
                {
                    out.push(warn(&file.path, entry.line, "shadowed-term", format!(
                        "{term:?} always contains {:?} ({}:{}) of the same list, which fires anyway",
                        h.term(), h.rule().file, h.rule().line
                    )));
                    break;
                }
            }
            if self_hit && !scanner.scan(&[term]).hits.iter().any(is_self) {
                out.push(warn(
                    &file.path,
                    entry.line,
                    "allow-suppresses-term",
                    format!(
                    "an allow phrase suppresses every occurrence of {term:?}: it can never fire"
                ),
                ));
            }
        }
    }
    if let Some((messages, max_percent)) = corpus {
        let mut noise: std::collections::HashMap<(String, usize), Noise> = Default::default();
        for m in messages {
            for h in scanner.scan(&[m.as_str()]).hits {
                let e = noise
                    .entry((h.rule().file.to_string(), h.rule().line))
                    .or_insert_with(|| Noise {
                        term: h.term().to_string(),
                        ..Noise::default()
                    });
                e.messages += 1;
                if h.rule().kind == RuleKind::Term {
                    e.add_words_around(m, h.start, h.end);
                }
            }
        }
        let n = messages.len().max(1) as f64;
        for ((file, line), noisy) in noise {
            let pct = 100.0 * noisy.messages as f64 / n;
            if pct > max_percent {
                out.push(warn(&file, line, "noisy-term", format!(
                    "{:?} fires on {pct:.1}% of the corpus ({} of {} messages), over {max_percent}%{}",
                    noisy.term,
                    noisy.messages,
                    messages.len(),
                    noisy.suggestion()
                )));
            }
        }
    }
    for file in lists.files() {
        for entry in &file.entries {
            let EntryKind::Allow = entry.kind else {
                continue;
            };
            let phrase = entry.text();
            if scanner.scan_without_allows(&[phrase]).hits.is_empty() {
                out.push(Diagnostic {
                    file: file.path.clone(),
                    line: entry.line,
                    level: Level::Warning,
                    code: "allow-unused",
                    message: format!(
                        "allow phrase {phrase:?} contains no term of any list, so it suppresses nothing"
                    ),
                });
            }
        }
    }
}

/// How often a term fired on a lint corpus, and the words it fired inside:
/// the term with the letter or character before it, or after it (`特色情`
/// and `色情景` for `色情` in `特色情景`), so that a noisy term's warning
/// can name the everyday word an allow phrase would spare.
#[derive(Default)]
struct Noise {
    term: String,
    messages: usize,
    words: std::collections::HashMap<String, usize>,
}

impl Noise {
    /// Most words a warning names.
    const SHOWN: usize = 3;

    fn add_words_around(&mut self, text: &str, start: usize, end: usize) {
        let (Some(before), Some(after), Some(matched)) =
            (text.get(..start), text.get(end..), text.get(start..end))
        else {
            return;
        };
        if let Some(c) = before.chars().next_back().filter(|c| c.is_alphanumeric()) {
            *self.words.entry(format!("{c}{matched}")).or_default() += 1;
        }
        if let Some(c) = after.chars().next().filter(|c| c.is_alphanumeric()) {
            *self.words.entry(format!("{matched}{c}")).or_default() += 1;
        }
    }

    /// `; most often inside 特色情 (40), 色情景 (40): …` where a word the
    /// term fired inside came up more than once; else nothing.
    fn suggestion(&self) -> String {
        let mut words: Vec<(&String, &usize)> = self.words.iter().filter(|(_, &n)| n > 1).collect();
        words.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let Some(&(first, _)) = words.first() else {
            return String::new();
        };
        let shown: Vec<String> = words
            .iter()
            .take(Self::SHOWN)
            .map(|(w, n)| format!("{w} ({n})"))
            .collect();
        format!(
            "; most often inside {}: if that is an everyday word, an allow phrase \
             (`!{first}`) spares it",
            shown.join(", ")
        )
    }
}

/// A character folding would change beyond lowercasing: full-width and
/// compatibility forms, traditional Chinese, invisibles, look-alikes.
fn needs_folding(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    match fold_char(c) {
        FoldEntry::One(d) => c.to_lowercase().next() != Some(d),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &[(&str, &str)]) -> Vec<(String, usize, &'static str)> {
        let lists = WordListSet::from_sources(
            src.iter()
                .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
                .collect(),
        );
        lint(&lists, &RulesetBuilder::new())
            .into_iter()
            .map(|d| (d.file, d.line, d.code))
            .collect()
    }

    #[test]
    fn each_check_has_file_and_line() {
        let got = codes(&[(
            "a.txt",
            "#! severity: extreme\n内幕\n內幕\n色\n!特色情\n!毫无关系\n***\n@passport\nre:(x\n",
        )]);
        // the errors, and the warnings of the rest as if they were not
        // written: one run shows every mistake
        let want = vec![
            ("a.txt".to_string(), 1, "bad-directive"),
            ("a.txt".to_string(), 3, "duplicate-term"),
            ("a.txt".to_string(), 4, "single-char-term"),
            ("a.txt".to_string(), 6, "allow-unused"),
            ("a.txt".to_string(), 7, "empty-term"),
            ("a.txt".to_string(), 8, "unknown-detector"),
            ("a.txt".to_string(), 9, "bad-regex"),
        ];
        assert_eq!(got, want);
        let got = codes(&[("a.txt", "内幕\n內幕\n色\n!特色情\n!毫无关系\n")]);
        assert_eq!(
            got,
            vec![
                ("a.txt".to_string(), 2, "duplicate-term"),
                ("a.txt".to_string(), 3, "single-char-term"),
                ("a.txt".to_string(), 5, "allow-unused"),
            ]
        );
    }

    /// A separator left from an imported list, or a symbol meant to match:
    /// folding skips it at a term's edge. Inside a term (`AT&T`), or in a
    /// list matched as written, it is the term's own.
    #[test]
    fn noise_at_a_terms_edge_is_a_warning() {
        let got = codes(&[
            (
                "a.txt",
                "色情网站,\n【内部消息】\nc++\nAT&T\n内 幕\n稳赚不赔\n",
            ),
            ("b.txt", "#! match: exact\n客户名单;\n"),
        ]);
        assert_eq!(
            got,
            vec![
                ("a.txt".to_string(), 1, "noise-at-edge"),
                ("a.txt".to_string(), 2, "noise-at-edge"),
                ("a.txt".to_string(), 3, "noise-at-edge"),
                // and what is left of it floods
                ("a.txt".to_string(), 3, "single-char-term"),
            ]
        );
        let lists = WordListSet::from_sources(vec![("a.txt".into(), b"c++\n".to_vec())]);
        let warning = &lint(&lists, &RulesetBuilder::new())[0];
        assert!(
            warning.message.contains("ends with '+'")
                && warning.message.contains("where \"c\" does"),
            "{warning}"
        );
    }

    #[test]
    fn duplicates_across_categories_are_fine() {
        assert!(codes(&[("a.txt", "内幕\n"), ("b.txt", "内幕\n")]).is_empty());
    }

    #[test]
    fn shadowed_suppressed_and_exact_terms() {
        let got = codes(&[
            ("a.txt", "内幕\n内幕消息\n色情\n!色情\n"),
            ("b.txt", "#! match: exact\nＡＰＩ\nplain\n"),
        ]);
        assert!(
            got.contains(&("a.txt".to_string(), 2, "shadowed-term")),
            "{got:?}"
        );
        assert!(
            got.contains(&("a.txt".to_string(), 3, "allow-suppresses-term")),
            "{got:?}"
        );
        assert!(
            got.contains(&("b.txt".to_string(), 2, "exact-needs-fold")),
            "{got:?}"
        );
        assert!(!got.iter().any(|g| g.1 == 1 && g.0 == "a.txt"), "{got:?}");
        assert!(
            !got.contains(&("b.txt".to_string(), 3, "exact-needs-fold")),
            "{got:?}"
        );
    }

    #[test]
    fn folded_regexes_that_can_match_nothing() {
        let got = codes(&[
            ("a.txt", "re:(?-i:API)_KEY\nre:API_KEY\n"),
            ("b.txt", "#! match: exact\nre:(?-i:API)_KEY\n"),
        ]);
        assert!(
            got.contains(&("a.txt".to_string(), 1, "regex-matches-nothing")),
            "{got:?}"
        );
        // case-insensitive, or matched as written: fine
        assert!(!got.iter().any(|g| g.1 == 2 && g.0 == "a.txt"), "{got:?}");
        assert!(!got.iter().any(|g| g.0 == "b.txt"), "{got:?}");
    }

    #[test]
    fn noisy_terms_with_a_corpus() {
        let lists = WordListSet::from_sources(vec![(
            "a.txt".into(),
            b"\xe5\xbc\x80\xe4\xbc\x9a\n".to_vec(),
        )]);
        let corpus: Vec<String> = vec!["明天开会".into(), "开会吗".into(), "你好".into()];
        let d = lint_with_corpus(&lists, &RulesetBuilder::new(), Some((&corpus, 50.0)));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "noisy-term");
        assert!(d[0].message.contains("66.7%"), "{}", d[0].message);
        // no word around it came up twice: nothing suggested
        assert!(!d[0].message.contains("most often"), "{}", d[0].message);
    }

    #[test]
    fn a_noisy_term_names_the_words_it_fires_inside() {
        let lists = WordListSet::from_sources(vec![("a.txt".into(), "色情\n".into())]);
        let corpus: Vec<String> = [
            "今天的特色情景剧很好看",
            "特色情景教学",
            "关于特色情节",
            "色情网站",
            "你好",
        ]
        .map(String::from)
        .to_vec();
        let d = lint_with_corpus(&lists, &RulesetBuilder::new(), Some((&corpus, 10.0)));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].message,
            "\"色情\" fires on 80.0% of the corpus (4 of 5 messages), over 10%; most often \
             inside 特色情 (3), 色情景 (2): if that is an everyday word, an allow phrase \
             (`!特色情`) spares it"
        );
    }
}
