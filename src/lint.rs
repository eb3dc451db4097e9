//! Lint: everything wrong or suspicious in a word-list set, with `file:line`.
//!
//! Errors (block deployment): bad directives, bad regexes, unknown detectors,
//! terms empty after folding, non-UTF-8 files, an empty set. Warnings: terms
//! that are duplicates after folding, single-character terms that will flood,
//! allow phrases that suppress nothing.
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

use crate::lists::{Diagnostic, EntryKind, Level, WordListSet};
use crate::ruleset::{RulesetBuilder, RulesetError};

/// Lints a set: parse and compile diagnostics plus checks that need the
/// compiled ruleset. Sorted by file and line.
pub fn lint(lists: &WordListSet, builder: &RulesetBuilder) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    match builder.build(lists) {
        Err(RulesetError::Invalid(diags)) => {
            out.extend(diags);
            // keep parse warnings too
            out.extend(
                lists
                    .diagnostics()
                    .iter()
                    .filter(|d| d.level == Level::Warning)
                    .cloned(),
            );
        }
        Err(other) => out.push(Diagnostic {
            file: ".".into(),
            line: 0,
            level: Level::Error,
            code: "compile",
            message: other.to_string(),
        }),
        Ok(ruleset) => {
            out.extend(ruleset.warnings().iter().cloned());
            let mut scanner = ruleset.scanner();
            for file in lists.files() {
                for entry in &file.entries {
                    let EntryKind::Allow(phrase) = &entry.kind else {
                        continue;
                    };
                    if scanner
                        .scan_without_allows(&[phrase.as_str()])
                        .hits
                        .is_empty()
                    {
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
    }
    out.sort_by(|a, b| (&a.file, a.line, a.code).cmp(&(&b.file, b.line, b.code)));
    out.dedup();
    out
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
        let want = vec![
            ("a.txt".to_string(), 1, "bad-directive"),
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

    #[test]
    fn duplicates_across_categories_are_fine() {
        assert!(codes(&[("a.txt", "内幕\n"), ("b.txt", "内幕\n")]).is_empty());
    }
}
